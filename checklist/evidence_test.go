package checklist

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

func th(v float64) *float64 { return &v }

func pts(vs ...float64) []sli.Point {
	out := make([]sli.Point, len(vs))
	for i, v := range vs {
		out[i] = sli.Point{At: t0.Add(time.Duration(i) * time.Second), Value: v}
	}
	return out
}

func TestJudge(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name   string
		check  Check
		pts    []sli.Point
		value  float64 // NaN: want NaN
		at     int     // index of the deciding sample; -1: not checked
		pass   bool
		noData bool
	}{
		{"worst of <= is the max", Check{Op: sli.OpLE, Threshold: th(0.8)}, pts(0.1, 0.9, 0.2), 0.9, 1, false, false},
		{"worst of <= all healthy", Check{Op: sli.OpLE, Threshold: th(0.8)}, pts(0.1, 0.7, 0.2), 0.7, 1, true, false},
		{"worst of > is the min", Check{Op: sli.OpGT, Threshold: th(0)}, pts(3, 0, 5), 0, 1, false, false},
		{"worst of == is the first failing sample", Check{Op: sli.OpEQ, Threshold: th(0)}, pts(0, 1, 2, 0), 1, 1, false, false},
		{"worst of == all equal is the last", Check{Op: sli.OpEQ, Threshold: th(0)}, pts(0, 0, 0), 0, 2, true, false},
		{"max", Check{Op: sli.OpEQ, Threshold: th(1), Reduce: ReduceMax}, pts(0, 1, 0), 1, 1, true, false},
		{"min", Check{Op: sli.OpLT, Threshold: th(1), Reduce: ReduceMin}, pts(4, 0.5, 3), 0.5, 1, true, false},
		{"avg", Check{Op: sli.OpGE, Threshold: th(2), Reduce: ReduceAvg}, pts(1, 2, 3), 2, 2, true, false},
		{"last", Check{Op: sli.OpGT, Threshold: th(0), Reduce: ReduceLast}, pts(0.05), 0.05, 0, true, false},
		{"no sample is no data, never a pass", Check{Op: sli.OpGE, Threshold: th(0), Reduce: ReduceMax}, nil, nan, -1, false, true},
		{"a NaN sample fails whatever the reduction", Check{Op: sli.OpLE, Threshold: th(1), Reduce: ReduceMin}, pts(0.1, nan, 0.2), nan, 1, false, false},
		{"NaN dropped with on_no_data ignore", Check{Op: sli.OpLE, Threshold: th(1), OnNoData: NoDataIgnore}, pts(0.1, nan, 0.2), 0.2, 2, true, false},
		{"only NaN with ignore is no data", Check{Op: sli.OpLE, Threshold: th(1), OnNoData: NoDataIgnore}, pts(nan, nan), nan, -1, false, true},
		{"+Inf is an extreme, not a pass", Check{Op: sli.OpLT, Threshold: th(1)}, pts(0.1, inf), inf, 1, false, false},
		{"avg with +Inf is +Inf", Check{Op: sli.OpGT, Threshold: th(0), Reduce: ReduceAvg}, pts(1, inf), inf, 1, true, false},
		{"avg of +Inf and -Inf is NaN: fails", Check{Op: sli.OpGT, Threshold: th(0), Reduce: ReduceAvg}, pts(math.Inf(-1), inf), nan, -1, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check.Name = "c"
			r := Judge(tt.check, tt.pts)
			if math.IsNaN(tt.value) {
				assert.True(t, math.IsNaN(float64(r.Value)), "value %v", r.Value)
			} else {
				assert.Equal(t, tt.value, float64(r.Value))
			}
			assert.Equal(t, tt.pass, r.Pass)
			assert.Equal(t, tt.noData, r.NoData)
			if tt.at >= 0 {
				assert.Equal(t, tt.pts[tt.at].At, r.At)
			}
			// Whatever the value, the result travels through Temporal.
			b, err := json.Marshal(r)
			require.NoError(t, err)
			var back CheckResult
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, r.Value.Kind(), back.Value.Kind())
		})
	}
}

