package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/sli"
)

// FinishedRuns reads an ended experiment run: its result and the guards it
// was started with (the report's range queries need them).
type FinishedRuns interface {
	Finished(ctx context.Context, workflowID, runID string) (experiment.Result, []sli.Guard, error)
}

// GameDayReportInput is a game day that has ended (its result: the report
// shows its outcome, steps, notes and pauses) and the experiments it
// started.
type GameDayReportInput struct {
	GameDay gameday.Result   `json:"game_day"`
	Steps   []GameDayStepRun `json:"steps"`
}

// GameDayStepRun is one experiment a game day started.
type GameDayStepRun struct {
	Step       string `json:"step"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// GameDayReportResult: where the report is (Error says what could not be
// read or written; the game day's outcome stands either way).
type GameDayReportResult struct {
	Report *experiment.ReportLinks `json:"report,omitempty"`
}

// GameDayReport writes a game day's report when it ends, as `gameday
// report GAMEDAY` renders it (a section per experiment, a JUnit suite with
// a case per experiment), under the reports dir next to the experiments'
// own, and tells the notifier the game day ended with the link. An
// experiment that cannot be read is left out and named in the links'
// Error; nothing here fails the game day.
func (a *Activities) GameDayReport(ctx context.Context, in GameDayReportInput) (GameDayReportResult, error) {
	var res GameDayReportResult
	// A game day that started no step (its pre-flight refused) gets its
	// report too: its outcome, why, and the pre-flight's values.
	if a.ReportDir != "" {
		res.Report = a.writeGameDayReport(ctx, in)
	}
	a.pauseGameDayOnFailure(ctx, in.GameDay)
	g := in.GameDay
	text := fmt.Sprintf("game day %s (%s) ended %s", g.WorkflowID, g.Plan, g.Outcome)
	if g.Reason != "" {
		text += ": " + g.Reason
	}
	url := g.UIURL
	if res.Report != nil && res.Report.HTML != "" {
		text += "; report " + res.Report.HTML
		url = res.Report.HTML
	}
	if a.Notifier != nil {
		if err := a.Notifier.Notify(ctx, notify.Message{WorkflowID: g.WorkflowID, Scenario: g.Plan, Event: "gameday-finished", Text: text, URL: url}); err != nil {
			a.log().Warn("game day end not notified", "workflow_id", g.WorkflowID, "error", err)
		}
	}
	return res, nil
}

// GameDayReportBudget bounds a game day's report: each experiment's range
// queries (bounded each) plus reading its result, capped at 3 minutes.
func GameDayReportBudget(steps int) time.Duration {
	return min(reportBudget+time.Duration(steps)*reportQueryTimeout*2, 3*time.Minute)
}

func (a *Activities) writeGameDayReport(ctx context.Context, in GameDayReportInput) *experiment.ReportLinks {
	ctx, cancel := context.WithTimeout(ctx, GameDayReportBudget(len(in.Steps)))
	defer cancel()
	now := time.Now()
	var reps []*report.Report
	var errs []error
	for _, s := range in.Steps {
		if a.Finished == nil {
			errs = append(errs, errors.New("this worker cannot read the experiments' results (no Temporal client)"))
			break
		}
		r, guards, err := a.Finished.Finished(ctx, s.WorkflowID, s.RunID)
		if err != nil {
			errs = append(errs, fmt.Errorf("step %s: %w", s.Step, err))
			continue
		}
		reps = append(reps, a.buildReport(ctx, r, guards, now, report.Links{}))
	}
	links := &experiment.ReportLinks{}
	if len(reps) > 0 || len(in.Steps) == 0 {
		// Its run key, like a run's report dir: a game day id used again
		// (--id) writes next to the earlier report, never over it.
		dir := filepath.Join(a.ReportDir, reportDirName(in.GameDay.WorkflowID, in.GameDay.RunID))
		files, err := report.WriteGameDay(dir, report.GameDay{ID: in.GameDay.WorkflowID, Result: &in.GameDay}, reps, now)
		if err != nil {
			errs = append(errs, err)
		}
		links = a.reportLinks(files)
	}
	if err := errors.Join(errs...); err != nil {
		links.Error = err.Error()
		a.log().Warn("game day report not written in full; its outcome stands", "workflow_id", in.GameDay.WorkflowID, "error", err)
	}
	return links
}

// pauseGameDayOnFailure pauses the schedule that started a game day that
// did not pass, as pauseOnFailure does for a run: a step that did not pass
// has paused it already from its own report (then this changes nothing),
// but a game day whose pre-flight found the service unhealthy started no
// step and would fail again at every firing. One the freeze or a blackout
// refused, or a blackout window stopped, pauses nothing: in its pre-flight,
// or (a plan without pre-flight guards) in its steps' define.
func (a *Activities) pauseGameDayOnFailure(ctx context.Context, g gameday.Result) {
	if killswitch.Skipped(g.Reason) || killswitch.BlackedOut(g.Reason) || stepsRefused(g) {
		return
	}
	a.pauseScheduleOnFailure(ctx, "game day", g.WorkflowID, g.RunID, g.Outcome, g.Reason)
}

// stepsRefused: the game day failed only because the freeze or a blackout
// window refused its steps in their define (a plan without pre-flight
// guards meets them there), or a window stopped them. Each step's own
// report paused nothing for that (killswitch.Skipped); nor does the game
// day, or its schedule stays paused once the freeze is lifted.
func stepsRefused(g gameday.Result) bool {
	refused := false
	for _, s := range g.Steps {
		if s.Status != gameday.StepDone || s.Passed {
			continue
		}
		// gameday.Verdict's reason: "<outcome>: <the run's error>".
		_, why, _ := strings.Cut(s.Reason, ": ")
		if !killswitch.Skipped(why) && !killswitch.BlackedOut(why) {
			return false
		}
		refused = true
	}
	return refused
}
