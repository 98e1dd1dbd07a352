// Package scenarios holds the scenario format (apiVersion gameday/v1, kind
// Scenario), its strict loader and validator, and the embedded catalog.
package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

const (
	APIVersion = "gameday/v1"
	Kind       = "Scenario"
)

// Scenario is one experiment definition. The workflow input carries the
// fully resolved value (defaults applied), so history records what ran.
type Scenario struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

type Metadata struct {
	Name    string            `json:"name" yaml:"name"`
	Service string            `json:"service" yaml:"service"`
	Labels  map[string]string `json:"labels,omitempty" yaml:"labels"`
}

type Spec struct {
	Description string       `json:"description" yaml:"description"`
	Target      chaos.Target `json:"target" yaml:"target"`
	Faults      []Fault      `json:"faults" yaml:"faults"`
	Guards      []sli.Guard  `json:"guards" yaml:"guards"`
	SteadyState SteadyState  `json:"steady_state" yaml:"steady_state"`
	Signoff     Signoff      `json:"signoff" yaml:"signoff"`
	// Checklist names the release checklist signed at the gate (catalog
	// name or file); its owners become the sign-off roles when none are set.
	Checklist string `json:"checklist,omitempty" yaml:"checklist"`
	// FaultClass links the scenario to checklist items: a guard breach in
	// this scenario counts as those items triggering an alert.
	FaultClass string `json:"fault_class,omitempty" yaml:"fault_class"`
	// Unguarded must be set to run without any guard: nothing would abort
	// the run on an outage, so it has to be said out loud (and is shown
	// wherever the run is described).
	Unguarded bool `json:"unguarded,omitempty" yaml:"unguarded"`
	// Overlap says whether a run of this scenario may act on targets
	// another run holds a lease on: "allow" (only with runs whose scenario
	// allows it too) or "refuse" (the default, also when empty).
	Overlap string `json:"overlap,omitempty" yaml:"overlap"`
	// PauseTimeout is how long a pause of this scenario's runs may last
	// without an answer before the run is aborted: a drift pause's, and a
	// person's pause that names none (zero: 10m).
	PauseTimeout duration.Duration `json:"pause_timeout,omitempty" yaml:"pause_timeout"`
}

const (
	OverlapAllow  = "allow"
	OverlapRefuse = "refuse"
)

// AllowsOverlap reports spec.overlap: allow.
func (s Scenario) AllowsOverlap() bool { return s.Spec.Overlap == OverlapAllow }

// Fault is one fault step. Params are back-end specific and validated by
// the back-end's registered driver.
type Fault struct {
	Name     string            `json:"name" yaml:"name"`
	Backend  string            `json:"backend" yaml:"backend"`
	Action   string            `json:"action" yaml:"action"`
	Duration duration.Duration `json:"duration" yaml:"duration"`
	Params   map[string]any    `json:"params,omitempty" yaml:"params"`
}

type SteadyState struct {
	Timeout duration.Duration `json:"timeout" yaml:"timeout"` // verify deadline; default 2m
	// Guards to check in verify; empty means spec.guards.
	Guards []sli.Guard `json:"guards,omitempty" yaml:"guards"`
}

type Signoff struct {
	Roles    []string          `json:"roles" yaml:"roles"`     // subset of dev, test, sre; empty means no gate
	Timeout  duration.Duration `json:"timeout" yaml:"timeout"` // default 24h
	Reminder duration.Duration `json:"reminder,omitempty" yaml:"reminder"`
}

// EnvironmentLabel is the metadata label naming the environment a scenario
// acts on (staging, prod...): the blast-radius limit and Slack permissions
// depend on it.
const EnvironmentLabel = "environment"

// Roles is signoff.Roles (the same slice), kept for launch until the
// client package reads signoff.Roles itself.
var Roles = signoff.Roles

// ChaosFaults resolves the scenario's fault steps for one workflow run: each
// gets its deterministic id and the scenario's target. Pure, so workflow
// code may call it.
func (s Scenario) ChaosFaults(workflowID string) []chaos.Fault {
	return s.ChaosFaultsForRun(workflowID, "")
}

// ChaosFaultsForRun is ChaosFaults with fault ids derived from the workflow
// id and the run id, so a workflow id reused for a new run (a closed run's
// id given again to `gameday run --id`) never gets the old run's fault ids
// and cannot adopt leftovers as its own. An empty runID gives the ids of
// ChaosFaults (runs started before this rule).
func (s Scenario) ChaosFaultsForRun(workflowID, runID string) []chaos.Fault {
	seed := workflowID
	if runID != "" {
		seed = workflowID + "/" + runID
	}
	out := make([]chaos.Fault, 0, len(s.Spec.Faults))
	for i, f := range s.Spec.Faults {
		backend := f.Backend
		if backend == "" {
			backend = s.Spec.Target.Backend
		}
		out = append(out, chaos.Fault{
			ID:         chaos.FaultID(seed, i),
			WorkflowID: workflowID,
			Step:       i,
			Name:       f.Name,
			Backend:    backend,
			Action:     f.Action,
			Duration:   f.Duration.D(),
			Params:     f.Params,
			Target:     s.Spec.Target,
			// The blast-radius limit depends on the environment.
			Environment: s.Metadata.Labels[EnvironmentLabel],
		})
	}
	return out
}

// HoldDuration is how long the observe phase holds the faults: the longest
// fault duration.
func (s Scenario) HoldDuration() time.Duration {
	var d time.Duration
	for _, f := range s.Spec.Faults {
		if f.Duration.D() > d {
			d = f.Duration.D()
		}
	}
	return d
}

// VerifyGuards are the guards checked after recovery.
func (s Scenario) VerifyGuards() []sli.Guard {
	if len(s.Spec.SteadyState.Guards) > 0 {
		return s.Spec.SteadyState.Guards
	}
	return s.Spec.Guards
}

// Describe is the Markdown the Temporal UI shows for a run of the scenario
// (its static details): the description, each fault and each guard.
func (s Scenario) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", strings.TrimSpace(s.Spec.Description))
	for _, f := range s.Spec.Faults {
		fmt.Fprintf(&b, "- fault %s: %s %s for %s\n", f.Name, f.Backend, f.Action, f.Duration)
	}
	for _, g := range s.Spec.Guards {
		if g.IsProbe() {
			fmt.Fprintf(&b, "- guard %s (%s probe): `%s`\n", g.Name, g.Kind, g.Source())
			continue
		}
		fmt.Fprintf(&b, "- guard %s: `%s` %s %g\n", g.Name, g.Query, g.Op, g.Threshold)
	}
	return b.String()
}

// EvidenceGuards are the guards a checklist item's evidence may name: the
// observed ones first, then the steady-state ones (a name in both is the
// observed guard).
func (s Scenario) EvidenceGuards() []sli.Guard {
	return append(slices.Clone(s.Spec.Guards), s.Spec.SteadyState.Guards...)
}
