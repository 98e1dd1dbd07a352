package postmortem

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// An outage reads as words, not raw floats: NaN, +Inf and "no data" are
// written as such; an unguarded run and a removal that kept failing say so.
func TestRenderNonFiniteAndAlarms(t *testing.T) {
	r := experiment.Result{
		Scenario: "blackhole", Outcome: experiment.Aborted, Unguarded: true,
		Breach:        &sli.Breach{Guard: "inventory-p95", Query: "q", Op: "<=", Value: sli.Float(math.NaN()), NoData: true, Threshold: 0.8},
		Baseline:      []experiment.GuardValue{{Guard: "ratio", Value: sli.Float(math.Inf(1))}},
		Verify:        []experiment.GuardValue{{Guard: "p95", Value: sli.Float(math.NaN())}, {Guard: "err", Value: 0.0012, Healthy: true}},
		RecoverAlarms: []string{"removing lat (gd-1-f0) failed 3 times, still trying: connection refused"},
	}
	md := Render(r)
	assert.Contains(t, md, "- Value: no data (healthy when <= 0.8)")
	assert.Contains(t, md, "| ratio | +Inf | false |")
	assert.Contains(t, md, "| p95 | NaN | false |")
	assert.Contains(t, md, "| err | 0.0012 | true |")
	assert.Contains(t, md, "**Unguarded**")
	assert.Contains(t, md, "Recover alarm: removing lat (gd-1-f0) failed 3 times")
	assert.NotContains(t, md, "%!")
}

// A workflow id reused for a later run gets a postmortem of its own.
func TestDirNeverOverwritesAnotherRun(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	first := experiment.Result{WorkflowID: "gameday-x", RunID: "run-1", Scenario: "x", Outcome: experiment.Aborted}
	second := first
	second.RunID = "run-2"
	p1, err := d.File(context.Background(), first)
	assert.NoError(t, err)
	p2, err := d.File(context.Background(), second)
	assert.NoError(t, err)
	assert.NotEqual(t, p1, p2)
	again, err := d.File(context.Background(), first)
	assert.NoError(t, err)
	assert.Equal(t, p1, again, "a retried report rewrites its own file")
}

// A traced run's postmortem (and so its Jira ticket, which renders it)
// names its trace; an untraced run's says nothing about tracing.
func TestRenderTraceID(t *testing.T) {
	r := experiment.Result{Scenario: "s", Outcome: experiment.Aborted, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	assert.Contains(t, Render(r), "- Trace: `4bf92f3577b34da6a3ce929d0e0e4736`")
	r.TraceID = ""
	assert.NotContains(t, Render(r), "Trace:")
}
