package worker

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/schedules"
)

// KillSwitch implements activities.KillSwitch: the state query of the kill
// switch entity of the worker's task queue (package control, which
// `gameday freeze` uses too).
type KillSwitch struct {
	Client    client.Client
	TaskQueue string
}

func (k KillSwitch) State(ctx context.Context) (killswitch.State, error) {
	return control.KillSwitch(ctx, k.Client, k.TaskQueue)
}

// Schedules implements activities.ScheduleInfo from the run's memo (copied
// by Temporal from the schedule's action) and the schedule itself.
type Schedules struct{ Client client.Client }

func (s Schedules) Blackouts(ctx context.Context, workflowID, runID string) (string, []schedules.Window, error) {
	m, ok, err := control.RunSchedule(ctx, s.Client, workflowID, runID, true)
	if err != nil || !ok {
		return "", nil, err
	}
	return m.ID, m.Blackouts, nil
}

func (s Schedules) PauseOnFailure(ctx context.Context, workflowID, runID, why string) (string, error) {
	return control.PauseScheduleOnFailure(ctx, s.Client, workflowID, runID, why)
}

// Aborter implements activities.RunAborter with control.AbortAll, the code
// behind `gameday abort --all`.
type Aborter struct{ Client client.Client }

func (a Aborter) AbortRuns(ctx context.Context, f killswitch.Filter, reason, by string) ([]killswitch.Aborted, error) {
	return control.AbortAll(ctx, a.Client, f, reason, by)
}
