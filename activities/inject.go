package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/failpoint"
)

type InjectInput struct {
	Fault chaos.Fault `json:"fault"`
}

type InjectResult struct {
	Injected chaos.Injected `json:"injected"`
	// HoldUntil is when the fault's hold ends: its duration after it first
	// took effect (a retried inject that adopted the fault reports the
	// original time), so a crash never stretches or shifts the hold.
	HoldUntil time.Time `json:"hold_until,omitzero"`
	// Attempt that landed it; above 1, an earlier attempt timed out and
	// might still land somewhere until its deadline.
	Attempt int `json:"attempt,omitempty"`
}

// ProgressHeartbeatEvery is how often inject and recover heartbeat while a
// back-end works, so the workflow's short heartbeat timeout moves a crashed
// worker's call to another worker within seconds.
const ProgressHeartbeatEvery = time.Second

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
	attempt := 1
	if activity.IsActivity(ctx) {
		attempt = int(activity.GetInfo(ctx).Attempt)
	}
	// The back-end call is not cut short by the activity's cancellation (an
	// abort or a breach while injecting): a request already on its way may
	// still land, and returning before it answers would let recover run
	// first and miss it. A cancelled inject therefore waits for its call
	// (bounded by the attempt's own deadline), heartbeating all along so the
	// attempt stays alive, and reports what happened; a fault that landed is
	// then removed like any other.
	callCtx, stop := withHeartbeat(context.WithoutCancel(ctx))
	defer stop()
	cancelCall := func() {}
	if d, ok := ctx.Deadline(); ok {
		callCtx, cancelCall = context.WithDeadline(callCtx, d)
	}
	defer cancelCall()
	_ = failpoint.Sleep(callCtx, "inject-delay")
	_ = failpoint.Sleep(callCtx, fmt.Sprintf("inject-delay-step%d", f.Step))
	inj, err := b.Inject(callCtx, f)
	a.Metrics.Injected(f.Backend, f.Action, err)
	if err != nil {
		return InjectResult{}, settledError(classify(fmt.Errorf("inject %s (%s %s): %w", in.Fault.Name, in.Fault.Backend, in.Fault.Action, err)), attempt)
	}
	since := inj.Since
	if since.IsZero() {
		since = time.Now()
	}
	// Tests crash here: the fault exists but the workflow never hears of it.
	failpoint.Hit("after-inject")
	a.log().Info("fault injected", "fault_id", in.Fault.ID, "object", inj.Object, "existing", inj.Existing, "expires", inj.Expires)
	return InjectResult{Injected: inj, HoldUntil: since.Add(in.Fault.Duration), Attempt: attempt}, nil
}

// InjectSettled rides on an inject's error: the attempt that failed, after
// its back-end call answered. Attempt 1 means no earlier attempt can still
// be in flight somewhere; a later attempt means one timed out and might.
type InjectSettled struct {
	Attempt int `json:"attempt"`
}

// settledError carries InjectSettled on err, keeping its message, type and
// retryability.
func settledError(err error, attempt int) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return temporal.NewApplicationErrorWithOptions(app.Message(), app.Type(), temporal.ApplicationErrorOptions{
			NonRetryable: app.NonRetryable(), Cause: app.Unwrap(), Details: []any{InjectSettled{Attempt: attempt}},
		})
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), "InjectFailed", temporal.ApplicationErrorOptions{
		Cause: err, Details: []any{InjectSettled{Attempt: attempt}},
	})
}

// withHeartbeat heartbeats every ProgressHeartbeatEvery until stop is called,
// with the latest progress a back-end reported (pods Ready again, a
// finalizer) through chaos.WithProgress, so back-ends need no Temporal
// import and a silent back-end call still heartbeats.
func withHeartbeat(ctx context.Context) (context.Context, func()) {
	if !activity.IsActivity(ctx) {
		return ctx, func() {}
	}
	var mu sync.Mutex
	latest := "started"
	stop := heartbeatEvery(ctx, ProgressHeartbeatEvery, func() any {
		mu.Lock()
		defer mu.Unlock()
		return latest
	})
	return chaos.WithProgress(ctx, func(detail string) {
		mu.Lock()
		latest = detail
		mu.Unlock()
		activity.RecordHeartbeat(ctx, detail)
	}), stop
}
