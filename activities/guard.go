package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/telemetry"
)

// GuardHeartbeatEvery is how often a guard heartbeats, from a ticker of its
// own: a slow or hung Prometheus never starves the heartbeat. The workflow's
// heartbeat timeout for the guard is a few times this.
const GuardHeartbeatEvery = time.Second

type GuardInput struct {
	Guards []sli.Guard `json:"guards"`
	// Until ends the watch without a breach (the faults' own expiry); zero
	// means "until the workflow cancels it".
	Until time.Time `json:"until,omitzero"`
	// Scenario names the run's scenario in the guard's metrics.
	Scenario string `json:"scenario,omitempty"`
}

// GuardResult is how a guard ended. A cancelled guard returns it as the
// details of its cancellation.
type GuardResult struct {
	Breach      *sli.Breach  `json:"breach,omitempty"`
	Evaluations int          `json:"evaluations"`
	Last        []sli.Sample `json:"last,omitempty"`
	StartedAt   time.Time    `json:"started_at"`
	EndedAt     time.Time    `json:"ended_at"`
	// Load is what each guard cost: queries (freshness checks included)
	// and queries per second, and the freshness query it used.
	Load []sli.GuardLoad `json:"load,omitempty"`
}

// Guard watches the guards from before the first inject until the workflow
// cancels it (the end of observe) or a guard breaches, in one heartbeating
// activity. Its streaks travel in the heartbeat details, so an attempt
// retried on another worker continues them; the attempt that died counts as
// one query error on every guard (nobody watched meanwhile).
func (a *Activities) Guard(ctx context.Context, in GuardInput) (GuardResult, error) {
	if err := a.canWatch(in.Guards); err != nil {
		return GuardResult{}, err
	}
	w := a.watch(ctx, in.Guards)
	w.Until = in.Until
	if a.Metrics != nil {
		names := make([]string, len(in.Guards))
		for i, g := range in.Guards {
			names[i] = g.Name
		}
		a.Metrics.WatchStarted(in.Scenario, names)
		w.Querier = countingQuerier{next: a.Prom, guards: in.Guards, m: a.Metrics}
		if a.Probes != nil {
			w.Prober = countingProber{next: a.Probes, m: a.Metrics}
		}
	}
	r, err := w.Run(ctx)
	res := GuardResult{Breach: r.Breach, Evaluations: r.Evaluations, Last: r.Last, StartedAt: r.Started, EndedAt: r.Ended, Load: r.Load}
	for _, l := range r.Load {
		a.log().Info("guard load", "guard", l.Guard, "evaluations", l.Evaluations, "queries", l.Queries, "queries_per_second", l.PerSecond, "freshness", l.Freshness)
	}
	if r.Breach != nil {
		a.Metrics.GuardBreached(in.Scenario, r.Breach.Guard)
	}
	if err != nil {
		if ctx.Err() != nil {
			// The workflow ended the watch: hand it what was seen.
			return res, temporal.NewCanceledError(res)
		}
		// A query that became invalid is non-retryable: the run stops,
		// saying the guard went blind, instead of counting it as a breach.
		return res, classify(err)
	}
	if r.Breach != nil {
		a.log().Warn("guard breached", "guard", r.Breach.Guard, "value", r.Breach.Value.String(), "no_data", r.Breach.NoData, "threshold", r.Breach.Threshold, "query_error", r.Breach.QueryError)
	}
	return res, nil
}

// canWatch refuses guards this worker cannot evaluate: prometheus guards
// without Prometheus, probes without probes enabled.
func (a *Activities) canWatch(guards []sli.Guard) error {
	for _, g := range guards {
		switch {
		case g.IsProbe() && a.Probes == nil:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("guard %s: %v", g.Name, sli.ErrNoProber), ErrTypeBadInput, nil)
		case !g.IsProbe() && a.Prom == nil:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("guard %s: %v", g.Name, sli.ErrNoQuerier), ErrTypeBadInput, nil)
		}
	}
	return nil
}

// watch builds a sli.Watch that resumes from the heartbeat details of a
// previous attempt and heartbeats from a ticker.
func (a *Activities) watch(ctx context.Context, guards []sli.Guard) sli.Watch {
	w := sli.Watch{Guards: guards, Querier: a.Prom, Prober: a.Probes, Freshness: a.Freshness, HeartbeatEvery: GuardHeartbeatEvery}
	if !activity.IsActivity(ctx) {
		return w
	}
	info := activity.GetInfo(ctx)
	if activity.HasHeartbeatDetails(ctx) {
		var st struct {
			sli.WatchState
			// The legacy Observe heartbeat (runs started before the guard
			// lifecycle) named its start time started_at.
			StartedAt time.Time `json:"started_at"`
		}
		if err := activity.GetHeartbeatDetails(ctx, &st); err == nil {
			if st.Started.IsZero() {
				st.Started = st.StartedAt
			}
			w.Resume = &st.WatchState
			if info.Attempt > 1 {
				w.Lost = fmt.Sprintf("guard attempt %d was lost (worker crash or heartbeat timeout): nobody watched for up to %s", info.Attempt-1, info.HeartbeatTimeout)
			}
		}
	}
	w.Heartbeat = func(st sli.WatchState) { activity.RecordHeartbeat(ctx, st) }
	return w
}

// countingQuerier counts every guard query's answer in the worker's
// metrics: healthy, unhealthy, no data (empty or NaN) or an error (a timeout
// included). A query shared by several guards is counted under the first.
type countingQuerier struct {
	next   sli.Querier
	guards []sli.Guard
	m      *telemetry.Metrics
}

func (q countingQuerier) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	v, err := q.next.Query(ctx, query, at)
	for _, g := range q.guards {
		if g.Query != query {
			continue
		}
		q.m.GuardEvaluated(g.Name, evalResult(g, v, err))
		break
	}
	return v, err
}

// evalResult is how the metrics count one answer: no data (empty, NaN, a
// probe with no answer at all), an error (a timeout included), healthy or
// unhealthy (a probe's bad answer too).
func evalResult(g sli.Guard, v float64, err error) string {
	var bad *sli.BadAnswerError
	switch {
	case errors.Is(err, sli.ErrNoData) || (err == nil && math.IsNaN(v)):
		return telemetry.EvalNoData
	case errors.As(err, &bad):
		return telemetry.EvalUnhealthy
	case err != nil:
		return telemetry.EvalError
	case sli.Healthy(g.Op, v, g.Threshold):
		return telemetry.EvalHealthy
	}
	return telemetry.EvalUnhealthy
}

// countingProber counts every probe's answer in the worker's metrics, as
// countingQuerier counts the queries'.
type countingProber struct {
	next sli.Prober
	m    *telemetry.Metrics
}

func (p countingProber) Probe(ctx context.Context, g sli.Guard) (float64, error) {
	v, err := p.next.Probe(ctx, g)
	p.m.GuardEvaluated(g.Name, evalResult(g, v, err))
	return v, err
}

func (p countingProber) Allowed(ctx context.Context, g sli.Guard) error {
	return p.next.Allowed(ctx, g)
}
