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

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/worker"
	"github.com/gameday/gameday/workflows"
)

// uiColumns is what the Temporal UI (v2.42, in temporal CLI v1.5.1) keeps
// in the browser's localStorage when a person adds the GamedayOutcome
// search attribute as a column of a namespace's workflow list ("Configure
// workflows table"): the default columns, then ours.
func uiColumns(namespace string) string {
	cols := []map[string]any{
		{"label": "Status", "pinned": true}, {"label": "Workflow ID", "pinned": true},
		{"label": workflows.SAOutcome.GetName(), "pinned": false},
		{"label": workflows.SAPhase.GetName(), "pinned": false},
		{"label": "Type", "pinned": false}, {"label": "Start", "pinned": false}, {"label": "End", "pinned": false},
	}
	b, _ := json.Marshal(map[string]any{namespace: cols})
	return string(b)
}

// A person scanning the Temporal UI's workflow list tells the runs'
// outcomes apart without opening one: every run is "Completed" as far as
// Temporal goes (the workflow did its job; the experiment's verdict is
// data), and the GamedayOutcome column says passed, aborted, failed,
// expired, cancelled or dry-run. Real runs of each outcome on a dev server
// started with its UI, the list rendered by headless Chromium, read back
// as text and saved as a screenshot (GAMEDAY_UI_SCREENSHOT names a file to
// keep it).
func TestUIListShowsOutcomes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("integration test: needs the Temporal dev server, Prometheus and Chromium")
	}
	chrome, err := chromium()
	require.NoError(t, err, "install Chromium: apt-get install -y chromium")
	require.NoError(t, setupErr)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	dir := t.TempDir()
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{ToolsDir: toolsDir, Log: logFile(dir, "temporal.log")})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Stop(10 * time.Second) })
	c, err := srv.Dial(ctx)
	require.NoError(t, err)
	require.NoError(t, worker.EnsureSearchAttributes(ctx, c, srv.Namespace))
	c.Close()
	e := newEnvOpts(t, false, envOptions{temporal: srv})
	e.cfg.UIURL = srv.UIURL
	e.startWorker()

	// One run per outcome, each as quick as it can be.
	gate := func(timeout time.Duration) func(*scenarios.Scenario) {
		return func(sc *scenarios.Scenario) {
			sc.Spec.Signoff = scenarios.Signoff{Roles: []string{"dev"}, Timeout: duration.Duration(timeout)}
		}
	}
	start := func(sc scenarios.Scenario, dry bool) client.WorkflowRun {
		run, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: workflows.NewExperimentID(sc.Metadata.Name, time.Now()), TaskQueue: e.cfg.TaskQueue,
		}, workflows.ExperimentWorkflowName, workflows.ExperimentInput{Scenario: sc, UIBase: e.cfg.UIURL, DryRun: dry})
		require.NoError(t, err)
		return run
	}
	// They all act on the inventory link at once: let them share it.
	shared := func(adjust ...func(*scenarios.Scenario)) func(*scenarios.Scenario) {
		return func(sc *scenarios.Scenario) {
			sc.Spec.Overlap = scenarios.OverlapAllow
			for _, a := range adjust {
				a(sc)
			}
		}
	}
	passed, _ := e.scenario("demo-inventory-latency-harmless", shared(shorten(3*time.Second)))
	gated, _ := e.scenario("demo-inventory-latency-harmless", shared(gate(time.Hour)))
	expiring, _ := e.scenario("demo-inventory-latency-harmless", shared(gate(2*time.Second)))
	broken, _ := e.scenario("demo-inventory-latency-harmless", shared(func(sc *scenarios.Scenario) {
		sc.Spec.Guards[0].Query = "sum(rate(http_requests_total[10s]" // invalid PromQL: define refuses it
	}))
	runs := map[experiment.Outcome]client.WorkflowRun{
		experiment.Passed:  start(passed, false),
		experiment.DryRun:  start(passed, true),
		experiment.Expired: start(expiring, false),
		experiment.Failed:  start(broken, false),
	}
	aborted := start(gated, false)
	runs[experiment.Aborted] = aborted
	cancelled := start(gated, false)
	runs[experiment.Cancelled] = cancelled
	// An abort or a cancel before anything is injected (in define or at
	// the gate) ends the run at once.
	require.NoError(t, e.client.SignalWorkflow(ctx, aborted.GetID(), "", workflows.SignalAbort, workflows.AbortRequest{Reason: "pager went off", By: "sam"}))
	require.NoError(t, e.client.CancelWorkflow(ctx, cancelled.GetID(), ""))
	for want, run := range runs {
		r := e.result(ctx, run)
		require.Equal(t, want, r.Outcome, "run %s: %s %s", run.GetID(), r.AbortReason, r.Error)
	}

	// The list, as a person with the GamedayOutcome column sees it.
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.WindowSize(1600, 900))
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	list := srv.UIURL + "/namespaces/" + srv.Namespace + "/workflows"
	err = chromedp.Do(bctx,
		chromedp.Navigate(list),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`localStorage.setItem("namespace-workflow-table-columns", %q)`, uiColumns(srv.Namespace))),
		chromedp.Navigate(list),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(() => { const t = document.body.innerText; return %s.every(id => t.includes(id)) })()`, jsIDs(runs)),
			chromedp.WithPollingTimeout(30*time.Second)),
	)
	require.NoError(t, err, "the UI's workflow list at %s lists every run", list)
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tr")).map(r => r.innerText.replace(/\s+/g, " "))`))
	require.NoError(t, err)
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot of %s", list)
	shot := filepath.Join(dir, "temporal-ui-list.png")
	if p := os.Getenv("GAMEDAY_UI_SCREENSHOT"); p != "" {
		shot = p
	}
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot of the workflow list: %s", shot)

	header := ""
	if len(rows) > 0 {
		header = rows[0]
	}
	assert.Contains(t, header, workflows.SAOutcome.GetName(), "the outcome is a column of the list")
	for want, run := range runs {
		row := ""
		for _, r := range rows {
			if strings.Contains(r, run.GetID()) {
				row = r
			}
		}
		require.NotEmpty(t, row, "run %s is listed", run.GetID())
		assert.Contains(t, row, " "+string(want)+" ", "the row of %s shows its outcome", run.GetID())
		assert.Contains(t, row, "Completed", "Temporal's own status is Completed for every outcome")
	}
}

func jsIDs(runs map[experiment.Outcome]client.WorkflowRun) string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.GetID())
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// chromium finds the Debian package's browser.
func chromium() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("chromium not found")
}
