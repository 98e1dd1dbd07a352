package activities

import (
	"context"
	"fmt"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/notify"
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
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	var res ReportResult
	r := in.Result
	// A run the freeze or a blackout window refused did nothing: there is
	// nothing to learn from it, and a postmortem per skipped scheduled run
	// would bury the real ones.
	skipped := killswitch.Skipped(r.Error)
	if r.Outcome != experiment.Passed && r.Outcome != experiment.DryRun && !skipped && a.Postmortems != nil {
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
	a.pauseOnFailure(ctx, r)
	return res, nil
}
