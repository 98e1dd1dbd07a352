// Package telemetry holds the platform's own signals, with no Temporal
// import: the names and collectors of gameday's Prometheus metrics, the
// registry the worker serves on /metrics (the Temporal SDK's metrics join it
// through the OpenTelemetry Prometheus exporter), the HTTP endpoints
// (/metrics, /healthz, /readyz), and the OpenTelemetry tracer provider with
// its OTLP exporter (off, and free, unless configured).
//
// Metrics are recorded by activities and worker code only, never by workflow
// code: a workflow replays, an activity attempt does not. A *Metrics that is
// nil records nothing, so code and tests that need no metrics pass none.
package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metric names: the dashboard (deploy/grafana), the recording and alert
// rules (deploy/prometheus) and the tests read these.
const (
	MetricExperimentsStarted  = "gameday_experiments_started_total"
	MetricExperimentsFinished = "gameday_experiments_finished_total"
	MetricGuardEvaluations    = "gameday_guard_evaluations_total"
	MetricGuardBreaches       = "gameday_guard_breaches_total"
	MetricAbortLatency        = "gameday_abort_latency_seconds"
	MetricPhaseDuration       = "gameday_phase_duration_seconds"
	MetricFaultInjections     = "gameday_fault_injections_total"
	MetricFaultRecoveries     = "gameday_fault_recoveries_total"
	MetricRecoverFailures     = "gameday_recover_failures_total"
	MetricSweepRemovals       = "gameday_sweep_removals_total"
	MetricFaultsInjected      = "gameday_faults_injected"
	MetricFaultExpiry         = "gameday_fault_expiry_timestamp_seconds"
	MetricFaultListUp         = "gameday_fault_list_up"
	MetricFreezeActive        = "gameday_freeze_active"
)

// Guard evaluation results (the result label of MetricGuardEvaluations).
const (
	EvalHealthy   = "healthy"
	EvalUnhealthy = "unhealthy"
	EvalNoData    = "no_data" // empty answer or NaN
	EvalError     = "error"   // the query failed or timed out
)

// Buckets of the latency histograms, in seconds: an abort is a few seconds
// (bench/abort-latency.md), a phase from milliseconds (report) to an hour
// (a sign-off gate, a long hold).
var (
	abortBuckets = []float64{0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 120, 300}
	phaseBuckets = []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600}
)

// Metrics are gameday's own series. Build them with NewMetrics; every
// method of a nil *Metrics does nothing.
type Metrics struct {
	started      *prometheus.CounterVec
	finished     *prometheus.CounterVec
	evaluations  *prometheus.CounterVec
	breaches     *prometheus.CounterVec
	abortLatency *prometheus.HistogramVec
	phase        *prometheus.HistogramVec
	injections   *prometheus.CounterVec
	recoveries   *prometheus.CounterVec
	recoverFail  *prometheus.CounterVec
	sweeps       *prometheus.CounterVec
	freeze       *freezeGauge
}

// NewMetrics creates gameday's metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricExperimentsStarted,
			Help: "Experiments that started (their define phase ran), by scenario; dry runs included.",
		}, []string{"scenario"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricExperimentsFinished,
			Help: "Experiments that finished, by scenario and outcome (passed, aborted, failed, cancelled, expired, dry-run).",
		}, []string{"scenario", "outcome"}),
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricGuardEvaluations,
			Help: "Guard queries evaluated while faults were live, by guard and result (healthy, unhealthy, no_data, error).",
		}, []string{"guard", "result"}),
		breaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricGuardBreaches,
			Help: "Guard breaches that aborted a run, by scenario and guard.",
		}, []string{"scenario", "guard"}),
		abortLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricAbortLatency,
			Help:    "From a guard's breach to every fault of the run removed, by scenario.",
			Buckets: abortBuckets,
		}, []string{"scenario"}),
		phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricPhaseDuration,
			Help:    "How long each phase of a finished run took (define, signoff, inject, observe, recover, verify, report).",
			Buckets: phaseBuckets,
		}, []string{"phase"}),
		injections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFaultInjections,
			Help: "Inject attempts, by back-end, action and result (ok, error).",
		}, []string{"backend", "action", "result"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFaultRecoveries,
			Help: "Recover attempts that answered, by back-end and result (removed, already_gone).",
		}, []string{"backend", "result"}),
		recoverFail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRecoverFailures,
			Help: "Recover attempts that failed (the fault may still be there; the run retries), by back-end.",
		}, []string{"backend"}),
		sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricSweepRemovals,
			Help: "Orphaned faults a sweep acted on, by back-end and outcome (removed, already-gone, failed).",
		}, []string{"backend", "outcome"}),
		freeze: &freezeGauge{desc: prometheus.NewDesc(MetricFreezeActive,
			"1 while a change freeze stops new experiments, 0 otherwise (absent until the worker knows).", nil, nil)},
	}
	reg.MustRegister(m.started, m.finished, m.evaluations, m.breaches, m.abortLatency, m.phase,
		m.injections, m.recoveries, m.recoverFail, m.sweeps, m.freeze)
	return m
}

// NewRegistry is a registry with the Go runtime and process collectors: the
// one the worker serves on /metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Outcomes are the outcome label's values (experiment.Outcome's, but
// running), listed so a scenario's series exist at 0 before its first run
// ends: rate() and increase() miss a counter's first increment otherwise,
// and a dashboard would not see a scenario's first breach or outcome.
var Outcomes = []string{"passed", "aborted", "failed", "cancelled", "expired", "dry-run"}

// evalResults are the result label's values of MetricGuardEvaluations.
var evalResults = []string{EvalHealthy, EvalUnhealthy, EvalNoData, EvalError}

