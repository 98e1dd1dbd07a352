package workflows

import (
	"time"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/schedules"
)

// ExperimentInput carries the fully resolved scenario so the history records
// exactly what ran, whatever the catalog says later.
type ExperimentInput struct {
	Scenario scenarios.Scenario `json:"scenario"`
	// Source is where the scenario came from (catalog name or file path).
	Source    string `json:"source,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	StartedBy string `json:"started_by,omitempty"`
	// UIBase is the Temporal Web UI base URL, for links in reports.
	UIBase string `json:"ui_base,omitempty"`
	// Checklist is the resolved release checklist signed at the gate.
	Checklist *checklist.Checklist `json:"checklist,omitempty"`
	// Users is read only by runs recorded before version worker-signers 1
	// (it was the starter's GAMEDAY_ROLES; empty let anyone sign). Later
	// runs ignore it: the worker resolves who may sign.
	Users map[string][]string `json:"users,omitempty"`
	// Overrides are the key=value changes made to the scenario as written,
	// recorded so the approvers and the status see them.
	Overrides []experiment.Override `json:"overrides,omitempty"`
	// ReleaseTicket gets the run's evidence; a passing gate moves it on.
	ReleaseTicket string `json:"release_ticket,omitempty"`
	// GameDay is the workflow id of the game day running this experiment
	// as a step (empty for a run started on its own); it is recorded on
	// the result and the run carries the GamedayGameDay search attribute.
	GameDay string `json:"game_day,omitempty"`
}

// AbortRequest is the payload of the abort signal and update.
type AbortRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

type AbortResponse struct {
	Phase string `json:"phase"`
	// Steps (a game day's abort) is what each running step's experiment
	// answered when the abort was passed on to it.
	Steps []gameday.Forwarded `json:"steps,omitempty"`
}

// PauseRequest is the payload of the pause signal and update: the run's
// faults are removed and it holds (guards still reporting) until resumed,
// aborted, or Timeout passes (then it is aborted; zero: the default).
type PauseRequest struct {
	Reason  string        `json:"reason"`
	By      string        `json:"by,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
}

// ResumeRequest is the payload of the resume signal and update; it also
// answers a drift pause ("continue").
type ResumeRequest struct {
	By     string `json:"by,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// NoteRequest is the payload of the note signal and update.
type NoteRequest struct {
	Text string `json:"text"`
	By   string `json:"by"`
	// Kind is experiment.NoteObservation (default) or NoteAction.
	Kind string `json:"kind,omitempty"`
}

// PauseResponse answers a pause update once the pause took effect: the
// run's faults are being removed (Pause.Faults) and it holds.
type PauseResponse struct {
	Phase string           `json:"phase"`
	Pause experiment.Pause `json:"pause"`
}

// ResumeResponse answers a resume update once the pause is over: the run
// re-injects (with fresh fault ids) what was left of each fault's hold.
type ResumeResponse struct {
	Phase string           `json:"phase"`
	Pause experiment.Pause `json:"pause"`
}

// NoteResponse answers a note update: the note as recorded.
type NoteResponse struct {
	Note  experiment.Note `json:"note"`
	Notes int             `json:"notes"` // notes on the run so far
}

// SignoffRequest is the payload of the sign-off signal and update.
type SignoffRequest struct {
	Role   string `json:"role"`
	User   string `json:"user"`
	Reject bool   `json:"reject,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Items are the role's checklist verdicts (all of the role's items,
	// when the scenario has a checklist).
	Items []ItemSign `json:"items,omitempty"`
}

// ItemSign is one checklist item's verdict.
type ItemSign struct {
	ID       string `json:"id"`
	Pass     bool   `json:"pass"`
	Evidence string `json:"evidence,omitempty"`
}

type SignoffResponse struct {
	// Pending roles still to sign after this one.
	Pending []string `json:"pending"`
}

// The checklist entity's messages (ChecklistWorkflow: its input, the
// record and evaluate updates, the state query).

