package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

// Evidence-verified checklist items (checklist-evidence version 1). An item
// that says verified_by is decided by the run's own measurements, not by a
// signature, so the release gate is only final once the run is over: the
// gate evaluated at sign-off is provisional (its evidence items pending),
// and after verify the Evidence activity judges every check over its
// window of the run. The final gate replaces the provisional one before
// the weights, the report (postmortem, release ticket) and the workflow's
// result read it, so `run --wait`'s exit code, `gameday status`, Jira and
// the learned weights all see the same verdict.
//
// What cannot be computed fails: nothing injected, Prometheus unreachable
// after the retries, a query Prometheus refuses, no data, NaN. Evidence is
// never a pass by default.
const (
	versionEvidence   = "checklist-evidence"
	versionEvidenceV1 = workflow.Version(1)
)

// judgeEvidence is the one step the experiment's run() calls for it, right
// after the outcome is decided and before the checklist is recorded and
// the run reported; ctx is the disconnected cleanup context.
func (e *experimentRun) judgeEvidence(ctx workflow.Context, injectedAny bool) {
	if workflow.GetVersion(ctx, versionEvidence, workflow.DefaultVersion, versionEvidenceV1) < versionEvidenceV1 {
		return
	}
	cl := e.in.Checklist
	if cl == nil || e.version < versionChecklistV1 || !checklist.HasEvidence(*cl) {
		return
	}
	if e.res.Gate == nil && !injectedAny {
		// Nothing ran and no gate was opened (define refused, a rejected
		// or expired sign-off, a dry run): as for a signed checklist whose
		// gate never opened, there is no release verdict to give.
		return
	}
	resolved, err := checklist.ResolveEvidence(*cl, e.in.Scenario.EvidenceGuards())
	e.begin(ctx, experiment.PhaseEvidence, fmt.Sprintf("judging the evidence of checklist %s", cl.Metadata.Name))
	var results []checklist.CheckResult
	switch {
	case err != nil:
		results = checklist.FailAll(resolved, err.Error())
	case !injectedAny:
		results = checklist.FailAll(resolved, "nothing was injected, so the run has no evidence to judge")
	default:
		results = e.computeEvidence(ctx, resolved)
	}
	g := checklist.EvaluateGate(resolved, e.signs, results...)
	e.res.Gate = &g
	status := experiment.StatusDone
	if !g.Passed {
		status = experiment.StatusFailed
	}
	e.end(ctx, status, "release gate "+g.Checklist+" "+g.Summary())
}

// computeEvidence runs the Evidence activity; if it gives up (Prometheus
// unreachable, no worker with a Prometheus client), every check fails with
// the reason.
func (e *experimentRun) computeEvidence(ctx workflow.Context, cl checklist.Checklist) []checklist.CheckResult {
	var items []checklist.Item
	for _, it := range cl.Spec.Items {
		if it.Verified() {
			items = append(items, it)
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		HeartbeatTimeout:    phaseHeartbeatTimeout,
		RetryPolicy:         retry(4, activities.ErrTypeBadInput),
		Summary:             fmt.Sprintf("judge the evidence of %d checklist item(s)", len(items)),
	})
	var out activities.EvidenceResult
	err := workflow.ExecuteActivity(actx, a.Evidence, activities.EvidenceInput{Items: items, Timeline: e.timeline(ctx)}).Get(ctx, &out)
	if err != nil {
		return checklist.FailAll(cl, "evidence could not be computed: "+rootMessage(err))
	}
	return out.Checks
}

// timeline is what the evidence windows are cut from: when the first fault
// took effect (its hold end minus its duration, as the back-end reported
// it; else when injecting began), when the hold ended (or the run stopped
// injecting), and when verify ended.
func (e *experimentRun) timeline(ctx workflow.Context) checklist.Timeline {
	var t checklist.Timeline
	for i, f := range e.fs {
		if !e.attempted[i] || f.holdUntil.IsZero() {
			continue
		}
		if at := f.holdUntil.Add(-e.faults[i].Duration); t.FaultAt.IsZero() || at.Before(t.FaultAt) {
			t.FaultAt = at
		}
	}
	phase := func(name string) (experiment.Phase, bool) {
		for i := len(e.res.Phases) - 1; i >= 0; i-- {
			if e.res.Phases[i].Name == name {
				return e.res.Phases[i], true
			}
		}
		return experiment.Phase{}, false
	}
	inject, _ := phase(experiment.PhaseInject)
	if t.FaultAt.IsZero() {
		t.FaultAt = inject.Started
	}
	if p, ok := phase(experiment.PhaseObserve); ok && !p.Ended.IsZero() {
		t.HoldEnd = p.Ended
	} else if !inject.Ended.IsZero() {
		t.HoldEnd = inject.Ended
	}
	t.RunEnd = workflow.Now(ctx)
	for _, name := range []string{experiment.PhaseVerify, experiment.PhaseRecover} {
		if p, ok := phase(name); ok && !p.Ended.IsZero() {
			t.RunEnd = p.Ended
			break
		}
	}
	if t.HoldEnd.IsZero() || t.HoldEnd.After(t.RunEnd) {
		t.HoldEnd = t.RunEnd
	}
	if t.HoldEnd.Before(t.FaultAt) {
		t.HoldEnd = t.FaultAt
	}
	return t
}
