package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/deploy"
	"github.com/gameday/gameday/deploy/grafana"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/telemetry"
	"github.com/gameday/gameday/worker"
)

// One real run that breaches (demo-inventory-latency through the CLI),
// traced end to end into a real Jaeger, with the worker's metrics scraped
// by the env's Prometheus, and everything a user would look at checked on
// it:
//
//   - the trace id the run records is a trace Jaeger has, found by that id
//     through Jaeger's query API: the CLI's start, the run, its activities,
//     the inject's toxiproxy call and the demo shop's probe orders through
//     the faulted link, with the fault's latency;
//   - the worker's /metrics counts the run (started, finished aborted, the
//     breach, inject and recover, the abort latency), serves the Temporal
//     SDK's worker metrics on the same endpoint, and the live-fault gauge is
//     back to zero; /healthz and /readyz answer;
//   - the dashboard's annotations find the inject, the recovery and the
//     breach in Prometheus, and every dashboard query is valid PromQL there;
//   - the history names what each activity and timer did.
func TestRunTraceMetricsAndDashboard(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs Temporal, Prometheus and Jaeger (make tools)")
	}
	require.NoError(t, setupErr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	jaeger, err := devstack.StartJaeger(ctx, devstack.JaegerOptions{ToolsDir: toolsDir, Log: logFile(dir, "jaeger.log")})
	require.NoError(t, err, "jaeger (make tools builds it)")
	t.Cleanup(func() { jaeger.Stop(10 * time.Second) })

	sig, err := worker.NewSignals(config.Telemetry{OTLPEndpoint: jaeger.OTLPEndpoint})
	require.NoError(t, err)
	t.Cleanup(func() { sig.Close() })
	shopTracing, err := telemetry.NewTracing(jaeger.OTLPEndpoint, telemetry.ServiceDemo, telemetry.SampleRoots(0))
	require.NoError(t, err)
	t.Cleanup(func() { shopTracing.Stop(5 * time.Second) })
	metricsPort, err := devstack.FreePort()
	require.NoError(t, err)
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", metricsPort)

	e := newEnvOpts(t, true, envOptions{
		shop:      demo.Config{Tracing: shopTracing},
		signals:   sig,
		promJobs:  []devstack.ScrapeJob{{Name: devstack.WorkerJob, Targets: []string{metricsAddr}}},
		promRules: [][]byte{deploy.PrometheusRules},
	})
	srv, err := sig.Serve(metricsAddr, e.client, e.acts, nil)
	require.NoError(t, err)
	e.extraEnv = append(e.extraEnv, config.EnvOTLPEndpoint+"="+jaeger.OTLPEndpoint)

	_, path := e.scenario("demo-inventory-latency", nil)
	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "aborted: exit 3; stderr: %s", stderr)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.Equal(t, experiment.Aborted, r.Outcome, r.AbortReason+r.Error)
	require.Regexp(t, `^[0-9a-f]{32}$`, r.TraceID, "the run records its trace id")
	ended := time.Now()

	// The trace, found in Jaeger by the id the run shows.
	require.NoError(t, sig.Tracing.Flush(5*time.Second))
	require.NoError(t, shopTracing.Flush(5*time.Second))
	var spans map[string][]jaegerSpan
	require.Eventually(t, func() bool {
		spans = jaegerTrace(t, jaeger.QueryURL, r.TraceID)
		return len(spans["demo probe order"]) > 0 && len(spans["RunActivity:Recover"]) > 0 && len(spans["RunActivity:Report"]) > 0
	}, 30*time.Second, 500*time.Millisecond, "Jaeger has the run's trace %s with its probes (has: %v)", r.TraceID, keys(spans))
	service := func(name string) string { return spans[name][0].service }
	assert.Equal(t, telemetry.ServiceCLI, service("StartWorkflow:Experiment"), "the CLI's start is the trace's root")
	for _, name := range []string{"RunWorkflow:Experiment", "RunActivity:Define", "RunActivity:Guard", "RunActivity:Inject", "RunActivity:Recover", "RunActivity:Verify"} {
		require.Contains(t, spans, name)
		assert.Equal(t, telemetry.ServiceWorker, service(name), name)
	}
	require.Contains(t, spans, "call POST /proxies/inventory/toxics", "the inject's call to toxiproxy")
	require.Contains(t, spans, "order POST /orders", "the order service served the probes")
	require.Contains(t, spans, "inventory GET /stock", "through the faulted link to the inventory")
	assert.Equal(t, telemetry.ServiceDemo, service("demo probe order"))
	slow := false
	for _, s := range spans["call GET /stock"] {
		slow = slow || s.duration >= 1200*time.Millisecond // the fault's 1.2 s
	}
	assert.True(t, slow, "a probe's call to the inventory carries the fault's latency")

	// The worker's own metrics.
	metrics := get(t, srv.URL+"/metrics")
	for _, want := range []string{
		`gameday_experiments_started_total{scenario="demo-inventory-latency"} 1`,
		`gameday_experiments_finished_total{outcome="aborted",scenario="demo-inventory-latency"} 1`,
		`gameday_guard_breaches_total{guard="p95-latency",scenario="demo-inventory-latency"} 1`,
		`gameday_fault_injections_total{action="latency",backend="toxiproxy",result="ok"} 1`,
		`gameday_fault_recoveries_total{backend="toxiproxy",result="removed"} 1`,
		`gameday_abort_latency_seconds_count{scenario="demo-inventory-latency"} 1`,
		`gameday_faults_injected{backend="toxiproxy"} 0`,
		`gameday_fault_list_up{backend="toxiproxy"} 1`,
	} {
		assert.Contains(t, metrics, want)
	}
	assert.Regexp(t, `gameday_guard_evaluations_total\{guard="p95-latency",result="unhealthy"\} [1-9]`, metrics)
	assert.Regexp(t, `temporal_num_pollers\{.*poller_type="workflow_task".*task_queue="`+regexp.QuoteMeta(e.cfg.TaskQueue)+`".*\} [1-9]`, metrics, "the SDK's worker metrics on the same endpoint")
	assert.Contains(t, metrics, "temporal_activity_execution_latency_seconds_bucket")
	assert.Equal(t, "ok\n", get(t, srv.URL+"/healthz"))
	assert.Equal(t, "ready\n", get(t, srv.URL+"/readyz"), "ready: Temporal answers")

	// The dashboard's annotations find the run in Prometheus, and every
	// query of the dashboard is valid PromQL.
	require.Eventually(t, func() bool {
		return promHas(t, e.prom.URL, telemetry.MetricExperimentsFinished)
	}, 30*time.Second, time.Second, "Prometheus scraped the worker")
	d := dashboardQueries(t)
	for name, expr := range d.annotations {
		if name == "Faults live" {
			continue // a scrape may or may not have caught the few seconds of the fault
		}
		n := promRange(t, e.prom.URL, expr, ended.Add(-3*time.Minute), time.Now())
		assert.Positive(t, n, "annotation %s (%s) finds the run", name, expr)
	}
	for _, expr := range d.panels {
		promRange(t, e.prom.URL, expr, ended.Add(-3*time.Minute), time.Now())
	}

	// The history says what each step did.
	summaries := activitySummaries(t, e, r.WorkflowID)
	assert.Contains(t, summaries, "inventory-latency: add latency 1.2s to inventory (100% of downstream) for 1m0s")
	assert.Contains(t, summaries, "inventory-latency: remove latency 1.2s from inventory")
	assert.Contains(t, summaries, "watch p95-latency, error-rate every 1s until the last hold ends; a breach aborts the run")
	assert.Contains(t, summaries, "file the postmortem and announce the outcome: aborted")
	assert.Contains(t, strings.Join(summaries, "\n"), "hold inventory-latency until ")
	recordHistoryTo(t, e, r.WorkflowID, "GAMEDAY_RECORD_TRACED_HISTORY")
}

