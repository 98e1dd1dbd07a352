package resilience

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

var now = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func daysAgo(d float64) time.Time { return now.Add(-time.Duration(d * 24 * float64(time.Hour))) }

func breach(guard string) *sli.Breach {
	return &sli.Breach{Guard: guard, Op: "<=", Threshold: 0.8, Value: 1.3}
}

func res(service, scenario string, o experiment.Outcome, ended time.Time, edit ...func(*experiment.Result)) experiment.Result {
	r := experiment.Result{
		WorkflowID: "wf-" + scenario + "-" + ended.Format("0102"), Service: service, Scenario: scenario, Outcome: o,
		Injected: []string{"f0"}, Started: ended.Add(-2 * time.Minute), Ended: ended,
	}
	for _, e := range edit {
		e(&r)
	}
	return r
}

func TestScoreRun(t *testing.T) {
	verifyFailed := func(r *experiment.Result) {
		r.AbortReason = "verify: steady state not back within 1m"
		r.Phases = []experiment.Phase{{Name: experiment.PhaseVerify, Status: experiment.StatusFailed}}
	}
	gate := func(score float64) func(*experiment.Result) {
		return func(r *experiment.Result) { r.Gate = &checklist.Gate{Checklist: "release-default", Score: score} }
	}
	cases := []struct {
		name   string
		r      experiment.Result
		scored bool
		score  float64
		why    string
	}{
		{"passed", res("s", "a", experiment.Passed, now), true, 100, "guards held"},
		{"passed with a checklist: the gate's weighted share", res("s", "a", experiment.Passed, now, gate(75)), true, 75, "75% of its weight"},
		{"breach", res("s", "a", experiment.Aborted, now, func(r *experiment.Result) { r.Breach = breach("p95") }), true, 0, "guard p95 breached"},
		{"breach with a perfect checklist is still 0", res("s", "a", experiment.Aborted, now, gate(100), func(r *experiment.Result) { r.Breach = breach("p95") }), true, 0, "breached"},
		{"verify failed", res("s", "a", experiment.Failed, now, verifyFailed), true, 0, "steady state did not come back"},
		{"dry run", res("s", "a", experiment.DryRun, now), false, 0, "dry run"},
		{"nothing injected", res("s", "a", experiment.Failed, now, func(r *experiment.Result) { r.Injected = nil }), false, 0, "before any fault"},
		{"expired", res("s", "a", experiment.Expired, now, func(r *experiment.Result) { r.Injected = nil }), false, 0, "expired before any fault"},
		{"still running", res("s", "a", experiment.Running, now), false, 0, "not finished"},
		{"unguarded", res("s", "a", experiment.Passed, now, func(r *experiment.Result) { r.Unguarded = true }), false, 0, "unguarded"},
		{"query kept failing", res("s", "a", experiment.Aborted, now, func(r *experiment.Result) {
			r.Breach = breach("p95")
			r.Breach.QueryError = "connection refused"
		}), false, 0, "could not be queried"},
		{"a person aborted", res("s", "a", experiment.Aborted, now, func(r *experiment.Result) { r.AbortReason = "dana: wrong target" }), false, 0, "aborted by a person"},
		{"cancelled", res("s", "a", experiment.Cancelled, now), false, 0, "cancelled"},
		{"platform failure", res("s", "a", experiment.Failed, now, func(r *experiment.Result) { r.AbortReason = "inject: toxiproxy unreachable" }), false, 0, "not the service's"},
		{"a NaN gate score counts as nothing signed", res("s", "a", experiment.Passed, now, gate(math.NaN())), true, 0, "guards held"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ScoreRun(c.r)
			assert.Equal(t, c.scored, s.Scored, s.Why)
			assert.InDelta(t, c.score, s.Score, 1e-9)
			assert.Contains(t, s.Why, c.why)
		})
	}
}

func TestDecay(t *testing.T) {
	day := 24 * time.Hour
	assert.Equal(t, 1.0, Decay(0))
	assert.Equal(t, 1.0, Decay(30*day))
	assert.InDelta(t, 0.5, Decay(60*day), 1e-9)
	assert.InDelta(t, 0.25, Decay(90*day), 1e-9)
	assert.InDelta(t, math.Sqrt(0.5), Decay(45*day), 1e-9)
}

