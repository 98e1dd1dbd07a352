package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/workflows"
)

// A two-step plan end to end through the CLI, on the real dev server and
// the demo shop: a dry run shows each step's blast radius and targets;
// `gameday gameday start --wait` runs the pre-flight, then the two
// experiments one after the other with the plan's pause between them,
// prints them as they go and exits 0; `gameday note` and `gameday pause`
// and `resume` take the game-day id while it runs: the note is kept, the
// pause reaches the running step (its toxic removed) and holds the plan
// before the second step until resumed; every step's run is its own
// workflow, found in visibility by GamedayGameDay=<plan> with the game day
// as its parent and the game day recorded on its result; `gameday gameday
// status` and `gameday status` both describe the game day.
func TestGameDayPlanThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The plan's name is the search attribute's value: unique per test
	// run, since every test shares one Temporal namespace.
	plan := fmt.Sprintf("it-plan-%d", time.Now().UnixNano()%1e9)
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`apiVersion: gameday/v1
kind: GameDay
metadata:
  name: `+plan+`
spec:
  environment: demo
  people: {owner: dana, reporter: tess}
  preflight:
    - name: order-error-rate
      query: (sum(rate(http_requests_total{service="order",status=~"5.."}[10s])) or vector(0)) / clamp_min(sum(rate(http_requests_total{service="order"}[10s])), 1e-9)
      op: "<"
      threshold: 0.001
  pause_between: 2s
  steps:
    - name: latency
      scenario: demo-inventory-latency-harmless
      set: {duration: 6s}
    - name: latency-again
      scenario: demo-inventory-latency-harmless
      set: {duration: 3s, inventory-latency.latency: 10ms}
`), 0o644))

	// The dry run: what each step would hit, nothing injected.
	out, stderr, code := e.gameday(ctx, "gameday", "start", file, "--dry-run")
	require.Equal(t, 0, code, "dry run exits 0; stderr: %s\nout: %s", stderr, out)
	assert.Contains(t, out, "1. latency: demo-inventory-latency-harmless\n     blast radius: toxiproxy proxy=inventory, 1 fault(s) held 6s")
	assert.Contains(t, out, "outcome: dry-run (2 passed")
	assert.Contains(t, out, `target: inventory-latency: toxiproxy proxy "inventory"`, "the targets define resolved")
	assert.Empty(t, e.faults(), "a dry run injects nothing")

	// The real game day, followed by the CLI while the test adds a note.
	id := "gameday-day-" + plan
	type result struct {
		out, stderr string
		code        int
	}
	done := make(chan result, 1)
	go func() {
		o, se, c := e.gameday(ctx, "gameday", "start", file, "--wait", "--id", id)
		done <- result{o, se, c}
	}()
	// Once the first step holds its fault: a note on the game day, then a
	// pause. The pause is passed on to the running step, which removes its
	// toxic and holds; the plan holds before its next step until resumed,
	// and the resume reaches the step too.
	stepID := workflows.GameDayStepID(id, "latency")
	require.Eventually(t, func() bool {
		r, err := e.status(ctx, stepID)
		return err == nil && r.Phase == experiment.PhaseObserve
	}, 2*time.Minute, 50*time.Millisecond, "the first step never held its fault")
	nout, nerr, ncode := e.gameday(ctx, "note", id, "p95 flat while the latency is on", "--user", "tess")
	require.Equal(t, 0, ncode, "note: %s", nerr)
	assert.Contains(t, nout, "noted (1 so far): tess ")
	pout, perr, pcode := e.gameday(ctx, "pause", id, "--reason", "look at the dashboards", "--by", "dana", "--timeout", "2m")
	require.Equal(t, 0, pcode, "pause: %s", perr)
	assert.Equal(t, "game day paused (running latency)\n  step latency ("+stepID+"): ok\n", pout)
	require.Eventually(t, func() bool { return len(e.faults()) == 0 }, time.Minute, 100*time.Millisecond, "the step's toxic is removed while paused")
	time.Sleep(3 * time.Second) // longer than the plan's pause between steps
	st, err := control.GameDayStatus(ctx, e.client, id)
	require.NoError(t, err)
	_, paused := st.Paused()
	assert.True(t, paused)
	assert.Equal(t, gameday.StepRunning, st.Steps[0].Status, "the paused step holds")
	assert.Equal(t, gameday.StepPending, st.Steps[1].Status, "the plan holds while paused")
	rout, rerr, rcode := e.gameday(ctx, "resume", id, "--by", "dana")
	require.Equal(t, 0, rcode, "resume: %s", rerr)
	assert.Equal(t, "game day resumed (running latency)\n  step latency ("+stepID+"): ok\n", rout)

	res := <-done
	require.Equal(t, 0, res.code, "every step passed: exit 0; stderr: %s\nout: %s", res.stderr, res.out)
	for _, want := range []string{
		"started game day " + id,
		"pre-flight  order-error-rate = ",
		fmt.Sprintf("step %-24s started  %s-latency\n", "latency", id),
		fmt.Sprintf("step %-24s passed\n", "latency"),
		fmt.Sprintf("step %-24s started  %s-latency-again\n", "latency-again", id),
		fmt.Sprintf("step %-24s passed\n", "latency-again"),
		"note (observation) by tess: p95 flat while the latency is on",
		"paused by dana: look at the dashboards",
		"pause resumed dana",
		"outcome: passed (2 passed, 0 not passed, 0 skipped, 0 to go)",
	} {
		assert.Contains(t, res.out, want)
	}

	// The game day's status, as JSON and as text (both commands).
	out, stderr, code = e.gameday(ctx, "gameday", "status", id, "--json")
	require.Equal(t, 0, code, stderr)
	var r gameday.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Passed, r.Outcome)
	require.Len(t, r.Steps, 2)
	first, second := r.Steps[0], r.Steps[1]
	for i, s := range r.Steps {
		assert.Equal(t, workflows.GameDayStepID(id, []string{"latency", "latency-again"}[i]), s.WorkflowID)
		assert.True(t, s.Passed, "%s: %s", s.Name, s.Reason)
		assert.Contains(t, s.UIURL, s.WorkflowID)
	}
	assert.False(t, second.Started.Before(first.Ended.Add(2*time.Second)), "the plan's pause between steps: %s then %s", first.Ended, second.Started)
	require.Len(t, r.Preflight, 1)
	assert.True(t, r.Preflight[0].Healthy)
	require.Len(t, r.Notes, 1)
	assert.Equal(t, "tess", r.Notes[0].By)
	require.Len(t, r.Pauses, 1)
	assert.Equal(t, experiment.PauseResumed, r.Pauses[0].Ended)
	assert.Equal(t, "dana", r.Pauses[0].EndedBy)
	assert.False(t, second.Started.Before(r.Pauses[0].To), "the second step started after the resume")
	assert.Equal(t, "duration=3s (scenario: 20s)", second.Overrides[0].String())
	cr, err := e.status(ctx, stepID)
	require.NoError(t, err)
	require.Len(t, cr.Pauses, 1, "the game day's pause reached the step")
	assert.Equal(t, "look at the dashboards", cr.Pauses[0].Reason)
	assert.Equal(t, experiment.PauseResumed, cr.Pauses[0].Ended)
	out, _, code = e.gameday(ctx, "status", id)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "game day "+id+": plan "+plan+" in demo")
	assert.Contains(t, out, "note: ")

	// The worker wrote the game day's report when it ended: a section per
	// experiment with its guards' charts, a JUnit suite with a case per
	// experiment; `gameday report GAMEDAY` renders the same later.
	require.NotNil(t, r.Report, "the game day's report")
	require.Empty(t, r.Report.Error)
	assert.Contains(t, out, "report: "+r.Report.HTML)
	html, err := os.ReadFile(r.Report.HTML)
	require.NoError(t, err)
	for _, s := range r.Steps {
		assert.Contains(t, string(html), s.WorkflowID)
	}
	assert.GreaterOrEqual(t, strings.Count(string(html), "<svg"), 2, "the experiments' guard charts")
	assert.Contains(t, string(html), "p95 flat while the latency is on", "the game day's own note")
	junit, err := os.ReadFile(r.Report.JUnit)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(junit), "<testcase "), "a case per experiment: %s", junit)
	assert.Contains(t, string(junit), `<testsuite name="`+id+`"`)
	out, stderr, code = e.gameday(ctx, "report", id, "--format", "junit")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 2, strings.Count(out, "<testcase "), "gameday report GAMEDAY: %s", out)
	out, stderr, code = e.gameday(ctx, "report", id, "--format", "md")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, first.WorkflowID)
	assert.Contains(t, out, second.WorkflowID)

	// Each step is its own run, the game day its parent (visibility is
	// eventually consistent), and it knows its game day.
	var children []string
	require.Eventually(t, func() bool {
		runs, err := control.GameDayRuns(ctx, e.client, id)
		children = children[:0]
		for _, r := range runs {
			children = append(children, r.WorkflowID)
		}
		return err == nil && len(children) == 2
	}, time.Minute, 200*time.Millisecond, "visibility lists the game day's runs (last: %v)", children)
	slices.Sort(children)
	assert.Equal(t, []string{first.WorkflowID, second.WorkflowID}, children)
	for _, c := range children {
		cr, err := e.status(ctx, c)
		require.NoError(t, err)
		assert.Equal(t, id, cr.GameDay)
		assert.Equal(t, experiment.Passed, cr.Outcome)
		in, err := control.Input(ctx, e.client, c)
		require.NoError(t, err)
		assert.Equal(t, id, in.GameDay)
	}
	// GamedayGameDay=<plan> lists every game day of the plan and every run
	// they started: here the dry run's and the real one's, three each.
	q := fmt.Sprintf("%s = %q", workflows.SAGameDay.GetName(), plan)
	listed := func() []string {
		resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q})
		if err != nil {
			return nil
		}
		var ids []string
		for _, x := range resp.GetExecutions() {
			ids = append(ids, x.GetExecution().GetWorkflowId())
		}
		return ids
	}
	require.Eventually(t, func() bool { return len(listed()) == 6 }, time.Minute, 200*time.Millisecond, "%s lists both game days and their runs", q)
	ids := listed()
	for _, want := range []string{id, first.WorkflowID, second.WorkflowID} {
		assert.Contains(t, ids, want)
	}
	assert.Empty(t, e.faults(), "nothing left injected")
	assert.True(t, strings.HasPrefix(r.UIURL, e.cfg.UIURL))
	recordHistoryTo(t, e, id, "GAMEDAY_RECORD_GAMEDAY_HISTORY")
}
