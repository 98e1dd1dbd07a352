// Package experiment holds the plain data of one experiment run: its
// outcome, phase timeline, breach and fault bookkeeping. Workflows build it,
// the CLI prints it, postmortems render it; no Temporal import, so every
// consumer can use it.
package experiment

import (
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

// Outcome of a run.
type Outcome string

const (
	Passed    Outcome = "passed"
	Aborted   Outcome = "aborted"   // a guard breached, or a human aborted
	Failed    Outcome = "failed"    // verify failed or an activity gave up
	Cancelled Outcome = "cancelled" // the workflow was cancelled
	Expired   Outcome = "expired"   // sign-off did not complete in time
	DryRun    Outcome = "dry-run"   // stopped after define on purpose
	Running   Outcome = "running"   // not finished (status queries)
)

// Phases in order.
const (
	PhaseDefine  = "define"
	PhaseSignoff = "signoff"
	PhaseInject  = "inject"
	PhaseObserve = "observe"
	PhaseRecover = "recover"
	PhaseVerify  = "verify"
	// PhaseEvidence judges the checklist's evidence-verified items after
	// verify; the release gate's verdict is final from then on.
	PhaseEvidence = "evidence"
	PhaseReport   = "report"
)

// Phase statuses.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

type Phase struct {
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Detail  string    `json:"detail,omitempty"`
}

// GuardValue is one guard's value at a point in time (baseline, verify).
// Value may be NaN or ±Inf (sli.Float keeps them encodable); NoData means
// the query returned nothing at all.
type GuardValue struct {
	Guard   string    `json:"guard"`
	Query   string    `json:"query"`
	Value   sli.Float `json:"value"`
	NoData  bool      `json:"no_data,omitempty"`
	Healthy bool      `json:"healthy"`
	Error   string    `json:"error,omitempty"`
	// Kind is the guard's kind (empty: prometheus; Query then holds the
	// probe's description) and Reason why a probe's answer was bad.
	Kind   string `json:"kind,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Reading renders the value for people: "no data", "NaN", "+Inf", "0.012",
// a probe's latency or why its answer was bad, or the query's error.
func (g GuardValue) Reading() string {
	if g.Error != "" {
		return "error: " + g.Error
	}
	return sli.DescribeReading(g.Kind, g.Value, g.NoData, g.Reason)
}

// Signoff records one role's decision at the gate.
type Signoff struct {
	Role     string    `json:"role"`
	User     string    `json:"user"`
	Approved bool      `json:"approved"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
}

// Result is the live state of a run (the status query) and its final report.
type Result struct {
	WorkflowID  string       `json:"workflow_id"`
	RunID       string       `json:"run_id"`
	Scenario    string       `json:"scenario"`
	Service     string       `json:"service"`
	Outcome     Outcome      `json:"outcome"`
	AbortReason string       `json:"abort_reason,omitempty"`
	Error       string       `json:"error,omitempty"`
	Phase       string       `json:"phase"`
	Phases      []Phase      `json:"phases"`
	Targets     []string     `json:"targets,omitempty"`
	Baseline    []GuardValue `json:"baseline,omitempty"`
	// DriftBaselines are the guards' drift rules as define resolved them
	// (a baseline value, or why the rule is off this run).
	DriftBaselines []sli.DriftBaseline `json:"drift_baselines,omitempty"`
	Breach         *sli.Breach         `json:"breach,omitempty"`
	Signoffs       []Signoff           `json:"signoffs,omitempty"`
	RequiredRoles  []string            `json:"required_roles,omitempty"`
	// Signers are who may sign each required role, resolved by the worker
	// in define (its GAMEDAY_ROLES), and DistinctSigners whether one person
	// may sign two roles. Empty before define and for runs recorded before
	// the worker resolved them.
	Signers         []signoff.Holders `json:"signers,omitempty"`
	DistinctSigners bool              `json:"distinct_signers,omitempty"`
	// Overrides are the values this run changed from the scenario as
	// written (key=value from the CLI or Slack), shown to the approvers.
	Overrides []Override `json:"overrides,omitempty"`
	Injected  []string   `json:"injected"`  // fault ids whose inject was attempted
	Recovered []string   `json:"recovered"` // fault ids confirmed absent after recover
	// RecoverAlarms: removals that kept failing (each went on being
	// retried until it succeeded or the run was terminated).
	RecoverAlarms []string `json:"recover_alarms,omitempty"`
	// Unguarded: the scenario has no guard (spec.unguarded); nothing
	// aborted this run on an outage.
	Unguarded  bool              `json:"unguarded,omitempty"`
	RecoverLog []chaos.Recovered `json:"recover_log,omitempty"`
	Verify     []GuardValue      `json:"verify,omitempty"`
	Postmortem string            `json:"postmortem,omitempty"`
	// Checklist gate (scenarios that name a checklist) and the weight
	// changes this run caused, as filed in the postmortem.
	Gate          *checklist.Gate    `json:"gate,omitempty"`
	WeightChanges []checklist.Change `json:"weight_changes,omitempty"`
	ReleaseTicket string             `json:"release_ticket,omitempty"`
	UIURL         string             `json:"ui_url,omitempty"`
	// Notes people recorded while the run was going (see Note).
	Notes []Note `json:"notes,omitempty"`
	// Pauses: each interval the run was paused, faults removed meanwhile.
	Pauses []Pause `json:"pauses,omitempty"`
	// GameDay is the workflow id of the game day that ran this experiment
	// as one of its steps; empty for a run started on its own.
	GameDay string `json:"game_day,omitempty"`
	// TraceID is the OpenTelemetry trace id of the run when tracing is on.
	TraceID string `json:"trace_id,omitempty"`
	// Report is where the report step wrote the run's report (every run,
	// passed too): references only, never the files themselves.
	Report  *ReportLinks `json:"report,omitempty"`
	Started time.Time    `json:"started"`
	Ended   time.Time    `json:"ended,omitzero"`
}

// ReportLinks are the files of a run's report, written by the report step
// into the worker's data dir: paths there, or URLs when the worker knows
// where that directory is served (GAMEDAY_REPORT_URL).
type ReportLinks struct {
	HTML     string `json:"html,omitempty"`
	Markdown string `json:"markdown,omitempty"`
	JUnit    string `json:"junit,omitempty"`
	JSON     string `json:"json,omitempty"`
	Chart    string `json:"chart,omitempty"`
	// Error says what could not be written; the run's outcome stands.
	Error string `json:"error,omitempty"`
}

// RunKey names one run for sinks that must file it once: the workflow id,
// plus the run id when known, so a workflow id reused for a later run never
// overwrites or deduplicates against the earlier run's postmortem.
func (r Result) RunKey() string { return RunKey(r.WorkflowID, r.RunID) }

// RunKey is Result.RunKey for any workflow run (a game day's too).
func RunKey(workflowID, runID string) string {
	if runID == "" {
		return workflowID
	}
	return workflowID + "/" + runID
}

// Override is one key=value a run changed from its scenario, with the
// value the scenario had (Was; empty when it had none).
type Override struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Was   string `json:"was,omitempty"`
}

