package workflows

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

// The guarded lifecycle (versionGuardV1): the guard watches from the first
// inject, waits on an inject never block an abort, recover waits until no
// inject can land and removes every fault at once.

// slowSecondInject: the first inject lands at once, the second hangs. (The
// test environment resolves a cancelled activity at once and never cancels
// its context, so "recover waits for the cancelled inject" is proven against
// the real server in integration/, not here.)
type slowSecondInject struct {
	mu   sync.Mutex
	live map[string]bool
}

func (f *slowSecondInject) register(s *experimentSuite) {
	f.live = map[string]bool{}
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			if in.Fault.Step == 0 {
				f.mu.Lock()
				f.live[in.Fault.ID] = true
				f.mu.Unlock()
				return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}}, nil
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second): // far past the test's end
			}
			return activities.InjectResult{}, errors.New("inject hung")
		})
	s.recoverHook = func(_ context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.live, in.Fault.ID)
		return activities.RecoverResult{}, nil
	}
}

func (f *slowSecondInject) left() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live
}

func (s *experimentSuite) Test_BreachDuringSlowInjectStopsInjecting() {
	s.okDefine()
	inj := &slowSecondInject{}
	inj.register(s)
	s.guardBreaches(300*time.Millisecond, sli.Breach{Guard: "p95", Op: "<=", Value: sli.Float(math.NaN()), Threshold: 0.8})
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Contains(r.AbortReason, "value NaN")
	s.Empty(inj.left(), "both attempted faults removed")
	s.Equal([]string{"define:done", "inject:cancelled", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}

func (s *experimentSuite) Test_AbortDuringSlowInjectIsActedOn() {
	s.okDefine()
	inj := &slowSecondInject{}
	inj.register(s)
	s.guardHolds()
	s.okVerify()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalAbort, AbortRequest{Reason: "customer complaint", By: "sam"})
	}, 300*time.Millisecond)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("aborted by sam: customer complaint", r.AbortReason)
	s.Empty(inj.left())
}

func (s *experimentSuite) Test_CancelDuringInjectLeavesNothing() {
	s.okDefine()
	inj := &slowSecondInject{}
	inj.register(s)
	s.guardHolds()
	s.okVerify()
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 300*time.Millisecond)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Cancelled, r.Outcome)
	s.Empty(inj.left(), "both attempted faults removed")
	s.ElementsMatch(bothFaults, r.Recovered)
}

func (s *experimentSuite) Test_RecoverRemovesAllAtOnceAndRaisesAlarm() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	stuck := testFaultID(0)
	var mu sync.Mutex
	calls := 0
	var order []string
	s.recoverHook = func(_ context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if in.Fault.ID == stuck {
			calls++
			if calls <= recoverAttemptsBeforeAlarm+1 {
				return activities.RecoverResult{}, errors.New("toxiproxy API 127.0.0.1:1: connection refused")
			}
		}
		order = append(order, in.Fault.ID)
		return activities.RecoverResult{}, nil
	}
	sc := testScenario()
	sc.Spec.Faults[1].Duration = sc.Spec.Faults[0].Duration // both released together
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, "a removal that succeeds in the end does not fail the run")
	s.Equal([]string{testFaultID(1), stuck}, order, "the healthy fault was not held up by the stuck one")
	s.Require().Len(r.RecoverAlarms, 1)
	s.Contains(r.RecoverAlarms[0], "failed 3 times, still trying: toxiproxy API 127.0.0.1:1: connection refused")
	s.Contains(s.notified, "recover-failing")
	s.ElementsMatch(bothFaults, r.Recovered)
}

func (s *experimentSuite) Test_CancelDuringRecoverIsRecorded() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.recoverHook = func(ctx context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		if in.Fault.Step == 0 {
			time.Sleep(time.Second) // a slow removal; the cancel comes meanwhile
		}
		return activities.RecoverResult{}, nil
	}
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, testHold+300*time.Millisecond)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Cancelled, r.Outcome, "not passed: someone cancelled it")
	s.Contains(r.AbortReason, "every fault was removed first")
	s.ElementsMatch(bothFaults, r.Recovered)
}

func (s *experimentSuite) Test_HoldEndsAtTheFaultsOwnExpiry() {
	s.okDefine()
	// A retried inject adopted faults that took effect earlier: their hold
	// ends soon, not an hour after the retry.
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID, Existing: true}, HoldUntil: time.Now().Add(300 * time.Millisecond)}, nil
		}).Times(2)
	s.guardHolds()
	s.okVerify()
	sc := testScenario()
	for i := range sc.Spec.Faults {
		sc.Spec.Faults[i].Duration = duration.Duration(time.Hour)
	}
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result() // an hour's hold would exceed the test's timeout
	s.Equal(experiment.Passed, r.Outcome)
}

func (s *experimentSuite) Test_NoDataBreachSurvivesEncoding() {
	s.okDefine()
	s.okInject()
	s.guardBreaches(200*time.Millisecond, sli.Breach{Guard: "p95", Op: "<=", Value: sli.Float(math.NaN()), NoData: true, Threshold: 0.8})
	s.env.OnActivity(a.Verify, mock.Anything, mock.Anything).Return(activities.VerifyResult{OK: true, Values: []experiment.GuardValue{
		{Guard: "p95", Value: sli.Float(math.Inf(1)), Healthy: false},
	}}, nil).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Require().NotNil(r.Breach)
	s.True(r.Breach.NoData)
	s.Equal(sli.KindNaN, r.Breach.Value.Kind())
	s.Contains(r.AbortReason, "no data")
	s.Equal(sli.KindPosInf, r.Verify[0].Value.Kind())
}

