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
}

// Guard watches the guards from before the first inject until the workflow
// cancels it (the end of observe) or a guard breaches, in one heartbeating
// activity. Its streaks travel in the heartbeat details, so an attempt
// retried on another worker continues them; the attempt that died counts as
// one query error on every guard (nobody watched meanwhile).
func (a *Activities) Guard(ctx context.Context, in GuardInput) (GuardResult, error) {
	if a.Prom == nil {
		return GuardResult{}, temporal.NewNonRetryableApplicationError("no Prometheus configured on this worker: guards cannot be evaluated", ErrTypeBadInput, nil)
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
	}
	r, err := w.Run(ctx)
	res := GuardResult{Breach: r.Breach, Evaluations: r.Evaluations, Last: r.Last, StartedAt: r.Started, EndedAt: r.Ended}
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

// watch builds a sli.Watch that resumes from the heartbeat details of a
// previous attempt and heartbeats from a ticker.
func (a *Activities) watch(ctx context.Context, guards []sli.Guard) sli.Watch {
	w := sli.Watch{Guards: guards, Querier: a.Prom, HeartbeatEvery: GuardHeartbeatEvery}
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
		switch {
		case errors.Is(err, sli.ErrNoData) || (err == nil && math.IsNaN(v)):
			q.m.GuardEvaluated(g.Name, telemetry.EvalNoData)
		case err != nil:
			q.m.GuardEvaluated(g.Name, telemetry.EvalError)
		case sli.Healthy(g.Op, v, g.Threshold):
			q.m.GuardEvaluated(g.Name, telemetry.EvalHealthy)
		default:
			q.m.GuardEvaluated(g.Name, telemetry.EvalUnhealthy)
		}
		break
	}
	return v, err
}
