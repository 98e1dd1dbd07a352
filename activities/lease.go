package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/lease"
	"github.com/gameday/gameday/scenarios"
)

// LeaseStore reaches the lease entity workflow (implemented in package
// worker with the Temporal client: Update-With-Start, so the entity starts
// with the first run that needs it).
type LeaseStore interface {
	// List returns the current leases (none when the entity never ran).
	List(ctx context.Context) ([]lease.Lease, error)
	// Acquire takes every lease of one run, all or nothing. A refusal
	// because another run holds an overlapping lease is a
	// *lease.ConflictError.
	Acquire(ctx context.Context, req []lease.Lease) ([]lease.Lease, error)
	// Release frees every lease of one run and returns them.
	Release(ctx context.Context, workflowID, runID, reason string) ([]lease.Lease, error)
}

// ErrTypeTargetLeased: another run holds an overlapping lease. Permanent for
// this run: it is refused, not delayed.
const ErrTypeTargetLeased = "TargetLeased"

// leaseRequest is the run's leases: one per distinct target key of its
// faults, with what each back-end that can say (chaos.Scoper) names as
// touched there.
func (a *Activities) leaseRequest(ctx context.Context, sc scenarios.Scenario, workflowID, runID string) ([]lease.Lease, error) {
	faults := sc.ChaosFaultsForRun(workflowID, runID)
	targets := make([][]string, len(faults))
	for i, f := range faults {
		b, err := a.backend(f.Backend)
		if err != nil {
			return nil, err
		}
		if s, ok := b.(chaos.Scoper); ok {
			if targets[i], err = s.Scope(ctx, f); err != nil {
				return nil, classify(fmt.Errorf("fault %s: %w", f.Name, err))
			}
		}
	}
	h := lease.Holder{WorkflowID: workflowID, RunID: runID, Scenario: sc.Metadata.Name}
	return lease.ForFaults(h, faults, targets, sc.AllowsOverlap()), nil
}

// leasedError is the refusal of a run whose target another run holds:
// non-retryable, the message names the holders' workflow ids.
func leasedError(ce *lease.ConflictError, details ...any) error {
	return temporal.NewNonRetryableApplicationError("refused: "+ce.Error(), ErrTypeTargetLeased, nil, details...)
}

// checkLeases is define's check: refuse a run whose targets overlap a lease
// held by another run (unless both allow it). The lease itself is taken
// right before the first inject (AcquireLeases), atomically.
func (a *Activities) checkLeases(ctx context.Context, in DefineInput, res DefineResult) error {
	if a.Leases == nil {
		return nil
	}
	req, err := a.leaseRequest(ctx, in.Scenario, in.WorkflowID, in.RunID)
	if err != nil {
		return err
	}
	held, err := a.Leases.List(ctx)
	if err != nil {
		return fmt.Errorf("read target leases: %w", err)
	}
	if c := (lease.Table{Leases: held}).Conflicts(req); len(c) > 0 {
		return leasedError(&lease.ConflictError{Conflicts: c}, res)
	}
	return nil
}

type AcquireLeasesInput struct {
	Scenario   scenarios.Scenario `json:"scenario"`
	WorkflowID string             `json:"workflow_id"`
	RunID      string             `json:"run_id"`
}

type AcquireLeasesResult struct {
	Leases []lease.Lease `json:"leases"`
}

// AcquireLeases takes the run's target leases right before its first
// inject. Refused (ErrTypeTargetLeased, non-retryable) when another run got
// an overlapping lease since define.
func (a *Activities) AcquireLeases(ctx context.Context, in AcquireLeasesInput) (AcquireLeasesResult, error) {
	if a.Leases == nil {
		return AcquireLeasesResult{}, temporal.NewNonRetryableApplicationError("no lease store configured on this worker", ErrTypeBadInput, nil)
	}
	req, err := a.leaseRequest(ctx, in.Scenario, in.WorkflowID, in.RunID)
	if err != nil {
		return AcquireLeasesResult{}, err
	}
	got, err := a.Leases.Acquire(ctx, req)
	var ce *lease.ConflictError
	switch {
	case errors.As(err, &ce):
		return AcquireLeasesResult{}, leasedError(ce)
	case err != nil:
		return AcquireLeasesResult{}, fmt.Errorf("acquire target leases: %w", err)
	}
	a.log().Info("target leases acquired", "workflow_id", in.WorkflowID, "run_id", in.RunID, "leases", len(got))
	return AcquireLeasesResult{Leases: got}, nil
}

type ReleaseLeasesInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Reason     string `json:"reason,omitempty"`
}

type ReleaseLeasesResult struct {
	Released []lease.Lease `json:"released"`
}

// ReleaseLeases frees the run's leases once its cleanup is over.
func (a *Activities) ReleaseLeases(ctx context.Context, in ReleaseLeasesInput) (ReleaseLeasesResult, error) {
	if a.Leases == nil {
		return ReleaseLeasesResult{}, errors.New("no lease store configured on this worker")
	}
	out, err := a.Leases.Release(ctx, in.WorkflowID, in.RunID, in.Reason)
	if err != nil {
		return ReleaseLeasesResult{}, fmt.Errorf("release target leases: %w", err)
	}
	return ReleaseLeasesResult{Released: out}, nil
}
