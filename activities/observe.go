package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

type ObserveInput struct {
	Guards []scenarios.Guard `json:"guards"`
	// Hold is how long the faults are held; the observation ends then unless
	// a guard breaches first.
	Hold time.Duration `json:"hold"`
}

type ObserveResult struct {
	Breach      *sli.Breach  `json:"breach,omitempty"`
	Evaluations int          `json:"evaluations"`
	Last        []sli.Sample `json:"last,omitempty"`
	StartedAt   time.Time    `json:"started_at"`
	EndedAt     time.Time    `json:"ended_at"`
}

// observeProgress is the heartbeat payload. It carries the start time so an
// attempt that resumes on another worker (after a crash) holds the fault only
// for what is left, not for a fresh full duration.
type observeProgress struct {
	StartedAt   time.Time    `json:"started_at"`
	Evaluations int          `json:"evaluations"`
	Last        []sli.Sample `json:"last,omitempty"`
}

// Observe holds the faults while polling every guard in one long-running,
// heartbeating activity: the workflow history grows by a handful of events
// however long the observation, and a breach is acted on within one guard
// interval. Cancellation (a human abort) ends it at once.
func (a *Activities) Observe(ctx context.Context, in ObserveInput) (ObserveResult, error) {
	var prog observeProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prog)
	}
	if prog.StartedAt.IsZero() {
		prog.StartedAt = time.Now()
	}
	res := ObserveResult{StartedAt: prog.StartedAt, Evaluations: prog.Evaluations}
	end := prog.StartedAt.Add(in.Hold)
	tr := sli.NewTracker(in.Guards)
	tick := sli.MinInterval(in.Guards)
	// Poll at a tenth of the smallest interval so a due guard is never late
	// by more than that: breach latency is bounded by the guard, not the loop.
	poll := tick / 10
	if poll < 20*time.Millisecond {
		poll = 20 * time.Millisecond
	}
	last := make([]sli.Sample, len(in.Guards))
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		now := time.Now()
		if !now.Before(end) {
			res.EndedAt = now
			res.Last = compact(last)
			return res, nil
		}
		for _, i := range tr.Due(now) {
			g := in.Guards[i]
			qctx, cancel := context.WithTimeout(ctx, queryTimeout(g))
			v, err := a.Prom.Query(qctx, g.Query, now)
			cancel()
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			s, breach := tr.Observe(i, v, err, now)
			last[i] = s
			res.Evaluations++
			if breach != nil {
				res.Breach = breach
				res.EndedAt = time.Now()
				res.Last = compact(last)
				a.log().Warn("guard breached", "guard", breach.Guard, "value", breach.Value, "threshold", breach.Threshold)
				return res, nil
			}
		}
		prog.Evaluations = res.Evaluations
		prog.Last = compact(last)
		activity.RecordHeartbeat(ctx, prog)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-t.C:
		}
	}
}

func queryTimeout(g scenarios.Guard) time.Duration {
	d := g.Interval.D()
	if d < 2*time.Second {
		d = 2 * time.Second
	}
	return d
}

func compact(s []sli.Sample) []sli.Sample {
	out := make([]sli.Sample, 0, len(s))
	for _, x := range s {
		if x.Guard != "" {
			out = append(out, x)
		}
	}
	return out
}

type VerifyInput struct {
	Guards  []scenarios.Guard `json:"guards"`
	Timeout time.Duration     `json:"timeout"`
}

type VerifyResult struct {
	OK     bool                    `json:"ok"`
	Values []experiment.GuardValue `json:"values"`
	Took   time.Duration           `json:"took"`
}

// Verify waits until every steady-state guard is healthy in the same round,
// or the deadline passes (then OK is false: the system did not come back).
func (a *Activities) Verify(ctx context.Context, in VerifyInput) (VerifyResult, error) {
	start := time.Now()
	deadline := start.Add(in.Timeout)
	tick := sli.MinInterval(in.Guards)
	var res VerifyResult
	for {
		now := time.Now()
		res.Values = res.Values[:0]
		all := true
		for _, g := range in.Guards {
			qctx, cancel := context.WithTimeout(ctx, queryTimeout(g))
			v, err := a.Prom.Query(qctx, g.Query, now)
			cancel()
			gv := experiment.GuardValue{Guard: g.Name, Query: g.Query, Value: v}
			if err != nil {
				gv.Error = err.Error()
				gv.Value = 0
			} else {
				gv.Healthy = sli.Healthy(g.Op, v, g.Threshold)
			}
			all = all && gv.Healthy
			res.Values = append(res.Values, gv)
		}
		res.Took = time.Since(start)
		if all {
			res.OK = true
			return res, nil
		}
		if time.Now().After(deadline) {
			return res, nil
		}
		activity.RecordHeartbeat(ctx, res)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(tick):
		}
	}
}
