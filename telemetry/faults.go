package telemetry

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gameday/gameday/chaos"
)

// Lister is what a fault back-end offers the fault gauges (chaos.Backend
// has it).
type Lister interface {
	List(ctx context.Context) ([]chaos.Injected, error)
}

// FaultCollector exports the faults that are live right now, as the
// back-ends themselves list them (the sweep's List): gameday_faults_injected
// per back-end, and per fault its own expiry (gameday_fault_expiry_timestamp_
// seconds, what the "fault older than its expiry" alert reads).
//
// Why not a gauge counted up on inject and down on recover: a run's inject
// and its recover often run on different workers, a retried inject adopts
// its fault, and a crashed worker takes its counts with it; such a gauge
// drifts and goes negative. The back-end's list is the truth on every
// worker alike: every worker reports the same numbers, so aggregate with
// max by (backend), never sum. The lists are taken at scrape time, at most
// once per CacheFor, each bounded by Timeout; a back-end that cannot be
// listed says so in gameday_fault_list_up and exports no fault series.
type FaultCollector struct {
	Backends map[string]Lister
	CacheFor time.Duration // default 5s
	Timeout  time.Duration // default 5s

	mu     sync.Mutex
	at     time.Time
	cached []prometheus.Metric

	count, expiry, up *prometheus.Desc
}

// NewFaultCollector lists backends' faults for the gauges.
func NewFaultCollector(backends map[string]Lister) *FaultCollector {
	return &FaultCollector{
		Backends: backends,
		count:    prometheus.NewDesc(MetricFaultsInjected, "Faults gameday holds right now, as the back-end lists them (every worker reports the same: aggregate with max).", []string{"backend"}, nil),
		expiry: prometheus.NewDesc(MetricFaultExpiry, "When a live fault's own TTL ends (unix seconds); a fault still listed well past it was not removed.",
			[]string{"backend", "fault_id", "workflow_id"}, nil),
		up: prometheus.NewDesc(MetricFaultListUp, "1 when the back-end answered its list at the last scrape, 0 when it did not.", []string{"backend"}, nil),
	}
}

func (c *FaultCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.count
	ch <- c.expiry
	ch <- c.up
}

func (c *FaultCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cacheFor := c.CacheFor
	if cacheFor <= 0 {
		cacheFor = 5 * time.Second
	}
	if c.cached == nil || time.Since(c.at) >= cacheFor {
		c.cached, c.at = c.list(), time.Now()
	}
	for _, m := range c.cached {
		ch <- m
	}
}

// list asks every back-end at once.
func (c *FaultCollector) list() []prometheus.Metric {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	names := make([]string, 0, len(c.Backends))
	for n := range c.Backends {
		names = append(names, n)
	}
	slices.Sort(names)
	type answer struct {
		faults []chaos.Injected
		err    error
	}
	answers := make([]answer, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			answers[i].faults, answers[i].err = c.Backends[n].List(ctx)
		})
	}
	wg.Wait()
	out := make([]prometheus.Metric, 0, 2*len(names))
	for i, n := range names {
		if answers[i].err != nil {
			out = append(out, prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0, n))
			continue
		}
		// One fault may be listed as several objects (a pod-kill's marker
		// and its victims): count and export it once.
		seen := map[string]bool{}
		for _, f := range answers[i].faults {
			if seen[f.FaultID] {
				continue
			}
			seen[f.FaultID] = true
			if !f.Expires.IsZero() {
				out = append(out, prometheus.MustNewConstMetric(c.expiry, prometheus.GaugeValue,
					float64(f.Expires.UnixMilli())/1000, n, f.FaultID, f.WorkflowID))
			}
		}
		out = append(out,
			prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1, n),
			prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(len(seen)), n))
	}
	return out
}
