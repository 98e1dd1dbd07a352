package worker

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/lease"
	"github.com/gameday/gameday/workflows"
)

// Leases implements activities.LeaseStore on the lease entity workflow with
// Update-With-Start: the first run that needs a lease starts the entity, so
// there is nothing to deploy.
type Leases struct {
	Client    client.Client
	TaskQueue string
}

func (s Leases) update(ctx context.Context, name string, arg, out any) error {
	start := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.LeasesWorkflowID(s.TaskQueue),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "gameday target leases: which run may act on which target",
	}, workflows.LeasesWorkflowName, workflows.LeasesInput{})
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   workflows.LeasesWorkflowID(s.TaskQueue),
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		err = h.Get(ctx, out)
	}
	return err
}

func (s Leases) List(ctx context.Context) ([]lease.Lease, error) {
	v, err := s.Client.QueryWorkflow(ctx, workflows.LeasesWorkflowID(s.TaskQueue), "", workflows.QueryLeases)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil // never started: nobody holds anything
	}
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", workflows.LeasesWorkflowID(s.TaskQueue), err)
	}
	var st workflows.LeasesState
	if err := v.Get(&st); err != nil {
		return nil, err
	}
	return st.Leases, nil
}

func (s Leases) Acquire(ctx context.Context, req []lease.Lease) ([]lease.Lease, error) {
	var resp workflows.AcquireResponse
	err := s.update(ctx, workflows.UpdateLeaseAcquire, workflows.AcquireRequest{Leases: req}, &resp)
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == workflows.ErrTypeTargetLeased {
		var ce lease.ConflictError
		if app.HasDetails() && app.Details(&ce) == nil && len(ce.Conflicts) > 0 {
			return nil, &ce
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: acquire: %w", workflows.LeasesWorkflowID(s.TaskQueue), err)
	}
	return resp.Leases, nil
}

func (s Leases) Release(ctx context.Context, workflowID, runID, reason string) ([]lease.Lease, error) {
	var resp workflows.ReleaseResponse
	if err := s.update(ctx, workflows.UpdateLeaseRelease, workflows.ReleaseRequest{WorkflowID: workflowID, RunID: runID, Reason: reason}, &resp); err != nil {
		return nil, fmt.Errorf("%s: release: %w", workflows.LeasesWorkflowID(s.TaskQueue), err)
	}
	return resp.Released, nil
}
