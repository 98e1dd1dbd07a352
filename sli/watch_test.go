package sli

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
)

type hung struct{}

func (hung) Query(ctx context.Context, _ string, _ time.Time) (float64, error) {
	<-ctx.Done()
	return 0, ctx.Err()
}

// The heartbeat comes from a ticker of its own: a Prometheus that never
// answers does not starve it (a starved heartbeat once killed the attempt
// and reset every streak).
func TestWatchHeartbeatsWhileQueriesHang(t *testing.T) {
	g := guard(1, OnErrorIgnore)
	g.Interval = duration.Duration(2 * time.Second)
	var mu sync.Mutex
	var beats []WatchState
	w := Watch{
		Guards: []Guard{g}, Querier: hung{}, Until: time.Now().Add(1500 * time.Millisecond),
		HeartbeatEvery: 100 * time.Millisecond,
		Heartbeat: func(s WatchState) {
			mu.Lock()
			beats = append(beats, s)
			mu.Unlock()
		},
	}
	res, err := w.Run(context.Background())
	require.NoError(t, err)
	assert.Nil(t, res.Breach)
	mu.Lock()
	defer mu.Unlock()
	assert.GreaterOrEqual(t, len(beats), 5, "heartbeats kept coming while the only query hung")
	_, err = json.Marshal(beats)
	require.NoError(t, err)
}

func TestFloatJSON(t *testing.T) {
	for _, c := range []struct {
		v    Float
		json string
	}{{0.25, `0.25`}, {Float(math.NaN()), `"NaN"`}, {Float(math.Inf(1)), `"+Inf"`}, {Float(math.Inf(-1)), `"-Inf"`}} {
		b, err := json.Marshal(struct{ V Float }{c.v})
		require.NoError(t, err)
		assert.Equal(t, `{"V":`+c.json+`}`, string(b))
		var back struct{ V Float }
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, c.v.Kind(), back.V.Kind())
		assert.Equal(t, c.v.String(), back.V.String())
	}
	var f Float
	require.NoError(t, json.Unmarshal([]byte(`1.5`), &f), "histories written with plain float64 still decode")
	assert.Equal(t, Float(1.5), f)
	assert.Error(t, json.Unmarshal([]byte(`"lots"`), &f))
	assert.Equal(t, "no data", Describe(Float(math.NaN()), true))
}

type badAfter struct{ n int }

func (q *badAfter) Query(context.Context, string, time.Time) (float64, error) {
	q.n++
	if q.n > 2 {
		return 0, &BadQueryError{Query: "q", Msg: "returned 2 series"}
	}
	return 0.1, nil
}

// A query that becomes invalid mid-run (a second series appeared) stops the
// watch with the error: the guard is blind, and that is not a breach.
func TestWatchStopsWhenTheQueryBecomesInvalid(t *testing.T) {
	g := guard(1, OnErrorIgnore)
	g.Interval = duration.Duration(100 * time.Millisecond)
	res, err := Watch{Guards: []Guard{g}, Querier: &badAfter{}}.Run(context.Background())
	var bq *BadQueryError
	require.ErrorAs(t, err, &bq)
	assert.Nil(t, res.Breach)
}

type panicky struct{}

func (panicky) Query(context.Context, string, time.Time) (float64, error) { panic("boom") }

// A panicking querier is a query error, not a dead worker.
func TestWatchSurvivesAPanickingQuerier(t *testing.T) {
	g := guard(1, OnErrorAbort)
	g.Interval = duration.Duration(100 * time.Millisecond)
	res, err := Watch{Guards: []Guard{g}, Querier: panicky{}}.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, res.Breach)
	assert.Contains(t, res.Breach.QueryError, "query panicked: boom")
}

// A state restored from a worker whose clock ran ahead does not leave the
// guard waiting for that clock.
func TestWatchResumeIgnoresAnotherWorkersSchedule(t *testing.T) {
	g := guard(1, OnErrorAbort)
	g.Interval = duration.Duration(100 * time.Millisecond)
	w := Watch{Guards: []Guard{g}, Querier: hungValue(0.95), Resume: &WatchState{Guards: []GuardState{{Guard: g.Name, Next: time.Now().Add(time.Hour)}}}}
	res, err := w.Run(context.Background())
	require.NoError(t, err)
	require.NotNil(t, res.Breach, "evaluated now, not in an hour")
}

type hungValue float64

func (v hungValue) Query(context.Context, string, time.Time) (float64, error) { return float64(v), nil }
