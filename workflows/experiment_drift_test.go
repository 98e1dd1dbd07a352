package workflows

import (
	"context"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// driftScenario: the p95 guard declares a 7-day baseline (limit 15 %).
func driftScenario() scenarios.Scenario {
	sc := testScenario()
	sc.Spec.Guards[0].Baseline = &sli.Baseline{Query: "avg_over_time(q[7d])"}
	sc.Spec.Guards[0].Drift = sli.DefaultDriftLimit
	return sc
}

// defineWithDrift is define resolving the p95 baseline to 0.05.
func (s *experimentSuite) defineWithDrift() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.DefineInput) (activities.DefineResult, error) {
		r, err := s.defineOK(ctx, in)
		if in.ResolveDrift {
			r.Drift = []sli.DriftBaseline{{Guard: "p95", Source: "avg_over_time(q[7d])", Value: 0.05, Limit: 15}}
		}
		return r, err
	}).Once()
}

var driftFinding = sli.Breach{Guard: "p95", Query: "q", Op: "<=", Value: 0.09, Threshold: 0.8,
	Drift: &sli.Drift{Baseline: 0.05, Percent: 80, Limit: 15, Source: "avg_over_time(q[7d])"}}

// watchInputs records the guards each watch was handed.
type watchInputs struct {
	mu  sync.Mutex
	ins []activities.GuardInput
}

func (w *watchInputs) record(next func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error)) func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
	return func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
		w.mu.Lock()
		w.ins = append(w.ins, in)
		w.mu.Unlock()
		if next == nil {
			<-ctx.Done()
			return activities.GuardResult{}, ctx.Err()
		}
		return next(ctx, in)
	}
}

func (w *watchInputs) armed(i int) *sli.Float {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ins[i].Guards[0].Armed
}

// A drift inside the threshold pauses the run (faults removed) instead of
// aborting it; continue re-injects, and that guard's drift rule is off for
// the rest of the run.
func (s *experimentSuite) Test_DriftPausesThenContinue() {
	s.defineWithDrift()
	f := &liveFaults{}
	f.register(s)
	w := &watchInputs{}
	s.guardWatches(w.record(breachAfter(300*time.Millisecond, driftFinding)), w.record(nil), w.record(nil))
	s.okVerify()
	var during []string
	var paused experiment.Result
	s.at(700*time.Millisecond, func() {
		during = f.liveNow()
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&paused))
	})
	var cont *updateOutcome
	s.at(time.Second, func() {
		cont = s.update(UpdateResume, ResumeRequest{By: "dana", Reason: "the drift is the fallback's cost"})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: driftScenario()})
	r := s.result()

	s.Equal(experiment.Passed, r.Outcome, r.AbortReason+r.Error)
	s.Empty(during, "the drift pause removed the faults")
	s.Equal(experiment.PhasePaused, paused.Phase)
	s.True(paused.ResumeOpen())
	s.Require().NoError(cont.err)
	s.Require().Len(r.Pauses, 1)
	p := r.Pauses[0]
	s.True(p.Drift)
	s.Equal(experiment.DriftPauser, p.By)
	s.Equal("guard p95 drifted 80% from its baseline 0.05 (limit 15%): value 0.09, still inside its threshold <= 0.8", p.Reason)
	s.Equal(experiment.PauseResumed, p.Ended)
	s.Equal("dana", p.EndedBy)
	s.Nil(r.Breach, "a drift is no breach")
	s.Equal([]sli.DriftBaseline{{Guard: "p95", Source: "avg_over_time(q[7d])", Value: 0.05, Limit: 15}}, r.DriftBaselines)
	s.Len(f.asked(), 4, "re-injected after continue")
	s.Require().NotNil(w.armed(0), "the first watch judges drift")
	s.Equal(sli.Float(0.05), *w.armed(0))
	s.Nil(w.armed(1), "no drift rule while paused")
	s.Nil(w.armed(2), "continue turned this guard's drift rule off")
	s.Contains(s.notified, "drift-paused")
}

// Nobody answers a drift pause: the run is aborted with that reason.
func (s *experimentSuite) Test_DriftPauseTimesOut() {
	s.defineWithDrift()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches(breachAfter(300*time.Millisecond, driftFinding))
	s.okVerify()
	sc := driftScenario()
	sc.Spec.PauseTimeout = duration.Duration(time.Second)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("paused for 1s without an answer (pause by drift rule: guard p95 drifted 80% from its baseline 0.05 (limit 15%): value 0.09, still inside its threshold <= 0.8)", r.AbortReason)
	s.Require().Len(r.Pauses, 1)
	s.True(r.Pauses[0].Drift)
	s.Equal(experiment.PauseTimeout, r.Pauses[0].Ended)
	s.Empty(f.liveNow())
	s.Len(f.asked(), 2, "nothing re-injected")
	s.ElementsMatch(bothFaults, r.Recovered)
}

// With a drift rule declared, a value past the hard threshold still aborts
// at once: no pause, no question.
func (s *experimentSuite) Test_HardBreachWithDriftStillAborts() {
	s.defineWithDrift()
	f := &liveFaults{}
	f.register(s)
	w := &watchInputs{}
	s.guardWatches(w.record(breachAfter(300*time.Millisecond, sli.Breach{Guard: "p95", Query: "q", Op: "<=", Value: 1.7, Threshold: 0.8})))
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: driftScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("guard p95 breached: value 1.7, healthy when <= 0.8", r.AbortReason)
	s.Empty(r.Pauses)
	s.Require().NotNil(w.armed(0), "the drift rule was armed")
	s.Empty(f.liveNow())
	s.Equal([]string{"define:done", "inject:done", "observe:failed", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}
