package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	gd "github.com/gameday/gameday/gameday"
)

func TestGameDayUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"gameday", "start"},
		{"gameday", "start", "a", "b"},
		{"gameday", "status"},
		{"gameday", "validate"},
		{"pause", "gd"},
		{"note", "wf"},
		{"note", "wf", "  "},
	} {
		_, stderr, code := gameday(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr, "%v explains the usage error", args)
	}
}

func TestGameDayListAndValidate(t *testing.T) {
	out, _, code := gameday(t, "gameday", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "demo-shop ")
	assert.Contains(t, out, "seed-staging ")

	dir := t.TempDir()
	good, err := os.ReadFile("../../plans/demo-shop.yaml")
	require.NoError(t, err)
	okPath := filepath.Join(dir, "ok.yaml")
	require.NoError(t, os.WriteFile(okPath, good, 0o644))
	bad := filepath.Join(dir, "bad.yaml")
	broken := strings.Replace(string(good), "scenario: demo-seed-cache-slow", "scenario: demo-seed-cache-slwo", 1)
	require.NoError(t, os.WriteFile(bad, []byte(broken), 0o644))

	out, stderr, code := gameday(t, "gameday", "validate", okPath, bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, okPath+": ok (demo-shop in demo, 2 step(s), 3 experiment(s))")
	assert.Regexp(t, `bad\.yaml:\d+: spec\.steps\[0\]\.scenario: unknown scenario "demo-seed-cache-slwo": did you mean demo-seed-cache-slow`, stderr)
	assert.Contains(t, stderr, "1 of 2 file(s) invalid")

	// A catalog plan by name, as `gameday gameday start` takes it.
	out, stderr, code = gameday(t, "gameday", "validate", "seed-staging", "no-such-plan")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "seed-staging: ok (seed-staging in staging")
	assert.Contains(t, stderr, `unknown game-day plan "no-such-plan": not a file and not in the catalog (demo-shop, seed-staging)`)
}

// A plan that does not load is refused before any connection.
func TestGameDayStartUnknownPlan(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	_, stderr, code := gameday(t, "gameday", "start", "demo-shp")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `unknown game-day plan "demo-shp"`)
	assert.Contains(t, stderr, "demo-shop", "lists what exists")
	assert.NotContains(t, stderr, "127.0.0.1:1")
}

// What status prints for a game day: each step with its run, the dry
// run's targets and blast radius, pauses and notes.
func TestPrintGameDay(t *testing.T) {
	at := time.Date(2025, 1, 2, 10, 0, 0, 0, time.UTC)
	r := gd.Result{
		WorkflowID: "gameday-day-demo-shop-1", Plan: "demo-shop", Environment: "demo", DryRun: true,
		People:  gd.People{Owner: "dana", Reporter: "tess", Observers: []string{"olga"}},
		Outcome: experiment.Failed, Reason: "1 of 2 step(s) did not pass: b (failed: define: refused)",
		Preflight: []experiment.GuardValue{{Guard: "errors", Value: 0, Healthy: true}},
		Steps: []gd.StepResult{
			{Name: "a", Scenario: "demo-seed-inventory-delay", Status: gd.StepDone, Outcome: experiment.DryRun, Passed: true,
				WorkflowID: "gameday-day-demo-shop-1-a", Blast: "toxiproxy proxy=inventory, 1 fault(s) held 30s", Targets: []string{"inventory-delay: proxy inventory"}},
			{Name: "b", Group: "g", Stage: 1, Scenario: "demo-seed-cache-slow", Status: gd.StepDone, Outcome: experiment.Failed, Reason: "failed: define: refused",
				WorkflowID: "gameday-day-demo-shop-1-b", Blast: "toxiproxy proxy=cache, 1 fault(s) held 30s", Gated: []string{"sre"}},
		},
		Notes:  []experiment.Note{{Text: "p95 up", By: "tess", Kind: experiment.NoteObservation, At: at}},
		Pauses: []experiment.Pause{{Reason: "coffee", By: "dana", From: at, To: at.Add(time.Minute), Ended: experiment.PauseResumed, EndedBy: "dana"}},
	}
	var b bytes.Buffer
	printGameDay(&b, r)
	out := b.String()
	for _, want := range []string{
		"outcome: failed (1 passed, 1 not passed, 0 skipped, 0 to go)",
		"reason:  1 of 2 step(s) did not pass",
		"people:  owner dana, reporter tess, observers olga",
		"pre-flight: errors = 0 (healthy)",
		"  1  a    demo-seed-inventory-delay  dry-run  gameday-day-demo-shop-1-a",
		"  2  g/b  demo-seed-cache-slow       failed   gameday-day-demo-shop-1-b",
		"    blast radius: toxiproxy proxy=inventory, 1 fault(s) held 30s\n    target: inventory-delay: proxy inventory",
		"    reason: failed: define: refused",
		"    sign-off gate: sre (gameday signoff gameday-day-demo-shop-1-b ...)",
		"pause: ", "(coffee), resumed dana",
		"(observation): p95 up",
	} {
		assert.Contains(t, out, want)
	}
}
