package activities

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/sli"
)

type pastRuns struct {
	vals []float64
	asks []string
}

func (p *pastRuns) GuardValues(_ context.Context, scenario, guard, query string, n int) ([]float64, error) {
	p.asks = append(p.asks, scenario+"/"+guard+"/"+query)
	return p.vals[:min(n, len(p.vals))], nil
}

func withBaseline(g sli.Guard, b sli.Baseline) sli.Guard {
	g.Baseline, g.Drift = &b, sli.DefaultDriftLimit
	return g
}

// Define records each guard's drift baseline: the query's value, the mean
// of earlier runs' values, or why the rule is off this run.
func TestDefineResolvesDriftBaselines(t *testing.T) {
	h := newHarness(t)
	past := &pastRuns{vals: []float64{0.1, 0.3}}
	h.acts.Past = past
	for q, v := range map[string]float64{"p95": 0.1, "err": 0.0001, "ok": 0.1, "zero": 0.1, "nan": 0.1, "runs": 0.1} {
		h.prom.values[q] = []float64{v}
	}
	h.prom.values["avg_over_time(p95[7d])"] = []float64{0.12}
	h.prom.values["avg_over_time(zero[7d])"] = []float64{0}
	h.prom.values["avg_over_time(nan[7d])"] = []float64{math.NaN()}
	h.prom.errs["avg_over_time(err[7d])"] = sli.ErrNoData
	sc := scenario("inventory",
		withBaseline(guard("p95", 1), sli.Baseline{Query: "avg_over_time(p95[7d])"}),
		withBaseline(guard("err", 1), sli.Baseline{Query: "avg_over_time(err[7d])"}),
		withBaseline(guard("zero", 1), sli.Baseline{Query: "avg_over_time(zero[7d])"}),
		withBaseline(guard("nan", 1), sli.Baseline{Query: "avg_over_time(nan[7d])"}),
		withBaseline(guard("runs", 1), sli.Baseline{Runs: 5}),
		guard("ok", 1),
	)
	v, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", ResolveDrift: true})
	require.NoError(t, err)
	var res DefineResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Drift, 5, "one per guard that declares a baseline")
	assert.Equal(t, sli.DriftBaseline{Guard: "p95", Source: "avg_over_time(p95[7d])", Value: 0.12, Limit: 15}, res.Drift[0])
	assert.True(t, res.Drift[1].NoData)
	assert.Contains(t, res.Drift[1].Off, "no data")
	assert.Contains(t, res.Drift[2].Off, "the baseline is 0")
	assert.Contains(t, res.Drift[3].Off, "NaN")
	assert.Equal(t, sli.KindNaN, res.Drift[3].Value.Kind(), "NaN kept, encodable")
	assert.InDelta(t, 0.2, float64(res.Drift[4].Value), 1e-12, "mean of the earlier runs")
	assert.Equal(t, 2, res.Drift[4].Runs)
	assert.Empty(t, res.Drift[4].Off)
	assert.Equal(t, []string{"s/runs/runs"}, past.asks)

	// Without ResolveDrift (older runs) define asks nothing more.
	h = newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	v, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", withBaseline(guard("p95", 1), sli.Baseline{Query: "bad"})), WorkflowID: "wf"})
	require.NoError(t, err)
	var older DefineResult
	require.NoError(t, v.Get(&older))
	assert.Empty(t, older.Drift)
}

// A baseline Prometheus refuses, or that returns several series, refuses
// the run for good; no earlier runs, or no way to read them, is the rule
// off with the reason.
func TestDefineDriftBaselineRefusalsAndOff(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	h.prom.errs["avg_over_time(p95[7d])"] = &sli.BadQueryError{Query: "avg_over_time(p95[7d])", Msg: "returned 3 series; a guard must aggregate to one"}
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", withBaseline(guard("p95", 1), sli.Baseline{Query: "avg_over_time(p95[7d])"})), WorkflowID: "wf", ResolveDrift: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "guard p95: baseline: invalid query")
	assert.Contains(t, err.Error(), "returned 3 series")
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeBadQuery, typ)
	assert.True(t, nonRetryable)

	for _, past := range []PastRuns{nil, &pastRuns{}} {
		h = newHarness(t)
		h.acts.Past = past
		h.prom.values["p95"] = []float64{0.1}
		v, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", withBaseline(guard("p95", 1), sli.Baseline{Runs: 3})), WorkflowID: "wf", ResolveDrift: true})
		require.NoError(t, err)
		var res DefineResult
		require.NoError(t, v.Get(&res))
		require.Len(t, res.Drift, 1)
		assert.NotEmpty(t, res.Drift[0].Off)
	}
}
