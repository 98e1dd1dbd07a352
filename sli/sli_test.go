package sli

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
)

func TestHealthy(t *testing.T) {
	cases := []struct {
		op   Op
		v, t float64
		want bool
	}{
		{OpLE, 0.8, 0.8, true},
		{OpLE, 0.81, 0.8, false},
		{OpLT, 0.001, 0.001, false},
		{OpLT, 0.0009, 0.001, true},
		{OpGT, 0.81, 0.8, true},
		{OpGT, 0.8, 0.8, false},
		{OpGE, 0.8, 0.8, true},
		{OpEQ, 0, 0, true},
		{OpEQ, 1, 0, false},
		{OpNE, 1, 0, true},
		{OpLE, math.NaN(), 0.8, false},
		{OpNE, math.NaN(), 0, false},
		{"~", 1, 1, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Healthy(c.op, c.v, c.t), "%g %s %g", c.v, c.op, c.t)
	}
}

func guard(forN int, onError string) Guard {
	return Guard{Name: "p95", Query: "q", Op: OpLE, Threshold: 0.8, For: forN, Interval: duration.Duration(time.Second), OnError: onError}
}

func TestTrackerNeedsConsecutiveBadSamples(t *testing.T) {
	tr := NewTracker([]Guard{guard(3, "abort")})
	now := time.Unix(1000, 0)
	seq := []float64{0.9, 0.9, 0.5, 0.9, 0.9} // a healthy sample resets the count
	for i, v := range seq {
		_, b := tr.Observe(0, v, nil, now)
		require.Nil(t, b, "sample %d", i)
	}
	_, b := tr.Observe(0, 1.5, nil, now)
	require.NotNil(t, b)
	assert.Equal(t, Float(1.5), b.Value)
	assert.Equal(t, "p95", b.Guard)
	assert.Contains(t, b.String(), "p95 breached")
}

func TestTrackerQueryErrors(t *testing.T) {
	boom := errors.New("connection refused")
	tr := NewTracker([]Guard{guard(1, "abort"), guard(1, "ignore")})
	now := time.Unix(1000, 0)
	for i := 0; i < MaxQueryErrors-1; i++ {
		_, b := tr.Observe(0, 0, boom, now)
		require.Nil(t, b)
	}
	// A success in between resets the error count.
	_, b := tr.Observe(0, 0.1, nil, now)
	require.Nil(t, b)
	for i := 0; i < MaxQueryErrors-1; i++ {
		_, b = tr.Observe(0, 0, boom, now)
		require.Nil(t, b)
	}
	s, b := tr.Observe(0, 0, boom, now)
	require.NotNil(t, b, "abort after %d consecutive errors", MaxQueryErrors)
	assert.Equal(t, "connection refused", b.QueryError)
	assert.Equal(t, "connection refused", s.Err)
	assert.Contains(t, b.String(), "query failed 3 times")

	for i := 0; i < 10; i++ {
		_, b := tr.Observe(1, 0, boom, now)
		require.Nil(t, b, "on_error: ignore never breaches on errors")
	}
}

// NaN and empty answers are bad samples (an outage often looks like no
// data) unless on_no_data: ignore; they never reset a streak either way.
func TestTrackerNoDataAndNaN(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker([]Guard{guard(2, "abort")})
	_, b := tr.Observe(0, 0, ErrNoData, now)
	require.Nil(t, b)
	s, b := tr.Observe(0, math.NaN(), nil, now)
	require.NotNil(t, b, "no data then NaN: two bad samples")
	assert.Equal(t, KindNaN, b.Value.Kind())
	assert.False(t, s.Healthy)

	tr = NewTracker([]Guard{guard(1, "abort")})
	_, b = tr.Observe(0, 0, ErrNoData, now)
	require.NotNil(t, b)
	assert.True(t, b.NoData)
	assert.Contains(t, b.String(), "no data")

	ig := guard(2, "abort")
	ig.OnNoData = OnNoDataIgnore
	tr = NewTracker([]Guard{ig})
	_, b = tr.Observe(0, 0.9, nil, now)
	require.Nil(t, b)
	for i := 0; i < 5; i++ {
		s, b = tr.Observe(0, 0, ErrNoData, now)
		require.Nil(t, b)
		assert.True(t, s.Ignored)
	}
	_, b = tr.Observe(0, 0.95, nil, now)
	require.NotNil(t, b, "the streak of 1 before the ignored samples still counts")
	assert.Equal(t, 2, tr.State()[0].Bad, "1 before the ignored samples + 1 after")

	// +Inf compares as the extreme it is.
	tr = NewTracker([]Guard{guard(1, "abort")})
	_, b = tr.Observe(0, math.Inf(1), nil, now)
	require.NotNil(t, b)
	assert.Contains(t, b.String(), "+Inf")
}

func TestTrackerStateRoundTrip(t *testing.T) {
	now := time.Unix(1000, 0)
	tr := NewTracker([]Guard{guard(3, "abort")})
	tr.Observe(0, 0.9, nil, now)
	tr.Observe(0, 0.9, nil, now)
	st := tr.State()
	b, err := json.Marshal(st)
	require.NoError(t, err)
	var back []GuardState
	require.NoError(t, json.Unmarshal(b, &back))
	tr2 := NewTracker([]Guard{guard(3, "abort")})
	tr2.Restore(back)
	_, br := tr2.Observe(0, 0.9, nil, now)
	require.NotNil(t, br, "the third bad sample after a restore breaches")
	assert.Equal(t, 3, tr2.Evaluations())
	assert.Nil(t, tr.Lost("worker died", now), "one lost attempt is one error, not three")
	assert.Equal(t, 1, tr.State()[0].Errors)
}

