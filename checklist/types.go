// Package checklist holds release checklists (apiVersion gameday/v1, kind
// Checklist): the format and its strict loader, the release gate score, and
// the weight rule from the seed's chapter 5. Pure: no Temporal import, no YAML
// loader (that is package checklists).
package checklist

import (
	"time"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

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
	// VerifiedBy makes the item evidence-verified: its verdict is the
	// run's own measurements (every check must pass), judged after the run,
	// and nobody signs it. Owner stays the role accountable for it.
	VerifiedBy []Check `json:"verified_by,omitempty" yaml:"verified_by"`
}

// Verified reports whether the item is decided by evidence, not signed.
func (it Item) Verified() bool { return len(it.VerifiedBy) > 0 }

// Check is one piece of evidence: a guard of the run's scenario, or a
// PromQL check of its own, judged over a window of the run (see evidence.go).
type Check struct {
	// Name identifies the check in results; a guard reference defaults to
	// the guard's name.
	Name string `json:"name" yaml:"name"`
	// Guard names a guard of the scenario that uses the checklist (its
	// spec.guards, then its steady_state.guards): its query, op, threshold
	// and on_no_data are the check's. Filled in by ResolveEvidence.
	Guard string `json:"guard,omitempty" yaml:"guard"`
	// Query, Op and Threshold: value OP threshold must hold. "$window" in
	// the query is replaced by the window's length, e.g. increase(x[$window]).
	Query     string   `json:"query,omitempty" yaml:"query"`
	Op        sli.Op   `json:"op,omitempty" yaml:"op"`
	Threshold *float64 `json:"threshold,omitempty" yaml:"threshold"`
	// Window is the part of the run judged: WindowObserve (default) or
	// WindowRun. Within narrows it to its first Within ("within 3 s of the
	// fault").
	Window string            `json:"window,omitempty" yaml:"window"`
	Within duration.Duration `json:"within,omitempty" yaml:"within"`
	// Reduce turns the window's samples into the one value judged:
	// ReduceWorst (default: every sample must hold), max, min, avg, last.
	Reduce string `json:"reduce,omitempty" yaml:"reduce"`
	// OnNoData: NoDataFail (default) counts a NaN sample as failing;
	// NoDataIgnore drops NaN samples. A window without any sample always
	// fails: no evidence is never a pass.
	OnNoData string `json:"on_no_data,omitempty" yaml:"on_no_data"`
}

// CheckResult is one check as judged after a run: the value, the query as
// sent and the window, so the verdict can be checked by hand.
type CheckResult struct {
	Item      string    `json:"item"`
	Check     string    `json:"check"`
	Guard     string    `json:"guard,omitempty"`
	Query     string    `json:"query"`
	Op        sli.Op    `json:"op"`
	Threshold float64   `json:"threshold"`
	Reduce    string    `json:"reduce"`
	Window    string    `json:"window"` // e.g. "observe", "first 3s of observe"
	From      time.Time `json:"from,omitzero"`
	To        time.Time `json:"to,omitzero"`
	// Value is the reduced value (NaN and ±Inf kept, see sli.Float); At is
	// the sample it came from (for avg: the window's end).
	Value   sli.Float `json:"value"`
	NoData  bool      `json:"no_data,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Samples int       `json:"samples"`
	Pass    bool      `json:"pass"`
	// Error says why the value could not be computed (Prometheus down, a
	// bad query, nothing injected); the check then fails.
	Error string `json:"error,omitempty"`
}

// Timeline is what a run's evidence windows are cut from.
type Timeline struct {
	FaultAt time.Time `json:"fault_at"` // the first fault took effect
	HoldEnd time.Time `json:"hold_end"` // the hold ended, or the run stopped injecting
	RunEnd  time.Time `json:"run_end"`  // verify ended
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
	// Evidence-verified items: Verified once judged (Pass is then the
	// evidence's verdict), Pending until then, Checks what was measured.
	Verified bool          `json:"verified,omitempty"`
	Pending  bool          `json:"pending,omitempty"`
	Checks   []CheckResult `json:"checks,omitempty"`
}

// Decided reports whether the item has a verdict: signed, or judged by
// its evidence.
func (r ItemResult) Decided() bool { return r.Signed || r.Verified }

// Gate is the release gate's verdict.
type Gate struct {
	Checklist      string   `json:"checklist"`
	Passed         bool     `json:"passed"`
	Score          float64  `json:"score"`     // percent of total weight that passed
	Threshold      float64  `json:"threshold"` // percent required
	BlockingFailed []string `json:"blocking_failed,omitempty"`
	Unsigned       []string `json:"unsigned,omitempty"`
	// Pending are evidence-verified items not judged yet: the gate is
	// provisional (and not passed) until the run's evidence is in.
	Pending []string     `json:"pending,omitempty"`
	Items   []ItemResult `json:"items"`
	Reason  string       `json:"reason,omitempty"`
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
	// Passed and Failed count the recorded runs by the item's verdict
	// (signed or judged by evidence; an alert counts as failed).
	Passed int `json:"passed,omitempty"`
	Failed int `json:"failed,omitempty"`
}

// Observation is one run's outcome for one item.
type Observation struct {
	ItemID  string    `json:"item_id"`
	Pass    bool      `json:"pass"`
	Alerted bool      `json:"alerted"`
	Release string    `json:"release,omitempty"` // release ticket or version; the run id when none
	At      time.Time `json:"at"`
}
