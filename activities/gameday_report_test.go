package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/sli"
)

// finishedRuns is the Temporal client's view of ended runs.
type finishedRuns map[string]experiment.Result

func (f finishedRuns) Finished(_ context.Context, workflowID, _ string) (experiment.Result, []sli.Guard, error) {
	r, ok := f[workflowID]
	if !ok {
		return r, nil, errors.New("run " + workflowID + " ended terminated without a result")
	}
	return r, reportGuards, nil
}

// A game day's report is written when it ends: every experiment it
// started that can be read, in order, one JUnit suite; an experiment that
// cannot be read is named in the report's error, and the notifier hears
// the game day ended with the report's link.
func TestGameDayReportWritesEveryStepAndNotifies(t *testing.T) {
	h := newHarness(t)
	a, b := reportRun(experiment.Passed), reportRun(experiment.Aborted)
	a.WorkflowID, b.WorkflowID = "gd-1-latency", "gd-1-timeout"
	h.acts.Ranges, h.acts.ReportDir = &rangeQuerier{}, t.TempDir()
	h.acts.Finished = finishedRuns{a.WorkflowID: a, b.WorkflowID: b}
	day := gameday.Result{WorkflowID: "gd-1", RunID: "run-1", Plan: "shop-day", Outcome: experiment.Failed, Reason: "1 of 3 step(s) did not pass",
		Notes: []experiment.Note{{Text: "fallback | served", By: "tess", Kind: experiment.NoteObservation, At: a.Started}},
		Steps: []gameday.StepResult{{Name: "latency", Status: gameday.StepDone}, {Name: "later", Status: gameday.StepSkipped, Reason: "step timeout did not pass (on_failure: stop)"}}}
	in := GameDayReportInput{GameDay: day, Steps: []GameDayStepRun{
		{Step: "latency", WorkflowID: a.WorkflowID, RunID: "r1"},
		{Step: "timeout", WorkflowID: b.WorkflowID, RunID: "r2"},
		{Step: "gone", WorkflowID: "gd-1-gone", RunID: "r3"},
	}}
	v, err := h.env.ExecuteActivity(h.acts.GameDayReport, in)
	require.NoError(t, err)
	var res GameDayReportResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Report)
	assert.Equal(t, filepath.Join(h.acts.ReportDir, "gd-1_run-1", "report.html"), res.Report.HTML, "<game day id>_<run id>, as a run's")
	assert.Contains(t, res.Report.Error, "step gone: run gd-1-gone ended terminated without a result")
	html, err := os.ReadFile(res.Report.HTML)
	require.NoError(t, err)
	assert.Less(t, strings.Index(string(html), a.WorkflowID), strings.Index(string(html), b.WorkflowID), "in the plan's order")
	assert.Contains(t, string(html), "fallback | served", "the game day's own notes")
	assert.Contains(t, string(html), "step timeout did not pass (on_failure: stop)", "the skipped step and why")
	md, err := os.ReadFile(res.Report.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), `| tess | observation | fallback \| served |`)
	junit, err := os.ReadFile(res.Report.JUnit)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(junit), "<testcase "))
	assert.Contains(t, string(junit), `name="gd-1"`)
	require.Len(t, h.sent, 1)
	assert.Equal(t, "gameday-finished", h.sent[0].Event)
	assert.Equal(t, "game day gd-1 (shop-day) ended failed: 1 of 3 step(s) did not pass; report "+res.Report.HTML, h.sent[0].Text)
	assert.Equal(t, res.Report.HTML, h.sent[0].URL)

	// The same game day id used again (--id) keeps the first report.
	again := in
	again.GameDay.RunID, again.Steps = "run-2", in.Steps[:1]
	v, err = h.env.ExecuteActivity(h.acts.GameDayReport, again)
	require.NoError(t, err)
	var res2 GameDayReportResult
	require.NoError(t, v.Get(&res2))
	require.NotNil(t, res2.Report)
	assert.NotEqual(t, res.Report.HTML, res2.Report.HTML)
	junit, err = os.ReadFile(res.Report.JUnit)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(junit), "<testcase "), "the first game day's report is still its own")
}

// No reports dir: nothing written, the end is still announced (with the
// Temporal UI link).
func TestGameDayReportWithoutReportsDir(t *testing.T) {
	h := newHarness(t)
	v, err := h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: gameday.Result{WorkflowID: "gd-2", Plan: "p", Outcome: experiment.Failed, Reason: "pre-flight: not healthy", UIURL: "http://ui/gd-2"}})
	require.NoError(t, err)
	var res GameDayReportResult
	require.NoError(t, v.Get(&res))
	assert.Nil(t, res.Report)
	require.Len(t, h.sent, 1)
	assert.Equal(t, "http://ui/gd-2", h.sent[0].URL)
}

