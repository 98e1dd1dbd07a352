package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/lease"
)

// The lease entity workflow: one per Temporal namespace (fixed id), holding
// the target leases of the runs that are injecting or cleaning up. Runs
// acquire and release with Updates (started with the workflow if needed,
// so there is nothing to deploy); define and the sweep read it with the
// list query. Like the checklist entity, it continues as new when its
// history grows.
const (
	LeasesWorkflowName = "Leases"
	UpdateLeaseAcquire = "acquire"
	UpdateLeaseRelease = "release"
	QueryLeases        = "list"

	// ErrTypeTargetLeased is the failure type of an acquire refused
	// because another run holds an overlapping lease; its details are a
	// lease.ConflictError.
	ErrTypeTargetLeased = "TargetLeased"

	leasesWorkflowIDPrefix = "gameday-leases-"

	// leasesMaxUpdates before continue-as-new, whatever the server suggests.
	leasesMaxUpdates = 500
)

// LeasesInput starts (or continues) the entity with the current leases.
type LeasesInput struct {
	Leases []lease.Lease `json:"leases,omitempty"`
}

// AcquireRequest asks for every lease of one run, all or nothing.
type AcquireRequest struct {
	Leases []lease.Lease `json:"leases"`
}

type AcquireResponse struct {
	Leases []lease.Lease `json:"leases"`
}

// ReleaseRequest frees every lease of one run (workflow id and run id).
type ReleaseRequest struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Reason is for the log: "recovered", "sweep: workflow is terminated".
	Reason string `json:"reason,omitempty"`
}

type ReleaseResponse struct {
	Released []lease.Lease `json:"released"`
}

// LeasesState is the list query's answer.
type LeasesState struct {
	Leases []lease.Lease `json:"leases"`
	AsOf   time.Time     `json:"as_of"`
}

// LeasesWorkflow is the long-running lease entity.
func LeasesWorkflow(ctx workflow.Context, in LeasesInput) error {
	t := &leaseEntity{table: lease.Table{Leases: in.Leases}}
	if err := t.setup(ctx); err != nil {
		return err
	}
	return t.run(ctx)
}

type leaseEntity struct {
	table    lease.Table
	sinceCAN int
}

// conflictError is what an acquire refused for an overlap returns: the
// message names the holders, the details carry the conflicts.
func conflictError(err error) error {
	var ce *lease.ConflictError
	if errors.As(err, &ce) {
		return temporal.NewNonRetryableApplicationError(ce.Error(), ErrTypeTargetLeased, nil, *ce)
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), "BadInput", nil)
}

func (t *leaseEntity) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryLeases, func() (LeasesState, error) {
		return LeasesState{Leases: t.leases(), AsOf: workflow.Now(ctx)}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateLeaseAcquire,
		func(ctx workflow.Context, req AcquireRequest) (AcquireResponse, error) {
			// Checked again: another acquire may have been accepted since
			// this one was validated.
			got, err := t.table.Acquire(req.Leases, workflow.Now(ctx))
			if err != nil {
				return AcquireResponse{}, conflictError(err)
			}
			t.sinceCAN++
			workflow.GetLogger(ctx).Info("leases acquired", "workflow_id", req.Leases[0].Holder.WorkflowID, "run_id", req.Leases[0].Holder.RunID, "leases", len(got))
			return AcquireResponse{Leases: got}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req AcquireRequest) error {
			if err := t.table.Check(req.Leases); err != nil {
				return conflictError(err)
			}
			return nil
		}},
	); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateLeaseRelease,
		func(ctx workflow.Context, req ReleaseRequest) (ReleaseResponse, error) {
			out := t.table.Release(req.WorkflowID, req.RunID)
			t.sinceCAN++
			if len(out) > 0 {
				workflow.GetLogger(ctx).Info("leases released", "workflow_id", req.WorkflowID, "run_id", req.RunID, "leases", len(out), "reason", req.Reason)
			}
			return ReleaseResponse{Released: nonNil(out)}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req ReleaseRequest) error {
			if req.WorkflowID == "" || req.RunID == "" {
				return errors.New("release needs the holder's workflow id and run id")
			}
			return nil
		}},
	)
}

func (t *leaseEntity) leases() []lease.Lease { return nonNil(t.table.Leases) }

func nonNil(ls []lease.Lease) []lease.Lease {
	if ls == nil {
		return []lease.Lease{}
	}
	return ls
}

func (t *leaseEntity) run(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool {
		return workflow.GetInfo(ctx).GetContinueAsNewSuggested() || t.sinceCAN >= leasesMaxUpdates
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, LeasesWorkflowName, LeasesInput{Leases: t.table.Leases})
}

// LeasesWorkflowID is the id of the lease entity of the workers polling
// taskQueue. One table per task queue, not per namespace: the entity runs
// on that queue, so a worker that asks it is always one that can answer
// (a table started by workers of another queue, since stopped, would leave
// every define waiting on a queue nobody polls). Runs of one installation
// share a queue and so a table; a second installation in the namespace has
// its own, and its targets should be its own too.
func LeasesWorkflowID(taskQueue string) string { return leasesWorkflowIDPrefix + taskQueue }
