package integration

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/workflows"
)

func shorten(hold time.Duration) func(*scenarios.Scenario) {
	return func(sc *scenarios.Scenario) {
		for i := range sc.Spec.Faults {
			sc.Spec.Faults[i].Duration = duration.Duration(hold)
		}
	}
}

// A 1.2 s latency on the inventory link breaches the P95 ≤ 0.8 s guard: the
// run ends aborted with the breach recorded, the toxic is gone, verify is
// green afterwards and a postmortem file is written. Driven through the CLI
// as a user would (`run --wait --json`, exit code 3).
func TestLatencyBreachAbortsThroughCLI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-inventory-latency", nil)

	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 3, code, "exit code 3 = did not pass; stderr: %s", stderr)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)

	assert.Equal(t, experiment.Aborted, r.Outcome)
	require.NotNil(t, r.Breach, "breach recorded")
	assert.Equal(t, "p95-latency", r.Breach.Guard)
	assert.Greater(t, r.Breach.Value, 0.8)
	assert.Equal(t, 0.8, r.Breach.Threshold)
	assert.Contains(t, r.AbortReason, "p95-latency")
	assert.Len(t, r.Injected, 1)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults(), "no toxic left behind")
	assert.Equal(t, "verify", r.Phases[len(r.Phases)-2].Name)
	assert.Equal(t, experiment.StatusDone, r.Phases[len(r.Phases)-2].Status, "steady state back after recovery")
	for _, v := range r.Verify {
		assert.True(t, v.Healthy, "verify guard %s = %g", v.Guard, v.Value)
	}
	assert.Contains(t, r.UIURL, r.WorkflowID)
	require.NotEmpty(t, r.Postmortem)
	pm, err := os.ReadFile(r.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(pm), "aborted (p95-latency)")
	assert.Contains(t, string(pm), r.Breach.Query)
	// The run leased the proxy (the entity started with its first acquire)
	// and released it once cleanup was over.
	v, err := e.client.QueryWorkflow(ctx, workflows.LeasesWorkflowID(e.cfg.TaskQueue), "", workflows.QueryLeases)
	require.NoError(t, err, "the lease entity was started by the run")
	var leases workflows.LeasesState
	require.NoError(t, v.Get(&leases))
	assert.Empty(t, leases.Leases, "the lease is released after recover")
	recordHistory(t, e, r.WorkflowID)
	recordHistoryTo(t, e, workflows.LeasesWorkflowID(e.cfg.TaskQueue), "GAMEDAY_RECORD_LEASES_HISTORY")
}

// The same scenario with a harmless 20 ms latency passes: exit 0, no
// postmortem, nothing left injected.
func TestHarmlessLatencyPasses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-inventory-latency-harmless", shorten(10*time.Second))

	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	require.Equal(t, 0, code, "stderr: %s\nout: %s", stderr, out)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Passed, r.Outcome)
	assert.Nil(t, r.Breach)
	assert.Empty(t, r.Postmortem)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults())
	var names []string
	for _, p := range r.Phases {
		names = append(names, p.Name)
		assert.Equal(t, experiment.StatusDone, p.Status, "phase %s", p.Name)
		assert.False(t, p.Ended.Before(p.Started))
	}
	assert.Equal(t, []string{"define", "inject", "observe", "recover", "verify", "report"}, names)
}

// SIGKILL the worker while the fault is held; a new worker picks the run
// up, the fault is removed and the outcome recorded.
func TestWorkerKilledDuringObserve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", shorten(20*time.Second))

	w1 := e.workerProcess()
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseObserve)
	require.Len(t, e.faults(), 1, "fault held while observing")

	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()
	time.Sleep(2 * time.Second) // the dead worker's guard is now unheartbeated
	require.Len(t, e.faults(), 1, "the fault outlives the worker until the run recovers it (or its TTL)")

	e.workerProcess()
	r := e.result(ctx, run)
	assert.Equal(t, experiment.Passed, r.Outcome, "reason: %s %s", r.AbortReason, r.Error)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults(), "nothing left injected")
}

// A human abort during observe ends the run as aborted at once, with the
// fault removed; `gameday abort` is the CLI path.
func TestHumanAbortDuringObserve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", shorten(5*time.Minute))
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseObserve)

	out, stderr, code := e.gameday(ctx, "abort", run.GetID(), "--reason", "pager went off", "--by", "alice")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "abort accepted during observe")

	r := e.result(ctx, run)
	assert.Equal(t, experiment.Aborted, r.Outcome)
	assert.Equal(t, "aborted by alice: pager went off", r.AbortReason)
	assert.Nil(t, r.Breach)
	assert.Empty(t, e.faults())
	assert.Less(t, r.Ended.Sub(r.Started), 2*time.Minute, "did not hold the 5 minute fault")

	// Aborting a finished run is refused with a reason.
	_, stderr, code = e.gameday(ctx, "abort", run.GetID(), "--reason", "again")
	assert.Equal(t, 1, code)
	assert.NotEmpty(t, stderr)
}

