package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// Pause and resume through the CLI on the real dev server and demo shop:
// the toxic is gone from toxiproxy while the run is paused and back (under
// a fresh id) after the resume, the run observes what was left of its hold
// and passes; refusals, a note, `status` and `run --wait` say what
// happened. GAMEDAY_RECORD_PAUSE_HISTORY records the history for the
// replay test.
func TestPauseResumeThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const hold = 8 * time.Second
	_, path := e.scenario("demo-inventory-latency-harmless", shorten(hold))
	id := fmt.Sprintf("gameday-it-pause-%d", time.Now().UnixNano())

	type cli struct {
		out, stderr string
		code        int
	}
	done := make(chan cli, 1)
	go func() {
		out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--id", id)
		done <- cli{out, stderr, code}
	}()

	e.waitPhase(ctx, id, experiment.PhaseObserve)
	first := faultIDs(e.faults())
	require.Len(t, first, 1, "the toxic is in place while observing")

	_, stderr, code := e.gameday(ctx, "resume", id)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "resume refused")
	assert.Contains(t, stderr, "run is not paused (phase observe): nothing to resume")

	out, stderr, code := e.gameday(ctx, "pause", id, "--reason", "checking the dashboards", "--timeout", "2m")
	require.Equal(t, 0, code, "pause: %s", stderr)
	assert.Contains(t, out, "paused (phase paused): removing "+first[0])
	require.Eventually(t, func() bool { return len(e.faults()) == 0 }, time.Minute, 100*time.Millisecond, "the toxic is removed while paused")

	_, stderr, code = e.gameday(ctx, "pause", id, "--reason", "again")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already paused since")
	out, stderr, code = e.gameday(ctx, "note", id, "fallback never kicked in", "--action", "--user", "dana")
	require.Equal(t, 0, code, "note: %s", stderr)
	assert.Contains(t, out, "noted (1 so far): [action] dana")
	out, _, code = e.gameday(ctx, "status", id)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "phase paused")
	assert.Contains(t, out, "PAUSED: checking the dashboards")
	assert.Contains(t, out, "notes:\n  - [action] dana")
	time.Sleep(time.Second) // still paused: nothing comes back on its own
	assert.Empty(t, e.faults(), "nothing is re-injected before the resume")

	out, stderr, code = e.gameday(ctx, "continue", id, "--by", "dana")
	require.Equal(t, 0, code, "resume: %s", stderr)
	assert.Contains(t, out, "resumed after")
	again := chaos.ResumedFaultID(first[0], 1)
	require.Eventually(t, func() bool {
		ids := faultIDs(e.faults())
		return len(ids) == 1 && ids[0] == again
	}, time.Minute, 100*time.Millisecond, "the toxic is back under a fresh id after the resume")

	var res cli
	select {
	case res = <-done:
	case <-ctx.Done():
		t.Fatal("run --wait did not return")
	}
	require.Equal(t, 0, res.code, "run --wait: %s\n%s", res.stderr, res.out)
	assert.Contains(t, res.out, "paused")
	assert.Contains(t, res.out, "pauses:\n  - paused ")
	assert.Contains(t, res.out, "ended resumed after")
	assert.Contains(t, res.out, "re-injected as "+again)

	r, err := e.status(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, experiment.Passed, r.Outcome)
	assert.Equal(t, []string{first[0], again}, r.Injected)
	assert.ElementsMatch(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults(), "nothing left behind")
	require.Len(t, r.Pauses, 1)
	p := r.Pauses[0]
	assert.Equal(t, experiment.PauseResumed, p.Ended)
	assert.Equal(t, "dana", p.EndedBy)
	assert.Equal(t, []string{first[0]}, p.Faults)
	assert.Equal(t, []string{again}, p.Reinjected)
	assert.False(t, p.Removed.IsZero())
	assert.Equal(t, 2*time.Minute, p.Timeout)
	// The hold served before the pause counts: less than the whole hold is
	// left, and the observation after the resume lasted at least that.
	assert.Greater(t, p.Remaining, time.Duration(0))
	assert.Less(t, p.Remaining, hold)
	var observes []experiment.Phase
	for _, ph := range r.Phases {
		if ph.Name == experiment.PhaseObserve {
			observes = append(observes, ph)
		}
	}
	require.Len(t, observes, 2, "observed before the pause and after the resume: %v", r.Phases)
	assert.Equal(t, experiment.StatusPaused, observes[0].Status)
	assert.GreaterOrEqual(t, observes[1].Ended.Sub(observes[1].Started), p.Remaining-time.Second)
	require.Len(t, r.Notes, 1)
	assert.Equal(t, experiment.NoteAction, r.Notes[0].Kind)
	recordHistoryTo(t, e, id, "GAMEDAY_RECORD_PAUSE_HISTORY")
}

