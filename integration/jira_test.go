package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/ticket/jiratest"
)

const jiraToken = "tok-9f1c2e-never-log-me"

// A worker configured for Jira files the postmortem of a breached run as a
// Jira issue and comments the evidence on the release ticket; a passing run
// whose gate fails on a strong-blocking item exits 3 and leaves the release
// ticket alone; a passing run with a passing gate moves it to Ready for
// Prod. The token never appears in what gameday sent (beyond the auth
// header) or in the workflow histories.
func TestJiraTicketsAndReleaseGate(t *testing.T) {
	t.Parallel()
	jira := jiratest.New(t, "bot@example.com", jiraToken)
	jira.AddIssue("REL-9", "In Progress")
	jira.SetTransitions("REL-9", jiratest.Transition{ID: "31", Name: "Promote", To: "Ready for Prod"})
	// The in-process worker and every gameday subprocess read the Jira
	// settings as the environment gives them; set per test, never on the
	// process, since the tests run in parallel.
	jiraVars := map[string]string{"JIRA_URL": jira.URL(), "JIRA_USER": "bot@example.com", "JIRA_TOKEN": jiraToken, "JIRA_PROJECT": "GD"}
	e := newEnv(t, false)
	e.cfg.Jira = config.Read(config.MapLookup(jiraVars)).Jira
	for k, v := range jiraVars {
		e.extraEnv = append(e.extraEnv, k+"="+v)
	}
	e.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	// 1. Breach: a postmortem issue, the evidence and a link on REL-9.
	_, breachPath := e.scenario("demo-inventory-latency", nil)
	out, stderr, code := e.gameday(ctx, "run", breachPath, "--wait", "--json", "--release-ticket", "REL-9")
	require.Equal(t, 3, code, stderr)
	var r1 experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r1))
	require.Equal(t, experiment.Aborted, r1.Outcome)
	issues := jira.Issues()
	require.Len(t, issues, 2, "REL-9 plus one postmortem")
	pm := issues[1]
	assert.Equal(t, pm.Key, r1.Postmortem, "the run records the ticket key")
	assert.Contains(t, pm.Summary, "demo-inventory-latency")
	assert.Contains(t, pm.Summary, "p95-latency")
	assert.Contains(t, pm.Description, r1.WorkflowID)
	rel, _ := jira.Issue("REL-9")
	assert.Equal(t, "In Progress", rel.Status, "a failed run leaves the release status alone")
	require.Len(t, rel.Comments, 1)
	assert.Contains(t, rel.Comments[0], r1.WorkflowID)
	require.NotEmpty(t, jira.Links(), "release ticket links the postmortem")
	// The report: linked from the issue, its chart attached as a PNG.
	require.NotNil(t, r1.Report)
	assert.Contains(t, pm.Description, r1.Report.HTML)
	atts := jira.Attachments(pm.Key)
	require.Len(t, atts, 1, "the chart is attached once")
	assert.Equal(t, "gameday-demo-inventory-latency-chart.png", atts[0].Filename)
	assert.True(t, strings.HasPrefix(string(atts[0].Data), "\x89PNG"), "a PNG")

	// 2 and 3. Harmless runs with the checklist: the gate decides.
	cl, err := checklists.Find("release-default")
	require.NoError(t, err)
	sc, _ := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		sc.Spec.Faults[0].Duration = duration.Duration(5 * time.Second)
		sc.Spec.Checklist = "release-default"
		sc.Spec.Signoff.Roles = []string{"dev", "test", "sre"}
	})
	path := e.writeScenario(sc)
	runIDs := []string{r1.WorkflowID}
	for _, tc := range []struct {
		failItem string
		code     int
		status   string
	}{
		{failItem: "pod-eviction", code: 3, status: "In Progress"}, // strong-blocking item fails: gate fails
		{code: 0, status: "Ready for Prod"},
	} {
		id := fmt.Sprintf("it-jira-gate-%d", time.Now().UnixNano())
		runIDs = append(runIDs, id)
		done := make(chan [2]string, 1)
		codes := make(chan int, 1)
		go func() {
			out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json", "--release-ticket", "REL-9", "--id", id)
			done <- [2]string{out, stderr}
			codes <- code
		}()
		e.waitPhase(ctx, id, experiment.PhaseSignoff)
		for _, role := range []string{"dev", "test", "sre"} {
			args := []string{"signoff", id, "--role", role, "--user", role + "-lead"}
			for _, it := range checklist.ItemsFor(cl, role) {
				verdict := "pass"
				if it.ID == tc.failItem {
					verdict = "fail"
				}
				args = append(args, "--item", it.ID+"="+verdict+"@https://ci.example/"+it.ID)
			}
			_, stderr, code := e.gameday(ctx, args...)
			require.Equal(t, 0, code, stderr)
		}
		res, code := <-done, <-codes
		require.Equal(t, tc.code, code, "gate with failing item %q; stderr: %s", tc.failItem, res[1])
		var r experiment.Result
		require.NoError(t, json.Unmarshal([]byte(res[0]), &r))
		assert.Equal(t, experiment.Passed, r.Outcome)
		require.NotNil(t, r.Gate)
		assert.Equal(t, tc.failItem == "", r.Gate.Passed, r.Gate.Reason)
		rel, _ := jira.Issue("REL-9")
		assert.Equal(t, tc.status, rel.Status)
		assert.Contains(t, strings.Join(rel.Comments, "\n"), id)
	}
	assert.Len(t, jira.Issues(), 2, "passing runs file no postmortem")

	// The token: only ever in the Authorization header.
	for _, line := range jira.Log() {
		assert.NotContains(t, line, jiraToken)
	}
	for _, id := range runIDs {
		b := e.historyJSON(ctx, id)
		assert.NotContains(t, b, jiraToken, "token in the history of %s", id)
	}
}
