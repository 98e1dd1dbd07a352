package activities

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/sli/probe"
	"github.com/gameday/gameday/telemetry"
)

// flipServer answers 200 until bad is set, then 503.
func flipServer(t *testing.T) (*httptest.Server, *atomic.Bool) {
	var bad atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if bad.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &bad
}

func probeGuard(url string) sli.Guard {
	return sli.Guard{Name: "health", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: url, Latency: duration.Duration(500 * time.Millisecond)},
		Op: sli.OpLE, Threshold: 0.5, For: 2, Interval: duration.Duration(100 * time.Millisecond), OnError: sli.OnErrorAbort, OnNoData: sli.OnNoDataBreach}
}

func withProbes(t *testing.T, h *harness, allow string) {
	a, err := probe.ParseAllow(allow)
	require.NoError(t, err)
	h.acts.Probes = probe.New(a)
}

// A probe guard goes through define (allow-list, baseline), the guard
// activity (a breach, encoded as a worker would) and verify, like a
// prometheus guard.
func TestProbeGuardThroughTheActivities(t *testing.T) {
	srv, bad := flipServer(t)
	g := probeGuard(srv.URL + "/healthz")

	// Probes off on the worker: refused in define, naming the guard.
	h := newHarness(t)
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", g), WorkflowID: "wf"})
	require.Error(t, err)
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeBadInput, typ)
	assert.True(t, nonRetryable)
	assert.Contains(t, err.Error(), "guard health")
	assert.Contains(t, err.Error(), "GAMEDAY_PROBE_ALLOW")

	// Not on the allow-list: refused in define, nothing probed.
	withProbes(t, h, "10.0.0.0/8")
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", g), WorkflowID: "wf"})
	require.Error(t, err)
	typ, _ = appErrType(t, err)
	assert.Equal(t, ErrTypeBadInput, typ)
	assert.Contains(t, err.Error(), "refused: guard health: probe target 127.0.0.1:")

	// Allowed: the baseline is the probe's latency.
	withProbes(t, h, "loopback")
	v, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", g), WorkflowID: "wf"})
	require.NoError(t, err)
	var def DefineResult
	require.NoError(t, v.Get(&def))
	require.Len(t, def.Baseline, 1)
	assert.True(t, def.Baseline[0].Healthy)
	assert.Equal(t, sli.KindHTTP, def.Baseline[0].Kind)
	assert.Contains(t, def.Baseline[0].Query, "GET "+srv.URL+"/healthz, status 200-399")

	// Unhealthy at define: not steady, with the probe's reason.
	bad.Store(true)
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", g), WorkflowID: "wf"})
	require.Error(t, err)
	typ, _ = appErrType(t, err)
	assert.Equal(t, ErrTypeNotSteady, typ)
	assert.Contains(t, err.Error(), "guard health = status 503, want 200-399")

	// The guard: two bad answers in a row breach.
	v, err = h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{g}})
	require.NoError(t, err)
	var res GuardResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Breach)
	assert.Equal(t, sli.KindHTTP, res.Breach.Kind)
	assert.Equal(t, "status 503, want 200-399", res.Breach.Reading())
	assert.Contains(t, res.Breach.String(), "guard health breached: status 503, want 200-399 (GET "+srv.URL+"/healthz")
	assert.Equal(t, 2, res.Evaluations)
	require.Len(t, res.Load, 1)
	assert.Equal(t, 2, res.Load[0].Queries)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"reason":"status 503, want 200-399"`)

	// Verify waits for the probe to be healthy again.
	go func() { time.Sleep(300 * time.Millisecond); bad.Store(false) }()
	v, err = h.env.ExecuteActivity(h.acts.Verify, VerifyInput{Guards: []sli.Guard{g}, Timeout: 30 * time.Second})
	require.NoError(t, err)
	var ver VerifyResult
	require.NoError(t, v.Get(&ver))
	assert.True(t, ver.OK)
	assert.True(t, ver.Values[0].Healthy)
}

// Probe answers are counted in the worker's metrics like query answers:
// a bad answer is unhealthy.
func TestProbeGuardIsCountedInMetrics(t *testing.T) {
	srv, bad := flipServer(t)
	bad.Store(true)
	h := newHarness(t)
	reg := withMetrics(h)
	withProbes(t, h, "loopback")
	_, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{probeGuard(srv.URL)}, Scenario: "s"})
	require.NoError(t, err)
	assert.Equal(t, 2.0, counter(t, reg, telemetry.MetricGuardEvaluations, map[string]string{"guard": "health", "result": telemetry.EvalUnhealthy}))
}
