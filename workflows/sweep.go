package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
)

const (
	// SweepWorkflowName removes faults whose run can no longer recover them.
	SweepWorkflowName = "Sweep"
	// SweepScheduleID is the periodic sweep's Temporal Schedule.
	SweepScheduleID = "gameday-sweep"
	// DefaultSweepEvery is how often the scheduled sweep runs.
	DefaultSweepEvery = 10 * time.Minute
)

// SweepWorkflow runs one sweep as an activity, so it uses the worker's
// back-end credentials (the same ServiceAccount that injects) and its result
// stays readable in the Temporal UI. The activity may wait for recoveries
// (pods Ready again), so it heartbeats and is retried a few times.
func SweepWorkflow(ctx workflow.Context, in activities.SweepInput) (activities.SweepResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 15 * time.Minute,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy:         retry(3),
	})
	var out activities.SweepResult
	err := workflow.ExecuteActivity(actx, a.Sweep, in).Get(ctx, &out)
	return out, err
}
