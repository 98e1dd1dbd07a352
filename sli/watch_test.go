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

	"github.com/gameday/gameday/scenarios"
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
	g := guard(1, scenarios.OnErrorIgnore)
	g.Interval = scenarios.Duration(2 * time.Second)
	var mu sync.Mutex
	var beats []WatchState
	w := Watch{
		Guards: []scenarios.Guard{g}, Querier: hung{}, Until: time.Now().Add(1500 * time.Millisecond),
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
