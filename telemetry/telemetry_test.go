package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	m.ExperimentStarted("s")
	m.ExperimentFinished("s", "passed", []Phase{{Name: "define", Started: time.Now(), Ended: time.Now()}})
	m.GuardEvaluated("g", EvalHealthy)
	m.GuardBreached("s", "g")
	m.AbortLatency("s", time.Second)
	m.Injected("toxiproxy", "latency", nil)
	m.Recovered("toxiproxy", true, nil)
	m.Swept("toxiproxy", "removed")
	m.SetFreeze(true)
	m.SetFreezeSource(nil)
}

func TestMetricsCountWhatHappened(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.ExperimentStarted("demo")
	m.ExperimentStarted("demo")
	t0 := time.Unix(1000, 0)
	m.ExperimentFinished("demo", "aborted", []Phase{
		{Name: "inject", Started: t0, Ended: t0.Add(2 * time.Second)},
		{Name: "observe", Started: t0.Add(2 * time.Second), Ended: t0.Add(7 * time.Second)},
		{Name: "report", Started: t0.Add(9 * time.Second)}, // still running: not observed
	})
	m.GuardEvaluated("p95", EvalHealthy)
	m.GuardEvaluated("p95", EvalUnhealthy)
	m.GuardEvaluated("p95", EvalError)
	m.GuardBreached("demo", "p95")
	m.AbortLatency("demo", 2500*time.Millisecond)
	m.AbortLatency("demo", -time.Second) // a clock gone backwards is not a latency
	m.Injected("toxiproxy", "latency", nil)
	m.Injected("toxiproxy", "latency", errors.New("refused"))
	m.Recovered("toxiproxy", true, nil)
	m.Recovered("toxiproxy", false, nil)
	m.Recovered("toxiproxy", false, errors.New("api down"))
	m.Swept("kubernetes", "removed")

	want := `
# HELP gameday_experiments_finished_total Experiments that finished, by scenario and outcome (passed, aborted, failed, cancelled, expired, dry-run).
# TYPE gameday_experiments_finished_total counter
gameday_experiments_finished_total{outcome="aborted",scenario="demo"} 1
gameday_experiments_finished_total{outcome="cancelled",scenario="demo"} 0
gameday_experiments_finished_total{outcome="dry-run",scenario="demo"} 0
gameday_experiments_finished_total{outcome="expired",scenario="demo"} 0
gameday_experiments_finished_total{outcome="failed",scenario="demo"} 0
gameday_experiments_finished_total{outcome="passed",scenario="demo"} 0
# HELP gameday_experiments_started_total Experiments that started (their define phase ran), by scenario; dry runs included.
# TYPE gameday_experiments_started_total counter
gameday_experiments_started_total{scenario="demo"} 2
# HELP gameday_fault_injections_total Inject attempts, by back-end, action and result (ok, error).
# TYPE gameday_fault_injections_total counter
gameday_fault_injections_total{action="latency",backend="toxiproxy",result="error"} 1
gameday_fault_injections_total{action="latency",backend="toxiproxy",result="ok"} 1
# HELP gameday_fault_recoveries_total Recover attempts that answered, by back-end and result (removed, already_gone).
# TYPE gameday_fault_recoveries_total counter
gameday_fault_recoveries_total{backend="toxiproxy",result="already_gone"} 1
gameday_fault_recoveries_total{backend="toxiproxy",result="removed"} 1
# HELP gameday_guard_breaches_total Guard breaches that aborted a run, by scenario and guard.
# TYPE gameday_guard_breaches_total counter
gameday_guard_breaches_total{guard="p95",scenario="demo"} 1
# HELP gameday_guard_evaluations_total Guard queries evaluated while faults were live, by guard and result (healthy, unhealthy, no_data, error).
# TYPE gameday_guard_evaluations_total counter
gameday_guard_evaluations_total{guard="p95",result="error"} 1
gameday_guard_evaluations_total{guard="p95",result="healthy"} 1
gameday_guard_evaluations_total{guard="p95",result="unhealthy"} 1
# HELP gameday_recover_failures_total Recover attempts that failed (the fault may still be there; the run retries), by back-end.
# TYPE gameday_recover_failures_total counter
gameday_recover_failures_total{backend="toxiproxy"} 1
# HELP gameday_sweep_removals_total Orphaned faults a sweep acted on, by back-end and outcome (removed, already-gone, failed).
# TYPE gameday_sweep_removals_total counter
gameday_sweep_removals_total{backend="kubernetes",outcome="removed"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want),
		MetricExperimentsStarted, MetricExperimentsFinished, MetricGuardEvaluations, MetricGuardBreaches,
		MetricFaultInjections, MetricFaultRecoveries, MetricRecoverFailures, MetricSweepRemovals))

	// The histograms: two phases observed, one abort latency of 2.5 s.
	assert.Equal(t, 2, testutil.CollectAndCount(reg, MetricPhaseDuration))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == MetricAbortLatency {
			h := mf.Metric[0].GetHistogram()
			assert.Equal(t, uint64(1), h.GetSampleCount())
			assert.Equal(t, 2.5, h.GetSampleSum())
		}
	}
}

func TestFreezeGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	assert.Equal(t, 0, testutil.CollectAndCount(reg, MetricFreezeActive), "unknown until somebody says")
	m.SetFreeze(true)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader("# HELP gameday_freeze_active 1 while a change freeze stops new experiments, 0 otherwise (absent until the worker knows).\n# TYPE gameday_freeze_active gauge\ngameday_freeze_active 1\n"), MetricFreezeActive))

	var asked atomic.Int32
	frozen := false
	m.SetFreezeSource(func(context.Context) (bool, error) { asked.Add(1); return frozen, nil })
	assert.Equal(t, 0.0, gaugeValue(t, reg, MetricFreezeActive))
	frozen = true
	assert.Equal(t, 0.0, gaugeValue(t, reg, MetricFreezeActive), "cached for a few seconds")
	assert.Equal(t, int32(1), asked.Load())

	reg2 := prometheus.NewRegistry()
	m2 := NewMetrics(reg2)
	m2.SetFreezeSource(func(context.Context) (bool, error) { return false, errors.New("entity unreachable") })
	assert.Equal(t, 0, testutil.CollectAndCount(reg2, MetricFreezeActive), "an unknown state is not exported as 0")
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.Metric[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("%s not exported", name)
	return 0
}

type listFunc func(context.Context) ([]chaos.Injected, error)

func (f listFunc) List(ctx context.Context) ([]chaos.Injected, error) { return f(ctx) }

// The fault gauges are the back-ends' own lists at scrape time: they go
// back to zero when the faults are gone, whoever removed them, and a
// back-end that cannot be listed says so instead of reporting zero.
func TestFaultCollectorIsTheBackendsList(t *testing.T) {
	exp := time.Unix(1700000000, 0)
	var live atomic.Pointer[[]chaos.Injected]
	faults := []chaos.Injected{
		{FaultID: "gd-1-f0", WorkflowID: "run-1", Expires: exp},
		{FaultID: "gd-1-f0", WorkflowID: "run-1", Expires: exp}, // the same fault listed twice
		{FaultID: "gd-2-f0", WorkflowID: "run-2"},               // no expiry known
	}
	live.Store(&faults)
	var calls atomic.Int32
	c := NewFaultCollector(map[string]Lister{
		"toxiproxy": listFunc(func(context.Context) ([]chaos.Injected, error) { calls.Add(1); return *live.Load(), nil }),
		"kubernetes": listFunc(func(ctx context.Context) ([]chaos.Injected, error) {
			<-ctx.Done() // hangs: bounded by Timeout
			return nil, ctx.Err()
		}),
	})
	c.Timeout = 50 * time.Millisecond
	c.CacheFor = time.Nanosecond
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `
# HELP gameday_fault_expiry_timestamp_seconds When a live fault's own TTL ends (unix seconds); a fault still listed well past it was not removed.
# TYPE gameday_fault_expiry_timestamp_seconds gauge
gameday_fault_expiry_timestamp_seconds{backend="toxiproxy",fault_id="gd-1-f0",workflow_id="run-1"} 1.7e+09
# HELP gameday_fault_list_up 1 when the back-end answered its list at the last scrape, 0 when it did not.
# TYPE gameday_fault_list_up gauge
gameday_fault_list_up{backend="kubernetes"} 0
gameday_fault_list_up{backend="toxiproxy"} 1
# HELP gameday_faults_injected Faults gameday holds right now, as the back-end lists them (every worker reports the same: aggregate with max).
# TYPE gameday_faults_injected gauge
gameday_faults_injected{backend="toxiproxy"} 2
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), MetricFaultExpiry, MetricFaultListUp, MetricFaultsInjected))

	none := []chaos.Injected{}
	live.Store(&none)
	time.Sleep(time.Millisecond)
	assert.Equal(t, 0.0, gaugeValue(t, reg, MetricFaultsInjected), "back to zero once the back-end holds nothing")
	assert.Equal(t, 0, testutil.CollectAndCount(reg, MetricFaultExpiry))

	c.CacheFor = time.Hour
	before := calls.Load()
	_, _ = reg.Gather()
	_, _ = reg.Gather()
	assert.LessOrEqual(t, calls.Load()-before, int32(1), "lists are cached between scrapes")
}

