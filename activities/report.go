package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/telemetry"
)

type ReportInput struct {
	Result experiment.Result `json:"result"`
}

type ReportResult struct {
	Postmortem string `json:"postmortem,omitempty"`
}

// Report files a postmortem for every run that did not pass and announces
// the outcome. Sinks are idempotent by run (Result.RunKey: workflow id + run id), so a retry never files
// twice.
func (a *Activities) Report(ctx context.Context, in ReportInput) (ReportResult, error) {
	r := in.Result
	if firstAttempt(ctx) {
		a.recordFinished(r)
	}
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	var res ReportResult
	if r.Outcome != experiment.Passed && r.Outcome != experiment.DryRun && a.Postmortems != nil {
		ref, err := a.Postmortems.File(ctx, r)
		if err != nil {
			return res, classify(fmt.Errorf("file postmortem: %w", err))
		}
		res.Postmortem = ref
		r.Postmortem = ref
	}
	if r.ReleaseTicket != "" && a.Releases != nil {
		if err := a.Releases.ReleaseEvidence(ctx, r.ReleaseTicket, r, res.Postmortem); err != nil {
			return res, classify(fmt.Errorf("release ticket %s: %w", r.ReleaseTicket, err))
		}
	}
	text := fmt.Sprintf("experiment %s on %s finished: %s", r.Scenario, r.Service, r.Outcome)
	if r.AbortReason != "" {
		text += " (" + r.AbortReason + ")"
	}
	if g := r.Gate; g != nil {
		text += fmt.Sprintf("; release gate %s passed=%t (score %.1f%%)", g.Checklist, g.Passed, g.Score)
	}
	if res.Postmortem != "" {
		text += "; postmortem " + res.Postmortem
	}
	if a.Notifier != nil {
		if err := a.Notifier.Notify(ctx, notify.Message{WorkflowID: r.WorkflowID, Scenario: r.Scenario, Event: "finished", Text: text, URL: r.UIURL}); err != nil {
			return res, fmt.Errorf("notify: %w", err)
		}
	}
	return res, nil
}

// recordFinished counts the finished run, its phases' durations and, after
// a breach, how long it took until every fault was gone.
func (a *Activities) recordFinished(r experiment.Result) {
	if a.Metrics == nil {
		return
	}
	phases := make([]telemetry.Phase, 0, len(r.Phases))
	for _, p := range r.Phases {
		if !p.Ended.IsZero() {
			phases = append(phases, telemetry.Phase{Name: p.Name, Started: p.Started, Ended: p.Ended})
		}
	}
	a.Metrics.ExperimentFinished(r.Scenario, string(r.Outcome), phases)
	if d, ok := AbortLatency(r); ok {
		a.Metrics.AbortLatency(r.Scenario, d)
	}
}

// AbortLatency is how long a run took from its guard's breach until the
// last of its faults was confirmed gone (the recover log's times); false
// when there was no breach or a fault was never confirmed removed.
func AbortLatency(r experiment.Result) (time.Duration, bool) {
	if r.Breach == nil || r.Breach.At.IsZero() || len(r.Injected) == 0 {
		return 0, false
	}
	var last time.Time
	gone := map[string]bool{}
	for _, rec := range r.RecoverLog {
		gone[rec.FaultID] = true
		if rec.At.After(last) {
			last = rec.At
		}
	}
	for _, id := range r.Injected {
		if !gone[id] {
			return 0, false
		}
	}
	if last.Before(r.Breach.At) {
		return 0, false
	}
	return last.Sub(r.Breach.At), true
}
