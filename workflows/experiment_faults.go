package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
)

// The guarded fault lifecycle (versionGuardV1 and later):
//
//   - one Guard activity starts before the first inject and watches until
//     the last fault's hold ends; a breach or an abort while injecting stops
//     injecting and goes straight to recover;
//   - every wait on an inject is a wait on the inject, the guard, the abort
//     and the cancel together, so an abort is acted on at once whatever the
//     inject is doing;
//   - each fault is held until its own HoldUntil (its duration after it
//     first took effect, as the back-end reports it), measured by a server
//     timer, so a crashed worker neither stretches nor shifts it; a fault
//     whose hold ends is removed at once, while the others stay;
//   - recover starts only once no inject attempt can still land, removes
//     every attempted fault concurrently, each retried on its own, and says
//     so when a removal keeps failing.
const (
	// GuardHeartbeatTimeout moves a dead worker's guard to another worker
	// within seconds; the guard heartbeats every second from a ticker.
	GuardHeartbeatTimeout = 5 * time.Second
	// FaultHeartbeatTimeout is inject's and recover's: they heartbeat every
	// second while a back-end works.
	FaultHeartbeatTimeout = 5 * time.Second
	// InjectStartToClose bounds one inject attempt. An attempt that ended
	// without saying how (timed out) may still land until then, so recover
	// makes a last pass after it.
	InjectStartToClose = 30 * time.Second
	// recoverAttemptsBeforeAlarm failed attempts at removing one fault make
	// the run say so (notification, details) before it keeps trying.
	recoverAttemptsBeforeAlarm = 3
)

// injectLateWindow is how long after an unsettled inject ended one of its
// attempts may still land: the attempt's StartToClose. A variable only so
// that workflow tests need not wait a minute of real time.
var injectLateWindow = InjectStartToClose

// faultState is the workflow's bookkeeping of one fault step.
type faultState struct {
	inject    workflow.Future // nil until attempted
	holdUntil time.Time       // when its hold ends; zero until injected
	released  bool            // its recover has started
	gone      bool            // its recover (and any last pass) is over
	// lateUntil: an inject attempt ended without an answer (timed out) and
	// may still land until then.
	lateUntil time.Time
}

func (e *experimentRun) guardedRun(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	e.fs = make([]faultState, len(e.faults))
	e.recoverWG = workflow.NewWaitGroup(ctx)

	if !e.recheckAfterGate(ctx) || !e.acquireLeases(ctx) {
		return
	}
	gctx, stopGuard := workflow.WithCancel(ctx)
	e.stopGuard = stopGuard
	defer func() { e.stopGuard() }() // the latest watch: pauses restart it
	if guards := e.in.Scenario.Spec.Guards; len(guards) > 0 {
		gctx = workflow.WithActivityOptions(gctx, workflow.ActivityOptions{
			// It runs until cancelled; this only bounds an attempt that
			// nobody cancels (injects retried for minutes, then the hold).
			StartToCloseTimeout: time.Duration(len(e.faults))*8*time.Minute + e.in.Scenario.HoldDuration() + 10*time.Minute,
			HeartbeatTimeout:    GuardHeartbeatTimeout,
			WaitForCancellation: true,
			RetryPolicy:         retry(10, activities.ErrTypeBadQuery),
			Summary:             guardSummary(guards),
		})
		e.guard = workflow.ExecuteActivity(gctx, a.Guard, activities.GuardInput{Guards: e.watchGuards(true), Scenario: e.res.Scenario})
	}
	e.exposure(ctx, dctx) // inject and hold, again after each resume (experiment_pause.go)
}

