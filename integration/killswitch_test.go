package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/telemetry"
	"github.com/gameday/gameday/worker"
	"github.com/gameday/gameday/workflows"
)

// The kill switch through the CLI: frozen, a run started by hand and a
// scheduled one are refused in define saying who froze and why (the
// schedule is not paused for it, no postmortem is filed), the switch is
// shown by status and survives a worker restart; unfrozen, both go through.
func TestFreezeRefusesNewAndScheduledRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	set := fmt.Sprintf("it-freeze-%d", queueSeq.Add(1))
	// Three runs go at once once unfrozen (by hand, scheduled, a scheduled
	// game day's step), all on the inventory link.
	dir := e.scheduleDir(map[string]func(*scenarios.Scenario){"short.yaml": func(sc *scenarios.Scenario) {
		shorten(3 * time.Second)(sc)
		sc.Spec.Overlap = scenarios.OverlapAllow
	}})
	writeFile(t, filepath.Join(dir, "day.yaml"), `apiVersion: gameday/v1
kind: GameDay
metadata: {name: `+set+`}
spec:
  environment: demo
  people: {owner: dana}
  preflight:
    - name: order-error-rate
      query: (sum(rate(http_requests_total{service="order",status=~"5.."}[10s])) or vector(0)) / clamp_min(sum(rate(http_requests_total{service="order"}[10s])), 1e-9)
      op: "<"
      threshold: 0.001
  steps:
    - {name: latency, scenario: short.yaml}
`)
	file := filepath.Join(dir, "freeze.yaml")
	writeFile(t, file, `apiVersion: gameday/v1
kind: Schedules
metadata: {name: `+set+`}
spec:
  schedules:
    - {name: nightly, scenario: short.yaml, cron: ["0 2 * * *"], pause_on_failure: true}
    - {name: day, plan: day.yaml, cron: ["0 3 * * sat"]}
`)
	t.Cleanup(func() { _, _, _ = e.gameday(context.Background(), "schedule", "delete", set) })
	out, stderr, code := e.gameday(ctx, "schedule", "apply", file)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `create\s+gameday-schedule\.`+set+`\.day\s+plan day\.yaml; cron 0 3 \* \* sat UTC`, out)

	out, stderr, code = e.gameday(ctx, "freeze", "on", "--reason", "payment incident INC-7", "--user", "sam")
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `^FROZEN: frozen by sam at \S+Z: payment incident INC-7`, out)
	_, stderr, code = e.gameday(ctx, "freeze", "on", "--reason", "me too", "--user", "dana")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already frozen by sam", "a second freeze does not hide who froze first")
	out, _, code = e.gameday(ctx, "status")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "FROZEN: frozen by sam")

	// By hand: refused in define, exit 3, the reason says who and why.
	path := filepath.Join(dir, "short.yaml")
	out, stderr, code = e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "%s\n%s", stderr, out)
	assert.Contains(t, stderr, "warning: frozen by sam")
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Failed, r.Outcome)
	assert.Regexp(t, `^define: frozen by sam at \S+Z: payment incident INC-7$`, r.Error)
	assert.Empty(t, r.Injected)
	assert.Empty(t, r.Postmortem, "a refused run files no postmortem")
	out, _, code = e.gameday(ctx, "status", r.WorkflowID)
	require.Equal(t, 0, code)
	first, _, _ := strings.Cut(out, "\n")
	assert.Contains(t, first, "FROZEN: new runs are refused (frozen by sam", "the first line, even for a run id")

	// Scheduled: refused the same way; pause on failure does not pause it.
	wid := e.triggered(ctx, set+"/nightly")
	sr := e.finished(ctx, wid)
	assert.Equal(t, experiment.Failed, sr.Outcome)
	assert.Regexp(t, `^define: frozen by sam at \S+Z: payment incident INC-7$`, sr.Error)
	d, err := e.client.ScheduleClient().GetHandle(ctx, schedules.ScheduleID(set, "nightly")).Describe(ctx)
	require.NoError(t, err)
	assert.False(t, d.Schedule.State.Paused, "a skipped run is not a failure: %s", d.Schedule.State.Note)

	// A scheduled game day: its pre-flight refuses it, no step starts.
	gid := e.triggered(ctx, set+"/day")
	var g gameday.Result
	require.NoError(t, e.client.GetWorkflow(ctx, gid, "").Get(ctx, &g))
	assert.Equal(t, experiment.Failed, g.Outcome)
	assert.Regexp(t, `^pre-flight: frozen by sam at \S+Z: payment incident INC-7; nothing was started$`, g.Reason)
	// By hand: warned, refused the same way, exit 3.
	out, stderr, code = e.gameday(ctx, "gameday", "start", filepath.Join(dir, "day.yaml"), "--wait")
	require.Equal(t, 3, code, "%s\n%s", stderr, out)
	assert.Contains(t, stderr, "warning: frozen by sam")
	assert.Contains(t, out, "nothing was started")

	// The switch is Temporal state, not the worker's: a new worker sees it,
	// and its freeze gauge (the dashboard's "Change freeze") reads 1.
	e.worker.Stop()
	sig, err := worker.NewSignals(config.Telemetry{})
	require.NoError(t, err)
	t.Cleanup(func() { sig.Close() })
	e.signals = sig
	e.startWorker()
	out, _, code = e.gameday(ctx, "freeze", "status")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "FROZEN: frozen by sam")
	assert.Equal(t, 1.0, freezeGauge(t, sig), "gameday_freeze_active while frozen")

	out, stderr, code = e.gameday(ctx, "freeze", "off", "--reason", "INC-7 resolved", "--user", "dana")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "not frozen: new runs start")
	assert.Contains(t, out, "last change: dana unfroze at")
	require.Eventually(t, func() bool { return freezeGauge(t, sig) == 0 }, 15*time.Second, 500*time.Millisecond,
		"gameday_freeze_active reads 0 once unfrozen (cached for a few seconds)")
	// Unfrozen: all three go through (at once: the scenario allows overlap).
	wid = e.triggered(ctx, set+"/nightly")
	gid = e.triggered(ctx, set+"/day")
	out, stderr, code = e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 0, code, "unfrozen, the run goes through: %s\n%s", stderr, out)
	sr = e.finished(ctx, wid)
	assert.Equal(t, experiment.Passed, sr.Outcome, "%s", sr.Error)
	require.NoError(t, e.client.GetWorkflow(ctx, gid, "").Get(ctx, &g))
	assert.Equal(t, experiment.Passed, g.Outcome, "%s", g.Reason)
	assert.Empty(t, e.faults())
	recordHistoryTo(t, e, workflows.KillSwitchWorkflowID(e.cfg.TaskQueue), "GAMEDAY_RECORD_KILLSWITCH_HISTORY")
}

