package sli

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
)

// tsdb is a Prometheus in miniature for the freshness rules: samples land
// when the test says, the freshness query answers the newest sample's time,
// and the guard query answers the newest sample at or before its time.
type tsdb struct {
	mu      sync.Mutex
	samples []struct {
		at time.Time
		v  float64
	}
	fresh, evals int         // queries answered
	evalAt       []time.Time // the times the guard query was evaluated at
	stuck        bool        // freshness keeps answering the last sample, nothing new lands
	hangFresh    bool        // the freshness query never answers (ignores its context)
	freshInCall  int         // freshness queries running now
	maxInCall    int
	changed      chan struct{} // a query was answered
}

func newTSDB() *tsdb { return &tsdb{changed: make(chan struct{}, 1000)} }

func (d *tsdb) add(at time.Time, v float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.samples = append(d.samples, struct {
		at time.Time
		v  float64
	}{at, v})
}

func (d *tsdb) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	d.mu.Lock()
	if q == "fresh" {
		d.freshInCall++
		d.maxInCall = max(d.maxInCall, d.freshInCall)
		hang := d.hangFresh
		d.mu.Unlock()
		defer func() { d.mu.Lock(); d.freshInCall--; d.mu.Unlock() }()
		if hang {
			time.Sleep(time.Hour)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.fresh++
		d.notify()
		if len(d.samples) == 0 {
			return math.NaN(), ErrNoData
		}
		return float64(d.samples[len(d.samples)-1].at.UnixMilli()) / 1000, nil
	}
	defer d.mu.Unlock()
	d.evals++
	d.evalAt = append(d.evalAt, at)
	d.notify()
	for i := len(d.samples) - 1; i >= 0; i-- {
		if !d.samples[i].at.After(at) {
			return d.samples[i].v, nil
		}
	}
	return math.NaN(), ErrNoData
}

func (d *tsdb) notify() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *tsdb) counts() (fresh, evals int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.fresh, d.evals
}

// waitFor waits until cond holds (checked on every answered query).
func (d *tsdb) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case <-d.changed:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func freshGuard(forN int) Guard {
	g := guard(forN, OnErrorAbort)
	g.Freshness = "fresh"
	g.Interval = duration.Duration(time.Hour) // only a new sample makes an evaluation
	return g
}

func runWatch(w Watch) (chan WatchResult, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan WatchResult, 1)
	go func() {
		r, _ := w.Run(ctx)
		out <- r
	}()
	return out, cancel
}

// A guard is evaluated when a new sample lands, at that sample's time, and
// for: N needs N distinct bad samples: many freshness checks of the same
// sample never add up to a breach.
func TestFreshnessCountsDistinctSamples(t *testing.T) {
	db := newTSDB()
	t0 := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	db.add(t0, 0.1) // healthy before the watch starts
	res, cancel := runWatch(Watch{Guards: []Guard{freshGuard(3)}, Querier: db, FreshEvery: 5 * time.Millisecond})
	defer cancel()

	// The newest sample is evaluated once, however often freshness looks.
	db.waitFor(t, "the first sample evaluated", func() bool { _, e := db.counts(); return e == 1 })
	for i, at := range []time.Time{t0.Add(time.Second), t0.Add(2 * time.Second)} {
		db.add(at, 0.95)
		db.waitFor(t, "the bad sample evaluated", func() bool { _, e := db.counts(); return e == i+2 })
	}
	f, _ := db.counts()
	db.waitFor(t, "20 more freshness checks", func() bool { f2, _ := db.counts(); return f2 >= f+20 })
	select {
	case r := <-res:
		t.Fatalf("breached on 2 distinct bad samples looked at many times: %+v", r.Breach)
	default:
	}
	_, e := db.counts()
	assert.Equal(t, 3, e, "no sample was evaluated twice")

	third := t0.Add(3 * time.Second)
	db.add(third, 0.97)
	r := <-res
	require.NotNil(t, r.Breach, "the third distinct bad sample breaches")
	assert.Equal(t, Float(0.97), r.Breach.Value)
	assert.True(t, r.Breach.At.Equal(third), "the breach is the sample's time: %s", r.Breach.At)
	db.mu.Lock()
	assert.True(t, db.evalAt[3].Equal(third), "the guard was evaluated at the new sample's time")
	db.mu.Unlock()
	require.Len(t, r.Load, 1)
	assert.Equal(t, "fresh", r.Load[0].Freshness)
	f, e = db.counts()
	assert.Equal(t, f+e, r.Load[0].Queries, "every query is counted")
	assert.Greater(t, r.Load[0].PerSecond, 0.0)
}

