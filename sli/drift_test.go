package sli

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func armed(g Guard, baseline float64) Guard {
	v := Float(baseline)
	g.Baseline, g.Armed = &Baseline{Query: "avg_over_time(p95[7d])"}, &v
	return g
}

// A value inside the threshold that drifts beyond the limit for "for"
// samples in a row is a drift (a pause), not a breach; past the threshold
// it is a breach as before, drift or not.
func TestTrackerDriftRule(t *testing.T) {
	g := armed(guard(2, "abort"), 0.2) // p95 <= 0.8, baseline 0.2, limit 15 %
	tr := NewTracker([]Guard{g})
	now := time.Unix(1000, 0)
	for i, v := range []float64{0.22, 0.24, 0.22, 0.1} { // 10 %, 20 % once, 10 %, faster
		_, b := tr.Observe(0, v, nil, now)
		require.Nil(t, b, "sample %d (%g)", i, v)
	}
	_, b := tr.Observe(0, 0.3, nil, now)
	require.Nil(t, b, "one drifted sample of for: 2")
	_, b = tr.Observe(0, 0.3, nil, now)
	require.NotNil(t, b)
	require.NotNil(t, b.Drift)
	assert.InDelta(t, 50, float64(b.Drift.Percent), 1e-9)
	assert.Equal(t, 15.0, b.Drift.Limit)
	assert.Equal(t, Float(0.2), b.Drift.Baseline)
	assert.Equal(t, "avg_over_time(p95[7d])", b.Drift.Source)
	assert.Equal(t, "guard p95 drifted 50% from its baseline 0.2 (limit 15%): value 0.3, still inside its threshold <= 0.8", b.String())

	// Beyond the hard threshold: a breach, never a drift.
	tr = NewTracker([]Guard{g})
	tr.Observe(0, 0.9, nil, now)
	_, b = tr.Observe(0, 0.95, nil, now)
	require.NotNil(t, b)
	assert.Nil(t, b.Drift)
	assert.Contains(t, b.String(), "breached: value 0.95")

	// The streak survives a worker crash (it travels in the heartbeat).
	tr = NewTracker([]Guard{g})
	tr.Observe(0, 0.3, nil, now)
	tr2 := NewTracker([]Guard{g})
	tr2.Restore(tr.State())
	_, b = tr2.Observe(0, 0.3, nil, now)
	require.NotNil(t, b)
	require.NotNil(t, b.Drift)
}

// Unarmed guards (no baseline, or the rule off for this run) never drift.
func TestTrackerDriftOnlyWhenArmed(t *testing.T) {
	now := time.Unix(1000, 0)
	g := guard(1, "abort")
	g.Baseline = &Baseline{Runs: 3} // declared, but define found nothing: not armed
	for _, gg := range []Guard{guard(1, "abort"), g, armed(guard(1, "abort"), 0), armed(guard(1, "abort"), math.NaN())} {
		tr := NewTracker([]Guard{gg})
		_, b := tr.Observe(0, 0.7, nil, now)
		assert.Nil(t, b)
	}
}

// Drift counts towards the guard's unhealthy side only.
func TestDriftPercentDirection(t *testing.T) {
	for _, c := range []struct {
		op          Op
		v, baseline float64
		want        float64
	}{
		{OpLE, 0.3, 0.2, 50}, {OpLE, 0.1, 0.2, 0}, // latency: slower drifts, faster does not
		{OpGT, 0.8, 0.95, 15.789473684210526}, {OpGE, 0.99, 0.95, 0}, // a ratio: falling drifts
		{OpEQ, 0, 2, 100}, {OpNE, 3, 2, 50}, // either way
		{OpLT, -0.5, -1, 50}, // a negative baseline: relative to its size
	} {
		assert.InDelta(t, c.want, DriftPercent(c.op, c.v, c.baseline), 1e-9, "%g %s baseline %g", c.v, c.op, c.baseline)
	}
}

// What define records: the value, or why the rule is off.
func TestDriftBaselineResolve(t *testing.T) {
	for _, c := range []struct {
		v      float64
		noData bool
		off    string
	}{
		{0.2, false, ""},
		{0, true, "no data"},
		{math.NaN(), false, "NaN"},
		{math.Inf(1), false, "+Inf"},
		{0, false, "the baseline is 0"},
	} {
		d := DriftBaseline{Guard: "p95", Limit: 15}
		d.Resolve(c.v, c.noData)
		if c.off == "" {
			assert.Empty(t, d.Off)
			assert.Equal(t, "p95: baseline 0.2, pauses beyond 15% drift", d.String())
		} else {
			assert.Contains(t, d.Off, c.off)
			assert.Contains(t, d.String(), "drift rule off")
		}
		// Never a raw non-finite float in anything Temporal serializes.
		_, err := json.Marshal(d)
		assert.NoError(t, err)
	}
}
