package gameday

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		r      experiment.Result
		dry    bool
		passed bool
		reason string
	}{
		{experiment.Result{Outcome: experiment.Passed}, false, true, ""},
		{experiment.Result{Outcome: experiment.Aborted, AbortReason: "guard p95 breached"}, false, false, "aborted: guard p95 breached"},
		{experiment.Result{Outcome: experiment.Failed, Error: "define: refused"}, false, false, "failed: define: refused"},
		{experiment.Result{Outcome: experiment.Expired}, false, false, "expired"},
		{experiment.Result{Outcome: experiment.Passed, Gate: &checklist.Gate{Checklist: "release", Passed: false, Reason: "score 40%"}}, false, false, "release gate release failed: score 40%"},
		{experiment.Result{Outcome: experiment.DryRun}, true, true, ""},
		{experiment.Result{Outcome: experiment.Passed}, true, false, "passed"}, // a dry run that injected is not a dry run
		{experiment.Result{Outcome: experiment.Failed, Error: "define: steady state not established"}, true, false, "failed: define: steady state not established"},
	} {
		passed, reason := Verdict(tc.r, tc.dry)
		assert.Equal(t, tc.passed, passed, "%+v", tc.r)
		assert.Equal(t, tc.reason, reason, "%+v", tc.r)
	}
}

func TestBlast(t *testing.T) {
	assert.Equal(t, "toxiproxy proxy=inventory, 1 fault(s) held 30s",
		Blast(chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}}, 1, 30*time.Second))
	assert.Equal(t, "chaos-mesh groupbuy app=inventory-service,tier=be, mode fixed-percent 5, 1 fault(s) held 10m0s",
		Blast(chaos.Target{Backend: "chaos-mesh", Namespace: "groupbuy", Selector: map[string]string{"tier": "be", "app": "inventory-service"}, Mode: "fixed-percent", Value: "5"}, 1, 10*time.Minute))
}

func TestMessageRules(t *testing.T) {
	r := Result{WorkflowID: "gd", Outcome: experiment.Running}
	assert.ErrorContains(t, r.CheckAbort(" "), "needs a reason")
	assert.NoError(t, r.CheckAbort("pager"))
	assert.ErrorContains(t, r.CheckResume(), "is not paused")
	assert.ErrorContains(t, r.CheckPause("", 0), "needs a reason")
	assert.ErrorContains(t, r.CheckPause("x", -time.Second), "want between 1s and 24h0m0s")
	assert.ErrorContains(t, r.CheckPause("x", 25*time.Hour), "want between 1s and 24h0m0s")
	assert.NoError(t, r.CheckPause("look", 0))

	r.Pauses = []experiment.Pause{{Reason: "look", By: "tess", From: time.Now()}}
	assert.ErrorContains(t, r.CheckPause("again", 0), "already paused")
	assert.NoError(t, r.CheckResume())
	r.Pauses[0].Ended = experiment.PauseResumed
	for len(r.Pauses) < MaxPauses {
		r.Pauses = append(r.Pauses, experiment.Pause{Ended: experiment.PauseResumed})
	}
	assert.ErrorContains(t, r.CheckPause("one more", 0), "at most 50")

	assert.NoError(t, r.CheckNote("p95 up", "tess", ""))
	assert.ErrorContains(t, r.CheckNote("p95 up", "tess", "gossip"), `note kind "gossip"`)
	assert.ErrorContains(t, r.CheckNote(strings.Repeat("x", experiment.MaxNoteLength+1), "tess", ""), "at most")
	r.Notes = make([]experiment.Note, MaxNotes)
	assert.ErrorContains(t, r.CheckNote("one more", "tess", ""), "200 notes already")

	r.AbortedBy = "sam"
	assert.ErrorContains(t, r.CheckAbort("again"), "already being aborted")
	assert.ErrorContains(t, r.CheckPause("x", 0), "being aborted")

	r.Outcome = experiment.Aborted
	assert.ErrorContains(t, r.CheckAbort("again"), "has ended")
	assert.ErrorContains(t, r.CheckNote("late", "tess", ""), "notes are closed")
}

// The live table stays a table whatever a reason or name holds.
func TestDetailsTable(t *testing.T) {
	r := Result{Plan: "p", Outcome: experiment.Running, Steps: []StepResult{
		{Name: "a", Scenario: "s", Status: StepDone, Outcome: experiment.Aborted, Reason: "aborted: a|b\nc", WorkflowID: "gd-a", UIURL: "http://ui/a"},
		{Name: "b", Group: "g", Scenario: "s", Status: StepPending, WorkflowID: "gd-b"},
	}}
	d := r.Details()
	assert.Contains(t, d, "| a | s | done | aborted aborted: a\\|b c | [gd-a](http://ui/a) |")
	assert.Contains(t, d, "| g / b | s | pending |  | gd-b |")
	assert.Contains(t, d, "0 passed, 1 not passed, 0 skipped, 1 to go")
}

// The report covers the steps that ran, in the plan's order: not one
// still pending, skipped, or running.
func TestRan(t *testing.T) {
	r := Result{Steps: []StepResult{
		{Name: "a", Status: StepDone, RunID: "r1", Outcome: experiment.Passed},
		{Name: "b", Status: StepSkipped, Reason: "step a did not pass"},
		{Name: "c", Status: StepDone, RunID: "r3", Outcome: experiment.Aborted},
		{Name: "d", Status: StepRunning, RunID: "r4"},
		{Name: "e", Status: StepDone, Outcome: experiment.Failed, Reason: "did not start: already started"},
	}}
	var names []string
	for _, s := range r.Ran() {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"a", "c"}, names)
}

// A reason stays a line: the result that keeps it (with up to 50 pauses)
// must stay under Temporal's payload limit.
func TestReasonsAreBounded(t *testing.T) {
	r := Result{WorkflowID: "gd", Outcome: experiment.Running}
	long := strings.Repeat("é", experiment.MaxReasonLength+1)
	assert.EqualError(t, r.CheckAbort(long), "the reason of an abort is at most 1000 characters; this one has 1001")
	assert.EqualError(t, r.CheckPause(long, 0), "the reason of a pause is at most 1000 characters; this one has 1001")
	assert.NoError(t, r.CheckAbort(long[:len(long)-len("é")]))
}