// A Prometheus that answers but gets no new data: the same sample is never
// counted twice, and once the newest sample is older than StaleAfter each
// interval is a query error (the guard is blind), so on_error: abort ends
// the run instead of watching stale data forever.
func TestFreshnessStalePrometheus(t *testing.T) {
	db := newTSDB()
	db.add(time.Now().Add(-10*time.Second).Truncate(time.Millisecond), 0.95) // bad, and the last sample there will be
	g := freshGuard(2)
	g.Interval = duration.Duration(100 * time.Millisecond)
	r, err := Watch{Guards: []Guard{g}, Querier: db, FreshEvery: 5 * time.Millisecond, StaleAfter: 5 * time.Second}.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Breach)
	assert.Contains(t, r.Breach.QueryError, "no new sample for 10s", "a stale guard aborts as blind, not on a bad sample seen once")
	_, e := db.counts()
	assert.Equal(t, 1, e, "the one sample was evaluated once")
	assert.Equal(t, 1+MaxQueryErrors, r.Evaluations, "one bad sample, then %d stale intervals", MaxQueryErrors)
}

// A freshness query that hangs (and ignores its context) leaves the guard
// on its interval: it is evaluated and breaches as before, and freshness
// queries never pile up.
func TestFreshnessHungQueryFallsBackToTheInterval(t *testing.T) {
	db := newTSDB()
	db.hangFresh = true
	db.add(time.Now().Add(-time.Second), 0.95)
	g := freshGuard(2)
	g.Interval = duration.Duration(100 * time.Millisecond)
	var beats int
	var mu sync.Mutex
	r, err := Watch{Guards: []Guard{g}, Querier: db, FreshEvery: 5 * time.Millisecond, HeartbeatEvery: 10 * time.Millisecond,
		Heartbeat: func(WatchState) { mu.Lock(); beats++; mu.Unlock() }}.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Breach)
	assert.Empty(t, r.Breach.QueryError, "a value breach: the guard query answered")
	assert.Equal(t, Float(0.95), r.Breach.Value)
	db.mu.Lock()
	assert.Equal(t, 1, db.maxInCall, "one freshness query at a time, however long it hangs")
	db.mu.Unlock()
	mu.Lock()
	assert.GreaterOrEqual(t, beats, 1)
	mu.Unlock()
}

// When the guard's series disappear (a dead target's staleness markers),
// the guard is evaluated at once, and then every interval, each a sample.
func TestFreshnessSeriesGoneEvaluatesAtOnce(t *testing.T) {
	db := &goneDB{tsdb: newTSDB()}
	db.add(time.Now().Add(-time.Second), 0.1)
	g := freshGuard(1)
	r, err := Watch{Guards: []Guard{g}, Querier: db, FreshEvery: 5 * time.Millisecond}.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Breach, "no data is a bad sample, evaluated without waiting an hour-long interval")
	assert.True(t, r.Breach.NoData)
}

// goneDB answers the first sample, then nothing at all (series gone).
type goneDB struct {
	*tsdb
	n int
}

func (d *goneDB) Query(ctx context.Context, q string, at time.Time) (float64, error) {
	d.mu.Lock()
	d.n++
	if d.n > 3 {
		d.samples = nil
	}
	d.mu.Unlock()
	return d.tsdb.Query(ctx, q, at)
}