// A scheduled game day that did not pass pauses its schedule (pause on
// failure): one whose pre-flight found the service unhealthy started no
// step, and nothing else would. One the freeze refused pauses nothing.
func TestGameDayReportPausesTheScheduleOnFailure(t *testing.T) {
	h := newHarness(t)
	sch := &fakeSchedules{}
	h.acts.Schedules = sch
	unhealthy := gameday.Result{WorkflowID: "gameday-schedule.team.day-1", RunID: "r", Plan: "p", Outcome: experiment.Failed,
		Reason: "pre-flight: not healthy: errors = 0.3; nothing was started"}
	_, err := h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: unhealthy})
	require.NoError(t, err)
	require.Len(t, sch.paused, 1)
	assert.Equal(t, "paused on failure: game day gameday-schedule.team.day-1 failed: pre-flight: not healthy: errors = 0.3; nothing was started", sch.paused[0])

	frozen := unhealthy
	frozen.Reason = "pre-flight: frozen by sam at 2026-12-07T08:00:00Z: INC-7; nothing was started"
	_, err = h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: frozen})
	require.NoError(t, err)
	passed := unhealthy
	passed.Outcome, passed.Reason = experiment.Passed, ""
	_, err = h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: passed})
	require.NoError(t, err)
	assert.Len(t, sch.paused, 1, "a frozen or passed game day pauses nothing")
}

// A scheduled plan without pre-flight guards meets the freeze in each
// step's define: its steps were refused, nothing failed, and its schedule
// is not paused (it would stay paused once the freeze is lifted). A step
// that really failed next to a refused one still pauses it.
func TestGameDayReportRefusedStepsPauseNothing(t *testing.T) {
	h := newHarness(t)
	sch := &fakeSchedules{}
	h.acts.Schedules = sch
	frozen := killswitch.State{Frozen: true, By: "sam", Reason: "INC-7", Since: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}.Refusal()
	_, refusedWhy := gameday.Verdict(experiment.Result{Outcome: experiment.Failed, Error: "define: " + frozen}, false)
	day := gameday.Result{WorkflowID: "gameday-schedule.team.day-1", RunID: "r", Plan: "p", Outcome: experiment.Failed,
		Reason: "1 of 2 step(s) did not pass: a (" + refusedWhy + "); step a did not pass (on_failure: stop)",
		Steps: []gameday.StepResult{
			{Name: "a", Status: gameday.StepDone, Outcome: experiment.Failed, Reason: refusedWhy},
			{Name: "b", Status: gameday.StepSkipped, Reason: "step a did not pass (on_failure: stop)"},
		}}
	_, err := h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: day})
	require.NoError(t, err)
	assert.Empty(t, sch.paused, "steps the freeze refused pause nothing")

	_, failedWhy := gameday.Verdict(experiment.Result{Outcome: experiment.Failed, Error: "inject: proxy gone"}, false)
	day.Steps[1] = gameday.StepResult{Name: "b", Status: gameday.StepDone, Outcome: experiment.Failed, Reason: failedWhy}
	_, err = h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: day})
	require.NoError(t, err)
	assert.Len(t, sch.paused, 1, "a step that failed pauses it")
}

// A game day whose pre-flight refused started no step and still gets its
// report: its outcome, why, and the pre-flight's values; the notifier
// links it.
func TestGameDayReportOfAGameDayThatStartedNoStep(t *testing.T) {
	h := newHarness(t)
	h.acts.ReportDir = t.TempDir()
	day := gameday.Result{WorkflowID: "gd-3", RunID: "r", Plan: "p", Outcome: experiment.Failed,
		Reason:    "pre-flight: not healthy: errors = 0.3; nothing was started",
		Preflight: []experiment.GuardValue{{Guard: "errors", Query: "rate(x[1m])", Value: 0.3}},
		Steps:     []gameday.StepResult{{Name: "a", Status: gameday.StepSkipped, Reason: "pre-flight: not healthy: errors = 0.3; nothing was started"}}}
	v, err := h.env.ExecuteActivity(h.acts.GameDayReport, GameDayReportInput{GameDay: day})
	require.NoError(t, err)
	var res GameDayReportResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Report)
	assert.Empty(t, res.Report.Error)
	html, err := os.ReadFile(res.Report.HTML)
	require.NoError(t, err)
	assert.Contains(t, string(html), `id="gameday-preflight"`)
	assert.Contains(t, string(html), "<td>errors</td><td>0.3</td><td><strong>no</strong></td>")
	md, err := os.ReadFile(res.Report.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| errors | 0.3 | **no** |")
	require.Len(t, h.sent, 1)
	assert.Equal(t, res.Report.HTML, h.sent[0].URL)
}
