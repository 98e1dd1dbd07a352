package experiment

import "time"

// Note kinds: what a person saw, or something somebody must do afterwards.
const (
	NoteObservation = "observation"
	NoteAction      = "action"
)

// Note is an observation or action item a person recorded on a run or a
// game day while it ran (`gameday note`, Slack). It is shown in the
// status, the postmortem, the report and the ticket.
type Note struct {
	Text string    `json:"text"`
	By   string    `json:"by"`
	Kind string    `json:"kind"` // NoteObservation | NoteAction
	At   time.Time `json:"at"`
}

// How a pause ended.
const (
	PauseResumed = "resumed" // a person resumed (or continued after a drift)
	PauseAborted = "aborted" // a person aborted while paused
	PauseTimeout = "timeout" // nobody answered in time: the run was aborted
	PauseRunning = ""        // still paused
)

// Pause is one interval during which the run's faults were removed and it
// held, guards still reporting, until a person resumed or aborted it (or
// the pause timed out). Drift is set when the seed's drift rule paused it
// (a guard drifted from its baseline while still inside its threshold)
// rather than a person.
type Pause struct {
	Reason string    `json:"reason"`
	By     string    `json:"by,omitempty"`
	Drift  bool      `json:"drift,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to,omitzero"`
	Ended  string    `json:"ended,omitempty"` // PauseResumed | PauseAborted | PauseTimeout
	// EndedBy is who resumed or aborted it.
	EndedBy string `json:"ended_by,omitempty"`
	// Timeout is how long the pause may last; Deadline is when it aborts
	// the run without an answer.
	Timeout  time.Duration `json:"timeout,omitempty"`
	Deadline time.Time     `json:"deadline,omitzero"`
	// Faults are the fault ids removed for the pause, Removed when the
	// last of them was gone (zero while removing).
	Faults  []string  `json:"faults,omitempty"`
	Removed time.Time `json:"removed,omitzero"`
	// Remaining is the hold left to observe after the pause (the longest
	// of the faults' remaining holds); Reinjected the fault ids the
	// resume injected for it (fresh ids: back-ends are idempotent by id).
	Remaining  time.Duration `json:"remaining,omitempty"`
	Reinjected []string      `json:"reinjected,omitempty"`
}
