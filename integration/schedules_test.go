package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/workflows"
)

// scheduleDir writes scenario files next to a schedules file (which names
// them relative to itself) and returns the directory.
func (e *env) scheduleDir(files map[string]func(*scenarios.Scenario)) string {
	dir := e.t.TempDir()
	for name, adjust := range files {
		sc, err := scenarios.Find("demo-inventory-latency-harmless")
		require.NoError(e.t, err)
		adjust(&sc)
		writeYAML(e.t, filepath.Join(dir, name), sc)
	}
	return dir
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
}

// finished waits for a run and returns its result.
func (e *env) finished(ctx context.Context, workflowID string) experiment.Result {
	e.t.Helper()
	var r experiment.Result
	require.NoError(e.t, e.client.GetWorkflow(ctx, workflowID, "").Get(ctx, &r), "run %s", workflowID)
	return r
}

// listed polls `gameday schedule list` until the set shows n schedules
// (the list reads visibility, which lags a moment behind a create).
func (e *env) listed(ctx context.Context, set string, n int) map[string]control.ScheduleStatus {
	e.t.Helper()
	var got map[string]control.ScheduleStatus
	require.Eventually(e.t, func() bool {
		out, stderr, code := e.gameday(ctx, "schedule", "list", "--set", set, "--json")
		require.Equal(e.t, 0, code, stderr)
		var list []control.ScheduleStatus
		require.NoError(e.t, json.Unmarshal([]byte(out), &list), out)
		got = map[string]control.ScheduleStatus{}
		for _, s := range list {
			got[s.Name] = s
		}
		return len(list) == n
	}, time.Minute, 300*time.Millisecond, "schedule list never showed %d schedules of %s: %v", n, set, got)
	return got
}

// triggered runs `gameday schedule trigger` and returns the run it started.
func (e *env) triggered(ctx context.Context, name string) string {
	e.t.Helper()
	out, stderr, code := e.gameday(ctx, "schedule", "trigger", name)
	require.Equal(e.t, 0, code, "trigger %s: %s\n%s", name, stderr, out)
	_, rest, ok := strings.Cut(out, ": started ")
	require.True(e.t, ok, out)
	wid, _, _ := strings.Cut(rest, "\n")
	return wid
}

