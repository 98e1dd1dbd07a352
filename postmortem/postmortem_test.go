package postmortem

import (
	"context"
	"math"
	"os"
	"path/filepath"
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

// A probe guard's breach reads as the probe and its answer, not a query.
func TestRenderProbeBreach(t *testing.T) {
	r := experiment.Result{
		Scenario: "x", Outcome: experiment.Aborted,
		Breach: &sli.Breach{Guard: "health", Kind: sli.KindHTTP, Query: "GET http://shop:8080/healthz, status 200-399, within 300ms",
			Op: "<=", Threshold: 0.3, Value: sli.Float(math.NaN()), NoData: true, Reason: "connection refused"},
		Baseline: []experiment.GuardValue{{Guard: "health", Kind: sli.KindHTTP, Value: 0.004, Healthy: true}},
	}
	md := Render(r)
	assert.Contains(t, md, "- Probe: `GET http://shop:8080/healthz, status 200-399, within 300ms`")
	assert.Contains(t, md, "- Value: no answer (connection refused) (healthy when an answer within 300ms)")
	assert.Contains(t, md, "| health | 4ms | true |")
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

// A traced run's postmortem (and so its Jira ticket, which renders it)
// names its trace; an untraced run's says nothing about tracing.
func TestRenderTraceID(t *testing.T) {
	r := experiment.Result{Scenario: "s", Outcome: experiment.Aborted, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"}
	assert.Contains(t, Render(r), "- Trace: `4bf92f3577b34da6a3ce929d0e0e4736`")
	r.TraceID = ""
	assert.NotContains(t, Render(r), "Trace:")
}

// The postmortem tells the pauses (who, why, how each ended, what was
// removed and re-injected) and every note with its author and time; the
// release evidence lists the action items.
func TestRenderPausesAndNotes(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := experiment.Result{
		WorkflowID: "wf", Scenario: "x", Outcome: experiment.Aborted, AbortReason: "paused for 10m0s without an answer",
		Pauses: []experiment.Pause{
			{Reason: "customer | call", By: "pat", From: at, To: at.Add(time.Minute), Ended: experiment.PauseResumed, EndedBy: "pat",
				Faults: []string{"gd-1-f0"}, Removed: at.Add(1500 * time.Millisecond), Reinjected: []string{"gd-1-f0-r1"}},
			{Reason: "p95 drifted 40%", By: experiment.DriftPauser, Drift: true, From: at.Add(2 * time.Minute), To: at.Add(12 * time.Minute), Ended: experiment.PauseTimeout, Faults: []string{"gd-1-f0-r1"}},
		},
		DriftBaselines: []sli.DriftBaseline{{Guard: "p95", Source: "avg_over_time(p95[7d])", Value: sli.Float(math.NaN()), NoData: true, Limit: 15, Off: "the baseline query returned no data"}},
		Notes: []experiment.Note{
			{Text: "p95 at 300ms\non the board", By: "sam", Kind: experiment.NoteObservation, At: at.Add(30 * time.Second)},
			{Text: "alert on drift", By: "dana", Kind: experiment.NoteAction, At: at.Add(3 * time.Minute)},
		},
	}
	md := Render(r)
	for _, want := range []string{
		"## Pauses\n\n| from | to | paused by | reason | ended | ended by | faults removed | removed after | re-injected as |",
		"| 2026-03-01T10:00:00Z | 2026-03-01T10:01:00Z | pat | customer \\| call | resumed | pat | gd-1-f0 | 1.5s | gd-1-f0-r1 |",
		"| 2026-03-01T10:02:00Z | 2026-03-01T10:12:00Z | drift rule (drift) | p95 drifted 40% | timeout |  | gd-1-f0-r1 |  |  |",
		"## Notes\n\n| at | by | kind | note |",
		"## Drift rules\n\n| guard | baseline | source | limit | earlier runs | off because |",
		"| p95 | no data | avg_over_time(p95[7d]) | 15% |  | the baseline query returned no data |",
		"| 2026-03-01T10:00:30Z | sam | observation | p95 at 300ms on the board |",
		"| 2026-03-01T10:03:00Z | dana | action | alert on drift |",
	} {
		assert.Contains(t, md, want)
	}
	d := Dir{Path: t.TempDir()}
	r.RunID = "run-1"
	assert.NoError(t, d.ReleaseEvidence(context.Background(), "REL-1", r, ""))
	ev, err := os.ReadFile(filepath.Join(d.Path, "release-REL-1.md"))
	assert.NoError(t, err)
	assert.Contains(t, string(ev), "- Paused 2 time(s): drift pause 2026-03-01T10:02:00Z by drift rule: p95 drifted 40%; ended timeout after 10m0s")
	assert.Contains(t, string(ev), "- Action item: [action] dana 2026-03-01T10:03:00Z: alert on drift")
}

// The postmortem links the run's report, whose charts it cannot show.
func TestRenderLinksTheReport(t *testing.T) {
	r := experiment.Result{Scenario: "x", Outcome: experiment.Aborted, Report: &experiment.ReportLinks{
		HTML: "https://gameday.example.com/reports/wf/report.html", Markdown: "/data/reports/wf/report.md", Chart: "/data/reports/wf/chart.png",
	}}
	md := Render(r)
	assert.Contains(t, md, "- Report (charts of every guard): https://gameday.example.com/reports/wf/report.html\n")
	assert.Contains(t, md, "- Report (Markdown): /data/reports/wf/report.md\n")
	assert.Contains(t, md, "- Charts (PNG): /data/reports/wf/chart.png\n")
	assert.NotContains(t, Render(experiment.Result{Scenario: "x"}), "Report")
}
