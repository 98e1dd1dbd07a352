package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

const (
	testWorkflowID = "default-test-workflow-id"
	testRunID      = "default-test-run-id" // the test environment's
	testHold       = 2 * time.Second
)

type experimentSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment
	// recovered collects the fault ids recover was called with, in order.
	recovered []string
	notified  []string
	mu        sync.Mutex // activities run concurrently
	// Hooks replace the default Recover and Notify behaviour when set.
	recoverHook func(context.Context, activities.RecoverInput) (activities.RecoverResult, error)
	notifyHook  func(context.Context, activities.NotifyInput) error
	// signers and distinct replace the worker's role map (testSigners) and
	// its distinct-signers rule when set.
	signers  map[string][]string
	distinct bool
	leases   *leaseFixture // experiment_lease_test.go
	// reported is the result the report activity was given.
	reported experiment.Result
}

func TestExperimentWorkflow(t *testing.T) { suite.Run(t, new(experimentSuite)) }

func (s *experimentSuite) SetupTest() {
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	s.env = s.NewTestWorkflowEnvironment()
	injectLateWindow = time.Second // a running activity stops the test clock from skipping
	// The machines are shared and noisy: do not fail on wall-clock time.
	s.env.SetTestTimeout(time.Minute)
	s.env.RegisterActivity(&activities.Activities{})
	s.recovered, s.notified = nil, nil
	s.recoverHook, s.notifyHook = nil, nil
	s.reported = experiment.Result{}
	s.signers, s.distinct = nil, false
	s.setupLeases()
	s.env.OnActivity(a.Notify, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.NotifyInput) error {
		if s.notifyHook != nil {
			if err := s.notifyHook(ctx, in); err != nil {
				return err
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.notified = append(s.notified, in.Message.Event)
		return nil
	}).Maybe()
	s.env.OnActivity(a.Recover, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
			if s.recoverHook != nil {
				res, err := s.recoverHook(ctx, in)
				if err != nil {
					return res, err
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.recovered = append(s.recovered, in.Fault.ID)
			return activities.RecoverResult{Fault: chaos.Recovered{FaultID: in.Fault.ID, Removed: true}}, nil
		}).Maybe()
	s.env.OnActivity(a.Report, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReportInput) (activities.ReportResult, error) {
			s.mu.Lock()
			s.reported = in.Result
			s.mu.Unlock()
			if in.Result.Outcome == experiment.Passed || in.Result.Outcome == experiment.DryRun {
				return activities.ReportResult{}, nil
			}
			return activities.ReportResult{Postmortem: "/pm/" + in.Result.WorkflowID + ".md"}, nil
		}).Maybe()
}

func (s *experimentSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func testScenario(roles ...string) scenarios.Scenario {
	return scenarios.Scenario{
		APIVersion: scenarios.APIVersion, Kind: scenarios.Kind,
		Metadata: scenarios.Metadata{Name: "latency", Service: "order-service"},
		Spec: scenarios.Spec{
			Target: chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}},
			Faults: []scenarios.Fault{
				// Short holds: a running guard activity keeps the test
				// environment from skipping time, so holds pass in real time.
				{Name: "lat", Backend: "toxiproxy", Action: "latency", Duration: duration.Duration(testHold), Params: map[string]any{"latency": "1s"}},
				{Name: "lat2", Backend: "toxiproxy", Action: "latency", Duration: duration.Duration(testHold / 2), Params: map[string]any{"latency": "10ms"}},
			},
			Guards:      []sli.Guard{{Name: "p95", Query: "q", Op: sli.OpLE, Threshold: 0.8, For: 1, Interval: duration.Duration(time.Second), OnError: "abort"}},
			SteadyState: scenarios.SteadyState{Timeout: duration.Duration(time.Minute)},
			Signoff:     scenarios.Signoff{Roles: roles, Timeout: duration.Duration(time.Hour), Reminder: duration.Duration(10 * time.Minute)},
		},
	}
}

func (s *experimentSuite) okDefine() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(s.defineOK, nil).Once()
}

// testSigners is the worker's role map (GAMEDAY_ROLES) in these tests.
var testSigners = map[string][]string{"dana": {"dev"}, "dave": {"dev"}, "tess": {"test"}, "tom": {"test"}, "sam": {"sre", "dev"}}

