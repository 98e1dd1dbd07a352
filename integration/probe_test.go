package integration

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/sli/promclient"
)

// An HTTP probe guard watches the inventory through the link the fault
// slows: the run aborts on the probe's first late answer, long before the
// hold is over, the toxic is removed, and status, postmortem and verify
// show the probe. A probe to a host the worker's allow-list does not name
// is refused in define. And the freshness query the worker derives for a
// prometheus guard reads the newest sample's time from the real server.
func TestProbeGuardAbortsARun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.cfg.ProbeAllow = "loopback"
	e.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	probeURL := "http://" + e.shop.ProxyAddr("inventory") + "/stock?sku=widget"
	sc, path := e.scenario("demo-inventory-latency", func(sc *scenarios.Scenario) {
		sc.Metadata.Name = "probe-inventory-latency"
		sc.Spec.Faults[0].Duration = duration.Duration(60 * time.Second)
		sc.Spec.Guards = []sli.Guard{{
			Name: "inventory-answers", Kind: sli.KindHTTP, Interval: duration.Duration(250 * time.Millisecond),
			HTTP: &sli.HTTPProbe{URL: probeURL, Latency: duration.Duration(400 * time.Millisecond)},
		}}
		sc.Spec.SteadyState.Timeout = duration.Duration(30 * time.Second)
	})
	require.Equal(t, 0.4, sc.Spec.Guards[0].Threshold, "the loader filled the probe's condition")

	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "exit 3 = did not pass; stderr: %s\n%s", stderr, out)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Aborted, r.Outcome, r.Error)
	require.NotNil(t, r.Breach)
	assert.Equal(t, sli.KindHTTP, r.Breach.Kind)
	assert.Equal(t, "no answer within 400ms", r.Breach.Reason, "1.2 s of latency on the link: the probe gives up at its limit")
	assert.Contains(t, r.AbortReason, "guard inventory-answers breached: no answer within 400ms (GET "+probeURL)
	require.Len(t, r.Baseline, 1)
	assert.True(t, r.Baseline[0].Healthy)
	assert.Less(t, float64(r.Baseline[0].Value), 0.4, "the baseline is the probe's latency")
	require.Len(t, r.RecoverLog, 1)
	assert.True(t, r.RecoverLog[0].Removed)
	assert.Empty(t, e.faults(), "the toxic is gone")
	obs := phase(r, experiment.PhaseObserve)
	require.NotNil(t, obs)
	assert.Less(t, obs.Ended.Sub(obs.Started), 30*time.Second, "aborted on the probe, not after the 60 s hold")
	t.Logf("probe breach at %s, toxic removed %s later", r.Breach.At.Format("15:04:05.000"), allRemoved(r).Sub(r.Breach.At).Round(time.Millisecond))
	require.NotEmpty(t, r.Verify)
	assert.True(t, r.Verify[0].Healthy, "verify probed the inventory again once the toxic was gone")

	// The status the CLI prints reads the probe's answer.
	status, _, _ := e.gameday(ctx, "status", r.WorkflowID)
	assert.Contains(t, status, "no answer within 400ms")

	// The run's report: a probe is no Prometheus series (nothing is
	// range-queried for it, no "query failed"), its limit reads as a
	// latency and its bad answer in words; `gameday report` renders it
	// later too (it refused a run guarded by probes alone as "lost data").
	require.NotNil(t, r.Report, "the worker wrote the report")
	md, err := os.ReadFile(r.Report.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| inventory-answers | ≤ 400 ms |")
	assert.Contains(t, string(md), "no answer within 400ms, healthy when ≤ 400 ms")
	assert.NotContains(t, string(md), "query failed")
	out, stderr, code = e.gameday(ctx, "report", r.WorkflowID, "--format", "md")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "a probe: no series in Prometheus")

	// Define refuses a probe the worker's allow-list does not name.
	_, path = e.scenario("demo-inventory-latency", func(sc *scenarios.Scenario) {
		sc.Metadata.Name = "probe-not-allowed"
		sc.Spec.Guards = []sli.Guard{{Name: "elsewhere", Kind: sli.KindTCP, TCP: &sli.TCPProbe{Address: "10.255.255.1:6379"}}}
	})
	out, stderr, code = e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "stderr: %s\n%s", stderr, out)
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Failed, r.Outcome)
	assert.Contains(t, r.Error+r.AbortReason, "guard elsewhere: probe target 10.255.255.1:6379 is not allowed on this worker")
	assert.Empty(t, r.Injected, "nothing was injected")

	// Freshness on the real server: the derived query answers the newest
	// sample's time, which moves with the scrapes.
	demo, err := scenarios.Find("demo-inventory-latency")
	require.NoError(t, err)
	fq, err := promclient.FreshnessQuery(demo.Spec.Guards[1].Query) // two selectors: the "or" form
	require.NoError(t, err)
	prom, err := promclient.NewPrometheus(e.cfg.PrometheusURL)
	require.NoError(t, err)
	var first float64
	require.Eventually(t, func() bool { // the first scrapes of this env's Prometheus may still be coming
		first, err = prom.Query(ctx, fq, time.Now())
		return err == nil
	}, time.Minute, 100*time.Millisecond, "the freshness query answers")
	assert.InDelta(t, float64(time.Now().UnixMilli())/1000, first, 5, "the newest sample is about now (1 s scrapes)")
	require.Eventually(t, func() bool {
		v, err := prom.Query(ctx, fq, time.Now())
		return err == nil && v > first && !math.IsNaN(v)
	}, time.Minute, 100*time.Millisecond, "a new scrape moves the freshness answer")
}