// A resumed watch does not evaluate again the sample the previous attempt
// counted, and continues its streak.
func TestFreshnessResumeDoesNotRecountASample(t *testing.T) {
	db := newTSDB()
	s1 := time.Now().Add(-2 * time.Second).Truncate(time.Millisecond)
	db.add(s1, 0.95)
	g := freshGuard(2)
	res, cancel := runWatch(Watch{Guards: []Guard{g}, Querier: db, FreshEvery: 5 * time.Millisecond,
		Resume: &WatchState{Guards: []GuardState{{Guard: g.Name, Bad: 1, Evaluations: 1, Stamp: s1}}}})
	defer cancel()
	f, _ := db.counts()
	db.waitFor(t, "10 freshness checks", func() bool { f2, _ := db.counts(); return f2 >= f+10 })
	_, e := db.counts()
	assert.Zero(t, e, "the sample counted by the previous attempt is not evaluated again")
	db.add(s1.Add(time.Second), 0.95)
	r := <-res
	require.NotNil(t, r.Breach, "the next distinct bad sample is the second")
	assert.Equal(t, 2, r.Evaluations)
}

// A freshness query Prometheus refuses leaves the guard on its interval,
// and the load report says why.
func TestFreshnessRefusedQuery(t *testing.T) {
	q := queryFunc(func(q string) (float64, error) {
		if q == "fresh" {
			return 0, &BadQueryError{Query: q, Msg: "unknown function"}
		}
		return 0.95, nil
	})
	g := freshGuard(2)
	g.Interval = duration.Duration(50 * time.Millisecond)
	r, err := Watch{Guards: []Guard{g}, Querier: q}.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, r.Breach)
	assert.Contains(t, r.Load[0].Freshness, "freshness query refused: unknown function")
}

type queryFunc func(q string) (float64, error)

func (f queryFunc) Query(_ context.Context, q string, _ time.Time) (float64, error) { return f(q) }

// Derived freshness: the watch asks Freshness for the guard's query; an
// error leaves the guard on its interval.
func TestFreshnessDerived(t *testing.T) {
	w := Watch{Freshness: func(q string) (string, error) {
		if q == "vector(1)" {
			return "", errors.New("the query reads no series")
		}
		return "max(timestamp(" + q + "))", nil
	}}
	q, note := w.freshness(Guard{Query: "up"})
	assert.Equal(t, "max(timestamp(up))", q)
	assert.Empty(t, note)
	q, note = w.freshness(Guard{Query: "vector(1)"})
	assert.Empty(t, q)
	assert.Contains(t, note, "reads no series")
	q, _ = w.freshness(Guard{Query: "up", Freshness: FreshnessOff})
	assert.Empty(t, q)
	q, _ = w.freshness(Guard{Kind: KindHTTP})
	assert.Empty(t, q, "probes have no freshness")
}

// A freshness expression that does not answer a Unix time in seconds (here
// milliseconds: `max(timestamp(x)) * 1000`) would have the guard evaluated
// tens of thousands of years ahead, where Prometheus has no data: a healthy
// service breached on "no data". The guard goes back to its interval and
// the load report says why.
func TestFreshnessNotSecondsFallsBackToTheInterval(t *testing.T) {
	q := atFunc(func(q string, at time.Time) (float64, error) {
		if q == "fresh" {
			return float64(time.Now().UnixMilli()), nil
		}
		if at.After(time.Now().Add(time.Minute)) {
			return math.NaN(), ErrNoData
		}
		return 0.1, nil
	})
	g := freshGuard(1)
	g.Interval = duration.Duration(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	r, _ := Watch{Guards: []Guard{g}, Querier: q, FreshEvery: 5 * time.Millisecond}.Run(ctx)
	require.Nil(t, r.Breach, "a healthy service")
	assert.Greater(t, r.Evaluations, 3, "evaluated on its interval")
	assert.Contains(t, r.Load[0].Freshness, "interval only: freshness answered")
}

type atFunc func(q string, at time.Time) (float64, error)

func (f atFunc) Query(_ context.Context, q string, at time.Time) (float64, error) { return f(q, at) }