func TestSpanAndQuery(t *testing.T) {
	tl := Timeline{FaultAt: t0, HoldEnd: t0.Add(20 * time.Second), RunEnd: t0.Add(45 * time.Second)}
	for _, tt := range []struct {
		c        Check
		from, to time.Time
		window   string
	}{
		{Check{}, t0, t0.Add(20 * time.Second), "observe"},
		{Check{Window: WindowRun}, t0, t0.Add(45 * time.Second), "run"},
		{Check{Within: duration.Duration(3 * time.Second)}, t0, t0.Add(3 * time.Second), "first 3s of observe"},
		// A hold shorter than within is judged whole, never past its end.
		{Check{Within: duration.Duration(time.Minute)}, t0, t0.Add(20 * time.Second), "first 1m0s of observe"},
		{Check{Window: WindowRun, Within: duration.Duration(30 * time.Second)}, t0, t0.Add(30 * time.Second), "first 30s of run"},
	} {
		from, to := tt.c.Span(tl)
		assert.Equal(t, tt.from, from, tt.window)
		assert.Equal(t, tt.to, to, tt.window)
		assert.Equal(t, tt.window, tt.c.WindowOf())
	}
	from, to := Check{}.Span(Timeline{FaultAt: t0, HoldEnd: t0.Add(-time.Second)})
	assert.Equal(t, from, to, "a window never ends before it starts")

	c := Check{Query: "sum(increase(x[$window])) / sum(increase(y[$window]))"}
	assert.Equal(t, "sum(increase(x[13s])) / sum(increase(y[13s]))", c.QueryFor(12100*time.Millisecond), "rounded up")
	assert.Equal(t, "sum(increase(x[1s])) / sum(increase(y[1s]))", c.QueryFor(0), "at least 1s")
	assert.Equal(t, time.Second, Step(20*time.Second))
	assert.Equal(t, 12*time.Second, Step(time.Hour))
}

func evidenceList() Checklist {
	return Checklist{
		APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "ev"},
		Spec: Spec{Threshold: 80, Items: []Item{
			{ID: "cb-fallback", Owner: "dev", Weight: 60, StrongBlocking: true, FaultClass: "network-delay", VerifiedBy: []Check{
				{Name: "fallback", Query: "f", Op: sli.OpGT, Threshold: th(0), Reduce: ReduceLast},
				{Guard: "error-rate"},
			}},
			{ID: "trace", Owner: "sre", Weight: 40},
		}},
	}
}

func TestResolveEvidence(t *testing.T) {
	cl := evidenceList()
	guards := []sli.Guard{
		{Name: "p95", Query: "p", Op: sli.OpLE, Threshold: 0.8},
		{Name: "error-rate", Query: "e", Op: sli.OpLT, Threshold: 0.001, OnNoData: sli.OnNoDataIgnore},
		{Name: "error-rate", Query: "steady", Op: sli.OpLT, Threshold: 1}, // steady_state's: the observed one wins
	}
	got, err := ResolveEvidence(cl, guards)
	require.NoError(t, err)
	c := got.Spec.Items[0].VerifiedBy[1]
	assert.Equal(t, "error-rate", c.Name)
	assert.Equal(t, "e", c.Query)
	assert.Equal(t, sli.OpLT, c.Op)
	assert.Equal(t, 0.001, *c.Threshold)
	assert.Equal(t, NoDataIgnore, c.OnNoData)
	assert.Empty(t, cl.Spec.Items[0].VerifiedBy[1].Query, "the input is not modified")

	_, err = ResolveEvidence(cl, guards[:1])
	require.Error(t, err)
	assert.Equal(t, `checklist ev: spec.items[0].verified_by[1].guard: item cb-fallback names guard "error-rate", which the scenario does not have (its guards: p95)`, err.Error())
	// A probe guard has no series in Prometheus: the evidence could only
	// ever run an empty query, so the reference is refused where they meet.
	_, err = ResolveEvidence(cl, []sli.Guard{{Name: "error-rate", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: "http://shop/healthz"}, Op: sli.OpLE, Threshold: 1}})
	require.Error(t, err)
	assert.Equal(t, `checklist ev: spec.items[0].verified_by[1].guard: item cb-fallback names guard "error-rate", a http probe: Prometheus keeps no series of it to judge (write a query check instead)`, err.Error())
	assert.False(t, HasEvidence(Checklist{Spec: Spec{Items: []Item{{ID: "a"}}}}))
	assert.True(t, HasEvidence(cl))
}

