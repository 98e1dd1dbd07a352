package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/sli/promclient"
)

// healthSignal is the signal the bench flips: /health answers 200 or 503
// and /metrics exports gameday_bench_health 1 or 0, scraped every second.
type healthSignal struct {
	bad  atomic.Bool
	addr string
}

func startHealthSignal(tb testing.TB) *healthSignal {
	s := &healthSignal{}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if s.bad.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		v := 1
		if s.bad.Load() {
			v = 0
		}
		fmt.Fprintf(w, "# TYPE gameday_bench_health gauge\ngameday_bench_health %d\n", v)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	s.addr = ln.Addr().String()
	return s
}

// fastGuards are the two guards the bench compares: a Prometheus guard on
// the scraped signal (scrape 1 s, for 1, freshness checked every 100 ms)
// and an HTTP probe of it every 250 ms.
func fastGuards(sig *healthSignal) map[string]sli.Guard {
	return map[string]sli.Guard{
		"Prometheus guard (scrape 1 s, for 1)": {Name: "health", Query: "min(gameday_bench_health)", Op: sli.OpGE, Threshold: 1, For: 1,
			Interval: duration.Duration(time.Second)},
		"HTTP probe guard (250 ms, for 1)": {Name: "health", Kind: sli.KindHTTP, For: 1, Interval: duration.Duration(250 * time.Millisecond),
			HTTP: &sli.HTTPProbe{URL: "http://" + sig.addr + "/health", Latency: duration.Duration(200 * time.Millisecond)}},
	}
}

// fastRow is one set-up's measurements.
type fastRow struct {
	backend, guard string
	total, sample  []float64 // T2−T0; the breaching sample's time − T0
	qps            []float64 // the guard's queries per second
}

