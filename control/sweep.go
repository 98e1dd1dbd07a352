package control

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/workflows"
)

// Sweep is a manual sweep started on the worker (a SweepWorkflow, so it
// uses the worker's credentials and its result stays in the Temporal UI).
type Sweep struct {
	ID  string
	run client.WorkflowRun
}

// StartSweep starts a manual sweep under a fresh id; Wait gets its result.
func StartSweep(ctx context.Context, c client.Client, taskQueue string, in activities.SweepInput) (Sweep, error) {
	id := fmt.Sprintf("gameday-sweep-manual-%s", time.Now().UTC().Format("20060102-150405.000"))
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: taskQueue}, workflows.SweepWorkflowName, in)
	if err != nil {
		return Sweep{ID: id}, fmt.Errorf("start sweep: %w", err)
	}
	return Sweep{ID: id, run: run}, nil
}

// Wait waits for the sweep to end and returns what it found and did.
func (s Sweep) Wait(ctx context.Context) (activities.SweepResult, error) {
	var res activities.SweepResult
	if err := s.run.Get(ctx, &res); err != nil {
		return res, fmt.Errorf("sweep %s: %w", s.ID, err)
	}
	return res, nil
}

// EnsureSweepSchedule creates or updates the periodic sweep (idempotent).
func EnsureSweepSchedule(ctx context.Context, c client.Client, taskQueue string, every time.Duration) (id string, created bool, err error) {
	return ensureSchedule(ctx, c, workflows.SweepScheduleID, every, &client.ScheduleWorkflowAction{
		ID:        workflows.SweepScheduleID + "-run",
		Workflow:  workflows.SweepWorkflowName,
		Args:      []any{activities.SweepInput{Grace: activities.DefaultSweepGrace}},
		TaskQueue: taskQueue,
	})
}
