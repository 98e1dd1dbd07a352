package activities

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

// hungQuerier accepts a query and never answers (a Prometheus that stopped
// replying); ignoreCtx makes it ignore its context too.
type hungQuerier struct {
	ignoreCtx bool
	mu        sync.Mutex
	calls     int
}

func (q *hungQuerier) Query(ctx context.Context, _ string, _ time.Time) (float64, error) {
	q.mu.Lock()
	q.calls++
	q.mu.Unlock()
	if q.ignoreCtx {
		time.Sleep(time.Hour)
	}
	<-ctx.Done()
	return 0, ctx.Err()
}

func guardWith(name string, mod func(*sli.Guard)) sli.Guard {
	g := guard(name, 1)
	mod(&g)
	return g
}

// NaN, ±Inf and empty answers go through the real activity encoder (the
// test environment uses the same data converter as a worker): they once
// panicked the heartbeat and let an outage pass.
func TestGuardNonFiniteValuesAreEncodedAndBreach(t *testing.T) {
	cases := []struct {
		name     string
		value    float64
		err      error
		wantKind string
		noData   bool
		reason   string
	}{
		{"NaN (quantile over no traffic)", math.NaN(), nil, sli.KindNaN, false, "value NaN"},
		{"+Inf (ratio over zero requests)", math.Inf(1), nil, sli.KindPosInf, false, "value +Inf"},
		{"empty answer", 0, sli.ErrNoData, sli.KindNaN, true, "no data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.prom.values["p95"] = []float64{c.value}
			if c.err != nil {
				h.prom.errs["p95"] = c.err
			}
			v, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{guard("p95", 2)}})
			require.NoError(t, err)
			var res GuardResult
			require.NoError(t, v.Get(&res))
			require.NotNil(t, res.Breach, "an outage is a breach")
			assert.Equal(t, c.wantKind, res.Breach.Value.Kind())
			assert.Equal(t, c.noData, res.Breach.NoData)
			assert.Contains(t, res.Breach.String(), c.reason)
			assert.GreaterOrEqual(t, res.Evaluations, 2, "for: 2 needs two bad samples")
			b, err := json.Marshal(res)
			require.NoError(t, err)
			assert.Contains(t, string(b), `"`+c.wantKind+`"`)
		})
	}
}

func TestGuardOnNoDataIgnore(t *testing.T) {
	h := newHarness(t)
	h.prom.errs["queue"] = sli.ErrNoData
	h.prom.values["p95"] = []float64{0.1}
	g := guardWith("queue", func(g *sli.Guard) { g.OnNoData = sli.OnNoDataIgnore })
	v, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{g, guard("p95", 1)}, Until: time.Now().Add(600 * time.Millisecond)})
	require.NoError(t, err)
	var res GuardResult
	require.NoError(t, v.Get(&res))
	assert.Nil(t, res.Breach, "a legitimately empty query does not breach")
	require.Len(t, res.Last, 2)
	assert.True(t, res.Last[0].Ignored)
	assert.Equal(t, "no data", res.Last[0].Reading())
}

// A Prometheus that accepts and never answers: with on_error: abort the
// guard breaches after MaxQueryErrors timeouts, whatever the number of
// guards, even when the querier ignores its context.
func TestGuardHungPrometheusAborts(t *testing.T) {
	for _, ignoreCtx := range []bool{false, true} {
		h := newHarness(t)
		q := &hungQuerier{ignoreCtx: ignoreCtx}
		h.acts.Prom = q
		var guards []sli.Guard
		for _, n := range []string{"a", "b", "c", "d"} {
			guards = append(guards, guardWith(n, func(g *sli.Guard) { g.Interval = duration.Duration(time.Second) }))
		}
		v, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: guards})
		require.NoError(t, err)
		var res GuardResult
		require.NoError(t, v.Get(&res))
		require.NotNil(t, res.Breach, "ignoreCtx=%t", ignoreCtx)
		assert.Regexp(t, `no answer within 1s|previous query still has not returned after 1s`, res.Breach.QueryError)
		assert.Contains(t, res.Breach.String(), "query failed 3 times in a row")
		took := res.EndedAt.Sub(res.StartedAt)
		t.Logf("ignoreCtx=%t: breach after %s (3 query timeouts = 3s)", ignoreCtx, took)
		assert.GreaterOrEqual(t, took, 2*time.Second, "three consecutive timeouts, not one")
	}
}

