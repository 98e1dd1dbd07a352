// Package checklist holds release checklists (apiVersion gameday/v1, kind
// Checklist): the format and its strict loader, the release gate score, and
// the weight rule from the seed's chapter 5. Pure: no Temporal import, no YAML
// loader (that is package checklists).
package checklist

import "time"

const (
	APIVersion = "gameday/v1"
	Kind       = "Checklist"
)

// DefaultThreshold is the gate score used when spec.threshold is left out:
// the seed gives no number, and 80% lets a release through with a couple of
// minor items open while any strong-blocking item still stops it.
const DefaultThreshold = 80

// Checklist is a release checklist signed by dev, test and SRE leads.
type Checklist struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

type Metadata struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description"`
}

type Spec struct {
	// Threshold is the weighted score (percent of total weight passed) the
	// release gate needs, besides every strong-blocking item passing.
	Threshold float64 `json:"threshold" yaml:"threshold"`
	Items     []Item  `json:"items" yaml:"items"`
}

// Item is one checklist line.
type Item struct {
	ID             string  `json:"id" yaml:"id"`
	Title          string  `json:"title" yaml:"title"`
	Verification   string  `json:"verification" yaml:"verification"` // how it is verified
	Criterion      string  `json:"criterion" yaml:"criterion"`       // what counts as a pass
	Owner          string  `json:"owner" yaml:"owner"`               // dev | test | sre
	Weight         float64 `json:"weight" yaml:"weight"`             // percentage points
	StrongBlocking bool    `json:"strong_blocking" yaml:"strong_blocking"`
	// FaultClass ties the item to the faults that exercise it (e.g.
	// "network-delay", "pod-kill"): a guard breach in a run of that class
	// counts as the item triggering an alert.
	FaultClass string `json:"fault_class,omitempty" yaml:"fault_class"`
}

// Sign is one signer's verdict on one item.
type Sign struct {
	ItemID   string    `json:"item_id"`
	Pass     bool      `json:"pass"`
	Evidence string    `json:"evidence,omitempty"` // a link
	Role     string    `json:"role"`
	User     string    `json:"user"`
	At       time.Time `json:"at"`
}

// ItemResult is an item as scored in one run.
type ItemResult struct {
	Item
	Signed   bool      `json:"signed"`
	Pass     bool      `json:"pass"`
	Evidence string    `json:"evidence,omitempty"`
	User     string    `json:"user,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Alerted  bool      `json:"alerted"` // its fault class breached a guard in this run
}

// Gate is the release gate's verdict.
type Gate struct {
	Checklist      string       `json:"checklist"`
	Passed         bool         `json:"passed"`
	Score          float64      `json:"score"`     // percent of total weight that passed
	Threshold      float64      `json:"threshold"` // percent required
	BlockingFailed []string     `json:"blocking_failed,omitempty"`
	Unsigned       []string     `json:"unsigned,omitempty"`
	Items          []ItemResult `json:"items"`
	Reason         string       `json:"reason,omitempty"`
}

// Change is one weight change with the rule that made it: the audit trail.
type Change struct {
	ItemID      string    `json:"item_id"`
	OldWeight   float64   `json:"old_weight"`
	NewWeight   float64   `json:"new_weight"`
	OldBlocking bool      `json:"old_blocking"`
	NewBlocking bool      `json:"new_blocking"`
	Rule        string    `json:"rule"`   // RuleQuiet or RuleAlerting
	Reason      string    `json:"reason"` // human sentence with the evidence
	At          time.Time `json:"at"`
}

// Rules of the seed's chapter 5.
const (
	RuleQuiet    = "quiet-and-passing" // no fault for 3 months and 6 passes in a row: -20 points
	RuleAlerting = "alerting"          // alerts in 3 releases: +35 points, strong-blocking
)

// ItemState is what the weight rule remembers per item.
type ItemState struct {
	ItemID            string  `json:"item_id"`
	Weight            float64 `json:"weight"`
	StrongBlocking    bool    `json:"strong_blocking"`
	ConsecutivePasses int     `json:"consecutive_passes"`
	// LastFault is when the item's fault class last triggered an alert
	// (zero: never since tracking began at Since).
	LastFault time.Time `json:"last_fault,omitzero"`
	// Since starts the current quiet period: when tracking began, or the
	// item's last weight change, so one quiet stretch earns one cut.
	Since time.Time `json:"since"`
	// AlertReleases are the distinct releases in which the item alerted
	// since its weight last rose.
	AlertReleases []string `json:"alert_releases,omitempty"`
}

// Observation is one run's outcome for one item.
type Observation struct {
	ItemID  string    `json:"item_id"`
	Pass    bool      `json:"pass"`
	Alerted bool      `json:"alerted"`
	Release string    `json:"release,omitempty"` // release ticket or version; the run id when none
	At      time.Time `json:"at"`
}
