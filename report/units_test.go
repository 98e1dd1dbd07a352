package report

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

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