// defineOK is Define on a worker holding testSigners (or s.signers): what
// the real activity resolves when the workflow asks it to.
func (s *experimentSuite) defineOK(_ context.Context, in activities.DefineInput) (activities.DefineResult, error) {
	r := okDefineResult
	if in.ResolveSigners && len(in.Scenario.Spec.Signoff.Roles) > 0 {
		users := testSigners
		if s.signers != nil {
			users = s.signers
		}
		r.Signers = signoff.Resolve(users, in.Scenario.Spec.Signoff.Roles)
		r.DistinctSigners = s.distinct
	}
	return r, nil
}

var okDefineResult = activities.DefineResult{Targets: []string{"lat: proxy inventory"}, Baseline: []experiment.GuardValue{{Guard: "p95", Value: 0.05, Healthy: true}}}

// okDefineTwice: a run with a sign-off gate defines again before the first
// inject.
func (s *experimentSuite) okDefineTwice() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(s.defineOK, nil).Twice()
}

func (s *experimentSuite) okInject() {
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}}, nil
		}).Times(2)
}

// guardHolds mocks a guard that never breaches: it watches until the
// workflow cancels it at the end of observe.
func (s *experimentSuite) guardHolds() {
	s.env.OnActivity(a.Guard, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
			<-ctx.Done()
			return activities.GuardResult{}, temporal.NewCanceledError(activities.GuardResult{Evaluations: 3})
		}).Once()
}

// guardMayStart is guardHolds for a run whose inject fails at once: the
// workflow cancels the guard it scheduled, and whether the test
// environment started the activity before the cancel depends on how its
// goroutines were scheduled (the tests flaked under load).
func (s *experimentSuite) guardMayStart() {
	s.env.OnActivity(a.Guard, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
			<-ctx.Done()
			return activities.GuardResult{}, temporal.NewCanceledError(activities.GuardResult{Evaluations: 3})
		}).Maybe()
}

// guardBreaches mocks a guard that breaches after d (real time).
func (s *experimentSuite) guardBreaches(d time.Duration, b sli.Breach) {
	s.env.OnActivity(a.Guard, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
			select {
			case <-ctx.Done():
				return activities.GuardResult{}, ctx.Err()
			case <-time.After(d):
				return activities.GuardResult{Breach: &b}, nil
			}
		}).Once()
}

func (s *experimentSuite) okVerify() {
	s.env.OnActivity(a.Verify, mock.Anything, mock.Anything).Return(activities.VerifyResult{OK: true, Values: []experiment.GuardValue{{Guard: "p95", Value: 0.05, Healthy: true}}}, nil).Once()
}

func (s *experimentSuite) result() experiment.Result {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var r experiment.Result
	s.NoError(s.env.GetWorkflowResult(&r))
	return r
}

func phaseNames(r experiment.Result) []string {
	var out []string
	for _, p := range r.Phases {
		out = append(out, p.Name+":"+p.Status)
	}
	return out
}

// testFaultID is the id of step i: derived from the workflow and the run.
func testFaultID(i int) string { return chaos.FaultID(testWorkflowID+"/"+testRunID, i) }

var bothFaults = []string{testFaultID(1), testFaultID(0)}

func (s *experimentSuite) Test_Passed() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.Equal([]string{"define:done", "inject:done", "observe:done", "recover:done", "verify:done", "report:done"}, phaseNames(r))
	s.Equal(bothFaults, s.recovered, "each fault is removed when its own hold ends: the shorter one first")
	s.ElementsMatch(r.Injected, r.Recovered)
	s.Empty(r.Postmortem, "no postmortem for a passing run")
}

func (s *experimentSuite) Test_BreachAbortsAndRecovers() {
	s.okDefine()
	s.okInject()
	s.guardBreaches(testHold/4, sli.Breach{Guard: "p95", Query: "q", Op: "<=", Value: 1.2, Threshold: 0.8})
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Contains(r.AbortReason, "guard p95 breached")
	s.Require().NotNil(r.Breach)
	s.Equal(sli.Float(1.2), r.Breach.Value)
	s.ElementsMatch(bothFaults, s.recovered)
	s.Equal("/pm/"+testWorkflowID+".md", r.Postmortem)
	s.Equal([]string{"define:done", "inject:done", "observe:failed", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}

func (s *experimentSuite) Test_HumanAbortDuringObserve() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalAbort, AbortRequest{Reason: "pager went off", By: "alice"})
	}, testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("aborted by alice: pager went off", r.AbortReason)
	s.Nil(r.Breach)
	s.ElementsMatch(bothFaults, s.recovered)
}

