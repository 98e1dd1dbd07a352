package integration

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/worker"
)

// Chaos on gameday itself. Environment:
//
//	GAMEDAY_CHAOS_SELF_RUNS    randomized worker-kill runs (default 4; make chaos-self: 20)
//	GAMEDAY_CHAOS_SELF_SEED    seed of the math/rand source (default: the clock; printed)
//	GAMEDAY_CHAOS_SELF_REPORT  write the Markdown report to this file
//	GAMEDAY_CHAOS_SELF_LOGS    keep the worker/server logs in this folder
const (
	chaosRunsEnv   = "GAMEDAY_CHAOS_SELF_RUNS"
	chaosSeedEnv   = "GAMEDAY_CHAOS_SELF_SEED"
	chaosReportEnv = "GAMEDAY_CHAOS_SELF_REPORT"

	// Failpoint delays of the worker that is going to be killed, so that
	// inject and recover last long enough for a kill to land inside them
	// (activities call failpoint.Sleep before the back-end call). The fresh
	// worker that finishes the run has none: what is measured after the
	// kill is gameday's own recovery, not the test's stretch.
	chaosInjectDelay  = 2 * time.Second
	chaosRecoverDelay = 2 * time.Second
	// How long a run may take before the test calls it stuck (a liveness
	// bound, far above any normal run; timings are reported, not asserted).
	chaosRunDeadline = 8 * time.Minute
)

var chaosFailpoints = fmt.Sprintf("GAMEDAY_FAILPOINTS=inject-delay=%s,recover-delay=%s", chaosInjectDelay, chaosRecoverDelay)

const (
	kindWorkerKill  = "worker SIGKILL"
	kindTemporal    = "Temporal restart"
	kindToxiproxyUp = "toxiproxy API down"
)

// chaosRun is one run: what was drawn, what happened.
type chaosRun struct {
	N      int
	Kind   string
	Breach bool // the breaching 1.2 s latency (expected aborted) instead of the harmless 20 ms (passed)
	Faults int
	Hold   time.Duration
	Target string        // phase aimed at
	Delay  time.Duration // into the target phase
	Down   time.Duration // Temporal / toxiproxy API outage

	WorkflowID string
	Landed     string // phase the status query reported just before the kill
	AtKill     int    // toxics present at the kill
	FirstGone  time.Duration
	LastGone   time.Duration
	Outcome    experiment.Outcome
	Reason     string
	Left       int // toxics on the API after the run closed
	Listed     int // gameday faults the back-end's List returns after the run closed
	Reaped     int // recover found the fault already gone (its TTL reaped it)
	Phases     string
	Took       time.Duration // start → close of the run
	Longest    string        // its longest phase and how long it took
	Timeouts   string        // retried activities and timed-out workflow tasks, from the history
	// HoldEnd is when the faults present at the kill were due to be
	// released (latest toxic deadline minus the TTL margin); Overstay is how
	// long after it the last of them was removed (negative: before it).
	HoldEnd  time.Time
	Overstay *time.Duration
	Notes    []string
	Problems []string
}

func (r *chaosRun) expected() experiment.Outcome {
	if r.Breach {
		return experiment.Aborted
	}
	return experiment.Passed
}

func (r *chaosRun) scenarioName() string {
	if r.Breach {
		return "demo-inventory-latency"
	}
	return "demo-inventory-latency-harmless"
}

var chaosPhases = []string{experiment.PhaseDefine, experiment.PhaseInject, experiment.PhaseObserve, experiment.PhaseRecover, experiment.PhaseVerify}

var phaseOrder = map[string]int{
	experiment.PhaseDefine: 0, experiment.PhaseSignoff: 1, experiment.PhaseInject: 2, experiment.PhaseObserve: 3,
	experiment.PhaseRecover: 4, experiment.PhaseVerify: 5, experiment.PhaseReport: 6,
}