// A retried attempt continues the streaks of the one that died and counts
// the lost attempt as an error on every guard.
func TestGuardResumesStreaksFromHeartbeat(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.95}
	started := time.Now().Add(-time.Minute)
	h.env.SetHeartbeatDetails(sli.WatchState{Started: started, Guards: []sli.GuardState{{Guard: "p95", Bad: 2, Evaluations: 40}}})
	v, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{guard("p95", 3)}})
	require.NoError(t, err)
	var res GuardResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Breach)
	assert.Equal(t, 41, res.Evaluations, "one more bad sample completed for: 3")
	assert.True(t, res.StartedAt.Equal(started), "the watch keeps its first start")

	// Attempt 2 after an attempt that died with two errors in a row: the
	// lost attempt is the third.
	h = newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	h.env.SetHeartbeatDetails(sli.WatchState{Started: started, Guards: []sli.GuardState{{Guard: "p95", Errors: 2}}})
	var w = h.acts.watch(context.Background(), []sli.Guard{guard("p95", 1)})
	w.Resume = &sli.WatchState{Started: started, Guards: []sli.GuardState{{Guard: "p95", Errors: 2}}}
	w.Lost = "guard attempt 1 was lost"
	r, err := w.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Breach)
	assert.Contains(t, r.Breach.QueryError, "guard attempt 1 was lost")
}

func TestGuardWithoutPrometheusIsRefused(t *testing.T) {
	h := newHarness(t)
	h.acts.Prom = nil
	_, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{guard("p95", 1)}})
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	assert.True(t, app.NonRetryable())
}

func TestVerifyAndDefineEncodeNonFinite(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{math.Inf(1)}
	v, err := h.env.ExecuteActivity(h.acts.Verify, VerifyInput{Guards: []sli.Guard{guard("p95", 1)}, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	var res VerifyResult
	require.NoError(t, v.Get(&res))
	assert.False(t, res.OK)
	assert.Equal(t, sli.KindPosInf, res.Values[0].Value.Kind())

	h = newHarness(t)
	h.prom.values["p95"] = []float64{math.NaN()}
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	assert.Equal(t, ErrTypeNotSteady, app.Type())
	assert.Contains(t, err.Error(), "guard p95 = NaN")
	var def DefineResult
	require.NoError(t, app.Details(&def), "the baseline travels with the refusal")
	require.Len(t, def.Baseline, 1)
	assert.Equal(t, sli.KindNaN, def.Baseline[0].Value.Kind())

	// on_no_data: ignore lets an empty baseline through.
	h = newHarness(t)
	h.prom.errs["q"] = sli.ErrNoData
	g := guardWith("q", func(g *sli.Guard) { g.OnNoData = sli.OnNoDataIgnore })
	v, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", g), WorkflowID: "wf"})
	require.NoError(t, err)
	var ok DefineResult
	require.NoError(t, v.Get(&ok))
	require.Len(t, ok.Baseline, 1)
	assert.True(t, ok.Baseline[0].NoData)
	assert.True(t, ok.Baseline[0].Healthy)
	assert.Equal(t, "no data", ok.Baseline[0].Reading())
}

// No fault is held longer than the worker allows, whatever the scenario or
// a chat override says: define refuses, dry runs included.
func TestDefineRefusesAFaultLongerThanAllowed(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	sc := scenario("inventory", guard("p95", 1))
	sc.Spec.Faults[0].Duration = duration.Duration(1000 * time.Hour)
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf"})
	require.Error(t, err)
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app))
	assert.True(t, app.NonRetryable())
	assert.Contains(t, err.Error(), "fault f: refused by safety rule max-duration: the fault would be held 1000h0m0s; the longest allowed for a scenario without an environment label is 1h0m0s")
	assert.Empty(t, h.backend.faults)
}

// A guard query that becomes invalid mid-run ends the guard non-retryably
// (the run stops: nobody watches), never as a breach.
func TestGuardQueryTurnedInvalidIsNotABreach(t *testing.T) {
	h := newHarness(t)
	h.prom.errs["p95"] = &sli.BadQueryError{Query: "p95", Msg: "returned 2 series; a guard must aggregate to one"}
	_, err := h.env.ExecuteActivity(h.acts.Guard, GuardInput{Guards: []sli.Guard{guard("p95", 1)}})
	var app *temporal.ApplicationError
	require.True(t, errors.As(err, &app), "%v", err)
	assert.Equal(t, ErrTypeBadQuery, app.Type())
	assert.True(t, app.NonRetryable())
	assert.Contains(t, err.Error(), "returned 2 series")
}