func TestScoreService(t *testing.T) {
	runs := []Run{
		// pod-kill: an old failure, then a fresh pass: the pass counts.
		{Result: res("order", "order-pod-kill", experiment.Aborted, daysAgo(20), func(r *experiment.Result) { r.Breach = breach("p95") }), FaultClass: "pod-kill"},
		{Result: res("order", "order-pod-kill", experiment.Passed, daysAgo(2)), FaultClass: "pod-kill"},
		// network-delay: latest scored run breached; a later dry run is ignored.
		{Result: res("order", "inventory-delay", experiment.Aborted, daysAgo(5), func(r *experiment.Result) { r.Breach = breach("error-rate") }), FaultClass: "network-delay"},
		{Result: res("order", "inventory-delay", experiment.DryRun, daysAgo(1)), FaultClass: "network-delay"},
		// No class, passed 60 days ago: default weight, half the score.
		{Result: res("order", "cache-slow", experiment.Passed, daysAgo(60))},
		// Only a human abort: listed as unscored.
		{Result: res("order", "payment-timeout", experiment.Aborted, daysAgo(3), func(r *experiment.Result) { r.AbortReason = "sam: pager went off" })},
		// Another service.
		{Result: res("payment", "payment-cpu", experiment.Passed, daysAgo(1)), FaultClass: "cpu"},
	}
	weights := map[string]float64{"pod-kill": 10, "network-delay": 50}
	s := ScoreService("order", runs, weights, now)
	require.True(t, s.Scored)
	assert.Equal(t, 6, s.Runs)
	require.Len(t, s.Scenarios, 3)
	// (10×1×100 + 50×1×0 + 10×0.5×100) / 70
	assert.InDelta(t, (1000+0+500)/70.0, s.Score, 0.05)
	byName := map[string]ScenarioScore{}
	for _, sc := range s.Scenarios {
		byName[sc.Scenario] = sc
	}
	assert.Equal(t, "wf-order-pod-kill-0628", byName["order-pod-kill"].Latest)
	assert.Equal(t, 50.0, byName["inventory-delay"].Weight)
	assert.Contains(t, byName["inventory-delay"].WeightFrom, "network-delay")
	assert.Equal(t, DefaultWeight, byName["cache-slow"].Weight)
	assert.InDelta(t, 0.5, byName["cache-slow"].Decay, 1e-3)
	assert.Equal(t, 50.0, byName["cache-slow"].Weighted)
	assert.Contains(t, s.Unscored["payment-timeout"], "aborted by a person")

	none := ScoreService("ledger", runs, weights, now)
	assert.False(t, none.Scored)
	assert.Equal(t, "n/a", none.String())
	assert.Equal(t, []string{"order", "payment"}, Services(runs))
}

// The weights a run learned are its gate's weights with the changes it
// caused applied; the latest run of a checklist wins.
func TestLearnedItems(t *testing.T) {
	item := func(id, class string, w float64) checklist.ItemResult {
		return checklist.ItemResult{Item: checklist.Item{ID: id, FaultClass: class, Weight: w}}
	}
	older := res("order", "a", experiment.Passed, daysAgo(10), func(r *experiment.Result) {
		r.Gate = &checklist.Gate{Checklist: "rd", Items: []checklist.ItemResult{item("lock", "redis", 99)}}
	})
	newer := res("order", "a", experiment.Passed, daysAgo(1), func(r *experiment.Result) {
		r.Gate = &checklist.Gate{Checklist: "rd", Items: []checklist.ItemResult{item("lock", "redis", 15), item("pods", "pod-kill", 10), item("trace", "", 10)}}
		r.WeightChanges = []checklist.Change{{ItemID: "lock", OldWeight: 15, NewWeight: 50, NewBlocking: true}}
	})
	items := LearnedItems([]Run{{Result: newer}, {Result: older}})
	require.Len(t, items["rd"], 3)
	assert.Equal(t, 50.0, items["rd"][0].Weight)
	assert.True(t, items["rd"][0].StrongBlocking)
	assert.Equal(t, map[string]float64{"redis": 50, "pod-kill": 10}, ClassWeights(items["rd"]))
}