// drawRun picks a randomized worker-kill run. Every draw happens up front,
// in order, so a seed replays the same plan however the runs behave.
func drawRun(rng *rand.Rand, n int) *chaosRun {
	r := &chaosRun{N: n, Kind: kindWorkerKill, Breach: rng.Intn(3) == 0, Faults: 1 + rng.Intn(2)}
	r.Hold = 4*time.Second + time.Duration(rng.Int63n(int64(4*time.Second))).Round(100*time.Millisecond)
	if r.Breach {
		r.Hold = 20 * time.Second // the breach ends observe after ~3 s anyway
	}
	r.Target = chaosPhases[rng.Intn(len(chaosPhases))]
	var window time.Duration
	switch r.Target {
	case experiment.PhaseDefine:
		window = 150 * time.Millisecond
	case experiment.PhaseInject:
		window = chaosInjectDelay + 100*time.Millisecond
	case experiment.PhaseObserve:
		window = r.Hold
		if r.Breach {
			window = 3 * time.Second
		}
	case experiment.PhaseRecover:
		window = chaosRecoverDelay + 100*time.Millisecond
	case experiment.PhaseVerify:
		window = 60 * time.Millisecond // harmless: one evaluation
		if r.Breach {
			window = 5 * time.Second // waits for the 10 s rate windows to forget the latency
		}
	}
	r.Delay = time.Duration(rng.Int63n(int64(window))).Round(time.Millisecond)
	return r
}

func chaosScenario(e *env, r *chaosRun) scenarios.Scenario {
	sc, _ := e.scenario(r.scenarioName(), func(sc *scenarios.Scenario) {
		sc.Spec.Faults[0].Duration = duration.Duration(r.Hold)
		if r.Faults == 2 {
			sc.Spec.Faults = append(sc.Spec.Faults, scenarios.Fault{
				Name: "inventory-latency-upstream", Action: "latency", Duration: duration.Duration(r.Hold),
				Params: map[string]any{"latency": "5ms", "jitter": "0ms", "toxicity": 1.0, "stream": "upstream"},
			})
		}
	})
	return sc
}

// TestChaosSelf SIGKILLs gameday's own worker at random points of random
// runs against the demo shop, restarts the Temporal dev server while a fault
// is held, and takes the toxiproxy API away during recover. After every run:
// the run closed with a recorded outcome and no fault is left behind. Times
// (kill → fault removed) are reported, not asserted.
func TestChaosSelf(t *testing.T) {
	t.Parallel()
	runs := 4
	if v, err := strconv.Atoi(os.Getenv(chaosRunsEnv)); err == nil && v >= 0 {
		runs = v
	}
	seed := time.Now().UnixNano()
	if v, err := strconv.ParseInt(os.Getenv(chaosSeedEnv), 10, 64); err == nil {
		seed = v
	}
	t.Logf("chaos-self: seed %d (replay with %s=%d), %d randomized runs", seed, chaosSeedEnv, seed, runs)
	rng := rand.New(rand.NewSource(seed))
	plan := make([]*chaosRun, 0, runs+2)
	for i := 1; i <= runs; i++ {
		plan = append(plan, drawRun(rng, i))
	}
	restart := &chaosRun{N: runs + 1, Kind: kindTemporal, Faults: 1, Hold: 15 * time.Second, Target: experiment.PhaseObserve,
		Delay: time.Second + time.Duration(rng.Int63n(int64(3*time.Second))).Round(time.Millisecond),
		Down:  2*time.Second + time.Duration(rng.Int63n(int64(3*time.Second))).Round(time.Millisecond)}
	apiDown := &chaosRun{N: runs + 2, Kind: kindToxiproxyUp, Faults: 1 + rng.Intn(2), Hold: 6 * time.Second, Target: experiment.PhaseRecover,
		Down: 3*time.Second + time.Duration(rng.Int63n(int64(3*time.Second))).Round(time.Millisecond)}

	w := newChaosWorld(t)
	started := time.Now()
	var done []*chaosRun
	t.Run("worker-kill", func(t *testing.T) {
		e := w.env(t, nil, "")
		for _, r := range plan {
			w.workerKillRun(t, e, r)
			done = append(done, r)
		}
	})
	t.Run("temporal-restart", func(t *testing.T) {
		w.temporalRestartRun(t, restart)
		done = append(done, restart)
	})
	t.Run("toxiproxy-api-down", func(t *testing.T) {
		w.apiDownRun(t, apiDown)
		done = append(done, apiDown)
	})
	report := chaosReport(seed, runs, done, time.Since(started))
	t.Log("\n" + report)
	if path := os.Getenv(chaosReportEnv); path != "" {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(report), 0o644))
		t.Logf("report written to %s", path)
	}
}

