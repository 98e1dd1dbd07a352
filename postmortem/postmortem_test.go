package postmortem

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/checklist"
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

// The postmortem carries the final gate with what the evidence measured:
// the value (NaN spelt out), what it needed, the window and the query, so
// the verdict can be checked by hand.
func TestRenderEvidence(t *testing.T) {
	from := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ratio := checklist.CheckResult{Item: "cb-fallback", Check: "fallback-ratio", Query: "sum(increase(f[12s]))", Op: sli.OpGT, Reduce: "last", Window: "first 30s of observe",
		From: from, To: from.Add(12 * time.Second), Value: 0, Samples: 1}
	nan := checklist.CheckResult{Item: "cb-fallback", Check: "p95", Query: "q|x", Op: sli.OpLE, Threshold: 0.8, Reduce: "worst", Window: "observe", Value: sli.Float(math.NaN())}
	cl := checklist.Checklist{Metadata: checklist.Metadata{Name: "demo-seed"}, Spec: checklist.Spec{Threshold: 80, Items: []checklist.Item{
		{ID: "cb-fallback", Title: "falls back", Owner: "dev", Weight: 60, StrongBlocking: true, VerifiedBy: []checklist.Check{{Name: "fallback-ratio"}, {Name: "p95"}}},
	}}}
	g := checklist.EvaluateGate(cl, nil, ratio, nan)
	r := experiment.Result{Scenario: "demo-seed-inventory-delay", Outcome: experiment.Aborted, Gate: &g}
	md := Render(r)
	assert.Contains(t, md, "Gate FAILED: strong-blocking item cb-fallback failed; evidence for cb-fallback: fallback-ratio = 0 (want > 0; last over first 30s of observe): FAIL")
	assert.Contains(t, md, "| cb-fallback: falls back | dev | 60% | true | FAIL | evidence |")
	assert.Contains(t, md, "| cb-fallback | fallback-ratio | 0 | > 0 | last | first 30s of observe | 2026-05-01T12:00:00Z | 2026-05-01T12:00:12Z | FAIL | `sum(increase(f[12s]))` |")
	assert.Contains(t, md, "| cb-fallback | p95 | NaN | <= 0.8 | worst | observe |  |  | FAIL | `q\\|x` |")
}