func (s *experimentSuite) Test_GuardThatGivesUpStopsTheRun() {
	s.okDefine()
	s.okInject()
	s.env.OnActivity(a.Guard, mock.Anything, mock.Anything).Return(func(context.Context, activities.GuardInput) (activities.GuardResult, error) {
		time.Sleep(300 * time.Millisecond) // gives up while the faults are held
		return activities.GuardResult{}, temporal.NewNonRetryableApplicationError(`invalid query "rate(x[": parse error`, activities.ErrTypeBadQuery, nil)
	}).Once()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "no guard was watching")
	s.ElementsMatch(bothFaults, s.recovered)
}

func (s *experimentSuite) Test_UnguardedRunSaysSo() {
	s.okDefine()
	s.okInject()
	s.okVerify()
	sc := testScenario()
	sc.Spec.Guards, sc.Spec.Unguarded = nil, true
	sc.Spec.SteadyState.Guards = []sli.Guard{{Name: "p95", Query: "q", Op: sli.OpLE, Threshold: 0.8}}
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result() // no Guard mock: calling it would fail the run
	s.Equal(experiment.Passed, r.Outcome)
	s.True(r.Unguarded)
	s.Contains(r.Phases[2].Detail, "UNGUARDED")
}

func (s *experimentSuite) Test_NotificationsNeverDelayTheGuard() {
	s.okDefine()
	s.okInject()
	s.guardBreaches(200*time.Millisecond, sli.Breach{Guard: "p95", Op: "<=", Value: 3, Threshold: 0.8})
	s.okVerify()
	var mu sync.Mutex
	var events []string
	s.notifyHook = func(_ context.Context, in activities.NotifyInput) error {
		if in.Message.Event == "injected" {
			time.Sleep(1500 * time.Millisecond) // a slow Slack
			mu.Lock()
			events = append(events, "notified")
			mu.Unlock()
		}
		return nil
	}
	s.recoverHook = func(context.Context, activities.RecoverInput) (activities.RecoverResult, error) {
		mu.Lock()
		events = append(events, "recover")
		mu.Unlock()
		return activities.RecoverResult{}, nil
	}
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal([]string{"recover", "recover", "notified"}, events, "the breach was acted on while the notification was still being sent")
}

// After a sign-off gate, define runs again right before the first inject:
// a system failing now, or targets that changed, refuse the run.
func (s *experimentSuite) Test_RecheckAfterGateRefusesChangedTargets() {
	s.okDefine()
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{
		Targets:  []string{"lat: proxy inventory-backup"},
		Baseline: okDefineResult.Baseline,
	}, nil).Once()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "dev", User: "dana"})
	}, 30*time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev")})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "targets changed since sign-off (approved: lat: proxy inventory; now: lat: proxy inventory-backup)")
	s.Empty(r.Injected, "nothing injected")
	s.Empty(s.recovered)
}

func (s *experimentSuite) Test_RecheckAfterGateRefusesAFailingSystem() {
	s.okDefine()
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{},
		temporal.NewNonRetryableApplicationError("steady state not established before injecting: guard p95 = 2.1, healthy when <= 0.8", activities.ErrTypeNotSteady, nil)).Once()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "dev", User: "dana"})
	}, 30*time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev")})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "re-check after sign-off: steady state not established before injecting: guard p95 = 2.1")
	s.Empty(r.Injected)
}

// A reused workflow id gets new fault ids: the run id is part of them.
func (s *experimentSuite) Test_FaultIDsIncludeTheRunID() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal([]string{testFaultID(0), testFaultID(1)}, r.Injected)
	s.NotContains(r.Injected, chaos.FaultID(testWorkflowID, 0), "not the id an earlier run of the same workflow id had")
}

// An inject that did not settle (it timed out, or its error does not say
// its call answered on the first attempt) gets one more removal after the
// window in which a lost attempt could still land.
func (s *experimentSuite) Test_UnsettledInjectGetsALastRemovalPass() {
	s.okDefine()
	s.guardMayStart()
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(activities.InjectResult{},
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil)).Once()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Equal([]string{testFaultID(0), testFaultID(0)}, s.recovered, "removed at once, and again after the window")
}

// A later inject that takes its time does not stretch an earlier fault's
// hold: the first fault is removed when its own hold ends.
func (s *experimentSuite) Test_SlowLaterInjectDoesNotStretchAnEarlierHold() {
	s.okDefine()
	s.guardHolds()
	var mu sync.Mutex
	secondInjected := false
	var removedWhileInjecting []string
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			if in.Fault.Step == 1 {
				time.Sleep(2 * testHold) // far past the first fault's hold
				mu.Lock()
				secondInjected = true
				mu.Unlock()
			}
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}, Attempt: 1}, nil
		}).Times(2)
	s.okVerify()
	s.recoverHook = func(_ context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		mu.Lock()
		defer mu.Unlock()
		if !secondInjected {
			removedWhileInjecting = append(removedWhileInjecting, in.Fault.ID)
		}
		return activities.RecoverResult{}, nil
	}
	sc := testScenario()
	sc.Spec.Faults[0].Duration = duration.Duration(testHold / 4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.Equal([]string{testFaultID(0)}, removedWhileInjecting, "the first fault went when its hold ended, while the second inject was still running")
	s.ElementsMatch(bothFaults, r.Recovered)
}