func faultIDs(fs []chaos.Injected) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.FaultID)
	}
	return out
}

// The drift rule on the real dev server and demo shop: the p95 guard
// declares a baseline (its own query averaged over the window Prometheus
// has); 20 ms of latency keeps it far inside its 0.8 s threshold but far
// beyond 15 % of the baseline, so the run pauses (the toxic removed) and
// asks a person; nobody answers within the scenario's pause_timeout and
// the run ends aborted with that reason. A dry run of the same scenario
// whose baseline is "the earlier runs" then finds that run's define value
// through visibility. GAMEDAY_RECORD_DRIFT_HISTORY records the first run.
func TestDriftPauseTimesOutThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	name := fmt.Sprintf("demo-drift-%d", time.Now().UnixNano()%1_000_000_000) // only this test's runs count as earlier runs
	const p95 = `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="order"}[10s])))`
	_, path := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		shorten(20 * time.Second)(sc)
		sc.Metadata.Name = name
		sc.Spec.PauseTimeout = duration.Duration(3 * time.Second)
		sc.Spec.Guards[0].Baseline = &sli.Baseline{Query: "avg_over_time(" + p95 + "[5m:1s])"}
	})

	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "exit 3: did not pass; stderr: %s\n%s", stderr, out)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Aborted, r.Outcome)
	assert.Nil(t, r.Breach, "no breach: the value stayed inside its threshold")
	require.Len(t, r.DriftBaselines, 1)
	d := r.DriftBaselines[0]
	require.Empty(t, d.Off, "the baseline resolved: %s", d)
	assert.True(t, d.Value.Finite() && d.Value > 0, "baseline %s", d.Value)
	assert.Equal(t, 15.0, d.Limit)
	require.Len(t, r.Pauses, 1)
	p := r.Pauses[0]
	assert.True(t, p.Drift)
	assert.Equal(t, experiment.DriftPauser, p.By)
	assert.Contains(t, p.Reason, "guard p95-latency drifted")
	assert.Contains(t, p.Reason, "still inside its threshold <= 0.8")
	assert.Equal(t, experiment.PauseTimeout, p.Ended)
	assert.False(t, p.Removed.IsZero(), "the toxic was removed for the pause")
	assert.Equal(t, "paused for 3s without an answer (pause by drift rule: "+p.Reason+")", r.AbortReason)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Len(t, r.Injected, 1, "nothing re-injected")
	assert.Empty(t, e.faults())
	require.NotEmpty(t, r.Postmortem)
	pm, err := os.ReadFile(r.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(pm), "## Drift rules")
	assert.Contains(t, string(pm), "| drift rule (drift) |")
	recordHistoryTo(t, e, r.WorkflowID, "GAMEDAY_RECORD_DRIFT_HISTORY")

	// The earlier runs as a baseline: the run above, once visibility lists it.
	var first float64
	for _, v := range r.Baseline {
		if v.Guard == "p95-latency" {
			first = float64(v.Value)
		}
	}
	query := fmt.Sprintf("WorkflowType = 'Experiment' AND GamedayScenario = '%s' AND ExecutionStatus = 'Completed'", name)
	require.Eventually(t, func() bool {
		resp, err := e.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.GetExecutions()) == 1
	}, time.Minute, 200*time.Millisecond, "visibility lists the first run")
	_, path = e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		sc.Metadata.Name = name
		sc.Spec.Guards[0].Baseline = &sli.Baseline{Runs: 5}
	})
	out, stderr, code = e.gameday(ctx, "run", path, "--dry-run", "--json")
	require.Equal(t, 0, code, "dry run: %s\n%s", stderr, out)
	var dry experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &dry), out)
	require.Len(t, dry.DriftBaselines, 1)
	assert.Equal(t, sli.DriftBaseline{Guard: "p95-latency", Source: "mean of the last 5 runs' define values", Value: sli.Float(first), Limit: 15, Runs: 1}, dry.DriftBaselines[0])
}