func TestEvaluateGateWithEvidence(t *testing.T) {
	cl, err := ResolveEvidence(evidenceList(), []sli.Guard{{Name: "error-rate", Query: "e", Op: sli.OpLT, Threshold: 0.001}})
	require.NoError(t, err)
	trace := []Sign{{ItemID: "trace", Pass: true, Role: "sre", User: "sam", At: t0}}
	// A sign for an evidence-verified item is ignored: its evidence decides.
	forged := append([]Sign{{ItemID: "cb-fallback", Pass: true, Role: "dev", User: "dana", At: t0}}, trace...)

	g := EvaluateGate(cl, forged)
	assert.False(t, g.Passed, "provisional until the evidence is in")
	assert.Equal(t, []string{"cb-fallback"}, g.Pending)
	assert.Empty(t, g.Unsigned)
	assert.True(t, g.Items[0].Pending)
	assert.False(t, g.Items[0].Decided())
	assert.Equal(t, "provisional: awaiting evidence for cb-fallback (judged after the run)", g.Summary())

	ok := []CheckResult{
		{Item: "cb-fallback", Check: "fallback", Op: sli.OpGT, Value: 0.05, Pass: true, Reduce: ReduceLast, Window: "observe"},
		{Item: "cb-fallback", Check: "error-rate", Op: sli.OpLT, Threshold: 0.001, Value: 0, Pass: true, Reduce: ReduceWorst, Window: "observe"},
	}
	g = EvaluateGate(cl, forged, ok...)
	assert.True(t, g.Passed, g.Reason)
	assert.Equal(t, 100.0, g.Score)
	assert.True(t, g.Items[0].Verified)
	assert.Empty(t, g.Items[0].User, "nobody signed it")
	assert.Len(t, g.Items[0].Checks, 2)
	assert.Equal(t, "passed, score 100% (threshold 80%)", g.Summary())

	bad := []CheckResult{ok[0], {Item: "cb-fallback", Check: "error-rate", Op: sli.OpLT, Threshold: 0.001, Value: 0.05, Pass: false, Reduce: ReduceWorst, Window: "observe"}}
	g = EvaluateGate(cl, trace, bad...)
	assert.False(t, g.Passed)
	assert.Equal(t, []string{"cb-fallback"}, g.BlockingFailed)
	assert.Equal(t, 40.0, g.Score)
	assert.Equal(t, "strong-blocking item cb-fallback failed; evidence for cb-fallback: error-rate = 0.05 (want < 0.001; worst over observe): FAIL; score 40% < 80%", g.Reason)

	// One check's result missing: the item fails, saying so.
	g = EvaluateGate(cl, trace, ok[0])
	assert.False(t, g.Items[0].Pass)
	require.Len(t, g.Items[0].Checks, 2)
	assert.Equal(t, "no evidence was computed for this check", g.Items[0].Checks[1].Error)

	// Prometheus down, nothing injected: every check failed with the reason.
	g = EvaluateGate(cl, trace, FailAll(cl, "evidence could not be computed: prometheus down")...)
	assert.False(t, g.Passed)
	assert.True(t, strings.Contains(g.Reason, "fallback = not computed: evidence could not be computed: prometheus down"), g.Reason)

	assert.Empty(t, ItemsFor(cl, "dev"), "nobody signs an evidence-verified item")
	assert.Len(t, ItemsFor(cl, "sre"), 1)
}

// A probe guard's answers are the run's own, not a Prometheus series that
// a window of the run can be read back from: evidence naming one is
// refused where the scenario and the checklist meet, with the reason,
// rather than failing every run with Prometheus' "no expression found".
func TestProbeGuardsAreNoEvidence(t *testing.T) {
	cl := evidenceList()
	guards := []sli.Guard{
		{Name: "p95", Query: "p", Op: sli.OpLE, Threshold: 0.8},
		{Name: "error-rate", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: "http://shop/healthz"}, Op: sli.OpLE, Threshold: 1},
	}
	err := RefuseProbeEvidence(cl, guards)
	require.Error(t, err)
	assert.Equal(t, `checklist ev: spec.items[0].verified_by[1].guard: item cb-fallback names guard "error-rate", a probe (kind http): its answers are not a Prometheus series the evidence could read after the run (name a prometheus guard, or give a query)`, err.Error())
	guards[1] = sli.Guard{Name: "error-rate", Query: "e", Op: sli.OpLT, Threshold: 0.001}
	assert.NoError(t, RefuseProbeEvidence(cl, guards))
}
