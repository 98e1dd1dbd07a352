package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/experiment"
)

// The inject, observe and recover of ExperimentWorkflow before
// versionGuardV1: faults injected one by one with no guard watching, observe
// as one activity holding from its own start, recover fault by fault.
// Histories recorded with them (testdata/experiment-breach.json,
// experiment-checklist-v1.json) replay through this file, and runs started
// before the upgrade finish on it: change nothing here.

func (e *experimentRun) legacyInject(ctx workflow.Context) bool {
	e.begin(ctx, experiment.PhaseInject, fmt.Sprintf("%d fault(s)", len(e.faults)))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retry(5),
	})
	for i, f := range e.faults {
		if e.abort != nil {
			e.end(ctx, experiment.StatusCancelled, "aborted")
			e.finish(experiment.Aborted, e.abortReason())
			return false
		}
		// Mark before calling: if this worker dies after the fault landed
		// but before the result is recorded, recover still removes it.
		e.attempted[i] = true
		e.res.Injected = append(e.res.Injected, f.ID)
		var out activities.InjectResult
		if err := workflow.ExecuteActivity(actx, a.Inject, activities.InjectInput{Fault: f}).Get(ctx, &out); err != nil {
			e.end(ctx, experiment.StatusFailed, rootMessage(err))
			e.stopped(ctx, err, "inject "+f.Name)
			return false
		}
	}
	e.end(ctx, experiment.StatusDone, strings.Join(e.res.Injected, ", "))
	e.notify(ctx, "injected", fmt.Sprintf("experiment %s injected %d fault(s) on %s; holding %s", e.res.Scenario, len(e.faults), e.res.Service, e.in.Scenario.HoldDuration()))
	return true
}

func (e *experimentRun) legacyObserve(ctx workflow.Context) {
	hold := e.in.Scenario.HoldDuration()
	e.begin(ctx, experiment.PhaseObserve, fmt.Sprintf("holding %s, %d guard(s)", hold, len(e.in.Scenario.Spec.Guards)))
	octx, cancel := workflow.WithCancel(ctx)
	octx = workflow.WithActivityOptions(octx, workflow.ActivityOptions{
		StartToCloseTimeout: hold + 5*time.Minute,
		HeartbeatTimeout:    ObserveHeartbeatTimeout,
		RetryPolicy:         retry(10, activities.ErrTypeBadQuery),
	})
	fut := workflow.ExecuteActivity(octx, a.Observe, activities.ObserveInput{Guards: e.in.Scenario.Spec.Guards, Hold: hold})
	err := workflow.Await(ctx, func() bool { return fut.IsReady() || e.abort != nil })
	if err != nil {
		cancel()
		e.end(ctx, experiment.StatusCancelled, "")
		e.stopped(ctx, err, "observe")
		return
	}
	if !fut.IsReady() {
		// A human abort: stop observing now; the activity learns of the
		// cancellation at its next heartbeat, but the workflow does not wait.
		cancel()
		e.end(ctx, experiment.StatusCancelled, e.abortReason())
		e.finish(experiment.Aborted, e.abortReason())
		return
	}
	var out activities.ObserveResult
	if err := fut.Get(ctx, &out); err != nil {
		e.end(ctx, experiment.StatusFailed, rootMessage(err))
		e.stopped(ctx, err, "observe")
		return
	}
	if out.Breach != nil {
		e.res.Breach = out.Breach
		e.end(ctx, experiment.StatusFailed, out.Breach.String())
		e.finish(experiment.Aborted, out.Breach.String())
		return
	}
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("%d evaluations, no breach", out.Evaluations))
}

// recover removes every attempted fault, newest first, retrying forever:
// leaving a fault behind is the one failure this platform must not have.
func (e *experimentRun) legacyRecover(ctx workflow.Context) {
	e.begin(ctx, experiment.PhaseRecover, "removing "+strings.Join(e.res.Injected, ", "))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second},
	})
	var failed []string
	for i := len(e.faults) - 1; i >= 0; i-- {
		if !e.attempted[i] {
			continue
		}
		var out activities.RecoverResult
		if err := workflow.ExecuteActivity(actx, a.Recover, activities.RecoverInput{Fault: e.faults[i]}).Get(ctx, &out); err != nil {
			// Only reachable if the worker has no client for the back-end.
			failed = append(failed, fmt.Sprintf("%s: %s", e.faults[i].ID, rootMessage(err)))
			continue
		}
		e.res.RecoverLog = append(e.res.RecoverLog, out.Fault)
		e.res.Recovered = append(e.res.Recovered, out.Fault.FaultID)
	}
	if len(failed) > 0 {
		e.end(ctx, experiment.StatusFailed, strings.Join(failed, "; "))
		e.finish(experiment.Failed, "recover: "+strings.Join(failed, "; "))
		return
	}
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("%d fault(s) gone", len(e.res.Recovered)))
}