// recheckAfterGate runs define again right before the first inject when a
// sign-off gate was passed: the gate can last hours, and the approvers
// approved the targets and the steady state they saw. A system that is
// failing now, or targets that changed (other pods, another link), refuse
// the run with the reason; nothing is injected.
func (e *experimentRun) recheckAfterGate(ctx workflow.Context) bool {
	if e.recheck < versionRecheckV1 || len(e.in.Scenario.Spec.Signoff.Roles) == 0 {
		return true
	}
	e.begin(ctx, experiment.PhaseInject, "re-checking steady state and targets after sign-off")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    phaseHeartbeatTimeout,
		RetryPolicy:         retry(5),
		Summary:             "re-check steady state and targets after sign-off",
	})
	var def activities.DefineResult
	in := e.defineInput()
	in.Recheck = true
	err := workflow.ExecuteActivity(actx, a.Define, in).Get(ctx, &def)
	if err != nil {
		e.end(ctx, experiment.StatusFailed, "steady state gone after sign-off: "+rootMessage(err))
		if temporal.IsCanceledError(err) || ctx.Err() != nil {
			e.stopped(ctx, err, "re-check after sign-off")
		} else {
			e.finish(experiment.Failed, "re-check after sign-off: "+rootMessage(err)+"; nothing was injected")
		}
		return false
	}
	if !slices.Equal(sortedCopy(def.Targets), sortedCopy(e.res.Targets)) {
		reason := fmt.Sprintf("targets changed since sign-off (approved: %s; now: %s); nothing was injected", strings.Join(e.res.Targets, "; "), strings.Join(def.Targets, "; "))
		e.end(ctx, experiment.StatusFailed, reason)
		e.finish(experiment.Failed, reason)
		return false
	}
	e.res.Phases = e.res.Phases[:len(e.res.Phases)-1] // the inject phase proper starts now
	return true
}

func sortedCopy(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

// guardEnded reports whether the guard has stopped by itself (a breach, or
// it gave up), which ends the run's exposure.
func (e *experimentRun) guardEnded() bool { return e.guard != nil && e.guard.IsReady() }

// takeGuard records why the guard stopped.
func (e *experimentRun) takeGuard(ctx workflow.Context) {
	var out activities.GuardResult
	err := e.guard.Get(ctx, &out)
	switch {
	case err != nil:
		// Nothing watches any more: stop exposing the system.
		e.finish(experiment.Failed, "guard: "+rootMessage(err)+" (stopped: no guard was watching)")
	case out.Breach != nil:
		e.res.Breach = out.Breach
		e.finish(experiment.Aborted, out.Breach.String())
	default:
		e.finish(experiment.Failed, "guard ended without a breach before the hold was over")
	}
}

func (e *experimentRun) injectAll(ctx, dctx workflow.Context) bool {
	cycle := e.cycle()
	if e.pause.cycle == 0 {
		e.begin(ctx, experiment.PhaseInject, fmt.Sprintf("%d fault(s)", len(cycle)))
	} else {
		e.begin(ctx, experiment.PhaseInject, fmt.Sprintf("re-injecting %d fault(s) after pause %d, fresh ids", len(cycle), e.pause.cycle))
	}
	for _, i := range cycle {
		f := e.faults[i]
		if e.abort != nil {
			e.end(ctx, experiment.StatusCancelled, e.abortReason())
			e.finish(experiment.Aborted, e.abortReason())
			return false
		}
		if e.pauseWanted() {
			e.takePause(ctx, dctx)
			e.end(ctx, experiment.StatusPaused, e.pausedDetail())
			return false
		}
		ictx, cancel := workflow.WithCancel(ctx)
		ictx = workflow.WithActivityOptions(ictx, workflow.ActivityOptions{
			StartToCloseTimeout: InjectStartToClose,
			HeartbeatTimeout:    FaultHeartbeatTimeout,
			// A cancelled inject is waited for: recover must not start
			// while an attempt can still land.
			WaitForCancellation: true,
			RetryPolicy:         retry(5),
			Summary:             e.injectSummary(i),
		})
		// Marked before calling: if this worker dies after the fault landed
		// but before the result is recorded, recover still removes it.
		e.attempted[i] = true
		e.res.Injected = append(e.res.Injected, f.ID)
		fut := workflow.ExecuteActivity(ictx, a.Inject, activities.InjectInput{Fault: f})
		e.fs[i].inject = fut
		err := e.awaitReleasing(ctx, dctx, func() bool { return fut.IsReady() || e.guardEnded() || e.abort != nil || e.pauseWanted() })
		switch {
		case err != nil:
			e.end(ctx, experiment.StatusCancelled, "")
			e.stopped(ctx, err, "inject "+f.Name)
			return false
		case !fut.IsReady() && e.guardEnded() && !e.driftInstead(ctx):
			cancel()
			e.takeGuard(ctx)
			e.end(ctx, experiment.StatusCancelled, "stopped: "+e.stopReason())
			return false
		case !fut.IsReady() && e.pauseWanted():
			// Recover settles the cancelled inject before removing it.
			cancel()
			e.takePause(ctx, dctx)
			e.end(ctx, experiment.StatusPaused, e.pausedDetail())
			return false
		case !fut.IsReady():
			cancel()
			e.end(ctx, experiment.StatusCancelled, e.abortReason())
			e.finish(experiment.Aborted, e.abortReason())
			return false
		}
		var out activities.InjectResult
		if err := fut.Get(ctx, &out); err != nil {
			if e.guardEnded() && !e.driftInstead(ctx) {
				e.takeGuard(ctx) // a breach in the same instant is the first cause
			}
			e.end(ctx, experiment.StatusFailed, rootMessage(err))
			e.stopped(ctx, err, "inject "+f.Name)
			return false
		}
		// The hold ends at the fault's own HoldUntil, but never later than
		// its duration from now: the worker's clock is not the server's.
		now := workflow.Now(ctx)
		e.fs[i].holdUntil = out.HoldUntil
		if out.HoldUntil.IsZero() || out.HoldUntil.After(now.Add(f.Duration)) {
			e.fs[i].holdUntil = now.Add(f.Duration)
		}
		if e.guardEnded() && !e.driftInstead(ctx) {
			e.takeGuard(ctx)
			e.end(ctx, experiment.StatusCancelled, "stopped: "+e.stopReason())
			return false
		}
	}
	e.end(ctx, experiment.StatusDone, strings.Join(e.res.Injected, ", "))
	e.notify(ctx, "injected", fmt.Sprintf("experiment %s injected %d fault(s) on %s; holding %s%s", e.res.Scenario, len(cycle), e.res.Service, e.cycleHold(), e.unguardedNote()))
	return true
}

// awaitReleasing waits for cond while removing, as their holds end, the
// faults already injected: a slow later inject never stretches an earlier
// fault's hold.
func (e *experimentRun) awaitReleasing(ctx, dctx workflow.Context, cond func() bool) error {
	for {
		next, ok := e.nextRelease()
		if !ok {
			return workflow.Await(ctx, cond)
		}
		if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
			done, err := workflow.AwaitWithOptions(ctx, timerFor(wait, e.holdSummary(next)), cond)
			if err != nil || done {
				return err
			}
		}
		e.releaseDue(dctx, workflow.Now(ctx))
	}
}

