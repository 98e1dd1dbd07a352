package activities

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/telemetry"
)

type ReportInput struct {
	Result experiment.Result `json:"result"`
	// Guards are the scenario's guards, for the report's charts (their
	// thresholds and units). Runs recorded before reports send none: the
	// report then draws the guards the result names.
	Guards []sli.Guard `json:"guards,omitempty"`
}

type ReportResult struct {
	Postmortem string `json:"postmortem,omitempty"`
	// Report is where the run's report was written (references only: the
	// files stay out of the history).
	Report *experiment.ReportLinks `json:"report,omitempty"`
	// NotifyError says the outcome could not be announced (the notifier
	// kept failing); the step does not fail for it.
	NotifyError string `json:"notify_error,omitempty"`
}

// reportBudget bounds writing the report, and reportQueryTimeout each
// range query (all run at once), so a Prometheus that is down delays the
// run's end by seconds: a healthy one answers a report's window in
// milliseconds.
const (
	reportBudget       = 20 * time.Second
	reportQueryTimeout = 5 * time.Second
)

// Report writes the run's report (every run, passed too: HTML with a chart
// per guard, Markdown, JUnit, JSON, the charts as PNG) into the data dir,
// files a postmortem for every run that did not pass (linking the report;
// the chart is attached when the sink takes attachments), records release
// evidence and announces the outcome with the report's link. Sinks are
// idempotent by run (Result.RunKey: workflow id + run id), so a retry
// never files twice. A report that cannot be written, or an announcement
// the notifier keeps refusing, is said in the result (Report.Error,
// NotifyError) and the log; neither fails the step.
func (a *Activities) Report(ctx context.Context, in ReportInput) (ReportResult, error) {
	r := in.Result
	if firstAttempt(ctx) {
		a.recordFinished(r)
	}
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	var res ReportResult
	rep, written := a.writeReport(ctx, r, in.Guards)
	if written != nil {
		res.Report = written.links
		r.Report = written.links
	}
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
		if written != nil {
			a.linkTicket(ctx, rep, written, ref)
			res.Report = written.links
			r.Report = written.links
		}
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
	if rl := res.Report; rl != nil && rl.HTML != "" {
		text += "; report " + rl.HTML
	}
	if a.Notifier != nil {
		// The announcement comes last: failing the step for it would lose
		// what the step did (the postmortem's key, the report's links) from
		// the run's result, as a lost notification elsewhere in the run
		// does not stop it either. A short retry, then it is said.
		msg := notify.Message{WorkflowID: r.WorkflowID, Scenario: r.Scenario, Event: "finished", Text: text, URL: r.UIURL}
		var err error
		for attempt := range 3 {
			if err = a.Notifier.Notify(ctx, msg); err == nil || errkind.IsPermanent(err) || ctx.Err() != nil || attempt == 2 {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
		}
		if err != nil {
			res.NotifyError = "outcome not announced: " + err.Error()
			a.log().Warn("outcome not announced; the run's result stands", "workflow_id", r.WorkflowID, "error", err)
		}
	}
	a.pauseOnFailure(ctx, r)
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

// writtenReport is a report on disk and the links to it.
type writtenReport struct {
	files report.Written
	links *experiment.ReportLinks
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ReportDirName is the directory of a run's report under the reports dir:
// its run key made safe for a file name, like the postmortem's.
func ReportDirName(r experiment.Result) string { return reportDirName(r.WorkflowID, r.RunID) }

func reportDirName(workflowID, runID string) string {
	return unsafeName.ReplaceAllString(experiment.RunKey(workflowID, runID), "_")
}

// buildReport queries each guard of a run over its window (nothing when
// the worker has no range querier) and builds the run's report.
func (a *Activities) buildReport(ctx context.Context, r experiment.Result, guards []sli.Guard, now time.Time, links report.Links) *report.Report {
	w := report.WindowOf(r, now)
	var series []report.Series
	if a.Ranges != nil {
		series = report.Collect(ctx, a.Ranges, guards, w, reportQueryTimeout)
	}
	links.Trace = report.TraceLink(a.TraceURL, r.TraceID)
	return report.Build(report.Input{Result: r, Guards: guards, Series: series, Window: w, Links: links, Generated: now})
}

// writeReport queries each guard over the run's window and writes the
// report. Nil when the worker keeps no reports (no ReportDir); errors end
// up in the links' Error, never in the step's result.
func (a *Activities) writeReport(ctx context.Context, r experiment.Result, guards []sli.Guard) (*report.Report, *writtenReport) {
	if a.ReportDir == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, reportBudget)
	defer cancel()
	rep := a.buildReport(ctx, r, guards, time.Now(), report.Links{Files: report.SiblingLinks()})
	dir := filepath.Join(a.ReportDir, ReportDirName(r))
	files, err := report.Write(dir, rep)
	out := &writtenReport{files: files, links: a.reportLinks(files)}
	if err != nil {
		out.links.Error = err.Error()
		a.log().Warn("report not written in full; the run's outcome stands", "workflow_id", r.WorkflowID, "error", err)
	}
	return rep, out
}

// linkTicket writes the report again with the postmortem's link (the
// ticket exists only now; the queries are not run again) and attaches the
// chart when the sink takes attachments. Failures are recorded, not
// returned: the postmortem is filed and links the report either way.
func (a *Activities) linkTicket(ctx context.Context, rep *report.Report, w *writtenReport, ref string) {
	rep.Links.Ticket = ref
	if l, ok := a.Postmortems.(postmortem.Linker); ok {
		rep.Links.TicketURL = l.Link(ref)
	}
	var errs []string
	if _, err := report.Write(w.files.Dir, rep); err != nil {
		errs = append(errs, err.Error())
	}
	if at, ok := a.Postmortems.(postmortem.Attacher); ok && len(w.files.PNG) > 0 {
		name := "gameday-" + unsafeName.ReplaceAllString(rep.Result.Scenario, "_") + "-chart.png"
		var err error
		for attempt := range 3 { // a short retry: the chart is a nice-to-have
			if err = at.Attach(ctx, ref, name, w.files.PNG); err == nil || errkind.IsPermanent(err) || ctx.Err() != nil || attempt == 2 {
				break
			}
			time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, "attach chart to "+ref+": "+err.Error())
			a.log().Warn("chart not attached to the postmortem", "workflow_id", rep.Result.WorkflowID, "ticket", ref, "error", err)
		}
	}
	if len(errs) > 0 {
		w.links.Error = strings.Join(append(nonEmpty(w.links.Error), errs...), "; ")
	}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// reportLinks are the written files as the worker shows them: URLs under
// ReportURL when the reports dir is served there, else paths.
func (a *Activities) reportLinks(w report.Written) *experiment.ReportLinks {
	link := func(p string) string {
		if p == "" || a.ReportURL == "" {
			return p
		}
		rel, err := filepath.Rel(a.ReportDir, p)
		if err != nil {
			return p
		}
		u, err := url.Parse(a.ReportURL)
		if err != nil {
			return p
		}
		u.Path = path.Join(u.Path, filepath.ToSlash(rel))
		return u.String()
	}
	return &experiment.ReportLinks{HTML: link(w.HTML), Markdown: link(w.Markdown), JUnit: link(w.JUnit), JSON: link(w.JSON), Chart: link(w.Chart)}
}
