package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/sli/promclient"
)

// The demo inventory outage against the seed shop, through the CLI: the
// inventory stops answering, the breaker opens and the backup inventory
// serves every order, so no guard breaches and the run passes; verify
// waits for the breaker to close again. The outage's numbers are in the
// result and the status: the fallback ratio (cb-fallback's evidence) and
// the breaker's state (breaker-recovers' evidence, the verify values).
func TestDemoSeedInventoryOutagePasses(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, true, demo.Config{Mode: demo.ModeSeed})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clPath := demoSeedChecklist(t)
	_, path := e.scenario("demo-seed-inventory-outage", func(sc *scenarios.Scenario) {
		shorten(10 * time.Second)(sc)
		sc.Spec.Checklist = clPath
	})
	id := fmt.Sprintf("it-outage-%d", time.Now().UnixNano())

	r, out, stderr, code := e.runSteady(ctx, "demo-seed-inventory-outage", path, id)
	require.Equal(t, 0, code, "stderr: %s\nout: %s", stderr, out)
	assert.Equal(t, experiment.Passed, r.Outcome)
	assert.Nil(t, r.Breach)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults())

	// What the shop saw: the breaker opened and the backup served.
	open := shopMetric(t, e, `fallback_calls_total{dependency="inventory",reason="breaker_open",service="order"}`)
	failed := shopMetric(t, e, `fallback_calls_total{dependency="inventory",reason="primary_failed",service="order"}`)
	orders := shopMetric(t, e, `group_buy_order_total{status="success"}`)
	t.Logf("fallback: %v with the breaker open, %v after a failed call; %v orders served, %v failed",
		open, failed, orders, shopMetric(t, e, `group_buy_order_total{status="failed"}`))
	assert.Greater(t, open, 0.0, "the breaker opened during the outage")
	assert.Equal(t, 0.0, shopMetric(t, e, `circuit_breaker_state{name="inventory",service="order",state="open"}`), "and closed again")

	// What the run says about it: the evidence's values and verify's.
	require.NotNil(t, r.Gate)
	assert.True(t, r.Gate.Passed, r.Gate.Reason)
	ratio := check(t, r, "cb-fallback", "fallback-ratio")
	t.Logf("evidence: %s; %s", ratio, check(t, r, "breaker-recovers", "circuit-breaker-closed"))
	assert.Greater(t, float64(ratio.Value), 0.5, "the backup served most orders while the inventory was down")
	assert.Equal(t, 0.0, float64(check(t, r, "breaker-recovers", "circuit-breaker-closed").Value), "breaker closed at the end")
	assert.Equal(t, 0.0, float64(check(t, r, "cb-fallback", "no-5xx").Value))
	assert.Contains(t, fmt.Sprint(r.Verify), "circuit-breaker-closed")
	status, stderr, code := e.gameday(ctx, "status", r.WorkflowID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, status, "release gate "+r.Gate.Checklist+": PASSED")
	assert.Contains(t, status, "cb-fallback")
	assert.Contains(t, status, "pass by evidence")
	assert.Contains(t, status, "fallback-ratio = "+ratio.Value.String())
	assert.Contains(t, status, "circuit-breaker-closed = 0 (want == 0; last over run): pass")
}

