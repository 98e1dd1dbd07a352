package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// The seed's drift rule (drift version 1): define resolves each guard's
// drift baseline (DefineInput.ResolveDrift, recorded in
// Result.DriftBaselines), the guard watch is handed the guards armed with
// it (Guard.Armed), and a watch that ends on a drift (a Breach with Drift
// set: the value is still inside its threshold) is turned into a pause
// taken by the drift rule instead of an abort. The pause removes the
// faults and asks a person: resume ("continue") turns that guard's drift
// rule off for the rest of the run (the person judged the drift and its
// hard threshold still applies), abort ends the run, and no answer within
// the pause timeout aborts it. A hard breach aborts at once, drift rule or
// not: the Tracker only judges drift on healthy samples.
const (
	versionDrift   = "drift"
	versionDriftV1 = workflow.Version(1)
)

type driftState struct {
	version workflow.Version
	// acked are the guards whose drift a person answered with continue.
	acked []string
	// pending is the guard whose drift the current pause holds for.
	pending string
}

// watchGuards are the guards a watch evaluates: armed with their drift
// baselines (those define resolved, minus the ones answered with
// continue) when armed, as written otherwise.
func (e *experimentRun) watchGuards(armed bool) []sli.Guard {
	guards := e.in.Scenario.Spec.Guards
	if !armed || e.drift.version < versionDriftV1 || len(e.res.DriftBaselines) == 0 {
		return guards
	}
	out := slices.Clone(guards)
	for i := range out {
		for _, d := range e.res.DriftBaselines {
			if d.Guard == out[i].Name && d.Off == "" && !slices.Contains(e.drift.acked, d.Guard) {
				v := d.Value
				out[i].Armed = &v
			}
		}
	}
	return out
}

// isDrift reports whether a watch's finding is the drift rule's.
func isDrift(b *sli.Breach) bool { return b != nil && b.Drift != nil }

// endedOnDrift is the drift finding of a watch that has ended on one (nil
// for a watch still running or that ended any other way).
func (e *experimentRun) endedOnDrift(ctx workflow.Context) *sli.Breach {
	if e.drift.version < versionDriftV1 || !e.guardEnded() {
		return nil
	}
	var out activities.GuardResult
	if e.guard.Get(ctx, &out) != nil || !isDrift(out.Breach) {
		return nil
	}
	return out.Breach
}

// driftInstead turns a watch that ended on a drift into a pause the drift
// rule asks for (kept for the next pause check), and forgets the ended
// watch: the pause starts the next one. False when the watch ended any
// other way (a breach, an error), which stops the run as before.
func (e *experimentRun) driftInstead(ctx workflow.Context) bool {
	b := e.endedOnDrift(ctx)
	if b == nil {
		return false
	}
	if e.pause.want == nil {
		e.pause.want = &pauseWant{req: PauseRequest{Reason: b.String(), By: experiment.DriftPauser}, drift: b}
	}
	e.guard = nil
	return true
}

// driftAtHoldEnd: a watch that ended on a drift as the last hold ended
// asks for a pause of faults already being removed; it is recorded, not
// acted on.
func (e *experimentRun) driftAtHoldEnd(ctx workflow.Context) bool {
	b := e.endedOnDrift(ctx)
	if b == nil {
		return false
	}
	e.setDetail(ctx, b.String()+" as the hold ended: nothing left to pause")
	e.guard = nil
	return true
}