func (s *experimentSuite) Test_AbortUpdateValidator() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	var rejected, tooLong, accepted error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateAbort, "u1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, AbortRequest{Reason: "  "})
		s.env.UpdateWorkflow(UpdateAbort, "u0", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { tooLong = err },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, AbortRequest{Reason: strings.Repeat("x", experiment.MaxReasonLength+1), By: "bob"})
		s.env.UpdateWorkflow(UpdateAbort, "u2", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { accepted = err },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, AbortRequest{Reason: "stop", By: "bob"})
	}, testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.ErrorContains(rejected, "needs a reason")
	s.ErrorContains(tooLong, "the reason of an abort is at most 1000 characters; this one has 1001")
	s.NoError(accepted)
	s.Equal("aborted by bob: stop", r.AbortReason)
}

func (s *experimentSuite) Test_CancelDuringObserveStillRecovers() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Cancelled, r.Outcome)
	s.ElementsMatch(bothFaults, s.recovered)
	s.Equal("/pm/"+testWorkflowID+".md", r.Postmortem)
}

func (s *experimentSuite) Test_InjectFailureRecoversWhatWasAttempted() {
	s.okDefine()
	s.guardMayStart()
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(activities.InjectResult{}, nil).Once()
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(activities.InjectResult{},
		temporal.NewNonRetryableApplicationError("proxy gone", activities.ErrTypePermanent, nil, activities.InjectSettled{Attempt: 1})).Once()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "inject lat2: proxy gone")
	// The failed step is recovered too: its inject may have landed.
	s.ElementsMatch(bothFaults, s.recovered)
}

func (s *experimentSuite) Test_DefineFailureInjectsNothing() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{},
		temporal.NewNonRetryableApplicationError("invalid query", activities.ErrTypeBadQuery, nil)).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "define: invalid query")
	s.Empty(s.recovered)
	s.Empty(r.Injected)
	s.Equal([]string{"define:failed", "report:done"}, phaseNames(r))
}

func (s *experimentSuite) Test_VerifyFailure() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.env.OnActivity(a.Verify, mock.Anything, mock.Anything).Return(activities.VerifyResult{OK: false, Values: []experiment.GuardValue{{Guard: "p95", Value: 2}}}, nil).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "steady state not back within 1m0s (p95 = 2)")
}

func (s *experimentSuite) Test_DryRunStopsAfterDefine() {
	s.okDefine()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev"), DryRun: true})
	r := s.result()
	s.Equal(experiment.DryRun, r.Outcome)
	s.Equal([]string{"lat: proxy inventory"}, r.Targets)
	s.Empty(s.recovered)
	s.Empty(r.Postmortem)
}

func (s *experimentSuite) Test_SignoffTimeoutExpires() {
	s.okDefine()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "dev", User: "dana"})
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev", "sre")})
	r := s.result()
	s.Equal(experiment.Expired, r.Outcome)
	s.Contains(r.AbortReason, "missing sre")
	s.Equal([]string{"signoff-requested", "signoff-reminder"}, s.notified, "a reminder was sent before expiry")
	s.Empty(s.recovered, "nothing injected")
	s.Len(r.Signoffs, 1)
}

func (s *experimentSuite) Test_SignoffGateOpensAndRejectsWrongRole() {
	s.okDefineTwice()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	var wrongRole, twice error
	var pending []string
	cb := func(onReject func(error), onDone func(any, error)) *testsuite.TestUpdateCallback {
		return &testsuite.TestUpdateCallback{OnReject: onReject, OnAccept: func() {}, OnComplete: onDone}
	}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateSignoff, "1", cb(func(err error) { wrongRole = err }, func(any, error) {}), SignoffRequest{Role: "test", User: "tom"})
		s.env.UpdateWorkflow(UpdateSignoff, "2", cb(func(err error) { s.Fail("dev rejected", err) }, func(v any, _ error) { pending = v.(SignoffResponse).Pending }), SignoffRequest{Role: "dev", User: "dana"})
		s.env.UpdateWorkflow(UpdateSignoff, "3", cb(func(err error) { twice = err }, func(any, error) {}), SignoffRequest{Role: "dev", User: "dave"})
		s.env.UpdateWorkflow(UpdateSignoff, "4", cb(func(err error) { s.Fail("sre rejected", err) }, func(any, error) {}), SignoffRequest{Role: "sre", User: "sam"})
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev", "sre")})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.ErrorContains(wrongRole, `role "test" is not required`)
	s.ErrorContains(twice, "already signed by dana")
	s.Equal([]string{"sre"}, pending)
	s.Len(r.Signoffs, 2)
	s.Equal("signoff:done", phaseNames(r)[1])
}

