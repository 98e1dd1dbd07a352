package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/signoff"
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