// Sign-off by a role the scenario does not require is rejected with a
// reason; a gate that is never completed expires before anything is
// injected.
func TestSignoffWrongRoleAndTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	sc, _ := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		sc.Spec.Signoff.Roles = []string{"dev", "sre"}
		sc.Spec.Signoff.Timeout = duration.Duration(8 * time.Second)
	})
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseSignoff)

	_, stderr, code := e.gameday(ctx, "signoff", run.GetID(), "--role", "test", "--user", "tess")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `role "test" is not required`)

	out, stderr, code := e.gameday(ctx, "signoff", run.GetID(), "--role", "dev", "--user", "dana")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "pending: sre")

	_, stderr, code = e.gameday(ctx, "signoff", run.GetID(), "--role", "dev", "--user", "dave")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already signed by dana")

	r := e.result(ctx, run)
	assert.Equal(t, experiment.Expired, r.Outcome)
	assert.Contains(t, r.AbortReason, "missing sre")
	assert.Empty(t, r.Injected, "nothing injected before sign-off")
	assert.Empty(t, e.faults())
	require.Len(t, r.Signoffs, 1)
	assert.Equal(t, "dana", r.Signoffs[0].User)
	assert.NotEmpty(t, r.Postmortem, "an expired run gets a postmortem")
}

// --dry-run stops after define and shows the targets and baseline values.
func TestDryRunShowsTargetsAndBaseline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-inventory-latency", nil)
	out, stderr, code := e.gameday(ctx, "run", path, "--dry-run", "--json")
	require.Equal(t, 0, code, stderr)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.DryRun, r.Outcome)
	require.Len(t, r.Targets, 1)
	assert.Contains(t, r.Targets[0], `"inventory"`)
	assert.Contains(t, r.Targets[0], e.shop.InventoryProxyAddr())
	require.Len(t, r.Baseline, 2)
	for _, b := range r.Baseline {
		assert.True(t, b.Healthy, "%s = %g", b.Guard, b.Value)
	}
	assert.Empty(t, r.Injected)
	assert.Empty(t, e.faults())

	// Human-readable form shows the same.
	out, _, code = e.gameday(ctx, "run", path, "--dry-run")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "outcome: dry-run")
	assert.True(t, strings.Contains(out, "p95-latency ="), out)
}

// The guard polls inside one heartbeating activity, so the history of a run
// does not grow with the hold: a 60 s observation records exactly as many
// events as a 10 s one, far under the 200-event budget for a 10-minute hold.
func TestHistoryDoesNotGrowWithHold(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	short, _ := e.scenario("demo-inventory-latency-harmless", shorten(10*time.Second))
	long, _ := e.scenario("demo-inventory-latency-harmless", shorten(60*time.Second))
	long.Metadata.Name = "demo-inventory-latency-harmless-long"
	// Both run at once on one link: without this the target lease refuses
	// the second.
	short.Spec.Overlap, long.Spec.Overlap = scenarios.OverlapAllow, scenarios.OverlapAllow
	r1, r2 := e.start(ctx, short), e.start(ctx, long)
	res1, res2 := e.result(ctx, r1), e.result(ctx, r2)
	require.Equal(t, experiment.Passed, res1.Outcome, res1.Error)
	require.Equal(t, experiment.Passed, res2.Outcome, res2.Error)
	n1, n2 := e.historyLen(ctx, r1.GetID()), e.historyLen(ctx, r2.GetID())
	t1, t2 := e.historyTypes(ctx, r1.GetID()), e.historyTypes(ctx, r2.GetID())
	t.Logf("history events: 10s hold %d, 60s hold %d\n10s: %v\n60s: %v", n1, n2, t1, t2)
	// Every command (activities, timers, markers, search attributes) is the
	// same for both holds; only how the server batches events into workflow
	// tasks may differ by a task or two, whatever the hold.
	for _, wt := range []string{"WorkflowTaskScheduled", "WorkflowTaskStarted", "WorkflowTaskCompleted"} {
		delete(t1, wt)
		delete(t2, wt)
	}
	assert.Equal(t, t1, t2, "the same commands whatever the hold")
	assert.LessOrEqual(t, n2-n1, 6, "at most two more workflow tasks")
	assert.Less(t, n2, 200)
}

// With every worker dead, a fault still does not outlive its hold plus the
// TTL margin: the demo shop's toxiproxy drops it by its deadline. A worker
// that comes back later finishes the run, and recover finds nothing left.
func TestFaultExpiresWithNoWorkerAlive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const hold = 3 * time.Second
	sc, _ := e.scenario("demo-inventory-latency-harmless", shorten(hold))

	w1 := e.workerProcess()
	run := e.start(ctx, sc)
	e.waitPhase(ctx, run.GetID(), experiment.PhaseObserve)
	faults := e.faults()
	require.Len(t, faults, 1)
	deadline := faults[0].Expires
	require.WithinDuration(t, time.Now().Add(hold+10*time.Second), deadline, 3*time.Second, "TTL = hold + 10 s margin")
	require.NoError(t, w1.Process.Signal(syscall.SIGKILL))
	_, _ = w1.Process.Wait()

	require.Eventually(t, func() bool { return len(e.faults()) == 0 }, time.Until(deadline)+5*time.Second, 100*time.Millisecond,
		"toxic still present after its deadline %s", deadline)
	assert.WithinDuration(t, deadline, time.Now(), 2*time.Second, "removed at its deadline, not before or long after")

	e.workerProcess()
	r := e.result(ctx, run)
	assert.Equal(t, experiment.Passed, r.Outcome, "reason: %s %s", r.AbortReason, r.Error)
	require.Len(t, r.RecoverLog, 1)
	assert.True(t, r.RecoverLog[0].AlreadyGone, "recover finds the expired fault already gone")
}
