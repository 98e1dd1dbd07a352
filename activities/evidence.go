package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/sli"
)

// EvidenceSettle is how long after a window's end its evidence is read:
// the last samples of the window must have been scraped (the demo's
// Prometheus scrapes every second). Verify usually takes longer than this.
const EvidenceSettle = 2 * time.Second

// EvidenceQueryTimeout bounds one Prometheus query of the evidence.
const EvidenceQueryTimeout = 15 * time.Second

type EvidenceInput struct {
	// Items are the checklist's evidence-verified items, their guard
	// references resolved (checklist.ResolveEvidence).
	Items    []checklist.Item   `json:"items"`
	Timeline checklist.Timeline `json:"timeline"`
}

type EvidenceResult struct {
	Checks []checklist.CheckResult `json:"checks"`
}

// Evidence judges every check of the run's evidence-verified checklist
// items over its window of the run (checklist.Judge): a range query, or one
// instant query at the window's end for reduce: last. NaN, ±Inf and an
// empty answer are values (an empty one fails); a query Prometheus refuses
// fails its check with the reason and is not retried. Prometheus being
// unreachable fails the activity, so it is retried; if it never answers,
// the workflow fails every check with the reason. Never a pass by default.
func (a *Activities) Evidence(ctx context.Context, in EvidenceInput) (EvidenceResult, error) {
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	if a.Prom == nil {
		return EvidenceResult{}, temporal.NewNonRetryableApplicationError("no Prometheus configured on this worker: checklist evidence cannot be computed", ErrTypeBadInput, nil)
	}
	rq, ok := a.Prom.(sli.RangeQuerier)
	if !ok {
		return EvidenceResult{}, temporal.NewNonRetryableApplicationError("this worker's Prometheus client cannot run range queries: checklist evidence cannot be computed", ErrTypeBadInput, nil)
	}
	now := time.Now()
	var latest time.Time
	for _, it := range in.Items {
		for _, c := range it.VerifiedBy {
			if _, to := c.Span(in.Timeline); to.After(latest) {
				latest = to
			}
		}
	}
	if latest.After(now) {
		latest = now // a "within" window reaching past now: judged up to now
	}
	if wait := time.Until(latest.Add(EvidenceSettle)); wait > 0 {
		select {
		case <-ctx.Done():
			return EvidenceResult{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	var res EvidenceResult
	for _, it := range in.Items {
		for _, c := range it.VerifiedBy {
			r, err := a.judgeCheck(ctx, rq, c, in.Timeline, now)
			if err != nil {
				return EvidenceResult{}, fmt.Errorf("item %s, check %s: %w", it.ID, c.Name, err)
			}
			r.Item = it.ID
			res.Checks = append(res.Checks, r)
			a.log().Info("checklist evidence", "item", it.ID, "check", r.Check, "value", r.Reading(), "pass", r.Pass, "window", r.Window)
		}
	}
	return res, nil
}

// judgeCheck queries one check over its window and judges it. Only an
// error worth retrying (Prometheus unreachable, a timeout) is returned.
func (a *Activities) judgeCheck(ctx context.Context, rq sli.RangeQuerier, c checklist.Check, tl checklist.Timeline, now time.Time) (checklist.CheckResult, error) {
	from, to := c.Span(tl)
	if to.After(now) {
		to = now
	}
	if from.After(to) {
		from = to
	}
	query := c.QueryFor(to.Sub(from))
	qctx, cancel := context.WithTimeout(ctx, EvidenceQueryTimeout)
	defer cancel()
	var pts []sli.Point
	var err error
	// reduce: last reads the window's end; a window of one instant (a run
	// stopped as its fault took effect, checklist.Check.Span) is that one
	// value too: Prometheus refuses a range query over no time at all.
	if c.Reduce == checklist.ReduceLast || !to.After(from) {
		var v float64
		if v, err = a.Prom.Query(qctx, query, to); err == nil {
			pts = []sli.Point{{At: to, Value: v}}
		}
	} else {
		pts, err = rq.QueryRange(qctx, query, from, to, checklist.Step(to.Sub(from)))
	}
	var bad *sli.BadQueryError
	switch {
	case errors.Is(err, sli.ErrNoData):
		pts, err = nil, nil
	case errors.As(err, &bad):
		r := checklist.Failed("", c, err.Error())
		r.Query, r.From, r.To = query, from, to
		return r, nil
	case err != nil:
		return checklist.CheckResult{}, err
	}
	r := checklist.Judge(c, pts)
	r.Query, r.From, r.To = query, from, to
	return r, nil
}