type jaegerSpan struct {
	service  string
	duration time.Duration
}

// jaegerTrace reads a trace through Jaeger's query API: spans by name.
func jaegerTrace(t *testing.T, queryURL, traceID string) map[string][]jaegerSpan {
	resp, err := http.Get(queryURL + "/api/traces/" + traceID)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var body struct {
		Data []struct {
			TraceID string `json:"traceID"`
			Spans   []struct {
				OperationName string `json:"operationName"`
				ProcessID     string `json:"processID"`
				Duration      int64  `json:"duration"` // µs
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	out := map[string][]jaegerSpan{}
	for _, tr := range body.Data {
		require.Equal(t, traceID, tr.TraceID)
		for _, s := range tr.Spans {
			out[s.OperationName] = append(out[s.OperationName], jaegerSpan{service: tr.Processes[s.ProcessID].ServiceName, duration: time.Duration(s.Duration) * time.Microsecond})
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, b)
	return string(b)
}

func promHas(t *testing.T, promURL, metric string) bool {
	return promRange(t, promURL, metric, time.Now().Add(-time.Minute), time.Now()) > 0
}

// promRange runs a range query and returns how many series answered; a
// query Prometheus refuses fails the test.
func promRange(t *testing.T, promURL, expr string, from, to time.Time) int {
	t.Helper()
	q := url.Values{"query": {expr}, "start": {fmt.Sprint(from.Unix())}, "end": {fmt.Sprint(to.Unix())}, "step": {"5"}}
	resp, err := http.Get(promURL + "/api/v1/query_range?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "success", body.Status, "query %s: %s", expr, body.Error)
	return len(body.Data.Result)
}

type dashQueries struct {
	annotations map[string]string
	panels      []string
}

// dashboardQueries are the generated dashboard's queries with Grafana's
// variables filled in as Grafana would.
func dashboardQueries(t *testing.T) dashQueries {
	b, err := grafana.JSON()
	require.NoError(t, err)
	var d struct {
		Annotations struct {
			List []struct{ Name, Expr string } `json:"list"`
		} `json:"annotations"`
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &d))
	fill := strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$scenario", ".*").Replace
	out := dashQueries{annotations: map[string]string{}}
	for _, a := range d.Annotations.List {
		out.annotations[a.Name] = fill(a.Expr)
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out.panels = append(out.panels, fill(tg.Expr))
		}
	}
	return out
}

// activitySummaries are the summaries the history's activities and timers
// carry (what the Temporal UI shows on each).
func activitySummaries(t *testing.T, e *env, workflowID string) []string {
	var out []string
	for _, ev := range e.history(context.Background(), workflowID).Events {
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enums.EVENT_TYPE_TIMER_STARTED:
		default:
			continue
		}
		p := ev.GetUserMetadata().GetSummary()
		if p == nil {
			continue
		}
		var s string
		require.NoError(t, converter.GetDefaultDataConverter().FromPayload(p, &s))
		out = append(out, s)
	}
	return out
}
