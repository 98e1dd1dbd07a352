package sli

import (
	"fmt"
	"math"
	"time"
)

// The seed's drift rule: an SLI that drifts more than 15 % from its
// baseline (the 7-day average) pauses the run and asks a human, instead of
// aborting it, as long as it is still inside its hard threshold. A guard
// declares a baseline (a PromQL query over a long window, or the values
// earlier runs of the scenario recorded in define) and a drift limit; the
// run's define resolves the baseline to one number and the workflow arms
// the guards it hands a watch with it (Guard.Armed). The Tracker judges
// drift on every healthy sample (Tracker.Observe's one hook, drift): a
// drifted streak as long as the guard's "for" ends the watch with a Breach
// whose Drift is set, which the workflow turns into a pause.

// DefaultDriftLimit is a guard's drift limit, in percent, when it declares
// a baseline and no limit: the seed's 15 %.
const DefaultDriftLimit = 15.0

// Baseline is where a guard's drift baseline comes from: exactly one of a
// PromQL query that aggregates a long window to one number (the seed's
// avg_over_time(...[7d])), or the mean of the values the last Runs runs of
// the scenario recorded for this guard in define (same guard name and
// query, healthy and finite), found through Temporal visibility.
type Baseline struct {
	Query string `json:"query,omitempty" yaml:"query"`
	Runs  int    `json:"runs,omitempty" yaml:"runs"`
}

// Source describes the baseline for people.
func (b Baseline) Source() string {
	if b.Query != "" {
		return b.Query
	}
	return fmt.Sprintf("mean of the last %d runs' define values", b.Runs)
}

// DriftBaseline is a guard's drift rule as define resolved it for a run:
// the baseline value and the limit, or why the rule is off for this run
// (the baseline query returned no data, NaN, ±Inf or 0, or no earlier run
// recorded a usable value). Recorded on the run's result.
type DriftBaseline struct {
	Guard  string  `json:"guard"`
	Source string  `json:"source"`
	Value  Float   `json:"value"`
	NoData bool    `json:"no_data,omitempty"`
	Limit  float64 `json:"limit"`
	// Runs is how many earlier runs' values were averaged (runs baselines).
	Runs int `json:"runs,omitempty"`
	// Off says why the drift rule does not apply in this run ("" when it
	// does); the guard's hard threshold applies either way.
	Off string `json:"off,omitempty"`
}

func (d DriftBaseline) String() string {
	if d.Off != "" {
		return fmt.Sprintf("%s: drift rule off (%s)", d.Guard, d.Off)
	}
	s := fmt.Sprintf("%s: baseline %s, pauses beyond %g%% drift", d.Guard, d.Value, d.Limit)
	if d.Runs > 0 {
		s += fmt.Sprintf(" (mean of %d earlier run(s))", d.Runs)
	}
	return s
}

// Resolve judges a baseline value: a rule that cannot mean anything with it
// is off, with the reason.
func (d *DriftBaseline) Resolve(value float64, noData bool) {
	d.Value, d.NoData = Float(value), noData
	switch {
	case noData:
		d.Off = "the baseline query returned no data"
	case math.IsNaN(value):
		d.Off = "the baseline is NaN (nothing measured over its window)"
	case math.IsInf(value, 0):
		d.Off = "the baseline is " + Float(value).String()
	case value == 0:
		d.Off = "the baseline is 0: a drift relative to 0 means nothing (the threshold still applies)"
	}
}

// Drift is a drift the rule saw: how far the value moved from the baseline
// towards the guard's unhealthy side, in percent, against the limit.
type Drift struct {
	Baseline Float   `json:"baseline"`
	Percent  Float   `json:"percent"`
	Limit    float64 `json:"limit"`
	Source   string  `json:"source,omitempty"`
}

// DriftLimit is the guard's drift limit in percent (DefaultDriftLimit when
// it declares a baseline and no limit).
func (g Guard) DriftLimit() float64 {
	if g.Drift > 0 {
		return g.Drift
	}
	return DefaultDriftLimit
}

// DriftPercent is how far value drifted from baseline, in percent of the
// baseline, towards the guard's unhealthy side: up for < and <= (a
// latency getting slower), down for > and >= (a success ratio falling),
// either way for == and !=. A move the other way is 0: an SLI that gets
// better is no reason to stop. baseline must be finite and not 0.
func DriftPercent(op Op, value, baseline float64) float64 {
	d := (value - baseline) / math.Abs(baseline) * 100
	switch op {
	case OpLT, OpLE:
		return max(d, 0)
	case OpGT, OpGE:
		return max(-d, 0)
	}
	return math.Abs(d)
}

// drift judges a healthy sample of guard i against its armed baseline
// (Tracker.Observe's hook): a drift beyond the limit for the guard's "for"
// samples in a row is a Breach with Drift set.
func (t *Tracker) drift(i int, value float64, at time.Time) *Breach {
	g := t.guards[i]
	st := &t.st[i]
	if g.Armed == nil || !g.Armed.Finite() || *g.Armed == 0 {
		return nil
	}
	pct := DriftPercent(g.Op, value, float64(*g.Armed))
	if !(pct > g.DriftLimit()) {
		st.Drifted = 0
		return nil
	}
	st.Drifted++
	if st.Drifted < max(g.For, 1) {
		return nil
	}
	src := ""
	if g.Baseline != nil {
		src = g.Baseline.Source()
	}
	return &Breach{Guard: g.Name, Query: g.Query, Op: string(g.Op), Value: Float(value), Threshold: g.Threshold, At: at,
		Drift: &Drift{Baseline: *g.Armed, Percent: Float(pct), Limit: g.DriftLimit(), Source: src}}
}

// driftString is Breach.String for a drift.
func (b Breach) driftString() string {
	return fmt.Sprintf("guard %s drifted %s%% from its baseline %s (limit %g%%): value %s, still inside its threshold %s %g",
		b.Guard, b.Drift.Percent, b.Drift.Baseline, b.Drift.Limit, b.Value, b.Op, b.Threshold)
}
