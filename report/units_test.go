package report

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		unit string
		v    float64
		want string
	}{
		{sli.UnitSeconds, 0.8123, "812 ms"},
		{sli.UnitSeconds, 0.0123, "12.3 ms"},
		{sli.UnitSeconds, 0.8, "800 ms"},
		{sli.UnitSeconds, 1.2149, "1.21 s"},
		{sli.UnitSeconds, 42, "42 s"},
		{sli.UnitSeconds, 0, "0 ms"},
		{sli.UnitMillis, 250, "250 ms"},
		{sli.UnitMillis, 2500, "2.5 s"},
		{sli.UnitRatio, 0.009166666666666667, "0.917 %"},
		{sli.UnitRatio, 0.001, "0.1 %"},
		{sli.UnitRatio, 1, "100 %"},
		{sli.UnitPercent, 12.345, "12.3 %"},
		{sli.UnitBytes, 1536, "1.5 KiB"},
		{sli.UnitBytes, 3 << 30, "3 GiB"},
		{sli.UnitCount, 1234, "1234"},
		{sli.UnitCount, 0.3333, "0.333"},
		{sli.UnitCount, 50, "50"},
		{sli.UnitCount, 1e12, "1e+12"},
		{sli.UnitSeconds, math.NaN(), "NaN"},
		{sli.UnitRatio, math.Inf(1), "+Inf"},
		{sli.UnitCount, math.Inf(-1), "-Inf"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Format(c.unit, c.v), "%s %v", c.unit, c.v)
	}
	assert.Equal(t, "≤ 800 ms", FormatThreshold(sli.Guard{Query: `histogram_quantile(0.95, rate(x_seconds_bucket[1m]))`, Op: sli.OpLE, Threshold: 0.8}))
	assert.Equal(t, "< 0.1 %", FormatThreshold(sli.Guard{Query: `a / b`, Op: sli.OpLT, Threshold: 0.001}))
	assert.Equal(t, "= 0", FormatThreshold(sli.Guard{Query: `sum(circuit_breaker_state{state="open"})`, Op: sli.OpEQ}))
}

// Three significant digits must not round a breach onto its threshold:
// "0.1 %, healthy when ≤ 0.1 %" reads as no breach at all. The breach's
// value gets the digits it needs to differ from the threshold.
func TestBreachValueNeverRoundsOntoTheThreshold(t *testing.T) {
	g := sli.Guard{Name: "error-rate", Query: `a / b`, Op: sli.OpLE, Threshold: 0.001}
	rep := Build(Input{Result: experiment.Result{Breach: &sli.Breach{Guard: "error-rate", Op: "<=", Threshold: 0.001, Value: 0.0010004, At: time.Unix(100, 0)}}, Guards: []sli.Guard{g}})
	assert.Equal(t, "guard error-rate breached: 0.10004 %, healthy when ≤ 0.1 %", BreachText(rep))
	assert.Equal(t, "0.10004 %", breachValue(rep.Guards[0]))
	lat := sli.Guard{Name: "p95", Query: `histogram_quantile(0.95, rate(x_seconds_bucket[1m]))`, Op: sli.OpLT, Threshold: 0.8}
	rep = Build(Input{Result: experiment.Result{Breach: &sli.Breach{Guard: "p95", Op: "<", Threshold: 0.8, Value: 0.8, At: time.Unix(100, 0)}}, Guards: []sli.Guard{lat}})
	assert.Equal(t, "guard p95 breached: 800 ms, healthy when < 800 ms", BreachText(rep), "equal is a breach of <: nothing to add")
	assert.Equal(t, "1.21 s", FormatApart(sli.UnitSeconds, 1.2149, 0.8), "apart already: three digits")
}