// The seed's network-delay experiment on two shops at once, the same run
// with and without the fallback, through the CLI: with it the run passes
// and its evidence-verified cb-fallback item passes (the backup served,
// no 5xx); without it the run aborts on the error rate and the item fails
// (nothing served by the backup), failing the release gate. Both runs feed
// one checklist's weights, and `gameday checklist show` has one pass and
// one failure for the item.
func TestDemoSeedDelayPassesWithFallbackAbortsWithout(t *testing.T) {
	t.Parallel()
	on := newEnvWith(t, true, demo.Config{Mode: demo.ModeSeed})
	off := newEnvWith(t, true, demo.Config{Mode: demo.ModeNoFallback})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	clPath := demoSeedChecklist(t)
	adjust := func(sc *scenarios.Scenario) {
		shorten(15 * time.Second)(sc)
		sc.Spec.Checklist = clPath
	}
	_, pathOn := on.scenario("demo-seed-inventory-delay", adjust)
	_, pathOff := off.scenario("demo-seed-inventory-delay", adjust)
	idOn := fmt.Sprintf("it-delay-fallback-%d", time.Now().UnixNano())
	idOff := fmt.Sprintf("it-delay-nofallback-%d", time.Now().UnixNano())

	type cliRun struct {
		r           experiment.Result
		out, stderr string
		code        int
	}
	run := func(e *env, path, id string) cliRun {
		var c cliRun
		c.r, c.out, c.stderr, c.code = e.runSteady(ctx, "demo-seed-inventory-delay", path, id)
		return c
	}
	offDone := make(chan cliRun, 1)
	go func() { offDone <- run(off, pathOff, idOff) }()
	with := run(on, pathOn, idOn)
	without := <-offDone

	// With the fallback: passed, and so is the gate, on evidence.
	require.Equal(t, 0, with.code, "stderr: %s\nout: %s", with.stderr, with.out)
	assert.Equal(t, experiment.Passed, with.r.Outcome)
	require.NotNil(t, with.r.Gate)
	assert.True(t, with.r.Gate.Passed, with.r.Gate.Reason)
	assert.Empty(t, with.r.Gate.Pending)
	ratio := check(t, with.r, "cb-fallback", "fallback-ratio")
	t.Logf("with the fallback: %s; %s", ratio, check(t, with.r, "cb-fallback", "no-5xx"))
	assert.True(t, ratio.Pass)
	assert.Greater(t, float64(ratio.Value), 0.0, "the backup served the delayed calls")
	assert.Less(t, float64(ratio.Value), 0.5, "about 5 % of the calls were delayed, not most")
	assert.Equal(t, 0.0, float64(check(t, with.r, "cb-fallback", "no-5xx").Value))
	assert.Contains(t, phaseNames(with.r), "evidence:done")

	// Without: aborted by the error rate, and the item fails on evidence.
	require.Equal(t, 3, without.code, "stderr: %s\nout: %s", without.stderr, without.out)
	assert.Equal(t, experiment.Aborted, without.r.Outcome)
	require.NotNil(t, without.r.Breach)
	assert.Equal(t, "error-rate", without.r.Breach.Guard)
	require.NotNil(t, without.r.Gate)
	assert.False(t, without.r.Gate.Passed)
	assert.Contains(t, without.r.Gate.BlockingFailed, "cb-fallback")
	nr := check(t, without.r, "cb-fallback", "fallback-ratio")
	t.Logf("without the fallback: %s; %s; gate: %s", nr, check(t, without.r, "cb-fallback", "no-5xx"), without.r.Gate.Reason)
	assert.False(t, nr.Pass, "nothing was served by the backup")
	assert.False(t, check(t, without.r, "cb-fallback", "no-5xx").Pass, "customers got 5xx")
	assert.Contains(t, without.r.Gate.Reason, "evidence for cb-fallback: fallback-ratio = ")
	pm, err := os.ReadFile(without.r.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(pm), "| cb-fallback | fallback-ratio | ")
	assert.Contains(t, string(pm), "Gate FAILED: strong-blocking item cb-fallback failed")

	// The status shows the final gate; the weights recorded both verdicts.
	status, stderr, code := on.gameday(ctx, "status", with.r.WorkflowID)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, status, "pass by evidence")
	assert.Contains(t, status, "fallback-ratio = "+ratio.Value.String())
	out, stderr, code := on.gameday(ctx, "checklist", "show", clPath, "--json")
	require.Equal(t, 0, code, stderr)
	var st struct {
		Runs  int                   `json:"runs"`
		Items []checklist.ItemState `json:"items"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	assert.Equal(t, 2, st.Runs)
	for _, it := range st.Items {
		if it.ItemID == "cb-fallback" {
			assert.Equal(t, 1, it.Passed, "the run with the fallback")
			assert.Equal(t, 1, it.Failed, "the run without")
			assert.False(t, it.LastFault.IsZero(), "the abort was an alert of its fault class")
		}
	}
	out, _, code = on.gameday(ctx, "checklist", "show", clPath)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "evidence")
	t.Logf("gameday checklist show:\n%s", out)
	recordHistoryTo(t, on, with.r.WorkflowID, "GAMEDAY_RECORD_EVIDENCE_HISTORY")
}

// runSteady runs a scenario file through the CLI (run --wait --json) once
// the shop is steady. A run that define refused as not steady (nothing
// injected: the platform doing its job on a starved machine) is started
// again, at most twice, under a new id; any run that injected is the
// result, whatever it was. The id of the returned run is id or id-rN.
func (e *env) runSteady(ctx context.Context, scenario, path, id string) (experiment.Result, string, string, int) {
	e.t.Helper()
	runID := id
	for attempt := 1; ; attempt++ {
		e.waitSteady(ctx, scenario)
		start := time.Now()
		out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json", "--id", runID)
		e.t.Logf("%s took %s (exit %d)", runID, time.Since(start).Round(100*time.Millisecond), code)
		var r experiment.Result
		_ = json.Unmarshal([]byte(out), &r)
		if attempt == 3 || len(r.Injected) > 0 || !strings.Contains(r.Error, "define: steady state not established") {
			return r, out, stderr, code
		}
		e.t.Logf("define refused an unsteady start, nothing injected (%s): starting again", r.Error)
		runID = fmt.Sprintf("%s-r%d", id, attempt+1)
	}
}

// waitSteady waits until the scenario's guards are all healthy on e's
// Prometheus, as someone would before starting a game day: on a loaded
// machine the seed shop's first seconds can fail orders (its hop caps are
// tens of milliseconds), and define rightly refuses an unhealthy start.
func (e *env) waitSteady(ctx context.Context, scenario string) {
	e.t.Helper()
	sc, err := scenarios.Find(scenario)
	require.NoError(e.t, err)
	p, err := promclient.NewPrometheus(e.prom.URL)
	require.NoError(e.t, err)
	start := time.Now()
	var last []string
	require.Eventually(e.t, func() bool {
		last = nil
		for _, g := range sc.Spec.Guards {
			v, err := p.Query(ctx, g.Query, time.Now())
			if err != nil || !sli.Healthy(g.Op, v, g.Threshold) {
				last = append(last, fmt.Sprintf("%s = %v (%v)", g.Name, v, err))
			}
		}
		return len(last) == 0
	}, 2*time.Minute, 500*time.Millisecond, "shop never steady: %v", last)
	e.t.Logf("shop steady after %s", time.Since(start).Round(100*time.Millisecond))
}

// demoSeedChecklist writes the demo-seed checklist under a name of this
// test's own: its weights entity is private to the test (it runs on the
// task queue of the worker that first records to it).
func demoSeedChecklist(t *testing.T) string {
	cl, err := checklists.Find("demo-seed")
	require.NoError(t, err)
	cl.Metadata.Name = fmt.Sprintf("demo-seed-it-%d", time.Now().UnixNano()%1_000_000_000)
	p := filepath.Join(t.TempDir(), "checklist.yaml")
	writeYAML(t, p, cl)
	return p
}

// check is one evidence check's result in a run's final gate.
func check(t *testing.T, r experiment.Result, item, name string) checklist.CheckResult {
	t.Helper()
	require.NotNil(t, r.Gate, "run has no gate")
	for _, it := range r.Gate.Items {
		for _, c := range it.Checks {
			if it.ID == item && c.Check == name {
				return c
			}
		}
	}
	require.Failf(t, "no such check", "%s/%s in %+v", item, name, r.Gate.Items)
	return checklist.CheckResult{}
}

func phaseNames(r experiment.Result) []string {
	var out []string
	for _, p := range r.Phases {
		out = append(out, p.Name+":"+p.Status)
	}
	return out
}

func shopMetric(t *testing.T, e *env, series string) float64 {
	t.Helper()
	resp, err := http.Get(e.shop.MetricsURL())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	g := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
	if g == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(g[1]), 64)
	require.NoError(t, err)
	return v
}