// BenchmarkFastAbort measures what issue 15 asks: a health signal flipped
// to bad at a random phase at T0, T2 = the fault gone (chaos-mesh: the
// object gone from the API server; toxiproxy: the toxic gone), for a
// Prometheus guard and an HTTP probe guard, against toxiproxy (the demo
// shop's link) and the chaos-mesh back-end on the real control plane.
// GAMEDAY_BENCH_RUNS sets the runs per set-up (default 10);
// GAMEDAY_BENCH_BACKENDS the back-ends (default toxiproxy,chaos-mesh);
// GAMEDAY_BENCH_FAST_REPORT names the Markdown section to write.
func BenchmarkFastAbort(b *testing.B) {
	runs := 10
	if v, err := strconv.Atoi(os.Getenv("GAMEDAY_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	backends := []string{"toxiproxy", chaosmesh.BackendName}
	if v := os.Getenv("GAMEDAY_BENCH_BACKENDS"); v != "" {
		backends = strings.Split(v, ",")
	}
	for b.Loop() {
		var rows []fastRow
		for _, be := range backends {
			rows = append(rows, fastAbortBackend(b, be, runs)...)
		}
		for _, r := range rows {
			b.Logf("%s, %s: T2-T0 median %.2fs p95 %.2fs max %.2fs (%s); sample-T0 median %.2fs; %.1f queries/s",
				r.backend, r.guard, medianOf(r.total), quantile(r.total, .95), slices.Max(r.total), fmtList(r.total), medianOf(r.sample), medianOf(r.qps))
		}
		if path := os.Getenv("GAMEDAY_BENCH_FAST_REPORT"); path != "" {
			require.NoError(b, os.WriteFile(path, []byte(fastReport(rows)), 0o644))
		}
	}
}

func fastAbortBackend(b *testing.B, backend string, runs int) []fastRow {
	sig := startHealthSignal(b)
	e := newEnv(b, false)
	dir := b.TempDir()
	prom, err := devstack.StartPrometheus(context.Background(), devstack.PrometheusOptions{ToolsDir: toolsDir, DataDir: filepath.Join(dir, "prom"),
		Targets: []string{sig.addr}, ScrapeInterval: time.Second, Log: logFile(dir, "prom.log")})
	require.NoError(b, err)
	b.Cleanup(func() { prom.Stop(10 * time.Second) })
	e.cfg.PrometheusURL = prom.URL
	e.cfg.ProbeAllow = "loopback"
	var base scenarios.Scenario
	switch backend {
	case "toxiproxy":
		sc, err := scenarios.Find("demo-inventory-latency")
		require.NoError(b, err)
		base = sc
	case chaosmesh.BackendName:
		c := kubeCluster(b)
		c.needChaosMesh(b)
		c.namespace(b, "fastabort", true)
		c.bindWorker(b, "fastabort")
		c.deployment(b, "fastabort", "web", 4)
		e.cfg.Kube = config.Kube{Mode: "on", Kubeconfig: c.serviceAccountKubeconfig(b)}
		e.cfg.Safety = config.Safety{Namespaces: []string{"fastabort"}, OptInLabel: "gameday.io/chaos=enabled", MaxBlastRadius: "*=100%"}
		base = scenarios.Scenario{
			APIVersion: scenarios.APIVersion, Kind: scenarios.Kind,
			Metadata: scenarios.Metadata{Name: "fastabort-pod-failure", Service: "web"},
			Spec: scenarios.Spec{
				Description: "PodChaos pod-failure on one of web's 4 replicas",
				Target:      chaos.Target{Backend: chaosmesh.BackendName, Namespace: "fastabort", Selector: map[string]string{"app": "web"}, Mode: chaos.ModeOne},
				Faults:      []scenarios.Fault{{Name: "pod-failure", Action: chaosmesh.ActionPodFailure}},
			},
		}
	default:
		b.Fatalf("unknown back-end %q", backend)
	}
	e.startWorker()
	waitHealthy(b, prom.URL)

	var rows []fastRow
	names := []string{"Prometheus guard (scrape 1 s, for 1)", "HTTP probe guard (250 ms, for 1)"}
	for _, name := range names {
		g := fastGuards(sig)[name]
		sc := base
		sc.Metadata.Name = fmt.Sprintf("fastabort-%s-%s", strings.ReplaceAll(backend, "-", ""), strings.ToLower(strings.Fields(name)[0]))
		sc.Spec.Faults = slices.Clone(base.Spec.Faults)
		sc.Spec.Faults[0].Duration = duration.Duration(time.Minute)
		sc.Spec.Guards = []sli.Guard{g}
		sc.Spec.SteadyState = scenarios.SteadyState{Timeout: duration.Duration(30 * time.Second)}
		sc.Spec.Signoff = scenarios.Signoff{}
		sc.Spec.Checklist, sc.Spec.FaultClass = "", ""
		path := e.writeScenario(sc)
		sc, err := scenarios.Load(path)
		require.NoError(b, err)
		row := fastRow{backend: backend, guard: name}
		strata := rand.Perm(runs)
		for i := 0; i < runs; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			run := e.start(ctx, sc)
			e.waitPhase(ctx, run.GetID(), experiment.PhaseObserve)
			if g.IsProbe() {
				time.Sleep(rand.N(time.Second)) // a random phase against the probes
			} else {
				// A random phase against the scrapes, stratified: run i
				// flips (k+u)/runs of a scrape interval before a scrape (k
				// a permutation of 0..runs-1, u uniform in [0,1)), so ten
				// runs cover the interval evenly instead of clustering by
				// chance, and their median is the median wait.
				sleepUntilBeforeScrape(b, prom.URL, (float64(strata[i])+rand.Float64())/float64(runs))
			}
			t0 := time.Now()
			sig.bad.Store(true)
			// Healthy again once the breach is in: verify then sees the
			// signal recover (the next scrape, the next probe).
			require.Eventually(b, func() bool {
				st, err := e.status(ctx, run.GetID())
				return err == nil && (st.Breach != nil || st.Outcome != experiment.Running)
			}, time.Minute, 20*time.Millisecond)
			sig.bad.Store(false)
			r := e.result(ctx, run)
			require.Equal(b, experiment.Aborted, r.Outcome, "run %d: %s %s", i, r.AbortReason, r.Error)
			require.NotNil(b, r.Breach)
			require.Len(b, r.RecoverLog, 1)
			require.True(b, r.RecoverLog[0].Removed, "%+v", r.RecoverLog[0])
			t2 := allRemoved(r)
			row.total = append(row.total, t2.Sub(t0).Seconds())
			row.sample = append(row.sample, r.Breach.At.Sub(t0).Seconds())
			load := "?"
			if gr, ok := guardResult(e, ctx, run.GetID()); ok && len(gr.Load) == 1 {
				row.qps = append(row.qps, gr.Load[0].PerSecond)
				load = fmt.Sprintf("%s over %s", gr.Load[0], gr.EndedAt.Sub(gr.StartedAt).Round(time.Millisecond))
			}
			cancel()
			b.Logf("%s %s run %d: T2-T0 %.3fs (sample at +%.3fs) %s; %s", backend, name, i, t2.Sub(t0).Seconds(), r.Breach.At.Sub(t0).Seconds(), r.RecoverLog[0].Detail, load)
			if backend == "toxiproxy" {
				require.Empty(b, e.faults())
			}
			waitHealthy(b, prom.URL)
		}
		rows = append(rows, row)
	}
	return rows
}

// sleepUntilBeforeScrape sleeps until frac of a scrape interval (1 s)
// before one of the signal's next scrapes: Prometheus scrapes a target on a
// fixed grid, which its newest sample's time gives.
func sleepUntilBeforeScrape(tb testing.TB, url string, frac float64) {
	p, err := promclient.NewPrometheus(url)
	require.NoError(tb, err)
	last, err := p.Query(context.Background(), "timestamp(gameday_bench_health)", time.Now())
	require.NoError(tb, err)
	next := time.UnixMilli(int64(last * 1000))
	lead := time.Duration(frac * float64(time.Second))
	for !next.Add(-lead).After(time.Now().Add(50 * time.Millisecond)) {
		next = next.Add(time.Second)
	}
	time.Sleep(time.Until(next.Add(-lead)))
}

// waitHealthy waits until Prometheus has scraped the signal healthy.
func waitHealthy(tb testing.TB, url string) {
	p, err := promclient.NewPrometheus(url)
	require.NoError(tb, err)
	require.Eventually(tb, func() bool {
		v, err := p.Query(context.Background(), "min(gameday_bench_health)", time.Now())
		return err == nil && v == 1
	}, 2*time.Minute, 50*time.Millisecond, "the signal is scraped healthy")
}

// guardResult is the Guard activity's result in a run's history.
func guardResult(e *env, ctx context.Context, id string) (activities.GuardResult, bool) {
	var res activities.GuardResult
	scheduled := map[int64]bool{}
	it := e.client.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return res, false
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Guard" {
			scheduled[ev.GetEventId()] = true
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] {
			for _, p := range a.GetResult().GetPayloads() {
				if json.Unmarshal(p.GetData(), &res) == nil {
					return res, true
				}
			}
		}
	}
	return res, false
}

