package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

type PreflightInput struct {
	Guards []sli.Guard `json:"guards"`
}

// PreflightResult is every pre-flight guard's value; Healthy when all are.
type PreflightResult struct {
	Values  []experiment.GuardValue `json:"values"`
	Healthy bool                    `json:"healthy"`
}

// Preflight reads a game day's pre-flight guards once, concurrently, each
// bounded by sli.QueryTimeout, the way define reads a scenario's: a query
// Prometheus refuses fails for good (ErrTypeBadQuery), a query that did
// not answer or found no data yet is retried (the error carries the values
// so far as details), and an answer is a value, healthy or not. Unhealthy
// is not an error: the game day ends before anything starts, with the values.
func (a *Activities) Preflight(ctx context.Context, in PreflightInput) (PreflightResult, error) {
	// The kill switch and the game day's blackout windows first, as in a
	// run's define: a frozen game day starts no step at all.
	if a.KillSwitch != nil || a.Schedules != nil {
		info := activity.GetInfo(ctx)
		if err := a.checkGate(ctx, DefineInput{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}); err != nil {
			return PreflightResult{}, err
		}
	}
	vals, errs := a.queryGuards(ctx, in.Guards, time.Now())
	res := PreflightResult{Values: vals, Healthy: true}
	var retry []string
	for i, err := range errs {
		res.Healthy = res.Healthy && vals[i].Healthy
		var bq *sli.BadQueryError
		switch {
		case err == nil:
		case errors.As(err, &bq):
			return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("pre-flight guard %s: %v", in.Guards[i].Name, err), ErrTypeBadQuery, nil, res)
		case errors.Is(err, sli.ErrNoData) && vals[i].Healthy:
			// on_no_data: ignore
		default:
			retry = append(retry, fmt.Sprintf("%s: %v", in.Guards[i].Name, err))
		}
	}
	if len(retry) > 0 {
		return res, temporal.NewApplicationError("pre-flight guards did not answer: "+strings.Join(retry, "; "), "PreflightNoAnswer", res)
	}
	return res, nil
}
