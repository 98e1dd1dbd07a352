package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/schedules"
)

// KillSwitch reads the kill switch entity (implemented in package worker
// with the Temporal client; the entity runs on the worker's task queue).
type KillSwitch interface {
	// State is the switch now; the zero State when it was never set.
	State(ctx context.Context) (killswitch.State, error)
}

// ScheduleInfo answers what define and report need to know about the
// Temporal Schedule that started a run (implemented in package worker).
type ScheduleInfo interface {
	// Blackouts are the blackout windows of the schedule that started the
	// run, or started the game day the run is a step of, with that
	// schedule's id; none (and no id) for a run started by hand.
	Blackouts(ctx context.Context, workflowID, runID string) (schedule string, windows []schedules.Window, err error)
	// PauseOnFailure pauses the schedule that started the run when its
	// policy says to, with why in the note; it returns the schedule's id
	// when it paused it.
	PauseOnFailure(ctx context.Context, workflowID, runID, why string) (paused string, err error)
}

// RunAborter aborts every running experiment and game day a filter reaches,
// through their abort updates (implemented in package worker on package
// control, which `gameday abort --all` uses too).
type RunAborter interface {
	AbortRuns(ctx context.Context, f killswitch.Filter, reason, by string) ([]killswitch.Aborted, error)
}

// Error types of define's refusals: non-retryable, the run did nothing.
const (
	ErrTypeFrozen   = "Frozen"
	ErrTypeBlackout = "Blackout"
)

// checkGate is define's first check (and its last, after the guards were
// read): the kill switch, then the blackout
// windows of the schedule that started the run. Both refuse before
// anything else is looked at, with who froze and why, or the window and
// when it closes. Reading either is retried: define must not let a run
// through because the switch could not be read.
func (a *Activities) checkGate(ctx context.Context, in DefineInput) error {
	if a.KillSwitch != nil {
		st, err := a.KillSwitch.State(ctx)
		if err != nil {
			return fmt.Errorf("read the kill switch: %w", err)
		}
		if st.Frozen {
			return temporal.NewNonRetryableApplicationError(st.Refusal(), ErrTypeFrozen, nil)
		}
	}
	if a.Schedules != nil {
		schedule, windows, err := a.Schedules.Blackouts(ctx, in.WorkflowID, in.RunID)
		if err != nil {
			return fmt.Errorf("read the blackout windows of the run's schedule: %w", err)
		}
		if name, until, open := schedules.OpenWindow(windows, time.Now()); open {
			a.log().Info("run refused: blackout window", "workflow_id", in.WorkflowID, "schedule", schedule, "window", name, "until", until)
			return temporal.NewNonRetryableApplicationError(killswitch.BlackoutRefusal(name, until), ErrTypeBlackout, nil)
		}
	}
	return nil
}

// pauseOnFailure is report's last step for a run a schedule started: a run
// that did not pass pauses its schedule when the schedule says
// pause_on_failure, with the run and why in the note. A run the freeze or
// a blackout refused did nothing and pauses nothing; one a blackout window
// stopped as it opened was stopped on purpose, and pauses nothing either. (Temporal's own
// pause-on-failure reacts to a failed workflow execution; an experiment
// that aborts or fails still completes with its result, so gameday pauses
// the schedule itself, here.)
func (a *Activities) pauseOnFailure(ctx context.Context, r experiment.Result) {
	if killswitch.Skipped(r.Error) || killswitch.BlackedOut(r.AbortReason) {
		return
	}
	why := r.AbortReason
	if why == "" {
		why = r.Error
	}
	a.pauseScheduleOnFailure(ctx, "run", r.WorkflowID, r.RunID, r.Outcome, why)
}

// pauseScheduleOnFailure pauses the schedule that started a run or a game
// day (what) that did not pass, when its policy says pause_on_failure,
// with what happened and why in the note. Errors are logged: the outcome
// stands, the schedule goes on.
func (a *Activities) pauseScheduleOnFailure(ctx context.Context, what, workflowID, runID string, o experiment.Outcome, why string) {
	if a.Schedules == nil || o == experiment.Passed || o == experiment.DryRun {
		return
	}
	note := fmt.Sprintf("paused on failure: %s %s %s", what, workflowID, o)
	if why != "" {
		note += ": " + why
	}
	paused, err := a.Schedules.PauseOnFailure(ctx, workflowID, runID, truncate(note, 500))
	switch {
	case err != nil:
		a.log().Warn("could not pause the schedule on failure", "workflow_id", workflowID, "error", err)
	case paused != "":
		a.log().Info("schedule paused on failure", "schedule", paused, "workflow_id", workflowID, "outcome", o)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// AbortRunsInput: which runs, and why.
type AbortRunsInput struct {
	// Window, when set, is the blackout window that opened: the reason
	// says it and until when, and nothing is aborted if it is not open
	// (a Schedule that fired late, after the window closed).
	Window *schedules.Window `json:"window,omitempty"`
	// ScheduledBy limits the abort to runs those Schedules started.
	ScheduledBy []string `json:"scheduled_by,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	By          string   `json:"by"`
}

type AbortRunsResult struct {
	Reason string               `json:"reason"`
	Runs   []killswitch.Aborted `json:"runs"`
	// Closed: the window was not open when the activity ran.
	Closed bool `json:"closed,omitempty"`
}

// AbortRuns aborts the running experiments and game days of this worker's
// task queue (of the given schedules) through their abort updates.
func (a *Activities) AbortRuns(ctx context.Context, in AbortRunsInput) (AbortRunsResult, error) {
	out := AbortRunsResult{Reason: in.Reason, Runs: []killswitch.Aborted{}}
	if a.Aborter == nil {
		return out, temporal.NewNonRetryableApplicationError("no run aborter configured on this worker", ErrTypeBadInput, nil)
	}
	if w := in.Window; w != nil {
		if len(in.ScheduledBy) == 0 {
			// A window reaches the runs of its schedules, never every run.
			out.Reason = "blackout window " + w.Name + " applies to no schedule: nothing aborted"
			return out, nil
		}
		open, until := w.OpenAt(time.Now())
		if !open {
			out.Closed = true
			out.Reason = "blackout window " + w.Name + " is not open now: nothing aborted"
			return out, nil
		}
		out.Reason = killswitch.BlackoutAbortReason(w.Name, until)
	}
	if strings.TrimSpace(out.Reason) == "" {
		return out, temporal.NewNonRetryableApplicationError("an abort needs a reason", ErrTypeBadInput, nil)
	}
	f := killswitch.Filter{TaskQueue: activity.GetInfo(ctx).TaskQueue, ScheduledBy: in.ScheduledBy}
	runs, err := a.Aborter.AbortRuns(ctx, f, out.Reason, in.By)
	if err != nil {
		return out, fmt.Errorf("abort runs: %w", err)
	}
	out.Runs = append(out.Runs, runs...)
	aborted, refused := killswitch.Counts(runs)
	a.log().Info("runs aborted", "reason", out.Reason, "aborted", aborted, "refused", refused)
	return out, nil
}
