package activities

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/telemetry"
)

func withMetrics(h *harness) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	h.acts.Metrics = telemetry.NewMetrics(reg)
	return reg
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.Metric {
			for _, lp := range m.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// A run is counted as started once, by its first define; the re-check
// after a sign-off gate is the same run.
func TestDefineCountsARunOnce(t *testing.T) {
	h := newHarness(t)
	reg := withMetrics(h)
	h.prom.values["p95"] = []float64{0.1}
	sc := scenario("inventory", guard("p95", 1))
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf"})
	require.NoError(t, err)
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", Recheck: true})
	require.NoError(t, err)
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricExperimentsStarted, map[string]string{"scenario": "s"}))
}

// The report counts the finished run by outcome, its phases and, after a
// breach, how long until its faults were gone.
func TestReportRecordsTheFinishedRun(t *testing.T) {
	h := newHarness(t)
	reg := withMetrics(h)
	t0 := time.Unix(1700000000, 0)
	r := experiment.Result{WorkflowID: "wf", Scenario: "s", Outcome: experiment.Aborted,
		Phases: []experiment.Phase{
			{Name: "inject", Started: t0, Ended: t0.Add(time.Second)},
			{Name: "observe", Started: t0.Add(time.Second), Ended: t0.Add(4 * time.Second)},
			{Name: "report", Started: t0.Add(9 * time.Second)},
		},
		Breach:     &sli.Breach{Guard: "p95", At: t0.Add(3 * time.Second)},
		Injected:   []string{"f0", "f1"},
		Recovered:  []string{"f0", "f1"},
		RecoverLog: []chaos.Recovered{{FaultID: "f0", At: t0.Add(4 * time.Second)}, {FaultID: "f1", At: t0.Add(5500 * time.Millisecond)}},
	}
	_, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: r})
	require.NoError(t, err)
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricExperimentsFinished, map[string]string{"scenario": "s", "outcome": "aborted"}))
	assert.Equal(t, 2, testutil.CollectAndCount(reg, telemetry.MetricPhaseDuration), "the two phases that ended")
	d, ok := AbortLatency(r)
	require.True(t, ok)
	assert.Equal(t, 2500*time.Millisecond, d, "breach at +3s, last fault gone at +5.5s")
}

func TestAbortLatencyNeedsEveryFaultGone(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	r := experiment.Result{Breach: &sli.Breach{At: t0}, Injected: []string{"f0", "f1"},
		RecoverLog: []chaos.Recovered{{FaultID: "f0", At: t0.Add(time.Second)}}}
	_, ok := AbortLatency(r)
	assert.False(t, ok, "f1 never confirmed removed")
	r.Breach = nil
	_, ok = AbortLatency(r)
	assert.False(t, ok, "no breach, no abort latency")
}

// Every guard evaluation is counted by result; the breach that ended the
// watch is counted once.
func TestGuardCountsEvaluations(t *testing.T) {
	h := newHarness(t)
	reg := withMetrics(h)
	h.prom.values["p95"] = []float64{0.1, math.NaN(), 2, 2}
	h.prom.values["err"] = []float64{0}
	h.prom.errs["err"] = errors.New("prometheus down")
	errGuard := guardWith("err", func(g *sli.Guard) { g.OnError = "ignore" })
	v, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{guard("p95", 2), errGuard}, Scenario: "s"})
	require.NoError(t, err)
	var res GuardResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Breach)
	ev := func(g, result string) float64 {
		return counter(t, reg, telemetry.MetricGuardEvaluations, map[string]string{"guard": g, "result": result})
	}
	assert.Equal(t, 1.0, ev("p95", telemetry.EvalHealthy))
	assert.Equal(t, 1.0, ev("p95", telemetry.EvalNoData))
	assert.GreaterOrEqual(t, ev("p95", telemetry.EvalUnhealthy), 1.0)
	assert.GreaterOrEqual(t, ev("err", telemetry.EvalError), 1.0)
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricGuardBreaches, map[string]string{"scenario": "s", "guard": "p95"}))
}

func TestInjectAndRecoverAreCounted(t *testing.T) {
	h := newHarness(t)
	reg := withMetrics(h)
	f := chaos.Fault{ID: "gd-1-f0", Name: "f", Backend: "fake", Action: "latency", Duration: time.Second}
	_, err := h.env.ExecuteActivity(h.acts.Inject, InjectInput{Fault: f})
	require.NoError(t, err)
	_, err = h.env.ExecuteActivity(h.acts.Recover, RecoverInput{Fault: f})
	require.NoError(t, err)
	_, err = h.env.ExecuteActivity(h.acts.Recover, RecoverInput{Fault: f})
	require.NoError(t, err)
	f.Backend = "gone"
	_, err = h.env.ExecuteActivity(h.acts.Recover, RecoverInput{Fault: f})
	require.Error(t, err)
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricFaultInjections, map[string]string{"backend": "fake", "result": "ok"}))
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricFaultRecoveries, map[string]string{"backend": "fake", "result": "removed"}))
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricFaultRecoveries, map[string]string{"backend": "fake", "result": "already_gone"}))
	assert.Equal(t, 1.0, counter(t, reg, telemetry.MetricRecoverFailures, map[string]string{"backend": "gone"}))
}