// InitBackends creates the per-back-end series at 0 (see Outcomes for why):
// the worker calls it at start with its back-ends and their actions.
func (m *Metrics) InitBackends(actions map[string][]string) {
	if m == nil {
		return
	}
	for b, acts := range actions {
		for _, a := range acts {
			m.injections.WithLabelValues(b, a, "ok")
			m.injections.WithLabelValues(b, a, "error")
		}
		m.recoveries.WithLabelValues(b, "removed")
		m.recoveries.WithLabelValues(b, "already_gone")
		m.recoverFail.WithLabelValues(b)
		for _, o := range []string{"removed", "already-gone", "failed"} {
			m.sweeps.WithLabelValues(b, o)
		}
	}
}

// ExperimentStarted counts a run whose define phase started, and creates
// its scenario's outcome series at 0.
func (m *Metrics) ExperimentStarted(scenario string) {
	if m == nil {
		return
	}
	m.started.WithLabelValues(scenario).Inc()
	for _, o := range Outcomes {
		m.finished.WithLabelValues(scenario, o)
	}
}

// WatchStarted creates a watch's guard series at 0 when it starts, before
// any evaluation or breach.
func (m *Metrics) WatchStarted(scenario string, guards []string) {
	if m == nil {
		return
	}
	for _, g := range guards {
		m.breaches.WithLabelValues(scenario, g)
		for _, r := range evalResults {
			m.evaluations.WithLabelValues(g, r)
		}
	}
}

// Phase is one phase of a finished run, as ExperimentFinished reads it.
type Phase struct {
	Name           string
	Started, Ended time.Time
}

// ExperimentFinished counts a finished run and observes its phases' durations.
func (m *Metrics) ExperimentFinished(scenario, outcome string, phases []Phase) {
	if m == nil {
		return
	}
	m.finished.WithLabelValues(scenario, outcome).Inc()
	for _, p := range phases {
		if p.Started.IsZero() || p.Ended.Before(p.Started) {
			continue // still running, or a clock the metric should not trust
		}
		m.phase.WithLabelValues(p.Name).Observe(p.Ended.Sub(p.Started).Seconds())
	}
}

// GuardEvaluated counts one guard evaluation (EvalHealthy, EvalUnhealthy,
// EvalNoData, EvalError).
func (m *Metrics) GuardEvaluated(guard, result string) {
	if m == nil {
		return
	}
	m.evaluations.WithLabelValues(guard, result).Inc()
}

// GuardBreached counts a breach that ends a run.
func (m *Metrics) GuardBreached(scenario, guard string) {
	if m == nil {
		return
	}
	m.breaches.WithLabelValues(scenario, guard).Inc()
}

// AbortLatency observes how long a run took from its breach to the last
// fault removed.
func (m *Metrics) AbortLatency(scenario string, d time.Duration) {
	if m == nil || d < 0 {
		return
	}
	m.abortLatency.WithLabelValues(scenario).Observe(d.Seconds())
}

// Injected counts one inject attempt.
func (m *Metrics) Injected(backend, action string, err error) {
	if m == nil {
		return
	}
	m.injections.WithLabelValues(backend, action, result(err, "ok")).Inc()
}

// Recovered counts one recover attempt: removed (something was there),
// already_gone, or a failure (MetricRecoverFailures).
func (m *Metrics) Recovered(backend string, removed bool, err error) {
	if m == nil {
		return
	}
	switch {
	case err != nil:
		m.recoverFail.WithLabelValues(backend).Inc()
	case removed:
		m.recoveries.WithLabelValues(backend, "removed").Inc()
	default:
		m.recoveries.WithLabelValues(backend, "already_gone").Inc()
	}
}

// Swept counts one orphan a sweep acted on (outcome removed, already-gone,
// failed).
func (m *Metrics) Swept(backend, outcome string) {
	if m == nil {
		return
	}
	m.sweeps.WithLabelValues(backend, outcome).Inc()
}

// SetFreeze records whether a change freeze is on (MetricFreezeActive), for
// code that learns it as it goes (define's freeze check, the freeze entity's
// activities). See SetFreezeSource for reading it at scrape time instead.
func (m *Metrics) SetFreeze(active bool) {
	if m == nil {
		return
	}
	m.freeze.set(active)
}

// SetFreezeSource makes every scrape ask source whether a freeze is on (at
// most every few seconds, bounded by a short timeout; an error leaves the
// gauge out of that scrape rather than guessing). It replaces SetFreeze's
// value.
func (m *Metrics) SetFreezeSource(source func(context.Context) (bool, error)) {
	if m == nil {
		return
	}
	m.freeze.mu.Lock()
	m.freeze.source = source
	m.freeze.mu.Unlock()
}

func result(err error, ok string) string {
	if err != nil {
		return "error"
	}
	return ok
}

// freezeGauge is MetricFreezeActive: set by SetFreeze, or read from a
// source at scrape time (cached for freezeCacheFor).
type freezeGauge struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	known  bool
	active bool
	source func(context.Context) (bool, error)
	asked  time.Time
}

const (
	freezeCacheFor = 5 * time.Second
	freezeTimeout  = 2 * time.Second
)

func (g *freezeGauge) set(active bool) {
	g.mu.Lock()
	g.known, g.active = true, active
	g.mu.Unlock()
}

func (g *freezeGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *freezeGauge) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.source != nil && time.Since(g.asked) >= freezeCacheFor {
		ctx, cancel := context.WithTimeout(context.Background(), freezeTimeout)
		active, err := g.source(ctx)
		cancel()
		g.asked = time.Now()
		g.known, g.active = err == nil, active
	}
	if !g.known {
		return
	}
	v := 0.0
	if g.active {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v)
}
