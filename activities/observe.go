package activities

import (
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

type ObserveInput struct {
	Guards []sli.Guard `json:"guards"`
	// Hold is how long the faults are held; the observation ends then unless
	// a guard breaches first.
	Hold time.Duration `json:"hold"`
}

type ObserveResult struct {
	Breach      *sli.Breach     `json:"breach,omitempty"`
	Evaluations int             `json:"evaluations"`
	Last        []sli.Sample    `json:"last,omitempty"`
	StartedAt   time.Time       `json:"started_at"`
	EndedAt     time.Time       `json:"ended_at"`
	Load        []sli.GuardLoad `json:"load,omitempty"`
}

// Observe holds the faults for Hold while watching the guards. It is the
// observe activity of ExperimentWorkflow's first versions (histories
// recorded before the guard ran from the first inject still call it); it
// shares the watch of Guard, with its end at the first attempt's start +
// Hold, carried in the heartbeat.
func (a *Activities) Observe(ctx context.Context, in ObserveInput) (ObserveResult, error) {
	w := a.watch(ctx, in.Guards)
	start := time.Now()
	if w.Resume != nil && !w.Resume.Started.IsZero() {
		start = w.Resume.Started
	}
	w.Until = start.Add(in.Hold)
	r, err := w.Run(ctx)
	res := ObserveResult{Breach: r.Breach, Evaluations: r.Evaluations, Last: r.Last, StartedAt: r.Started, EndedAt: r.Ended, Load: r.Load}
	if r.Breach != nil {
		a.log().Warn("guard breached", "guard", r.Breach.Guard, "value", r.Breach.Value.String(), "threshold", r.Breach.Threshold)
	}
	return res, err
}

// readGuards reads every guard once (its query, or its probe),
// concurrently, each bounded by sli.QueryTimeout. NaN and empty answers are
// unhealthy unless the guard says on_no_data: ignore; a probe's bad answer
// is unhealthy.
func (a *Activities) readGuards(ctx context.Context, guards []sli.Guard, at time.Time) []experiment.GuardValue {
	vals, _ := a.queryGuards(ctx, guards, at)
	return vals
}

// queryGuards is readGuards with each read's error (nil, sli.ErrNoData, a
// *sli.BadQueryError, a timeout...), for callers that decide on retrying.
func (a *Activities) queryGuards(ctx context.Context, guards []sli.Guard, at time.Time) ([]experiment.GuardValue, []error) {
	out := make([]experiment.GuardValue, len(guards))
	errs := make([]error, len(guards))
	var wg sync.WaitGroup
	for i, g := range guards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			qctx, cancel := context.WithTimeout(ctx, sli.QueryTimeout(g))
			defer cancel()
			v, err := sli.Read(qctx, a.Prom, a.Probes, g, at)
			out[i], errs[i] = guardValue(g, v, err), err
		}()
	}
	wg.Wait()
	return out, errs
}

// guardValue turns one answer into a GuardValue whose Value is always
// encodable.
func guardValue(g sli.Guard, v float64, err error) experiment.GuardValue {
	gv := experiment.GuardValue{Guard: g.Name, Query: g.Source(), Value: sli.Float(v), Kind: g.Kind}
	noData := errors.Is(err, sli.ErrNoData)
	var bad *sli.BadAnswerError
	isBad := errors.As(err, &bad)
	switch {
	case err != nil && !noData && !isBad:
		gv.Error, gv.Value = err.Error(), sli.Float(math.NaN())
		return gv
	case isBad:
		gv.Reason = bad.Reason
	}
	if noData {
		gv.NoData, gv.Value = true, sli.Float(math.NaN())
	}
	if noData || math.IsNaN(v) {
		gv.Healthy = g.OnNoData == sli.OnNoDataIgnore
		return gv
	}
	gv.Healthy = !isBad && sli.Healthy(g.Op, v, g.Threshold)
	return gv
}

// heartbeatEvery records a heartbeat with details() every d until stop is
// called, so an activity heartbeats whatever its calls are doing.
func heartbeatEvery(ctx context.Context, d time.Duration, details func() any) (stop func()) {
	done := make(chan struct{})
	activity.RecordHeartbeat(ctx, details())
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details())
			}
		}
	}()
	return func() { close(done) }
}
