package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/failpoint"
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
	f := in.Fault
	if activity.IsActivity(ctx) {
		// Recorded on the fault's objects, so a sweep of another gameday
		// installation (another Temporal namespace) leaves it alone.
		f.TemporalNamespace = activity.GetInfo(ctx).WorkflowNamespace
	}
	inj, err := b.Inject(withHeartbeat(ctx), f)
	if err != nil {
		return InjectResult{}, classify(fmt.Errorf("inject %s (%s %s): %w", in.Fault.Name, in.Fault.Backend, in.Fault.Action, err))
	}
	// Tests crash here: the fault exists but the workflow never hears of it.
	failpoint.Hit("after-inject")
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
	b, ok := a.Backends[in.Fault.Backend]
	if !ok || b == nil {
		// Retryable, unlike in define and inject: this worker cannot remove
		// the fault, but another worker on the task queue may, and giving
		// up would leave the fault behind.
		return RecoverResult{}, fmt.Errorf("recover %s (%s): back-end %q is not configured on this worker (configured: %v); retrying so a worker that has it can remove the fault",
			in.Fault.Name, in.Fault.ID, in.Fault.Backend, keys(a.Backends))
	}
	r, err := b.Recover(withHeartbeat(ctx), in.Fault)
	if err != nil {
		// Never non-retryable: recovery is retried until the fault is gone.
		return RecoverResult{}, fmt.Errorf("recover %s (%s): %w", in.Fault.Name, in.Fault.ID, err)
	}
	a.log().Info("fault recovered", "fault_id", in.Fault.ID, "removed", r.Removed, "already_gone", r.AlreadyGone, "detail", r.Detail)
	return RecoverResult{Fault: experiment.RecoveredFault{
		FaultID: in.Fault.ID, Removed: r.Removed, AlreadyGone: r.AlreadyGone, At: time.Now(),
		Detail: r.Detail, RecoveryTime: r.RecoveryTime,
	}}, nil
}

// withHeartbeat lets a back-end that waits (pods Ready again, a finalizer)
// report progress as Temporal heartbeats without importing Temporal.
func withHeartbeat(ctx context.Context) context.Context {
	if !activity.IsActivity(ctx) {
		return ctx
	}
	return chaos.WithProgress(ctx, func(detail string) { activity.RecordHeartbeat(ctx, detail) })
}
