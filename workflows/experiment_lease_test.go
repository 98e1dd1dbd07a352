package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/lease"
)

// leaseFixture runs the real define, acquire and release activities on
// a lease.Table (the entity's rules) with a fake toxiproxy back-end and
// Prometheus, and records when leases were released.
type leaseFixture struct {
	mu     sync.Mutex
	table  lease.Table
	acts   *activities.Activities
	events []string // "release <workflow id>", in order with "recover <fault id>"
}

func (f *leaseFixture) List(context.Context) ([]lease.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.table.Leases), nil
}

func (f *leaseFixture) Acquire(_ context.Context, req []lease.Lease) ([]lease.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.table.Acquire(req, time.Now())
}

func (f *leaseFixture) Release(_ context.Context, wid, rid, _ string) ([]lease.Lease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, "release "+wid)
	return f.table.Release(wid, rid), nil
}

func (f *leaseFixture) holders() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, h := range f.table.Runs() {
		out = append(out, h.WorkflowID)
	}
	return out
}

// hold makes another run hold the proxy testScenario acts on.
func (f *leaseFixture) hold(wid string, allow bool) {
	sc := testScenario()
	req := lease.ForFaults(lease.Holder{WorkflowID: wid, RunID: wid + "-run", Scenario: "other"}, sc.ChaosFaultsForRun(wid, wid+"-run"), nil, allow)
	if _, err := f.Acquire(context.Background(), req); err != nil {
		panic(err)
	}
}

type proxyBackend struct{}

func (proxyBackend) Name() string { return "toxiproxy" }
func (proxyBackend) Resolve(_ context.Context, f chaos.Fault) ([]string, error) {
	return []string{"proxy " + f.Target.Selector["proxy"]}, nil
}
func (proxyBackend) Scope(_ context.Context, f chaos.Fault) ([]string, error) {
	return []string{"proxy " + f.Target.Selector["proxy"]}, nil
}
func (proxyBackend) Inject(context.Context, chaos.Fault) (chaos.Injected, error) {
	return chaos.Injected{}, errors.New("mocked")
}
func (proxyBackend) Recover(context.Context, chaos.Fault) (chaos.Recovered, error) {
	return chaos.Recovered{}, errors.New("mocked")
}
func (proxyBackend) List(context.Context) ([]chaos.Injected, error) { return nil, nil }

type healthyProm struct{}

func (healthyProm) Query(context.Context, string, time.Time) (float64, error) { return 0.05, nil }

// setupLeases: acquire and release are the real activities on a fresh
// table in every test; define stays mocked unless a test calls realDefine.
func (s *experimentSuite) setupLeases() {
	f := &leaseFixture{}
	f.acts = &activities.Activities{Backends: map[string]chaos.Backend{"toxiproxy": proxyBackend{}}, Prom: healthyProm{}, Leases: f,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.leases = f
	s.env.OnActivity(a.AcquireLeases, mock.Anything, mock.Anything).Return(f.acts.AcquireLeases).Maybe()
	s.env.OnActivity(a.ReleaseLeases, mock.Anything, mock.Anything).Return(f.acts.ReleaseLeases).Maybe()
}

func (s *experimentSuite) realDefine() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(s.leases.acts.Define)
}

func (s *experimentSuite) Test_LeaseRefusedInDefineNamesTheHolder() {
	s.leases.hold("gameday-latency-first", false)
	s.realDefine()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "define: refused: target toxiproxy proxy=inventory is leased by workflow gameday-latency-first")
	s.Equal([]string{"define:failed", "report:done"}, phaseNames(r))
	s.Empty(r.Injected)
	s.Equal([]string{"gameday-latency-first"}, s.leases.holders(), "the holder keeps its lease")
}

func (s *experimentSuite) Test_LeaseOverlapAllowedWhenBothSaySo() {
	s.leases.hold("gameday-latency-first", true)
	s.realDefine()
	var during []string
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			during = s.leases.holders()
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}}, nil
		}).Times(2)
	s.guardHolds()
	s.okVerify()
	sc := testScenario()
	sc.Spec.Overlap = "allow"
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: sc})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, r.Error)
	s.Equal([]string{"gameday-latency-first", testWorkflowID}, during, "both hold the proxy while injecting")
	s.Equal([]string{"gameday-latency-first"}, s.leases.holders())
}

