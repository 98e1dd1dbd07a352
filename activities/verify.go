package activities

import (
	"context"
	"sync"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
	"go.temporal.io/sdk/activity"
)

type VerifyInput struct {
	Guards  []sli.Guard   `json:"guards"`
	Timeout time.Duration `json:"timeout"`
}

type VerifyResult struct {
	OK     bool                    `json:"ok"`
	Values []experiment.GuardValue `json:"values"`
	Took   time.Duration           `json:"took"`
}

// Verify waits until every steady-state guard is healthy in the same round,
// or the deadline passes (then OK is false: the system did not come back).
// Guards are queried concurrently, each bounded by sli.QueryTimeout, and the
// activity heartbeats from a ticker whatever Prometheus does.
func (a *Activities) Verify(ctx context.Context, in VerifyInput) (VerifyResult, error) {
	start := time.Now()
	deadline := start.Add(in.Timeout)
	tick := sli.MinInterval(in.Guards)
	var res VerifyResult
	var mu sync.Mutex
	if activity.IsActivity(ctx) {
		stop := heartbeatEvery(ctx, GuardHeartbeatEvery, func() any {
			mu.Lock()
			defer mu.Unlock()
			return res
		})
		defer stop()
	}
	for {
		vals := a.readGuards(ctx, in.Guards, time.Now())
		all := true
		for _, v := range vals {
			all = all && v.Healthy
		}
		mu.Lock()
		res.Values, res.Took = vals, time.Since(start)
		out := res
		mu.Unlock()
		if all {
			out.OK = true
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-time.After(tick):
		}
	}
}