func (o Override) String() string {
	if o.Was == "" {
		return o.Key + "=" + o.Value + " (not set in the scenario)"
	}
	return o.Key + "=" + o.Value + " (scenario: " + o.Was + ")"
}

// PendingRoles are the required roles nobody has signed for yet, in the
// order they are required. The workflow's sign-off validator, its gate and
// the Slack buttons all read this one rule.
func (r Result) PendingRoles() []string {
	var out []string
	for _, role := range r.RequiredRoles {
		if _, signed := r.SignoffFor(role); !signed {
			out = append(out, role)
		}
	}
	return out
}

// CheckSign says whether user may sign role now under the signers the
// worker resolved (see signoff.Check): the workflow's validator and the
// Slack button both ask it. Only meaningful once Signers is set.
func (r Result) CheckSign(role, user string) error {
	signed := make([]signoff.Signed, 0, len(r.Signoffs))
	for _, s := range r.Signoffs {
		signed = append(signed, signoff.Signed{Role: s.Role, User: s.User})
	}
	return signoff.Check(r.Signers, r.DistinctSigners, role, user, signed)
}

// SignoffFor is the sign-off (approval or rejection) given for role, if
// any: a role is signed at most once.
func (r Result) SignoffFor(role string) (Signoff, bool) {
	for _, s := range r.Signoffs {
		if s.Role == role {
			return s, true
		}
	}
	return Signoff{}, false
}

// Rejected is the first rejection of the run's sign-off, if any: it ends
// the gate, and the run, without injecting.
func (r Result) Rejected() (Signoff, bool) {
	for _, s := range r.Signoffs {
		if !s.Approved {
			return s, true
		}
	}
	return Signoff{}, false
}

// SignoffOpen reports whether the gate still takes a sign-off: the outcome
// is not decided, nobody has rejected, and the run has not gone past
// sign-off (it may still be in define). The workflow's validator applies
// it (with its own abort and define checks); see AwaitingSignoff for what
// the Slack message offers.
func (r Result) SignoffOpen() bool {
	if r.Finished() {
		return false
	}
	if _, rejected := r.Rejected(); rejected {
		return false
	}
	switch r.Phase {
	case "", PhaseDefine, PhaseSignoff:
		return true
	}
	return false
}

// AwaitingSignoff reports whether the run waits at its sign-off gate now:
// in the sign-off phase with the gate open. The Slack buttons and the
// status answers offer sign-off exactly then, a subset of what the
// validator accepts, so a button never meets a refusal of the gate.
func (r Result) AwaitingSignoff() bool { return r.Phase == PhaseSignoff && r.SignoffOpen() }

// MaySign returns the users who may sign role in this run, when the worker
// resolved them (nil otherwise: older runs, or before define).
func (r Result) MaySign(role string) []string { return signoff.Of(r.Signers, role) }

// Finished reports whether the outcome is decided. Recover, verify and
// the report may still be running: see Final.
func (r Result) Finished() bool { return r.Outcome != Running && r.Outcome != "" }

// Final reports whether the run is over for good: the outcome is decided
// (aborted, say) before recover and verify have run, so a decided outcome
// alone is not the end; Ended is set only when the report is done.
func (r Result) Final() bool { return r.Finished() && !r.Ended.IsZero() }

// AbortOpen reports whether an abort still changes something: until
// recover starts it prevents or shortens the fault (a paused run's abort
// ends the pause and the run); after that the
// workflow's validator refuses it and a button would only mislead.
func (r Result) AbortOpen() bool {
	if r.Finished() {
		return false
	}
	switch r.Phase {
	case "", PhaseDefine, PhaseSignoff, PhaseInject, PhaseObserve, PhasePaused:
		return true
	}
	return false
}

// UIURL builds the Temporal Web UI link of a run.
func UIURL(base, namespace, workflowID, runID string) string {
	if base == "" {
		return ""
	}
	u := base + "/namespaces/" + namespace + "/workflows/" + workflowID
	if runID != "" {
		u += "/" + runID
	}
	return u + "/history"
}
