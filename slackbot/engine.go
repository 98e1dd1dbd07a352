// Package slackbot makes a Slack channel the control room of a game day:
// slash commands start, dry-run, list, inspect and abort experiments; one
// channel message per run is kept current with chat.update; Block Kit
// buttons sign off checklist items and abort. It talks to Temporal only
// through Engine, so its handlers are testable with slacktest and a fake.
package slackbot

import (
	"context"
	"fmt"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/scenarios"
)

// StartRequest asks the engine to start an experiment.
type StartRequest struct {
	// Scenario is the catalog scenario the bot checked the user's access
	// against, from the one Engine.Scenarios lookup of this command. The
	// engine starts exactly this value (with Params applied); it never
	// looks the name up again, so no file, nor a catalog that changed in
	// between, can stand in for what was authorized.
	Scenario scenarios.Scenario
	Params   map[string]string // key=value overrides from the slash command (validated by the engine)
	DryRun   bool
	By       string // display name of who started it (recorded in history)
	ByID     string // Slack user id
	// Channel is the channel the run was started from. The engine records
	// it on the run (memo MemoChannel), so a restarted bot can find the
	// runs to follow again (see RunLister and Bot.Resume).
	Channel string
	// WorkflowID, when set, is the run's id, derived from the Slack
	// request (see requestKey): every replay of one request, on any bot
	// replica, asks for the same id. The engine must start the run under
	// exactly this id and refuse a second start with it, whether the
	// first run is still running or has ended, with an
	// *AlreadyStartedError. Empty: the engine picks a fresh id.
	WorkflowID string
}

// AlreadyStartedError is the engine's answer to a start whose
// StartRequest.WorkflowID was used before: the run that request started
// (Temporal refused the duplicate). The bot tells the user where that run
// is instead of reporting a failure.
type AlreadyStartedError struct {
	WorkflowID string
	RunID      string // the first run's, when Temporal says
	URL        string // its Temporal UI page, when configured
}

func (e *AlreadyStartedError) Error() string {
	return fmt.Sprintf("run %s already started", e.WorkflowID)
}

// MemoChannel is the workflow memo key holding the Slack channel a run was
// started from. A memo is set by the client at start, outside the
// workflow's input and code, and comes back with every visibility listing.
const MemoChannel = "gameday.slack.channel"

// SlackRun is a run in progress that was started from Slack.
type SlackRun struct {
	WorkflowID string
	Channel    string // from the run's MemoChannel memo
}

// RunLister is implemented by an Engine that can list the runs started
// from Slack that are still running; Bot.Resume follows them again. It is
// optional: with an Engine that lacks it, Resume does nothing.
type RunLister interface {
	// SlackRuns lists the running runs that carry a MemoChannel memo. On
	// an error it may still return the runs listed so far.
	SlackRuns(ctx context.Context) ([]SlackRun, error)
}

// KillSwitchEngine is implemented by an Engine that reaches the kill
// switch: /gameday abort all, /gameday freeze, and the freeze line of the
// run messages. Optional: with an Engine that lacks it, those commands say
// so and the messages show no line.
type KillSwitchEngine interface {
	// AbortAll aborts every running experiment and game day of the
	// installation through their abort updates and says what each
	// answered.
	AbortAll(ctx context.Context, reason, by string) ([]killswitch.Aborted, error)
	// Freeze turns the switch on or off; the entity's validator's refusal
	// (no reason, already frozen) is the error.
	Freeze(ctx context.Context, on bool, reason, by string) (killswitch.State, error)
	// KillSwitch reads the switch.
	KillSwitch(ctx context.Context) (killswitch.State, error)
}

// ItemVerdict is one checklist item's verdict from the sign-off modal.
type ItemVerdict struct {
	ID       string
	Pass     bool
	Evidence string
}

// Engine is what the bot needs from the workflow side. Implemented over the
// Temporal client by slacktemporal.Engine; faked in tests.
type Engine interface {
	Scenarios() ([]scenarios.Scenario, error)
	// Start starts a run and returns its workflow id at once (it does not
	// wait for the run). A start under a StartRequest.WorkflowID used
	// before fails with *AlreadyStartedError and starts nothing.
	Start(ctx context.Context, req StartRequest) (workflowID string, err error)
	Status(ctx context.Context, workflowID string) (experiment.Result, error)
	// Abort sends the abort Update; a validator rejection comes back as the
	// error, to be shown to that user only.
	Abort(ctx context.Context, workflowID, reason, by string) error
	// Signoff sends the sign-off Update for one role; returns the roles
	// still pending, or the validator's rejection.
	Signoff(ctx context.Context, workflowID, role, user string, items []ItemVerdict, reject bool, reason string) (pending []string, err error)
	// Checklist returns the run's checklist (nil when it has none) so the
	// modal can show the role's items.
	Checklist(ctx context.Context, workflowID string) (*checklist.Checklist, error)
	// RunControl pauses, resumes and annotates runs (control.go).
	RunControl
}