func TestServerEndpoints(t *testing.T) {
	reg := NewRegistry()
	NewMetrics(reg).ExperimentStarted("demo")
	var down atomic.Bool
	srv, err := Serve("127.0.0.1:0", reg, func(ctx context.Context) error {
		if down.Load() {
			return errors.New("temporal frontend does not answer")
		}
		return nil
	}, nil)
	require.NoError(t, err)
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, `gameday_experiments_started_total{scenario="demo"} 1`)
	assert.Contains(t, body, "go_goroutines")
	code, _ = get("/healthz")
	assert.Equal(t, 200, code)
	code, _ = get("/readyz")
	assert.Equal(t, 200, code)
	down.Store(true)
	code, body = get("/readyz")
	assert.Equal(t, 503, code)
	assert.Contains(t, body, "temporal frontend does not answer")
	code, _ = get("/healthz")
	assert.Equal(t, 200, code, "the process is up even when Temporal is not")

	_, err = Serve(strings.TrimPrefix(srv.URL, "http://"), reg, nil, nil)
	assert.ErrorContains(t, err, "listen on", "a taken port is an error now")
}

func TestRunTraceIDIsAFunctionOfTheRun(t *testing.T) {
	a1, s1 := RunTraceID("wf", "run-1")
	a2, s2 := RunTraceID("wf", "run-1")
	b, _ := RunTraceID("wf", "run-2")
	assert.Equal(t, a1, a2)
	assert.Equal(t, s1, s2)
	assert.NotEqual(t, a1, b, "a reused workflow id is another trace")
	assert.True(t, a1.IsValid())
	assert.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, TraceParent(a1, s1))
}