// `gameday abort --all` with three runs going: all three are aborted
// through their abort updates and end aborted with the reason, their faults
// gone; the output says what each answered.
func TestAbortAllThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		shorten(2 * time.Minute)(sc)
		sc.Spec.Overlap = scenarios.OverlapAllow // three runs on one link
	})
	var ids []string
	for range 3 {
		out, stderr, code := e.gameday(ctx, "run", path, "--json")
		require.Equal(t, 0, code, stderr)
		var started struct {
			WorkflowID string `json:"workflow_id"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &started), out)
		ids = append(ids, started.WorkflowID)
	}
	for _, id := range ids {
		e.waitPhase(ctx, id, experiment.PhaseObserve)
	}
	require.Len(t, e.faults(), 3)

	var out string
	require.Eventually(t, func() bool { // visibility lags a moment behind a start
		var stderr string
		var code int
		out, stderr, code = e.gameday(ctx, "status")
		require.Equal(t, 0, code, stderr)
		return strings.Contains(out, "3 run(s) going")
	}, 30*time.Second, 300*time.Millisecond, out)
	out, stderr, code := e.gameday(ctx, "abort", "--all", "--reason", "pager went off", "--by", "sam")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "3 aborted, 0 refused")
	for _, id := range ids {
		assert.Regexp(t, id+`\s+Experiment\s+aborted during observe; recovering`, out)
	}
	for _, id := range ids {
		r := e.finished(ctx, id)
		assert.Equal(t, experiment.Aborted, r.Outcome, id)
		assert.Equal(t, "aborted by sam: pager went off", r.AbortReason)
	}
	assert.Empty(t, e.faults(), "every fault removed")
	assert.Eventually(t, func() bool {
		out, _, code = e.gameday(ctx, "abort", "--all", "--reason", "again")
		return code == 0 && strings.Contains(out, "no experiment or game day is running on task queue "+e.cfg.TaskQueue)
	}, 30*time.Second, 300*time.Millisecond, "nothing left to abort: %s", out)
}

// freezeGauge is the worker's gameday_freeze_active as a scrape sees it
// (-1: not exported in this scrape).
func freezeGauge(t *testing.T, sig *worker.Signals) float64 {
	t.Helper()
	mfs, err := sig.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == telemetry.MetricFreezeActive && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}