// A schedules file through the CLI on the real server: applied (created),
// applied again (nothing changes), listed, triggered (the run is prepared
// as `gameday run` prepares it and passes; a failing one pauses its
// schedule), edited (one updated, one removed, a schedule that is not the
// file's left alone, a blackout window added while open: the run it covers
// is aborted with the window's reason, and the next run inside it refused
// in define), and an entry taking a foreign schedule's id refused.
func TestSchedulesApplyEditTrigger(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	set := fmt.Sprintf("it-sched-%d", queueSeq.Add(1))
	dir := e.scheduleDir(map[string]func(*scenarios.Scenario){
		"short.yaml": shorten(3 * time.Second),
		"long.yaml":  shorten(90 * time.Second),
		"broken.yaml": func(sc *scenarios.Scenario) {
			// Several series: define refuses it at once (non-retryable).
			sc.Spec.Guards[0].Query = "http_requests_total"
			shorten(3 * time.Second)(sc)
		},
	})
	file := filepath.Join(dir, "team.yaml")
	v1 := `apiVersion: gameday/v1
kind: Schedules
metadata: {name: ` + set + `}
spec:
  schedules:
    - {name: keep, scenario: short.yaml, every: 1h}
    - {name: long, scenario: long.yaml, every: 2h, pause_on_failure: true}
    - {name: edit, scenario: short.yaml, overrides: {latency: 10ms}, cron: ["0 3 * * *"], time_zone: Europe/Berlin}
    - {name: drop, scenario: short.yaml, every: 3h}
    - {name: fail, scenario: broken.yaml, every: 1h, pause_on_failure: true}
  blackouts:
    - {name: past, from: "2020-11-10", to: "2020-11-12", schedules: [keep]}
`
	writeFile(t, file, v1)

	// Not the file's: in its id space, but without the set's memo.
	intruder := schedules.ScheduleID(set, "intruder")
	_, err := e.client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: intruder, Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}},
		Action: &client.ScheduleWorkflowAction{Workflow: workflows.SweepWorkflowName, TaskQueue: e.cfg.TaskQueue, Args: []any{activities.SweepInput{DryRun: true}}},
		Paused: true, Note: "made by hand",
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = e.client.ScheduleClient().GetHandle(context.Background(), intruder).Delete(context.Background())
	})
	t.Cleanup(func() { _, _, _ = e.gameday(context.Background(), "schedule", "delete", set) })

	out, stderr, code := e.gameday(ctx, "schedule", "apply", file, "--dry-run")
	require.Equal(t, 3, code, "a dry run with changes to make exits 3: %s\n%s", stderr, out)
	assert.Contains(t, out, "dry run, nothing changed; apply would leave: 6 created")
	out, stderr, code = e.gameday(ctx, "schedule", "apply", file)
	require.Equal(t, 0, code, "%s\n%s", stderr, out)
	assert.Contains(t, out, "applied: 6 created")
	assert.Regexp(t, `create\s+gameday-schedule\.`+set+`\.edit\s+scenario short\.yaml \(latency=10ms\); cron 0 3 \* \* \* Europe/Berlin`, out)
	out, stderr, code = e.gameday(ctx, "schedule", "apply", file)
	require.Equal(t, 0, code, "%s\n%s", stderr, out)
	assert.Contains(t, out, "nothing to change: 6 unchanged", "the second apply changes nothing")
	out, _, code = e.gameday(ctx, "schedule", "apply", file, "--dry-run")
	assert.Equal(t, 0, code, "nothing to change: %s", out)

	list := e.listed(ctx, set, 6)
	assert.Equal(t, schedules.KindBlackout, list["past"].Kind)
	assert.Equal(t, "scenario short.yaml (latency=10ms)", list["edit"].What)
	require.NotEmpty(t, list["edit"].Next)
	assert.Equal(t, 3, list["edit"].Next[0].In(mustZone(t, "Europe/Berlin")).Hour(), "cron read in the entry's time zone")
	assert.Nil(t, list["keep"].Last)

	// Triggered: the run is what `gameday run` would start, and passes.
	wid := e.triggered(ctx, set+"/keep")
	assert.True(t, strings.HasPrefix(wid, schedules.ScheduleID(set, "keep")+"-"), wid)
	r := e.finished(ctx, wid)
	assert.Equal(t, experiment.Passed, r.Outcome, "%s %s", r.Error, r.AbortReason)
	in, err := control.Input(ctx, e.client, wid)
	require.NoError(t, err)
	assert.Equal(t, "schedule "+set+"/keep", in.StartedBy)
	assert.Equal(t, filepath.Join(dir, "short.yaml"), in.Source, "read relative to the schedules file")
	assert.Empty(t, e.faults())

	// A failing run pauses its schedule (pause_on_failure), saying why.
	fwid := e.triggered(ctx, set+"/fail")
	fr := e.finished(ctx, fwid)
	assert.Equal(t, experiment.Failed, fr.Outcome)
	var paused control.ScheduleStatus
	require.Eventually(t, func() bool {
		paused = e.listed(ctx, set, 6)["fail"]
		return paused.Paused
	}, 30*time.Second, 300*time.Millisecond)
	assert.Contains(t, paused.Note, "paused on failure: run "+fwid+" failed: define: guard p95-latency")

	// A long run, still going when a blackout window opens.
	lwid := e.triggered(ctx, "gameday-schedule."+set+".long")
	e.waitPhase(ctx, lwid, experiment.PhaseObserve)

	// Edited: edit's cron changes, drop goes, a window that is open now
	// covers long and edit.
	v2 := strings.Replace(v1, `cron: ["0 3 * * *"]`, `cron: ["0 4 * * *"]`, 1)
	v2 = strings.Replace(v2, "    - {name: drop, scenario: short.yaml, every: 3h}\n", "", 1)
	v2 += "    - {name: now, weekly: {from: \"00:00\", to: \"24:00\"}, schedules: [long, edit]}\n"
	writeFile(t, file, v2)
	out, stderr, code = e.gameday(ctx, "schedule", "apply", file)
	require.Equal(t, 0, code, "%s\n%s", stderr, out)
	assert.Regexp(t, `update\s+gameday-schedule\.`+set+`\.edit\s+.*cron 0 4 \* \* \*.*\(definition changed\)`, out)
	assert.Regexp(t, `delete\s+gameday-schedule\.`+set+`\.drop\s+\(no longer in the file\)`, out)
	assert.Regexp(t, `left alone\s+`+strings.ReplaceAll(intruder, ".", `\.`)+`\s+\(not owned by a gameday schedules file\)`, out)
	assert.Regexp(t, `unchanged\s+gameday-schedule\.`+set+`\.fail\s+.*\(paused: paused on failure: .* by hand, left as is\)`, out)
	assert.Contains(t, out, "1 created, 2 updated, 1 deleted, 3 unchanged, 1 left alone (not this file's)")
	assert.Contains(t, out, "blackout window now is open now: its runs still going are being aborted")

	lr := e.finished(ctx, lwid)
	assert.Equal(t, experiment.Aborted, lr.Outcome)
	assert.Regexp(t, `blackout window now opened \(until \d{4}-\d\d-\d\dT00:00:00Z\)`, lr.AbortReason)
	assert.Empty(t, e.faults(), "the aborted run's fault is gone")
	d, err := e.client.ScheduleClient().GetHandle(ctx, schedules.ScheduleID(set, "long")).Describe(ctx)
	require.NoError(t, err)
	assert.False(t, d.Schedule.State.Paused, "stopped by its blackout window on purpose, not a failure: %s", d.Schedule.State.Note)
	_, err = e.client.ScheduleClient().GetHandle(ctx, schedules.ScheduleID(set, "drop")).Describe(ctx)
	assert.Error(t, err, "drop was deleted")
	d, err = e.client.ScheduleClient().GetHandle(ctx, intruder).Describe(ctx)
	require.NoError(t, err, "the schedule that is not the file's is still there")
	assert.Equal(t, "made by hand", d.Schedule.State.Note)

	// Inside the window, edit's run is refused in define, saying until when.
	ewid := e.triggered(ctx, set+"/edit")
	er := e.finished(ctx, ewid)
	assert.Equal(t, experiment.Failed, er.Outcome)
	assert.Regexp(t, `^define: blackout window now until \d{4}-`, er.Error)
	assert.Empty(t, er.Postmortem, "a skipped run files no postmortem")
	list = e.listed(ctx, set, 6)
	require.NotNil(t, list["edit"].Last)
	assert.Equal(t, "failed", list["edit"].Last.Outcome)
	assert.Contains(t, list["edit"].Last.Reason, "blackout window now until")
	assert.Empty(t, list["long"].Next, "in the window's zone, its skip calendars leave long no next run")
	assert.NotEmpty(t, list["edit"].Next, "in another zone only define keeps edit's runs out of the window")
	out, _, _ = e.gameday(ctx, "schedule", "list", "--set", set)
	assert.Regexp(t, `last: `+strings.ReplaceAll(wid, ".", `\.`)+` at .*: passed`, out)

	// An entry that would take the foreign schedule's id: refused, nothing changed.
	v3 := strings.Replace(v2, "name: fail,", "name: intruder,", 1)
	writeFile(t, file, v3)
	out, stderr, code = e.gameday(ctx, "schedule", "apply", file)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, stderr, "nothing applied: schedule "+intruder+" exists and no gameday schedules file owns it")
	_, err = e.client.ScheduleClient().GetHandle(ctx, schedules.ScheduleID(set, "fail")).Describe(ctx)
	assert.NoError(t, err, "fail was not deleted")

	// The schedule and pause commands.
	out, stderr, code = e.gameday(ctx, "schedule", "unpause", set+"/fail", "--note", "fixed the guard", "--by", "sam")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "unpaused gameday-schedule."+set+".fail (unpaused by sam: fixed the guard)")
	out, stderr, code = e.gameday(ctx, "schedule", "pause", "fail", "--note", "hold", "--by", "sam")
	require.Equal(t, 0, code, "a bare name unique among the files' schedules: %s", stderr)
	assert.Contains(t, out, "paused gameday-schedule."+set+".fail (paused by sam: hold)")

	if blackouts := e.runsOf(ctx, schedules.BlackoutID(set, "now")); assert.Len(t, blackouts, 1) {
		recordHistoryTo(t, e, blackouts[0], "GAMEDAY_RECORD_BLACKOUT_HISTORY")
	}
}

// runsOf lists the workflows a schedule started.
func (e *env) runsOf(ctx context.Context, scheduleID string) []string {
	d, err := e.client.ScheduleClient().GetHandle(ctx, scheduleID).Describe(ctx)
	require.NoError(e.t, err)
	var out []string
	for _, a := range d.Info.RecentActions {
		if a.StartWorkflowResult != nil {
			out = append(out, a.StartWorkflowResult.WorkflowID)
		}
	}
	return out
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}