// releaseDue starts the removal of every held fault whose hold has ended.
func (e *experimentRun) releaseDue(dctx workflow.Context, now time.Time) {
	for i := range e.fs {
		if e.attempted[i] && !e.fs[i].released && !e.fs[i].holdUntil.IsZero() && !e.fs[i].holdUntil.After(now) {
			e.startRecover(dctx, i)
		}
	}
}

func (e *experimentRun) stopReason() string {
	if e.res.AbortReason != "" {
		return e.res.AbortReason
	}
	return e.res.Error
}

func (e *experimentRun) unguardedNote() string {
	if e.res.Unguarded {
		return " (UNGUARDED: nothing aborts this run on an outage)"
	}
	return ""
}

// holdAll holds every fault until its own HoldUntil (removing each as its
// hold ends) unless the guard breaches, a human aborts or the run is
// cancelled first.
func (e *experimentRun) holdAll(ctx, dctx workflow.Context) {
	hold := e.cycleHold()
	e.begin(ctx, experiment.PhaseObserve, fmt.Sprintf("holding %s, %d guard(s)%s", hold, len(e.in.Scenario.Spec.Guards), e.unguardedNote()))
	for {
		next, ok := e.nextRelease()
		if !ok {
			break
		}
		if wait := next.Sub(workflow.Now(ctx)); wait > 0 {
			interrupted, err := workflow.AwaitWithOptions(ctx, timerFor(wait, e.holdSummary(next)), func() bool { return e.guardEnded() || e.abort != nil || e.pauseWanted() })
			switch {
			case err != nil:
				e.end(ctx, experiment.StatusCancelled, "")
				e.stopped(ctx, err, "observe")
				return
			case interrupted && e.guardEnded() && !e.driftInstead(ctx):
				e.takeGuard(ctx)
				e.end(ctx, experiment.StatusFailed, e.stopReason())
				return
			case interrupted && e.pauseWanted():
				e.takePause(ctx, dctx)
				e.end(ctx, experiment.StatusPaused, e.pausedDetail())
				return
			case interrupted:
				e.end(ctx, experiment.StatusCancelled, e.abortReason())
				e.finish(experiment.Aborted, e.abortReason())
				return
			}
		}
		e.releaseDue(dctx, workflow.Now(ctx))
	}
	holdEnd := workflow.Now(ctx)
	e.pause.over = true // nothing is held any more: a pause would change nothing
	if e.abort != nil {
		// An abort that came with the last hold's end is still an abort.
		e.end(ctx, experiment.StatusCancelled, e.abortReason())
		e.finish(experiment.Aborted, e.abortReason())
		return
	}
	if e.guard != nil && e.guardEnded() && !e.driftAtHoldEnd(ctx) {
		// The guard ended by itself (a breach, or it gave up) in the same
		// instant as the last hold: that is still the first cause.
		e.takeGuard(ctx)
		e.end(ctx, experiment.StatusFailed, e.stopReason())
		return
	}
	if e.guard != nil {
		// Every fault is being removed. Stop the guard and give it a moment
		// to hand in a breach it saw while the faults were still held: its
		// answer may be in flight as the hold ends. Whatever else it ends
		// with now (cancelled, or a heartbeat timeout if its worker died) is
		// just the guard being stopped.
		e.stopGuard()
		_, _ = workflow.AwaitWithOptions(ctx, timerFor(GuardHeartbeatTimeout, fmt.Sprintf("give the stopped guard %s to hand in a breach it saw during the hold", GuardHeartbeatTimeout)), e.guard.IsReady)
		var out activities.GuardResult
		if e.guard.IsReady() && e.guard.Get(ctx, &out) == nil && out.Breach != nil && !isDrift(out.Breach) && !out.Breach.At.After(holdEnd) {
			e.res.Breach = out.Breach
			e.finish(experiment.Aborted, out.Breach.String())
			e.end(ctx, experiment.StatusFailed, e.stopReason())
			return
		}
	}
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("held %s, no breach%s", hold, e.unguardedNote()))
}

