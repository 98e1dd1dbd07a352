package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
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