// ChecklistInput starts (or continues) the entity.
type ChecklistInput struct {
	Checklist checklist.Checklist   `json:"checklist"`
	Items     []checklist.ItemState `json:"items,omitempty"`
	Audit     []checklist.Change    `json:"audit,omitempty"`
	Recorded  []RecordedRun         `json:"recorded,omitempty"`
	Runs      int                   `json:"runs"`
}

// RecordedRun remembers what a run changed, so a retried record returns the
// same answer instead of counting the run twice.
type RecordedRun struct {
	WorkflowID string             `json:"workflow_id"`
	Changes    []checklist.Change `json:"changes,omitempty"`
}

// RecordRequest is one experiment's results for the checklist.
type RecordRequest struct {
	WorkflowID string `json:"workflow_id"`
	// Checklist as the run used it: items added to the file since the
	// entity started are adopted with their file weights.
	Checklist    checklist.Checklist     `json:"checklist"`
	Observations []checklist.Observation `json:"observations"`
}

type RecordResponse struct {
	Changes []checklist.Change `json:"changes"`
}

type EvaluateRequest struct {
	Reason string `json:"reason,omitempty"`
}

// ChecklistState is the query answer: current weights, the audit trail and
// what the rule would change if evaluated now.
type ChecklistState struct {
	Checklist string                `json:"checklist"`
	Items     []checklist.ItemState `json:"items"`
	Audit     []checklist.Change    `json:"audit"`
	Pending   []checklist.Change    `json:"pending"`
	Runs      int                   `json:"runs"`
	AsOf      time.Time             `json:"as_of"`
}

// The game day's messages (GameDayWorkflow: its input and the answer of
// its pause and resume updates; abort answers AbortResponse and note a
// NoteResponse, as a run's do; the status query a gameday.Result).

// GameDayInput is a plan with every step resolved, so the history records
// exactly what each step ran whatever the catalogs say later: the plan as
// loaded (people, pre-flight guards, policies) and, per entry of its
// steps, the experiments to start together.
type GameDayInput struct {
	Plan gameday.Plan `json:"plan"`
	// Source is where the plan came from (catalog name or file path).
	Source    string         `json:"source,omitempty"`
	Stages    []GameDayStage `json:"stages"`
	DryRun    bool           `json:"dry_run,omitempty"`
	StartedBy string         `json:"started_by,omitempty"`
	// UIBase is the Temporal Web UI base URL, for the steps' links.
	UIBase string `json:"ui_base,omitempty"`
}

// GameDayStage is one entry of the plan's steps: one experiment, or a
// parallel group's (started together, awaited together).
type GameDayStage struct {
	Name  string        `json:"name"`
	Group bool          `json:"group,omitempty"`
	Steps []GameDayStep `json:"steps"`
}

// GameDayStep is one experiment of a game day. The workflow sets the
// experiment's GameDay (its own workflow id) and DryRun (the game day's).
type GameDayStep struct {
	Name       string          `json:"name"`
	Source     string          `json:"source,omitempty"`
	OnFailure  string          `json:"on_failure"`
	Experiment ExperimentInput `json:"experiment"`
}

// GameDayResponse answers a game day's pause and resume: where the plan
// stands and what each running step's experiment answered.
type GameDayResponse struct {
	Where string              `json:"where"`
	Steps []gameday.Forwarded `json:"steps,omitempty"`
}

// The kill switch entity's messages (KillSwitchWorkflow: its input, the
// freeze update, the state query).

// KillSwitchInput starts (or continues) the entity with its state.
type KillSwitchInput struct {
	State killswitch.State `json:"state"`
}

// FreezeResponse is the switch after a freeze or unfreeze.
type FreezeResponse struct {
	State killswitch.State `json:"state"`
}

// BlackoutInput is what the Schedule of one blackout window starts at the
// window's opening: abort the runs of ScheduleIDs still going.
type BlackoutInput struct {
	Set    string           `json:"set"`
	Window schedules.Window `json:"window"`
	// ScheduleIDs are the Temporal Schedules the window applies to.
	ScheduleIDs []string `json:"schedule_ids"`
}