// Who may sign comes from the worker (define), never from the input: a
// starter who writes himself into the input's role map is still refused,
// and the run records who may sign.
func (s *experimentSuite) Test_SignersComeFromTheWorkerNotTheInput() {
	s.okDefine()
	var forged error
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateSignoff, "1", updateCB(func(err error) { forged = err }, nil), SignoffRequest{Role: "dev", User: "mallory"})
	}, time.Minute)
	in := ExperimentInput{Scenario: testScenario("dev", "sre"), Users: map[string][]string{"mallory": {"dev", "sre"}}}
	s.env.ExecuteWorkflow(ExperimentWorkflow, in)
	r := s.result()
	s.ErrorContains(forged, "user mallory may not sign for dev: not in the worker's role map for this run (dana, dave, sam may)")
	s.Equal(experiment.Expired, r.Outcome)
	s.Equal([]signoff.Holders{{Role: "dev", Users: []string{"dana", "dave", "sam"}}, {Role: "sre", Users: []string{"sam"}}}, r.Signers)
	s.Empty(s.recovered, "nothing injected")
}

// Where the worker requires distinct signers, one person cannot open a
// two-role gate alone; elsewhere a person holding both roles may.
func (s *experimentSuite) Test_DistinctSigners() {
	for _, distinct := range []bool{true, false} {
		s.SetupTest()
		s.distinct = distinct
		s.signers = map[string][]string{"sam": {"dev", "sre"}, "dana": {"dev"}}
		if distinct {
			s.okDefine()
		} else {
			s.okDefineTwice()
			s.okInject()
			s.guardHolds()
			s.okVerify()
		}
		var second error
		s.env.RegisterDelayedCallback(func() {
			s.env.UpdateWorkflow(UpdateSignoff, "1", updateCB(func(err error) { s.Fail("first sign-off refused", err) }, nil), SignoffRequest{Role: "sre", User: "sam"})
			s.env.UpdateWorkflow(UpdateSignoff, "2", updateCB(func(err error) { second = err }, nil), SignoffRequest{Role: "dev", User: "sam"})
		}, time.Minute)
		s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev", "sre")})
		r := s.result()
		if distinct {
			s.ErrorContains(second, "user sam already signed as sre: distinct users must sign distinct roles")
			s.Equal(experiment.Expired, r.Outcome)
			s.True(r.DistinctSigners)
		} else {
			s.NoError(second)
			s.Equal(experiment.Passed, r.Outcome)
		}
	}
}

// Sign-off opens once define has said who may sign: an update that comes
// while define runs is refused, not judged against an empty map.
func (s *experimentSuite) Test_SignoffDuringDefineRefused() {
	var early error
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.DefineInput) (activities.DefineResult, error) {
		return s.defineOK(ctx, in)
	}).After(time.Minute).Once()
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateSignoff, "1", updateCB(func(err error) { early = err }, func(any, error) { s.Fail("accepted during define") }), SignoffRequest{Role: "dev", User: "dana"})
	}, time.Second)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev", "sre")})
	s.result()
	s.ErrorContains(early, "sign-off opens once define has resolved who may sign")
}

func (s *experimentSuite) Test_SignoffRejectionAborts() {
	s.okDefine()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "sre", User: "sam", Reject: true, Reason: "peak traffic today"})
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("dev", "sre")})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("sign-off rejected by sam (sre): peak traffic today", r.AbortReason)
	s.Empty(s.recovered)
}

func (s *experimentSuite) Test_StatusQueryShowsLivePhase() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	var live experiment.Result
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&live))
	}, testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	s.result()
	s.Equal(experiment.Running, live.Outcome)
	s.Equal(experiment.PhaseObserve, live.Phase)
	s.Len(live.Injected, 2)
}

func TestRejectsEmptyInput(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{})
	err := env.GetWorkflowError()
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	require.Equal(t, activities.ErrTypeBadInput, app.Type())
}