// medianOf is the middle value (the mean of the two middle ones for an even
// count): with 10 runs, quantile(.5) would report the 5th, below it.
func medianOf(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return math.NaN()
	}
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

func fastReport(rows []fastRow) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Fast abort: signal bad → fault gone\n\nGenerated by `make bench` on %s (%s).\n\n", time.Now().UTC().Format(time.RFC3339), hostInfo())
	sb.WriteString("A health signal (an HTTP endpoint answering 200/503 and a gauge Prometheus scrapes every second) is flipped to bad " +
		"at a random phase at T0, while a fault is held (against the scrapes the phases are stratified: run i flips (k+u)/N of a " +
		"scrape interval before a scrape, k a permutation of the runs, u uniform, so N runs cover the interval evenly and the median " +
		"is the median wait rather than the luck of N draws; against the probes it is uniform in [0, 1 s)); T2 = the fault gone: the toxic deleted (toxiproxy), the PodChaos " +
		"`pod-failure` object gone from the API server (chaos-mesh back-end, kube-apiserver v1.37.2 + kwok, 4-replica Deployment, " +
		"no Chaos Mesh controller: no finalizer to wait for). The worker runs in the bench's process, so T0 and T2 are read on one clock. " +
		"\"sample\" is the breaching sample's time (the scrape, or the probe) after T0; queries/s is the guard's own load " +
		"(freshness checks included) over its whole watch, from its result.\n\n")
	sb.WriteString("| set-up | runs | T2 − T0 median | p95 | min | max | sample − T0 median | T2 − sample median | guard queries/s |\n" +
		"| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		after := make([]float64, len(r.total))
		for i := range r.total {
			after[i] = r.total[i] - r.sample[i]
		}
		fmt.Fprintf(&sb, "| gameday, %s, %s | %d | %.2f s | %.2f | %.2f | %.2f | %.2f s | %.2f s | %.1f |\n", r.backend, r.guard, len(r.total),
			medianOf(r.total), quantile(r.total, .95), slices.Min(r.total), slices.Max(r.total), medianOf(r.sample), medianOf(after), medianOf(r.qps))
	}
	sb.WriteString("| *issue 15:* Chaos Mesh v2.8.3 Workflow, HTTP StatusCheck 1 s × 1 | 10 | 0.82 s | | 0.52 | 1.08 | | | |\n")
	sb.WriteString("| *issue 15:* gameday before (guard interval 1 s, for 1, scrape 1 s) | 10 | 1.22 s | | 0.65 | 1.94 | 0.55 s | | |\n")
	sb.WriteString("\nThe issue 15 rows are quoted from the issue (same machine class, measured before this change), not re-measured. " +
		"With 10 runs the p95 is the slowest run. \"sample − T0\" is the wait for the signal to reach a sample (the next scrape: " +
		"uniform over the 1 s scrape interval, median 0.5 s, which no guard can beat; the next probe: over 250 ms); \"T2 − sample\" is gameday's " +
		"own part: noticing the sample (freshness checked every 100 ms), evaluating, declaring the breach and removing the fault.\n")
	sb.WriteString("\nGoals (issue 15): median T2 − T0 ≤ 0.70 s for the Prometheus guard, ≤ 0.50 s for the HTTP guard.\n\n")
	for _, r := range rows {
		goal := 0.7
		if strings.HasPrefix(r.guard, "HTTP") {
			goal = 0.5
		}
		verdict := "met"
		if m := medianOf(r.total); m > goal {
			verdict = fmt.Sprintf("MISSED by %.2f s", m-goal)
		}
		fmt.Fprintf(&sb, "- %s, %s: median %.2f s, goal %.2f s: %s. Per run (s): %s\n", r.backend, r.guard, medianOf(r.total), goal, verdict, fmtList(r.total))
	}
	return sb.String()
}
