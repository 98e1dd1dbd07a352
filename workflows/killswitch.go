package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/killswitch"
)

// The kill switch entity: one per task queue (like the lease table: the
// entity runs on that queue, so whoever reads it is a worker that can
// answer). `gameday freeze on|off` turns it with the freeze Update (a
// validator refuses a missing reason or name, and a switch that would not
// change); define reads it with the state query. Its state lives in the
// workflow's history, so it survives restarts of the server and of every
// worker; it continues as new, carrying the state, before that history
// grows.
const (
	KillSwitchWorkflowName = "KillSwitch"
	UpdateFreeze           = "freeze"
	QueryKillSwitch        = "killswitch"

	killSwitchIDPrefix = "gameday-killswitch-"
	// killSwitchMaxUpdates before continue-as-new, whatever the server
	// suggests.
	killSwitchMaxUpdates = 200
)

// KillSwitchWorkflowID is the id of the kill switch of the workers polling
// taskQueue.
func KillSwitchWorkflowID(taskQueue string) string { return killSwitchIDPrefix + taskQueue }

// KillSwitchWorkflow is the long-running kill switch entity.
func KillSwitchWorkflow(ctx workflow.Context, in KillSwitchInput) error {
	k := &killSwitchEntity{state: in.State}
	if err := k.setup(ctx); err != nil {
		return err
	}
	return k.run(ctx)
}

type killSwitchEntity struct {
	state   killswitch.State
	updates int
}

func (k *killSwitchEntity) setup(ctx workflow.Context) error {
	k.show(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryKillSwitch, func() (killswitch.State, error) {
		return k.state, nil
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateFreeze,
		func(ctx workflow.Context, req killswitch.Request) (FreezeResponse, error) {
			k.state = k.state.Apply(req, workflow.Now(ctx))
			k.updates++
			k.show(ctx)
			workflow.GetLogger(ctx).Info("kill switch turned", "frozen", k.state.Frozen, "by", req.By, "reason", req.Reason)
			return FreezeResponse{State: k.state}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req killswitch.Request) error {
			return k.state.Check(req)
		}},
	)
}

// show puts the switch in the Temporal UI's details of the entity.
func (k *killSwitchEntity) show(ctx workflow.Context) {
	text := "not frozen: new runs start"
	if k.state.Frozen {
		text = "**" + k.state.Banner() + "**"
	}
	if n := len(k.state.History); n > 0 {
		c := k.state.History[n-1]
		verb := map[bool]string{true: "froze", false: "unfroze"}[c.On]
		text += "\n\nlast change: " + c.By + " " + verb + " at " + c.At.UTC().Format(time.RFC3339) + ": " + c.Reason
	}
	workflow.SetCurrentDetails(ctx, text)
}

func (k *killSwitchEntity) run(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool {
		return workflow.GetInfo(ctx).GetContinueAsNewSuggested() || k.updates >= killSwitchMaxUpdates
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, KillSwitchWorkflowName, KillSwitchInput{State: k.state})
}

// BlackoutWorkflowName is what a blackout window's Schedule starts when the
// window opens.
const BlackoutWorkflowName = "Blackout"

// BlackoutWorkflow aborts the runs still going, of the schedules a blackout
// window applies to, as the window opens: one activity (the abort updates
// need the Temporal client; the workflow stays deterministic and the
// window's clock is read there), retried a few times, its result (what it
// aborted, what refused) readable in the Temporal UI. A Schedule per window
// is what makes it durable: no timer in any worker.
func BlackoutWorkflow(ctx workflow.Context, in BlackoutInput) (activities.AbortRunsResult, error) {
	if len(in.ScheduleIDs) == 0 {
		workflow.SetCurrentDetails(ctx, "blackout window "+in.Window.Name+" applies to no schedule: nothing to abort")
		return activities.AbortRunsResult{Reason: "no schedule", Runs: []killswitch.Aborted{}}, nil
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         retry(5, activities.ErrTypeBadInput),
		Summary:             "abort the runs of blackout window " + in.Window.Name,
	})
	var out activities.AbortRunsResult
	err := workflow.ExecuteActivity(actx, a.AbortRuns, activities.AbortRunsInput{
		Window: &in.Window, ScheduledBy: in.ScheduleIDs, By: "blackout window " + in.Window.Name,
	}).Get(ctx, &out)
	if err != nil {
		return out, err
	}
	aborted, refused := killswitch.Counts(out.Runs)
	details := out.Reason
	for _, r := range out.Runs {
		switch {
		case r.Refused != "":
			details += "\n- " + r.WorkflowID + ": refused: " + r.Refused
		case r.GameDay != "":
			details += "\n- " + r.WorkflowID + ": aborted with its game day " + r.GameDay
		default:
			details += "\n- " + r.WorkflowID + ": aborted during " + r.Phase
		}
	}
	if aborted+refused == 0 && !out.Closed {
		details += "\n\nno run of its schedules was going"
	}
	workflow.SetCurrentDetails(ctx, details)
	return out, nil
}