// nextRelease is the earliest hold end of a fault still held.
func (e *experimentRun) nextRelease() (time.Time, bool) {
	var next time.Time
	found := false
	for i, f := range e.fs {
		if !e.attempted[i] || f.released {
			continue
		}
		if f.holdUntil.IsZero() {
			continue // its inject has not answered yet
		}
		if !found || f.holdUntil.Before(next) {
			next, found = f.holdUntil, true
		}
	}
	return next, found
}

// recoverAll removes every attempted fault, all at once, and waits for
// every removal. Leaving a fault behind is the one failure this platform
// must not have, so each removal is retried until it succeeds.
func (e *experimentRun) recoverAll(ctx workflow.Context) {
	e.begin(ctx, experiment.PhaseRecover, "removing "+strings.Join(e.res.Injected, ", "))
	for i := range e.faults {
		if e.attempted[i] {
			e.startRecover(ctx, i)
		}
	}
	e.recoverWG.Wait(ctx)
	if len(e.recoverErrs) > 0 {
		e.end(ctx, experiment.StatusFailed, strings.Join(e.recoverErrs, "; "))
		e.finish(experiment.Failed, "recover: "+strings.Join(e.recoverErrs, "; "))
		return
	}
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("%d fault(s) gone", len(e.res.Recovered)))
}