// The lease is held from right before the first inject until cleanup is
// over; then another run may take the target.
func (s *experimentSuite) Test_LeaseHeldWhileInjectingReleasedAfterRecover() {
	s.realDefine()
	var during []string
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			during = s.leases.holders()
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}}, nil
		}).Times(2)
	s.recoverHook = func(_ context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		s.leases.mu.Lock()
		defer s.leases.mu.Unlock()
		s.leases.events = append(s.leases.events, "recover "+in.Fault.ID)
		return activities.RecoverResult{}, nil
	}
	s.guardHolds()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, r.Error)
	s.Equal([]string{testWorkflowID}, during)
	s.Equal([]string{"recover " + testFaultID(1), "recover " + testFaultID(0), "release " + testWorkflowID}, s.leases.events, "released once every fault is gone")
	s.Empty(s.leases.holders())
	// A following run (another workflow) gets the target.
	next := lease.ForFaults(lease.Holder{WorkflowID: "gameday-latency-next", RunID: "r"}, testScenario().ChaosFaultsForRun("gameday-latency-next", "r"), nil, false)
	_, err := s.leases.Acquire(context.Background(), next)
	s.NoError(err)
}

func (s *experimentSuite) Test_LeaseReleasedWhenInjectFails() {
	s.realDefine()
	s.guardMayStart()
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(activities.InjectResult{},
		temporal.NewNonRetryableApplicationError("proxy gone", activities.ErrTypePermanent, nil, activities.InjectSettled{Attempt: 1})).Once()
	s.okVerify()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "proxy gone")
	s.Contains(s.leases.events, "release "+testWorkflowID)
	s.Empty(s.leases.holders())
}

func (s *experimentSuite) Test_LeaseReleasedWhenCancelled() {
	s.realDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Cancelled, r.Outcome)
	s.ElementsMatch(bothFaults, s.recovered)
	s.Empty(s.leases.holders(), "released on the disconnected cleanup context")
}

// Another run took an overlapping lease between this run's define and its
// first inject: the atomic acquire refuses, nothing is injected.
func (s *experimentSuite) Test_LeaseTakenSinceDefineRefusesBeforeInject() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.DefineInput) (activities.DefineResult, error) {
			res, err := s.leases.acts.Define(ctx, in)
			s.leases.hold("gameday-latency-racer", false)
			return res, err
		}).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Error, "target lease: refused: target toxiproxy proxy=inventory is leased by workflow gameday-latency-racer")
	s.Contains(r.Error, "nothing was injected")
	s.Empty(r.Injected)
	s.Empty(s.recovered)
	s.Equal([]string{"define:done", "inject:failed", "report:done"}, phaseNames(r))
	s.Equal([]string{"gameday-latency-racer"}, s.leases.holders(), "the refused run never held, and releasing frees only its own")
}

type runStates map[string]string

func (m runStates) RunState(_ context.Context, id string) (string, error) { return m[id], nil }

// A run terminated while it held its lease (no cleanup ran): the sweep
// frees it, and only it.
func TestSweepWorkflowFreesTheLeaseOfATerminatedRun(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	f := &leaseFixture{}
	f.hold("gameday-latency-terminated", false)
	sc := testScenario()
	sc.Spec.Target.Selector = map[string]string{"proxy": "payment"}
	live := lease.ForFaults(lease.Holder{WorkflowID: "gameday-payment-live", RunID: "r"}, sc.ChaosFaultsForRun("gameday-payment-live", "r"), nil, false)
	_, err := f.Acquire(context.Background(), live)
	require.NoError(t, err)
	acts := &activities.Activities{Backends: map[string]chaos.Backend{}, Leases: f,
		Runs:   runStates{"gameday-latency-terminated": "terminated", "gameday-payment-live": activities.RunRunning},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(a.Sweep, mock.Anything, mock.Anything).Return(acts.Sweep).Once()
	env.ExecuteWorkflow(SweepWorkflow, activities.SweepInput{})
	require.NoError(t, env.GetWorkflowError())
	var res activities.SweepResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Len(t, res.Leases, 2)
	assert.Equal(t, "freed", res.Leases[0].Outcome)
	assert.Equal(t, "workflow gameday-latency-terminated is terminated", res.Leases[0].Reason)
	assert.Equal(t, "kept", res.Leases[1].Outcome)
	assert.Equal(t, []string{"gameday-payment-live"}, f.holders())
}
