package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
)

type InjectInput struct {
	Fault chaos.Fault `json:"fault"`
}

type InjectResult struct {
	Injected chaos.Injected `json:"injected"`
}

// Inject applies one fault. Back-ends are idempotent by fault id, so a retry
// after a worker crash finds the fault already there instead of adding a
// second one.
func (a *Activities) Inject(ctx context.Context, in InjectInput) (InjectResult, error) {
	b, err := a.backend(in.Fault.Backend)
	if err != nil {
		return InjectResult{}, err
	}
	inj, err := b.Inject(ctx, in.Fault)
	if err != nil {
		return InjectResult{}, classify(fmt.Errorf("inject %s (%s %s): %w", in.Fault.Name, in.Fault.Backend, in.Fault.Action, err))
	}
	a.log().Info("fault injected", "fault_id", in.Fault.ID, "object", inj.Object, "existing", inj.Existing, "expires", inj.Expires)
	return InjectResult{Injected: inj}, nil
}

type RecoverInput struct {
	Fault chaos.Fault `json:"fault"`
}

type RecoverResult struct {
	Fault experiment.RecoveredFault `json:"fault"`
}

// Recover removes one fault by its deterministic id, whether or not its
// inject ever reported back. Removing an absent fault succeeds.
func (a *Activities) Recover(ctx context.Context, in RecoverInput) (RecoverResult, error) {
	b, err := a.backend(in.Fault.Backend)
	if err != nil {
		return RecoverResult{}, err
	}
	r, err := b.Recover(ctx, in.Fault)
	if err != nil {
		// Never non-retryable: recovery is retried until the fault is gone.
		return RecoverResult{}, fmt.Errorf("recover %s (%s): %w", in.Fault.Name, in.Fault.ID, err)
	}
	a.log().Info("fault recovered", "fault_id", in.Fault.ID, "removed", r.Removed, "already_gone", r.AlreadyGone)
	return RecoverResult{Fault: experiment.RecoveredFault{FaultID: in.Fault.ID, Removed: r.Removed, AlreadyGone: r.AlreadyGone, At: time.Now()}}, nil
}
