package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/failpoint"
)

// errNoBackend is a recover attempt on a worker without the fault's
// back-end, for the failure counter.
var errNoBackend = errors.New("back-end not configured on this worker")

type RecoverInput struct {
	Fault chaos.Fault `json:"fault"`
}

type RecoverResult struct {
	Fault chaos.Recovered `json:"fault"`
}

// Recover removes one fault by its deterministic id, whether or not its
// inject ever reported back. Removing an absent fault succeeds.
func (a *Activities) Recover(ctx context.Context, in RecoverInput) (RecoverResult, error) {
	b, ok := a.Backends[in.Fault.Backend]
	if !ok || b == nil {
		// Retryable, unlike in define and inject: this worker cannot remove
		// the fault, but another worker on the task queue may, and giving
		// up would leave the fault behind.
		a.Metrics.Recovered(in.Fault.Backend, false, errNoBackend)
		return RecoverResult{}, fmt.Errorf("recover %s (%s): back-end %q is not configured on this worker (configured: %v); retrying so a worker that has it can remove the fault",
			in.Fault.Name, in.Fault.ID, in.Fault.Backend, keys(a.Backends))
	}
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	_ = failpoint.Sleep(ctx, "recover-delay")
	r, err := b.Recover(ctx, in.Fault)
	a.Metrics.Recovered(in.Fault.Backend, r.Removed, err)
	if err != nil {
		// Never non-retryable: recovery is retried until the fault is gone.
		return RecoverResult{}, fmt.Errorf("recover %s (%s): %w", in.Fault.Name, in.Fault.ID, err)
	}
	a.log().Info("fault recovered", "fault_id", in.Fault.ID, "removed", r.Removed, "already_gone", r.AlreadyGone, "detail", r.Detail)
	return RecoverResult{Fault: chaos.Recovered{
		FaultID: in.Fault.ID, Removed: r.Removed, AlreadyGone: r.AlreadyGone, At: time.Now(),
		Detail: r.Detail, RecoveryTime: r.RecoveryTime,
	}}, nil
}