// startRecover starts removing fault i (once) in a coroutine of its own.
func (e *experimentRun) startRecover(ctx workflow.Context, i int) {
	if e.fs[i].released {
		return
	}
	e.fs[i].released = true
	e.recoverWG.Add(1)
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer e.recoverWG.Done()
		defer func() { e.fs[i].gone = true }()
		e.settleInject(ctx, i)
		e.recoverOne(ctx, i, false)
		if late := e.fs[i].lateUntil; !late.IsZero() {
			// The inject attempt timed out and could still land until its
			// deadline: one more (idempotent) removal after it.
			if wait := late.Sub(workflow.Now(ctx)); wait > 0 {
				e.setDetail(ctx, fmt.Sprintf("inject of %s timed out; last removal pass at %s", e.faults[i].Name, late.UTC().Format(time.RFC3339)))
				_ = sleep(ctx, wait, fmt.Sprintf("wait out %s's timed-out inject attempt, then remove it once more", e.faults[i].Name))
			}
			e.recoverOne(ctx, i, true)
		}
	})
}

// settleInject waits until no attempt of fault i's inject can still land:
// a cancelled inject is waited for (the activity lets its back-end call
// answer, then acknowledges). An attempt that timed out may still be running
// on a worker cut off from the server until its deadline; lateUntil records
// it. Only this fault waits: the others are being removed meanwhile.
func (e *experimentRun) settleInject(ctx workflow.Context, i int) {
	fut := e.fs[i].inject
	if fut == nil {
		return
	}
	var out activities.InjectResult
	err := fut.Get(ctx, &out)
	if !injectSettled(err, out) {
		e.fs[i].lateUntil = workflow.Now(ctx).Add(injectLateWindow)
	}
}

// injectSettled says whether an inject's end proves no attempt of it can
// still land: it answered (landed, or failed after its call answered) on
// its first attempt. A later attempt means an earlier one timed out and may
// still be running on a worker cut off from the server; a timeout, or a
// cancel while no attempt was running (between retries), says nothing.
func injectSettled(err error, out activities.InjectResult) bool {
	if err == nil {
		return out.Attempt <= 1
	}
	var st activities.InjectSettled
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.HasDetails() && app.Details(&st) == nil && st.Attempt > 0 {
		return st.Attempt == 1
	}
	return false
}

func (e *experimentRun) recoverOne(ctx workflow.Context, i int, lastPass bool) {
	f := e.faults[i]
	opts := workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    FaultHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
			MaximumAttempts: recoverAttemptsBeforeAlarm,
		},
		Summary: e.recoverSummary(i),
	}
	var out activities.RecoverResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.Recover, activities.RecoverInput{Fault: f}).Get(ctx, &out)
	if err != nil {
		msg := fmt.Sprintf("removing %s (%s) failed %d times, still trying: %s", f.Name, f.ID, recoverAttemptsBeforeAlarm, rootMessage(err))
		e.logger.Warn("recover failing", "fault", f.ID, "error", err)
		e.res.RecoverAlarms = append(e.res.RecoverAlarms, msg)
		e.setDetail(ctx, msg)
		e.notify(ctx, "recover-failing", fmt.Sprintf("experiment %s: %s", e.res.Scenario, msg))
		// Keep trying, without limit: another worker may have the back-end,
		// the API may come back; the sweep is only a backstop.
		opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second}
		opts.Summary = chaos.Clip(opts.Summary+" (retrying until it succeeds)", chaos.MaxDescription)
		err = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), a.Recover, activities.RecoverInput{Fault: f}).Get(ctx, &out)
	}
	if err != nil {
		e.recoverErrs = append(e.recoverErrs, fmt.Sprintf("%s: %s", f.ID, rootMessage(err)))
		return
	}
	if lastPass {
		if out.Fault.Removed {
			out.Fault.Detail = joinNonEmpty("; ", "removed by the last pass: an inject attempt landed after its activity timed out", out.Fault.Detail)
			e.res.RecoverLog = append(e.res.RecoverLog, out.Fault)
		}
		return
	}
	e.res.RecoverLog = append(e.res.RecoverLog, out.Fault)
	if !slices.Contains(e.res.Recovered, out.Fault.FaultID) {
		e.res.Recovered = append(e.res.Recovered, out.Fault.FaultID)
	}
}

// setDetail amends the current phase's detail (the Temporal UI shows it).
func (e *experimentRun) setDetail(ctx workflow.Context, detail string) {
	if n := len(e.res.Phases); n > 0 {
		p := &e.res.Phases[n-1]
		p.Detail = joinNonEmpty("; ", p.Detail, detail)
	}
	workflow.SetCurrentDetails(ctx, e.details())
}