// workerKillRun: start a worker with failpoint delays, follow the run to its
// target phase, wait the drawn delay, SIGKILL the worker, start a fresh one
// and wait for the run to close.
func (w *chaosWorld) workerKillRun(t *testing.T, e *env, r *chaosRun) {
	sc := chaosScenario(e, r)
	w.waitSteady(t, sc, 2*time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), chaosRunDeadline)
	defer cancel()
	w1 := w.spawnWorker(t, e, fmt.Sprintf("run%02d-w1", r.N), chaosFailpoints)
	run := e.start(ctx, sc)
	r.WorkflowID = run.GetID()
	runStart := time.Now()

	// Follow the phase with the status query (answered by w1).
	for {
		st, err := queryStatus(ctx, e, r.WorkflowID)
		if err == nil && st.Phase != "" && phaseOrder[st.Phase] >= phaseOrder[r.Target] {
			if st.Phase != r.Target {
				r.Notes = append(r.Notes, fmt.Sprintf("first seen in %s, not %s", st.Phase, r.Target))
			}
			break
		}
		if ctx.Err() != nil {
			r.problem(t, "never reached phase %s: %v", r.Target, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(r.Delay)
	r.Landed = "?"
	if st, err := queryStatus(ctx, e, r.WorkflowID); err == nil {
		r.Landed = st.Phase
	}
	killedAt := time.Now()
	_ = w1.cmd.Process.Kill()
	tw := w.watchToxics(killedAt)
	r.HoldEnd = holdEnd(ctx, e)
	w1.kill()
	if closedBefore(ctx, e, r.WorkflowID, killedAt) {
		r.Landed = "closed"
	}
	w2 := w.spawnWorker(t, e, fmt.Sprintf("run%02d-w2", r.N))
	w.finish(t, ctx, e, r, tw, runStart, w1, w2)
}

// temporalRestartRun: a run on a dev server of its own with a SQLite file;
// mid-observation the server is stopped, kept down a few seconds and started
// again on the same port and file. The worker stays up throughout.
func (w *chaosWorld) temporalRestartRun(t *testing.T, r *chaosRun) {
	ctx, cancel := context.WithTimeout(context.Background(), chaosRunDeadline)
	defer cancel()
	port, err := devstack.FreePort()
	require.NoError(t, err)
	opts := devstack.TemporalOptions{ToolsDir: toolsDir, DBFile: filepath.Join(t.TempDir(), "temporal.db"), Port: port, UIPort: -1,
		Log: logFile(w.logDir, "temporal-restart-1.log")}
	srv, err := devstack.StartTemporal(ctx, opts)
	require.NoError(t, err)
	current := srv
	t.Cleanup(func() { current.Stop(10 * time.Second) })
	c, err := srv.Dial(ctx)
	require.NoError(t, err)
	require.NoError(t, worker.EnsureSearchAttributes(ctx, c, srv.Namespace))
	c.Close()

	e := w.env(t, srv, "")
	sc := chaosScenario(e, r)
	w.waitSteady(t, sc, 2*time.Minute)
	w1 := w.spawnWorker(t, e, "temporal-restart-w1")
	run := e.start(ctx, sc)
	r.WorkflowID = run.GetID()
	runStart := time.Now()
	e.waitPhase(ctx, r.WorkflowID, experiment.PhaseObserve)
	time.Sleep(r.Delay)
	r.Landed = experiment.PhaseObserve
	if st, err := queryStatus(ctx, e, r.WorkflowID); err == nil {
		r.Landed = st.Phase
	}
	stoppedAt := time.Now()
	tw := w.watchToxics(stoppedAt)
	r.HoldEnd = holdEnd(ctx, e)
	if err := srv.Stop(30 * time.Second); err != nil {
		r.Notes = append(r.Notes, "server stop: "+err.Error())
	}
	pause := r.Down
	time.Sleep(pause)
	opts.Log = logFile(w.logDir, "temporal-restart-2.log")
	srv2, err := devstack.StartTemporal(ctx, opts)
	if err != nil {
		tw.Stop()
		r.problem(t, "restart the dev server on the same SQLite file: %v", err)
		return
	}
	current = srv2
	r.Down = time.Since(stoppedAt).Round(10 * time.Millisecond) // stop + pause + start until ready
	r.Notes = append(r.Notes, fmt.Sprintf("server unavailable %s (graceful stop, %s pause, start on the same port and SQLite file until ready)", r.Down, pause))
	var workers []*workerProc
	if w1.exited() {
		r.Notes = append(r.Notes, fmt.Sprintf("the worker exited while the server was down (%v); a fresh one finishes the run", w1.err))
		workers = append(workers, w.spawnWorker(t, e, "temporal-restart-w2"))
	}
	w.finish(t, ctx, e, r, tw, runStart, append([]*workerProc{w1}, workers...)...)
}

// apiDownRun: workers reach the toxiproxy API through a TCP proxy that is
// switched off just before observe ends and on again a few seconds after
// recover started: recover must retry until the API is back.
func (w *chaosWorld) apiDownRun(t *testing.T, r *chaosRun) {
	ctx, cancel := context.WithTimeout(context.Background(), chaosRunDeadline)
	defer cancel()
	px := newSwitchProxy(t, strings.TrimPrefix(w.shop.ToxiproxyURL(), "http://"))
	e := w.env(t, nil, px.URL())
	sc := chaosScenario(e, r)
	w.waitSteady(t, sc, 2*time.Minute)
	w1 := w.spawnWorker(t, e, "api-down-w1")
	run := e.start(ctx, sc)
	r.WorkflowID = run.GetID()
	runStart := time.Now()
	st := e.waitPhase(ctx, r.WorkflowID, experiment.PhaseObserve)
	observeStart := st.Phases[len(st.Phases)-1].Started
	time.Sleep(time.Until(observeStart.Add(r.Hold - 1500*time.Millisecond)))
	px.Off()
	offAt := time.Now()
	tw := w.watchToxics(offAt)
	r.HoldEnd = holdEnd(ctx, e)
	r.Landed = experiment.PhaseObserve
	for {
		st, err := queryStatus(ctx, e, r.WorkflowID)
		if err == nil && phaseOrder[st.Phase] >= phaseOrder[experiment.PhaseRecover] {
			r.Landed = st.Phase
			break
		}
		if ctx.Err() != nil {
			px.On()
			tw.Stop()
			r.problem(t, "never reached recover: %v", err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r.Landed != experiment.PhaseRecover {
		r.Notes = append(r.Notes, fmt.Sprintf("run was already in %s when first seen after observe, with the API down", r.Landed))
	}
	recoverSeen := time.Since(offAt)
	time.Sleep(r.Down)
	if d, err := e.client.DescribeWorkflowExecution(ctx, r.WorkflowID, ""); err == nil {
		for _, pa := range d.GetPendingActivities() {
			msg := ""
			if f := pa.GetLastFailure(); f != nil {
				msg = f.GetMessage()
			}
			r.Notes = append(r.Notes, fmt.Sprintf("with the API down: pending %s attempt %d, last failure %q", pa.GetActivityType().GetName(), pa.GetAttempt(), msg))
		}
	}
	require.NoError(t, px.On())
	onAt := time.Since(offAt)
	r.Notes = append(r.Notes, fmt.Sprintf("API off 1.5 s before the hold's end; run seen in %s %.2f s after; API back %.2f s after off", r.Landed, recoverSeen.Seconds(), onAt.Seconds()))
	r.Delay = onAt.Round(10 * time.Millisecond) // the API came back at this point of the watch
	w.finish(t, ctx, e, r, tw, runStart, w1)
}

// finish waits for the run to close and checks what it left.
func (w *chaosWorld) finish(t *testing.T, ctx context.Context, e *env, r *chaosRun, tw *toxicWatch, runStart time.Time, workers ...*workerProc) {
	var res experiment.Result
	err := e.client.GetWorkflow(ctx, r.WorkflowID, "").Get(ctx, &res)
	r.AtKill, r.FirstGone, r.LastGone = tw.Stop()
	if r.AtKill > 0 && r.FirstGone >= 0 && !r.HoldEnd.IsZero() {
		o := tw.start.Add(r.FirstGone).Sub(r.HoldEnd)
		r.Overstay = &o
	}
	if err != nil {
		r.problem(t, "run did not close with a result: %v", err)
	}
	r.Outcome, r.Reason = res.Outcome, strings.TrimSpace(res.AbortReason+" "+res.Error)
	for _, rf := range res.RecoverLog {
		if rf.AlreadyGone {
			r.Reaped++
		}
	}
	if !res.Ended.IsZero() && !res.Started.IsZero() {
		r.Took = res.Ended.Sub(res.Started)
	}
	var longest time.Duration
	for _, p := range res.Phases {
		if d := p.Ended.Sub(p.Started); !p.Ended.IsZero() && d > longest {
			longest, r.Longest = d, fmt.Sprintf("%s %.1f s", p.Name, d.Seconds())
		}
	}
	r.Timeouts = historyTimeouts(ctx, e, r.WorkflowID)
	for _, a := range res.RecoverAlarms {
		r.Notes = append(r.Notes, "recover alarm: "+a)
	}
	var ph []string
	for _, p := range res.Phases {
		end := "…"
		if !p.Ended.IsZero() {
			end = fmt.Sprintf("%.1f", p.Ended.Sub(runStart).Seconds())
		}
		ph = append(ph, fmt.Sprintf("%s %s %.1f–%s", p.Name, p.Status, p.Started.Sub(runStart).Seconds(), end))
	}
	r.Phases = strings.Join(ph, ", ")
	if !slices.Contains([]experiment.Outcome{experiment.Passed, experiment.Aborted, experiment.Failed, experiment.Cancelled}, r.Outcome) {
		r.problem(t, "outcome %q is not one of passed, aborted, failed, cancelled", r.Outcome)
	}
	if n, err := w.toxics(); err != nil {
		r.problem(t, "count toxics: %v", err)
	} else if r.Left = n; n != 0 {
		r.problem(t, "%d toxic(s) left on the toxiproxy API after the run closed", n)
	}
	if l, err := e.backend.List(ctx); err != nil {
		r.problem(t, "back-end List: %v", err)
	} else if r.Listed = len(l); len(l) != 0 {
		r.problem(t, "back-end lists %d gameday fault(s) after the run closed: %v", len(l), l)
	}
	if inj, rec := slices.Sorted(slices.Values(res.Injected)), slices.Sorted(slices.Values(res.Recovered)); !slices.Equal(inj, rec) {
		r.Notes = append(r.Notes, fmt.Sprintf("injected %v but recovered %v", res.Injected, res.Recovered))
	}
	unexpected := r.Outcome != r.expected()
	if unexpected {
		r.Notes = append(r.Notes, fmt.Sprintf("expected %s, got %s: %s", r.expected(), r.Outcome, r.Reason))
	}
	t.Logf("run %d [%s] %s: %s faults=%d hold=%s target=%s+%s landed=%s toxics@kill=%d first-gone=%s last-gone=%s outcome=%s left=%d listed=%d reaped=%d overstay=%s\n  phases: %s\n  history: %s\n  notes: %s",
		r.N, r.Kind, r.WorkflowID, r.scenarioName(), r.Faults, r.Hold, r.Target, r.Delay, r.Landed, r.AtKill,
		fmtDur(r.FirstGone), fmtDur(r.LastGone), r.Outcome, r.Left, r.Listed, r.Reaped, fmtOverstay(r.Overstay), r.Phases, r.Timeouts, strings.Join(r.Notes, "; "))
	if unexpected || len(r.Problems) > 0 {
		for _, p := range workers {
			t.Logf("  log of %s (last lines):\n%s", filepath.Base(p.log), p.tail(25))
		}
	}
	for _, p := range workers {
		p.kill()
	}
}

func (r *chaosRun) problem(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	r.Problems = append(r.Problems, msg)
	t.Errorf("run %d (%s, %s): %s", r.N, r.Kind, r.WorkflowID, msg)
}

func queryStatus(ctx context.Context, e *env, id string) (experiment.Result, error) {
	qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return e.status(qctx, id)
}

// holdEnd is when the faults present now are due to be released: their
// toxics' deadline minus the TTL margin (zero when there are none).
func holdEnd(ctx context.Context, e *env) time.Time {
	l, err := e.backend.List(ctx)
	if err != nil {
		return time.Time{}
	}
	var end time.Time
	for _, f := range l {
		if d := f.Expires.Add(-toxiproxy.DefaultTTLMargin); d.After(end) {
			end = d
		}
	}
	return end
}

// historyTimeouts lists what a dead worker cost the run, from its history:
// activities that needed another attempt (with why the previous one ended:
// a heartbeat timeout, or its error) and workflow tasks that timed out (a
// ScheduleToStart timeout is a task left on the dead worker's sticky queue).
func historyTimeouts(ctx context.Context, e *env, id string) string {
	iter := e.client.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	types := map[int64]string{}
	var out []string
	wft := map[string]int{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return "history: " + err.Error()
		}
		switch ev.GetEventType() {
		case enums.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			types[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
		case enums.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			a := ev.GetActivityTaskStartedEventAttributes()
			if a.GetAttempt() <= 1 {
				continue
			}
			why := a.GetLastFailure().GetMessage()
			if tf := a.GetLastFailure().GetTimeoutFailureInfo(); tf != nil {
				why = tf.GetTimeoutType().String() + " timeout"
			}
			if len(why) > 80 {
				why = why[:80] + "…"
			}
			out = append(out, fmt.Sprintf("%s attempt %d after %s", types[a.GetScheduledEventId()], a.GetAttempt(), why))
		case enums.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			wft[ev.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType().String()]++
		}
	}
	for _, k := range slices.Sorted(maps.Keys(wft)) {
		out = append(out, fmt.Sprintf("workflow task %s timeout ×%d", k, wft[k]))
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, "; ")
}

// closedBefore reports whether the run had already closed at t (the kill
// then hit an idle worker).
func closedBefore(ctx context.Context, e *env, id string, t time.Time) bool {
	d, err := e.client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return false
	}
	info := d.GetWorkflowExecutionInfo()
	return info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING && info.GetCloseTime() != nil && info.GetCloseTime().AsTime().Before(t)
}

// chaosReport renders the Markdown report.
func chaosReport(seed int64, runs int, done []*chaosRun, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Chaos on gameday itself\n\nGenerated by `make chaos-self` (TestChaosSelf) on %s, %s; took %s.\n\n",
		time.Now().UTC().Format(time.RFC3339), hostInfo(), took.Round(time.Second))
	fmt.Fprintf(&b, "Seed %d (replay: `%s=%d %s=%d make chaos-self`). ", seed, chaosSeedEnv, seed, chaosRunsEnv, runs)
	fmt.Fprintf(&b, "The killed worker ran with `%s`; the fresh worker that finishes each run has no failpoint. "+
		"Toxics counted on the toxiproxy API (every proxy) every 50 ms from the kill (or outage) until the run closed.\n\n", strings.TrimPrefix(chaosFailpoints, "GAMEDAY_FAILPOINTS="))

	var kills []*chaosRun
	for _, r := range done {
		if r.Kind == kindWorkerKill {
			kills = append(kills, r)
		}
	}
	outcomes := map[experiment.Outcome]int{}
	left, listed, unexpected, problems := 0, 0, 0, 0
	for _, r := range done {
		outcomes[r.Outcome]++
		left += r.Left
		listed += r.Listed
		if r.Outcome != r.expected() {
			unexpected++
		}
		problems += len(r.Problems)
	}
	aimed, landed := map[string]int{}, map[string]int{}
	var gone, over []time.Duration
	gonePer, overPer := map[string][]time.Duration{}, map[string][]time.Duration{}
	for _, r := range kills {
		aimed[r.Target]++
		landed[r.Landed]++
		if r.AtKill > 0 && r.FirstGone >= 0 {
			gone = append(gone, r.FirstGone)
			gonePer[r.Landed] = append(gonePer[r.Landed], r.FirstGone)
		}
		if r.Overstay != nil {
			over = append(over, *r.Overstay)
			overPer[r.Landed] = append(overPer[r.Landed], *r.Overstay)
		}
	}
	count := func(m map[string]int, keys []string) string {
		var out []string
		for _, k := range keys {
			if m[k] > 0 {
				out = append(out, fmt.Sprintf("%s %d", k, m[k]))
			}
		}
		return strings.Join(out, ", ")
	}
	allPhases := []string{experiment.PhaseDefine, experiment.PhaseInject, experiment.PhaseObserve, experiment.PhaseRecover, experiment.PhaseVerify, experiment.PhaseReport, "closed", "?"}
	var oc []string
	for _, o := range []experiment.Outcome{experiment.Passed, experiment.Aborted, experiment.Failed, experiment.Cancelled, experiment.Expired, ""} {
		if outcomes[o] > 0 {
			name := string(o)
			if name == "" {
				name = "none"
			}
			oc = append(oc, fmt.Sprintf("%s %d", name, outcomes[o]))
		}
	}

	b.WriteString("## Summary\n\n| measure | value |\n| --- | --- |\n")
	fmt.Fprintf(&b, "| runs | %d (%d worker SIGKILL, 1 Temporal restart, 1 toxiproxy API outage) |\n", len(done), len(kills))
	fmt.Fprintf(&b, "| kills aimed at | %s |\n", count(aimed, allPhases))
	fmt.Fprintf(&b, "| kills landed in | %s |\n", count(landed, allPhases))
	fmt.Fprintf(&b, "| outcomes | %s |\n", strings.Join(oc, ", "))
	fmt.Fprintf(&b, "| runs with another outcome than expected | %d |\n", unexpected)
	fmt.Fprintf(&b, "| faults left after close (toxics on the API / back-end List) | %d / %d |\n", left, listed)
	fmt.Fprintf(&b, "| kill → fault removed (runs with a fault at the kill: %d) | median %s, max %s |\n", len(gone), fmtDur(median(gone)), fmtDur(maxDur(gone)))
	for _, p := range allPhases {
		if ds := gonePer[p]; len(ds) > 0 {
			fmt.Fprintf(&b, "| … killed in %s (%d) | median %s, max %s |\n", p, len(ds), fmtDur(median(ds)), fmtDur(maxDur(ds)))
		}
	}
	if len(over) > 0 {
		fmt.Fprintf(&b, "| fault removed after its hold's end (same runs) | median %s, max %s |\n", fmtSigned(median(over)), fmtSigned(maxDur(over)))
	}
	for _, p := range allPhases {
		if ds := overPer[p]; len(ds) > 0 {
			fmt.Fprintf(&b, "| … killed in %s (%d) | median %s, max %s |\n", p, len(ds), fmtSigned(median(ds)), fmtSigned(maxDur(ds)))
		}
	}
	for _, r := range done {
		switch r.Kind {
		case kindTemporal:
			fmt.Fprintf(&b, "| Temporal restart in observe → fault removed | %s, %s after its hold's end (server unavailable %s, hold %s) |\n", fmtDur(r.FirstGone), fmtOverstay(r.Overstay), r.Down, r.Hold)
		case kindToxiproxyUp:
			back := time.Duration(-1)
			if r.FirstGone >= 0 {
				back = r.FirstGone - r.Delay
			}
			fmt.Fprintf(&b, "| toxiproxy API off → fault removed / API back → removed | %s / %s, %s after its hold's end (API off %s, %s of it after recover was seen) |\n", fmtDur(r.FirstGone), fmtDur(back), fmtOverstay(r.Overstay), r.Delay, r.Down)
		}
	}
	fmt.Fprintf(&b, "| assertion failures | %d |\n", problems)

	b.WriteString("\n## Runs\n\n| # | kind | scenario | faults | hold | aimed at | landed in | toxics at kill | kill → removed | after hold end | kill → last removed | reaped | outcome | left | run took | longest phase | retries and timeouts (history) | workflow |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range done {
		aim := fmt.Sprintf("%s +%s", r.Target, r.Delay)
		switch r.Kind {
		case kindTemporal:
			aim = fmt.Sprintf("%s +%s (server unavailable %s)", r.Target, r.Delay, r.Down)
		case kindToxiproxyUp:
			aim = fmt.Sprintf("hold end − 1.5 s (API off %s)", r.Delay)
		}
		out := string(r.Outcome)
		if r.Outcome != r.expected() {
			out = fmt.Sprintf("**%s** (expected %s)", r.Outcome, r.expected())
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %d | %s | %s | %s | %d | %s | %s | %s | %d | %s | %d | %.1f s | %s | %s | `%s` |\n",
			r.N, r.Kind, r.scenarioName(), r.Faults, r.Hold, aim, r.Landed, r.AtKill, fmtDur(r.FirstGone), fmtOverstay(r.Overstay), fmtDur(r.LastGone), r.Reaped, out, r.Left,
			r.Took.Seconds(), r.Longest, strings.ReplaceAll(r.Timeouts, "|", "/"), r.WorkflowID)
	}
	var notes []string
	for _, r := range done {
		for _, n := range append(append([]string(nil), r.Problems...), r.Notes...) {
			notes = append(notes, fmt.Sprintf("- run %d (`%s`): %s", r.N, r.WorkflowID, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n## Notes\n\n" + strings.Join(notes, "\n") + "\n")
	}
	b.WriteString("\n\"kill → removed\": from the SIGKILL (or the outage) to the first 50 ms poll with no toxic, for runs with a toxic present at that moment; " +
		"\"after hold end\": when that removal happened relative to the end of the faults' hold (their toxic deadline minus the 10 s TTL margin; negative: removed before the hold was over, e.g. a breach). " +
		"\"kill → last removed\": to the last time the count dropped to zero (a fault injected after the kill, e.g. after a kill in define). " +
		"\"reaped\": faults recover found already gone (their TTL, hold + 10 s, removed them first). " +
		"\"longest phase\": a phase far longer than its work (e.g. a minute) is a dead worker's activity waiting for its timeout.\n")
	return b.String()
}
