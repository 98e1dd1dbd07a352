package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

// The human summary shows what the back-end saw while recovering (for a
// pod-kill, how long the owner took to be Ready again).
func TestPrintResultShowsRecoveryDetail(t *testing.T) {
	var out bytes.Buffer
	printResult(&out, experiment.Result{
		Outcome:   experiment.Passed,
		Injected:  []string{"gd-1-f0"},
		Recovered: []string{"gd-1-f0"},
		RecoverLog: []chaos.Recovered{{FaultID: "gd-1-f0", Removed: true, At: time.Now(),
			Detail: "deployment/order 4/4 Ready within 1.2s of the kill", RecoveryTime: 1200 * time.Millisecond}},
	})
	assert.Contains(t, out.String(), "recovered: gd-1-f0")
	assert.Contains(t, out.String(), "gd-1-f0: deployment/order 4/4 Ready within 1.2s of the kill")
}

// `gameday status` of a run at its gate says what changed from the
// scenario and who may sign each pending role, as the worker resolved it.
func TestPrintResultShowsOverridesAndSigners(t *testing.T) {
	var out bytes.Buffer
	printResult(&out, experiment.Result{
		Outcome: experiment.Running, RequiredRoles: []string{"dev", "test", "sre"}, DistinctSigners: true,
		Signers:   []signoff.Holders{{Role: "dev", Users: []string{"dana"}}, {Role: "test", Users: []string{}}, {Role: "sre", Users: []string{"sam", "zoe"}}},
		Signoffs:  []experiment.Signoff{{Role: "dev", User: "dana", Approved: true}},
		Overrides: []experiment.Override{{Key: "duration", Value: "1000h", Was: "30s"}},
	})
	for _, want := range []string{
		"changed from the scenario:\n  - duration=1000h (scenario: 30s)",
		"  - dev: approved by dana\n  - test: pending (nobody may sign)\n  - sre: pending (sam, zoe may sign)",
		"(distinct users must sign distinct roles)",
	} {
		assert.Contains(t, out.String(), want)
	}
}

// `gameday status` of a paused run says what it waits for and until when;
// every pause and note is listed (status and run --wait alike).
func TestPrintResultShowsPausesAndNotes(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	printResult(&out, experiment.Result{
		WorkflowID: "wf-1", Outcome: experiment.Running, Phase: experiment.PhasePaused,
		Pauses: []experiment.Pause{
			{Reason: "customer call", By: "pat", From: at, To: at.Add(time.Minute), Ended: experiment.PauseResumed, EndedBy: "pat", Faults: []string{"gd-1-f0"}, Reinjected: []string{"gd-1-f0-r1"}},
			{Reason: "guard p95 drifted 40% from its baseline", By: experiment.DriftPauser, Drift: true, From: at.Add(2 * time.Minute), Deadline: at.Add(12 * time.Minute)},
		},
		Notes: []experiment.Note{{Text: "cache alert fired late", By: "dana", Kind: experiment.NoteAction, At: at}},
		DriftBaselines: []sli.DriftBaseline{
			{Guard: "p95", Source: "avg_over_time(p95[7d])", Value: 0.12, Limit: 15},
			{Guard: "errors", Source: "mean of the last 5 runs' define values", Limit: 15, Off: "no earlier run of x recorded a usable value of errors"},
		},
	})
	for _, want := range []string{
		"PAUSED BY THE DRIFT RULE: guard p95 drifted 40% from its baseline\n  `gameday resume wf-1` (continue) or `gameday abort wf-1 --reason ...` before ",
		"pauses:\n  - paused 2026-03-01T10:00:00Z by pat: customer call; ended resumed after 1m0s by pat; re-injected as gd-1-f0-r1\n",
		"  - drift pause 2026-03-01T10:02:00Z by drift rule: guard p95 drifted 40% from its baseline (still paused; aborts at 2026-03-01T10:12:00Z without an answer)\n",
		"notes:\n  - [action] dana 2026-03-01T10:00:00Z: cache alert fired late\n",
		"drift rules:\n  - p95: baseline 0.12, pauses beyond 15% drift\n  - errors: drift rule off (no earlier run of x recorded a usable value of errors)\n",
	} {
		assert.Contains(t, out.String(), want)
	}
}