func TestTracingOffCostsNothing(t *testing.T) {
	tr, err := NewTracing("", ServiceWorker)
	require.NoError(t, err)
	assert.False(t, tr.On)
	rt := http.DefaultTransport
	assert.Same(t, rt, tr.HTTPTransport(rt), "no wrapping when off")
	h := http.NotFoundHandler()
	assert.NotNil(t, tr.HTTPHandler(h, "x"))
	require.NoError(t, tr.Stop(time.Second))
	_, span := tr.Tracer().Start(context.Background(), "x")
	assert.False(t, span.IsRecording())
}

// The series a dashboard or rule reads with increase() exist at 0 before
// their first event: Prometheus' increase() misses a counter's first
// increment, and so would the first breach's annotation.
func TestSeriesExistBeforeTheirFirstEvent(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.InitBackends(map[string][]string{"toxiproxy": {"latency", "timeout"}})
	m.WatchStarted("demo", []string{"p95"})
	for name, n := range map[string]int{
		MetricFaultInjections: 4, MetricFaultRecoveries: 2, MetricRecoverFailures: 1, MetricSweepRemovals: 3,
		MetricGuardBreaches: 1, MetricGuardEvaluations: 4,
	} {
		assert.Equal(t, n, testutil.CollectAndCount(reg, name), name)
	}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, x := range mf.Metric {
			assert.Zero(t, x.GetCounter().GetValue(), mf.GetName())
		}
	}
}
