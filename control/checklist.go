package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/workflows"
)

// ChecklistState queries a checklist's entity workflow for its learned
// state: weights, audit trail, pending changes. Before any run recorded
// results there is no entity yet; then it returns the weights of the
// checklist file as of now and recorded false.
func ChecklistState(ctx context.Context, c client.Client, cl checklist.Checklist) (st workflows.ChecklistState, recorded bool, err error) {
	v, err := c.QueryWorkflow(ctx, workflows.ChecklistWorkflowID(cl.Metadata.Name), "", workflows.QueryChecklistState)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return workflows.ChecklistState{Checklist: cl.Metadata.Name, Items: checklist.NewState(cl, time.Now()), AsOf: time.Now()}, false, nil
	case err != nil:
		return st, false, fmt.Errorf("query checklist %s: %w", cl.Metadata.Name, err)
	}
	if err := v.Get(&st); err != nil {
		return st, false, err
	}
	return st, true, nil
}

// EnsureChecklistSchedule creates the periodic review of a checklist's
// weights (every quarter by default), or updates its interval and
// checklist when it exists: running it twice is safe.
func EnsureChecklistSchedule(ctx context.Context, c client.Client, taskQueue string, cl checklist.Checklist, every time.Duration) (id string, created bool, err error) {
	id = workflows.ChecklistScheduleID(cl.Metadata.Name)
	return ensureSchedule(ctx, c, id, every, &client.ScheduleWorkflowAction{
		ID:        id + "-review",
		Workflow:  workflows.ChecklistQuarterlyWorkflowName,
		Args:      []any{workflows.QuarterlyInput{Checklist: cl}},
		TaskQueue: taskQueue,
	})
}
