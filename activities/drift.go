package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gameday/gameday/sli"
)

// PastRuns reads what earlier runs of a scenario recorded: the drift
// rule's "baseline: {runs: N}" (worker.PastRuns, over Temporal
// visibility and the runs' results).
type PastRuns interface {
	// GuardValues returns, newest first, up to n values of a guard (by
	// name and query) that completed runs of the scenario recorded in
	// define: healthy, finite, with data.
	GuardValues(ctx context.Context, scenario, guard, query string, n int) ([]float64, error)
}

// baselineQueryTimeout bounds one baseline query: a 7-day window costs
// Prometheus more than a guard's instant query.
const baselineQueryTimeout = 15 * time.Second

// driftBaselines resolves every guard's drift baseline for a run: the
// baseline query's value, or the mean of the earlier runs' values. A value
// the rule cannot use (no data, NaN, ±Inf, 0, no earlier runs) turns the
// rule off for this run and says why; a baseline query Prometheus rejects,
// or that does not aggregate to one number, refuses the run (non-retryable,
// like a bad guard query); any other error is retried.
func (a *Activities) driftBaselines(ctx context.Context, in DefineInput, now time.Time) ([]sli.DriftBaseline, error) {
	var out []sli.DriftBaseline
	for _, g := range in.Scenario.Spec.Guards {
		b := g.Baseline
		if b == nil {
			continue
		}
		d := sli.DriftBaseline{Guard: g.Name, Source: b.Source(), Limit: g.DriftLimit()}
		switch {
		case b.Query != "":
			qctx, cancel := context.WithTimeout(ctx, baselineQueryTimeout)
			v, err := a.Prom.Query(qctx, b.Query, now)
			cancel()
			switch {
			case errors.Is(err, sli.ErrNoData):
				d.Resolve(math.NaN(), true)
			case err != nil:
				return out, classify(fmt.Errorf("guard %s: baseline: %w", g.Name, err))
			default:
				d.Resolve(v, false)
			}
		case a.Past == nil:
			d.Off = "this worker cannot read earlier runs (no Temporal client)"
		default:
			vals, err := a.Past.GuardValues(ctx, in.Scenario.Metadata.Name, g.Name, g.Query, b.Runs)
			if err != nil {
				return out, fmt.Errorf("guard %s: baseline from earlier runs: %w", g.Name, err)
			}
			if len(vals) == 0 {
				d.Off = fmt.Sprintf("no earlier run of %s recorded a usable value of %s", in.Scenario.Metadata.Name, g.Name)
				break
			}
			sum := 0.0
			for _, v := range vals {
				sum += v
			}
			d.Runs = len(vals)
			d.Resolve(sum/float64(len(vals)), false)
		}
		out = append(out, d)
	}
	return out, nil
}
