package slackbot

import (
	"math"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// The run message shows an outage as words (NaN, no data), says when a run
// is unguarded, and carries a removal that keeps failing.
func TestGuardsTextNonFiniteUnguardedAlarms(t *testing.T) {
	r := experiment.Result{
		Unguarded:     true,
		Verify:        []experiment.GuardValue{{Guard: "p95", Value: sli.Float(math.NaN()), NoData: true}, {Guard: "ratio", Value: sli.Float(math.Inf(1))}},
		Breach:        &sli.Breach{Guard: "p95", Op: "<=", Value: sli.Float(math.NaN()), Threshold: 0.8},
		RecoverAlarms: []string{"removing lat (gd-1-f0) failed 3 times, still trying: connection refused"},
	}
	txt := guardsText(r)
	assert.Contains(t, txt, "*UNGUARDED*")
	assert.Contains(t, txt, "`p95` no data (verify, unhealthy)")
	assert.Contains(t, txt, "`ratio` +Inf (verify, unhealthy)")
	assert.Contains(t, txt, "value NaN")
	assert.Contains(t, txt, "failed 3 times, still trying")
	items := threadItems(r)
	var breach string
	for _, it := range items {
		if it.key == "breach" {
			breach = it.text
		}
	}
	assert.Contains(t, breach, "value: NaN (healthy when &lt;= 0.8)")
}

// A probe guard's breach says "probe" and its answer.
func TestProbeBreachInSlack(t *testing.T) {
	r := experiment.Result{
		Baseline: []experiment.GuardValue{{Guard: "health", Kind: sli.KindHTTP, Value: 0.012, Healthy: true}},
		Breach: &sli.Breach{Guard: "health", Kind: sli.KindHTTP, Query: "GET http://shop/healthz, status 200-399, within 250ms",
			Op: "<=", Threshold: 0.25, Value: 0.01, Reason: "status 503, want 200-399"},
	}
	assert.Contains(t, guardsText(r), "`health` 12ms (baseline, healthy)")
	var breach string
	for _, it := range threadItems(r) {
		if it.key == "breach" {
			breach = it.text
		}
	}
	assert.Contains(t, breach, "• probe: `GET http://shop/healthz, status 200-399, within 250ms`")
	assert.Contains(t, breach, "• value: status 503, want 200-399 (healthy when an answer within 250ms)")
}

// TestButtonsFollowTheGateRule: the message offers sign-off only while the
// workflow's validator would accept it (Result.AwaitingSignoff), so after
// a rejection the remaining roles get no button, while Abort stays.
func TestButtonsFollowTheGateRule(t *testing.T) {
	r := experiment.Result{WorkflowID: "wf-1", Phase: experiment.PhaseSignoff, Outcome: experiment.Running, RequiredRoles: []string{"dev", "sre"}}
	ids := func(r experiment.Result) []string {
		var out []string
		for _, b := range actionButtons(r) {
			out = append(out, b.(*slack.ButtonBlockElement).ActionID)
		}
		return out
	}
	if got := ids(r); !slices.Equal(got, []string{actionSignoffPrefix + "dev", actionSignoffPrefix + "sre", actionAbort}) {
		t.Fatalf("at the gate: %v", got)
	}
	r.Signoffs = []experiment.Signoff{{Role: "dev", User: "dana", Reason: "not ready"}}
	if got := ids(r); !slices.Equal(got, []string{actionAbort}) {
		t.Fatalf("after a rejection: %v", got)
	}
}

// The run's thread names its trace once it is known.
func TestThreadNamesTheTrace(t *testing.T) {
	items := threadItems(experiment.Result{WorkflowID: "wf", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	var trace string
	for _, it := range items {
		if it.key == "trace" {
			trace = it.text
		}
	}
	assert.Equal(t, ":mag: Trace: `4bf92f3577b34da6a3ce929d0e0e4736`", trace)
	for _, it := range threadItems(experiment.Result{WorkflowID: "wf"}) {
		assert.NotEqual(t, "trace", it.key, "no trace item for an untraced run")
	}
}

// The run's thread gets the report: a link when the worker serves its
// reports, the file path otherwise.
func TestThreadLinksTheReport(t *testing.T) {
	item := func(r experiment.Result) string {
		for _, it := range threadItems(r) {
			if it.key == "report" {
				return it.text
			}
		}
		return ""
	}
	r := experiment.Result{Report: &experiment.ReportLinks{HTML: "https://gd.example.com/reports/wf_r/report.html", JUnit: "https://gd.example.com/reports/wf_r/report.junit.xml"}}
	assert.Equal(t, ":bar_chart: Report with a chart of every guard: <https://gd.example.com/reports/wf_r/report.html|open> · JUnit <https://gd.example.com/reports/wf_r/report.junit.xml|XML>", item(r))
	r.Report = &experiment.ReportLinks{HTML: "/data/reports/wf_r/report.html"}
	assert.Equal(t, ":bar_chart: Report with a chart of every guard: `/data/reports/wf_r/report.html`", item(r))
	r.Report = &experiment.ReportLinks{Error: "report dir: permission denied"}
	assert.Empty(t, item(r), "nothing to link")
}