func TestDueKeepsCadence(t *testing.T) {
	g1 := guard(1, "abort")
	g2 := guard(1, "abort")
	g2.Interval = duration.Duration(3 * time.Second)
	tr := NewTracker([]Guard{g1, g2})
	t0 := time.Unix(1000, 0)
	assert.Equal(t, []int{0, 1}, tr.Due(t0), "every guard is due at once")
	assert.Empty(t, tr.Due(t0.Add(999*time.Millisecond)))
	// Polled late (1.2 s): the next evaluation is still due at 2 s, not 2.2 s.
	assert.Equal(t, []int{0}, tr.Due(t0.Add(1200*time.Millisecond)))
	assert.Equal(t, []int{0}, tr.Due(t0.Add(2000*time.Millisecond)))
	assert.Equal(t, []int{0, 1}, tr.Due(t0.Add(3000*time.Millisecond)))
	// Far behind (a slow query): no burst of catch-up evaluations.
	assert.Equal(t, []int{0, 1}, tr.Due(t0.Add(10*time.Second)))
	assert.Empty(t, tr.Due(t0.Add(10500*time.Millisecond)))
}

func TestMinInterval(t *testing.T) {
	g := guard(1, "abort")
	g.Interval = duration.Duration(200 * time.Millisecond)
	assert.Equal(t, 200*time.Millisecond, MinInterval([]Guard{guard(1, ""), g}))
	assert.Equal(t, DefaultGuardInterval, MinInterval(nil))
}

func TestUnitOf(t *testing.T) {
	cases := []struct {
		query, unit, want string
	}{
		{`histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="order"}[10s])))`, "", UnitSeconds},
		{`sum(rate(http_request_duration_seconds_sum[1m])) / sum(rate(http_request_duration_seconds_count[1m]))`, "", UnitSeconds},
		{`(sum(rate(http_requests_total{status=~"5.."}[10s])) or vector(0)) / clamp_min(sum(rate(http_requests_total[10s])), 1e-9)`, "", UnitRatio},
		// The seed's "le=0.2 share": buckets of a seconds histogram, but a ratio.
		{`sum(rate(http_request_duration_seconds_bucket{le="0.2"}[1m])) / sum(rate(http_request_duration_seconds_count[1m]))`, "", UnitRatio},
		{`go_gc_duration_seconds{quantile="1"}`, "", UnitSeconds},
		{`cache_hit_ratio`, "", UnitRatio},
		{`sum(process_resident_memory_bytes)`, "", UnitBytes},
		{`sum(go_goroutines{job="order"})`, "", UnitCount},
		{`sum(circuit_breaker_state{state="open"})`, "", UnitCount},
		// A slash inside a label value is no division.
		{`sum(rate(http_requests_total{path="/orders"}[1m]))`, "", UnitCount},
		{`histogram_quantile(0.99, rate(x_seconds_bucket[1m]))`, UnitMillis, UnitMillis},
		// A histogram's _count and _bucket series count observations: a
		// request rate is no duration.
		{`sum(rate(http_request_duration_seconds_count{service="order"}[1m]))`, "", UnitCount},
		{`increase(http_request_duration_seconds_count[5m])`, "", UnitCount},
		{`sum(rate(http_request_duration_seconds_bucket{le="+Inf"}[1m]))`, "", UnitCount},
		// Seconds spent per second (CPU, time in GC) is a share.
		{`rate(process_cpu_seconds_total[1m])`, "", UnitRatio},
		{`sum(irate(go_gc_duration_seconds_sum[30s]))`, "", UnitRatio},
		{`increase(process_cpu_seconds_total[5m])`, "", UnitSeconds},
		// Scaled by a number: ×1000 of seconds is ms, ×100 of a ratio a
		// percentage; any other scaling leaves a number whose unit the
		// query does not say (and a division by a number is no ratio).
		{`histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m]))) * 1000`, "", UnitMillis},
		{`1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[1m])))`, "", UnitMillis},
		{`100 * sum(rate(http_requests_total{status=~"5.."}[1m])) / sum(rate(http_requests_total[1m]))`, "", UnitPercent},
		{`(1 - sum(rate(a_total[1m])) / sum(rate(b_total[1m]))) * 100`, "", UnitPercent},
		{`process_resident_memory_bytes / 1024 / 1024`, "", UnitCount},
		{`sum(rate(http_requests_total[1m])) * 60`, "", UnitCount},
		{`sum(rate(http_requests_total[5m])) / 60`, "", UnitCount},
		{`histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[1m]))) / 1e3`, "", UnitCount},
		// Numbers that scale nothing: a quantile, a clamp, a metric name.
		{`sum(rate(http2_requests_total[1m]))`, "", UnitCount},
		{`sum(rate(e_total[1m])) / clamp_min(sum(rate(r_total[1m])), 1e-9)`, "", UnitRatio},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, UnitOf(Guard{Query: c.query, Unit: c.unit}), c.query)
	}
	assert.True(t, ValidUnit(""))
	assert.True(t, ValidUnit(UnitRatio))
	assert.False(t, ValidUnit("percentage"))
}

// A probe's value is its answer's latency in seconds, whatever its (empty)
// query says.
func TestUnitOfProbes(t *testing.T) {
	assert.Equal(t, UnitSeconds, UnitOf(Guard{Kind: KindHTTP, HTTP: &HTTPProbe{URL: "http://x/healthz"}}))
	assert.Equal(t, UnitSeconds, UnitOf(Guard{Kind: KindTCP, TCP: &TCPProbe{Address: "x:6379"}}))
}
