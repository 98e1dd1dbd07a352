package slackbot

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func phase(name, status, detail string) experiment.Phase {
	return experiment.Phase{Name: name, Status: status, Started: t0, Detail: detail}
}

// breachScript is a run that waits at the gate for dev and sre, is
// injected, breaches a guard in observe and ends aborted after recovery.
func breachScript() []experiment.Result {
	base := experiment.Result{
		Scenario: "demo-inventory-timeout", Service: "order-service", Outcome: experiment.Running,
		RequiredRoles: []string{"dev", "sre"}, UIURL: "http://127.0.0.1:8233/namespaces/default/workflows/wf/history",
		Started: t0,
	}
	var out []experiment.Result
	add := func(f func(r *experiment.Result)) {
		r := base
		if len(out) > 0 {
			r = out[len(out)-1]
		}
		r.Phases = slices.Clone(r.Phases)
		r.Signoffs = slices.Clone(r.Signoffs)
		f(&r)
		out = append(out, r)
	}
	add(func(r *experiment.Result) { // 0
		r.Phase = experiment.PhaseDefine
		r.Phases = []experiment.Phase{phase("define", "running", "")}
	})
	add(func(r *experiment.Result) { // 1
		r.Phase = experiment.PhaseSignoff
		r.Phases[0] = phase("define", "done", "1 target(s), 1 guard(s) healthy")
		r.Phases = append(r.Phases, phase("signoff", "running", "waiting for dev, sre"))
		r.Targets = []string{"toxiproxy/inventory"}
		r.Baseline = []experiment.GuardValue{{Guard: "p95-latency", Query: "histogram_quantile(0.95, …)", Value: 0.12, Healthy: true}}
	})
	add(func(r *experiment.Result) { // 2
		r.Signoffs = append(r.Signoffs, experiment.Signoff{Role: "dev", User: "dana", Approved: true, At: t0})
	})
	add(func(r *experiment.Result) { // 3
		r.Signoffs = append(r.Signoffs, experiment.Signoff{Role: "sre", User: "sam", Approved: true, At: t0})
		r.Phase = experiment.PhaseInject
		r.Phases[1] = phase("signoff", "done", "")
		r.Phases = append(r.Phases, phase("inject", "running", ""))
	})
	add(func(r *experiment.Result) { // 4
		r.Phase = experiment.PhaseObserve
		r.Phases[2] = phase("inject", "done", "1 fault(s)")
		r.Phases = append(r.Phases, phase("observe", "running", "holding 30s"))
	})
	add(func(r *experiment.Result) { // 5
		r.Outcome = experiment.Aborted
		r.AbortReason = "guard p95-latency breached: value 1.3, healthy when <= 0.8"
		r.Breach = &sli.Breach{Guard: "p95-latency", Query: "histogram_quantile(0.95, …)", Op: "<=", Value: 1.3, Threshold: 0.8, At: t0.Add(7 * time.Second)}
		r.Phase = experiment.PhaseRecover
		r.Phases[3] = phase("observe", "failed", "breach")
		r.Phases = append(r.Phases, phase("recover", "running", ""))
	})
	add(func(r *experiment.Result) { // 6
		r.Phase = experiment.PhaseReport
		r.Phases[4] = phase("recover", "done", "1 fault(s) removed")
		r.Phases = append(r.Phases, phase("verify", "done", "steady"), phase("report", "done", ""))
		r.Verify = []experiment.GuardValue{{Guard: "p95-latency", Value: 0.14, Healthy: true}}
		r.Postmortem = ".data/postmortems/wf.md"
		r.Gate = &checklist.Gate{Checklist: "release-default", Score: 40, Threshold: 80, BlockingFailed: []string{"cb-fallback"}}
		r.Ended = t0.Add(time.Minute)
	})
	return out
}

func TestRunMessageFollowsPhases(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()
	h.command(dana, testChannel, "run demo-inventory-timeout")
	waitFor(t, "the run message", func() bool { return len(h.slack.runMessages()) == 1 })
	msg := h.slack.runMessages()[0]
	abort := []string{actionAbort}
	checkMsg(t, "initial", msg, abort, "*define* running", ":large_blue_circle: running")

	steps := []struct {
		name     string
		buttons  []string
		contains []string
	}{
		{"signoff", []string{actionSignoffPrefix + "dev", actionSignoffPrefix + "sre", actionAbort}, []string{"*signoff* running", "dev :hourglass: pending", "`p95-latency` 0.12 (baseline, healthy)"}},
		{"dev signed", []string{actionSignoffPrefix + "sre", actionAbort}, []string{"dev :white_check_mark: dana", "sre :hourglass: pending"}},
		{"inject", []string{actionPause, actionAbort}, []string{"*inject* running", "sre :white_check_mark: sam"}},
		{"observe", []string{actionPause, actionAbort}, []string{"*observe* running — holding 30s"}},
		{"breach", nil, []string{"aborted (recovering…)", "*recover* running", ":rotating_light: guard p95-latency breached"}},
		{"final", nil, []string{"*Outcome* :octagonal_sign: aborted — guard p95-latency breached", "(verify, healthy)", "Release gate *failed* (release-default): score 40% (threshold 80%)", "strong-blocking failed: cb-fallback", "*report* done"}},
	}
	for i, s := range steps {
		before := h.eng.calls()
		h.eng.advance()
		waitFor(t, s.name+" update", func() bool { return len(h.slack.get("chat.update")) == i+1 })
		up := h.slack.get("chat.update")[i]
		if up.Form.Get("ts") != "1700000000.000001" || up.Form.Get("channel") != testChannel {
			t.Fatalf("%s: update of %s/%s, want the run message", s.name, up.Form.Get("channel"), up.Form.Get("ts"))
		}
		checkMsg(t, s.name, up, s.buttons, s.contains...)
		if s.name == "final" {
			break
		}
		// More polls of the same state must not update the message.
		waitFor(t, "more polls", func() bool { return h.eng.calls() >= before+4 })
		if n := len(h.slack.get("chat.update")); n != i+1 {
			t.Fatalf("%s: %d updates after polls of an unchanged run, want %d", s.name, n, i+1)
		}
	}
	waitFor(t, "the watcher to stop", func() bool { return len(h.bot.followed(testChannel)) == 0 })
	if n := len(h.slack.get("chat.update")); n != len(steps) {
		t.Fatalf("%d updates, want %d", n, len(steps))
	}
	if got := h.slack.get("chat.update")[len(steps)-1].Form.Get("text"); got != "Game day demo-inventory-timeout: aborted — guard p95-latency breached: value 1.3, healthy when &lt;= 0.8" {
		t.Fatalf("final fallback text %q", got)
	}

	// Each thread detail once, in the thread of the run message.
	want := map[string]string{
		"ui":         ":link: Temporal UI: <http://127.0.0.1:8233/namespaces/default/workflows/wf/history|",
		"targets":    "*Targets* (define)\n• `toxiproxy/inventory`",
		"dev":        "dana signed off as dev",
		"sre":        "sam signed off as sre",
		"breach":     ":rotating_light: *Guard breach* `p95-latency`\n• query: `histogram_quantile(0.95, …)`\n• value: 1.3 (healthy when &lt;= 0.8)\n• at: 2026-03-04T10:00:07Z",
		"postmortem": ":memo: Postmortem: .data/postmortems/wf.md",
	}
	thread := h.slack.thread()
	if len(thread) != len(want) {
		t.Errorf("%d thread replies, want %d", len(thread), len(want))
	}
	for key, text := range want {
		n := 0
		for _, c := range thread {
			if c.Form.Get("thread_ts") != "1700000000.000001" {
				t.Fatalf("reply in thread %q", c.Form.Get("thread_ts"))
			}
			if strings.Contains(c.Form.Get("text"), text) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("thread item %s posted %d times, want once (%q)", key, n, text)
		}
	}
}

func checkMsg(t *testing.T, name string, c apiCall, buttons []string, contains ...string) {
	t.Helper()
	if got := c.buttons(t); !slices.Equal(got, buttons) {
		t.Errorf("%s: buttons %v, want %v", name, got, buttons)
	}
	raw := c.Form.Get("blocks")
	for _, s := range contains {
		if !strings.Contains(raw, jsonEscape(s)) {
			t.Errorf("%s: message lacks %q:\n%s", name, s, raw)
		}
	}
}

// jsonEscape matches text as it appears inside the blocks' JSON.
func jsonEscape(s string) string {
	return strings.NewReplacer("\n", `\n`, "<", `\u003c`, ">", `\u003e`, "&", `\u0026`).Replace(s)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAbortButtonHasConfirm(t *testing.T) {
	_, blocks := render(experiment.Result{WorkflowID: "wf", Scenario: "s", Outcome: experiment.Running, Phase: experiment.PhaseObserve})
	for _, b := range blocks {
		if s := string(mustJSON(t, b)); strings.Contains(s, actionAbort) {
			if !strings.Contains(s, `"style":"danger"`) || !strings.Contains(s, `"confirm"`) {
				t.Fatalf("abort button without danger style or confirm: %s", s)
			}
			return
		}
	}
	t.Fatal("no abort button while observing")
}

func TestWatchResumesAndDedupes(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()[3:4] // stuck in inject
	for range 2 {
		if err := h.bot.Watch(t.Context(), testChannel, "wf-resume"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.slack.runMessages()); n != 1 {
		t.Fatalf("two Watch calls posted %d messages", n)
	}
	waitFor(t, "polling", func() bool { return h.eng.calls() > 3 })
	h.bot.Close() // stops the watcher although the run goes on
	if n := len(h.bot.followed(testChannel)); n != 0 {
		t.Fatalf("%d watchers after Close", n)
	}
	if err := h.bot.Watch(t.Context(), testChannel, "wf-2"); err == nil {
		t.Fatal("Watch after Close must fail")
	}
}

func TestWatchFinishedRunPostsOnceAndStops(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()[6:]
	if err := h.bot.Watch(t.Context(), testChannel, "wf-done"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to stop", func() bool { return len(h.bot.followed(testChannel)) == 0 })
	if n := len(h.slack.get("chat.update")); n != 0 {
		t.Fatalf("%d updates of a run that was final from the start", n)
	}
	if btn := h.slack.runMessages()[0].buttons(t); len(btn) != 0 {
		t.Fatalf("buttons on a finished run: %v", btn)
	}
	if n := len(h.slack.thread()); n != 6 { // ui, targets, two sign-offs, breach, postmortem
		t.Fatalf("thread: %d replies, want 6", n)
	}
}

// A bot restarted mid-run finds the run message its predecessor posted (by
// the workflow id in the message metadata) and keeps updating it, without
// posting the thread details again; only what is new goes to the thread.
func TestWatchAfterRestartKeepsTheMessage(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()
	h.eng.step = 1 // waiting at the gate: UI link and targets are known
	if err := h.bot.Watch(t.Context(), testChannel, "wf-restart"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first thread details", func() bool { return len(h.slack.thread()) == 2 })
	msg := h.slack.runMessages()[0]
	if md := msg.Form.Get("metadata"); !strings.Contains(md, `"workflow_id":"wf-restart"`) || !strings.Contains(md, metaRunMessage) {
		t.Fatalf("run message metadata %q", md)
	}
	h.bot.Close() // the bot goes away; the run goes on
	h.eng.advance()

	bot2 := New(testConfig(t), h.eng, h.slack.api(), nil)
	bot2.poll = 5 * time.Millisecond
	t.Cleanup(bot2.Close)
	if err := bot2.Watch(t.Context(), testChannel, "wf-restart"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.slack.runMessages()); n != 1 {
		t.Fatalf("restarted bot posted a new run message (%d in all)", n)
	}
	ups := h.slack.get("chat.update")
	if len(ups) == 0 || ups[0].Form.Get("ts") != msg.TS {
		t.Fatalf("restarted bot did not update the run message %s: %v", msg.TS, ups)
	}
	checkMsg(t, "resumed", ups[0], []string{actionSignoffPrefix + "sre", actionAbort}, "dev :white_check_mark: dana")
	waitFor(t, "the new sign-off in the thread", func() bool { return len(h.slack.thread()) == 3 })
	h.eng.advance() // sre signs: inject
	waitFor(t, "the next update", func() bool { return len(h.slack.get("chat.update")) == 2 })
	waitFor(t, "the sre sign-off in the thread", func() bool { return len(h.slack.thread()) == 4 })
	for _, c := range append(h.slack.get("chat.update"), h.slack.thread()...) {
		if ts := c.Form.Get("ts") + c.Form.Get("thread_ts"); ts != msg.TS {
			t.Fatalf("%s went to %s, not the run message %s", c.Method, ts, msg.TS)
		}
	}
	seen := map[string]int{}
	for _, c := range h.slack.thread() {
		seen[c.Form.Get("text")]++
	}
	for text, n := range seen {
		if n != 1 {
			t.Errorf("thread detail posted %d times: %q", n, text)
		}
	}
}

// Without the history scope (or when the message is gone) a restarted bot
// still follows the run, in a fresh message.
func TestWatchAfterRestartWithoutHistoryPostsAgain(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()[1:2]
	if err := h.bot.Watch(t.Context(), testChannel, "wf-noscope"); err != nil {
		t.Fatal(err)
	}
	h.bot.Close()
	h.slack.mu.Lock()
	h.slack.historyErr = "missing_scope"
	h.slack.mu.Unlock()
	bot2 := New(testConfig(t), h.eng, h.slack.api(), slog.New(slog.NewJSONHandler(h.logs, nil)))
	t.Cleanup(bot2.Close)
	if err := bot2.Watch(t.Context(), testChannel, "wf-noscope"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.slack.runMessages()); n != 2 {
		t.Fatalf("%d run messages, want a fresh one after the history was refused", n)
	}
	if !strings.Contains(h.logs.String(), "cannot read the channel history") {
		t.Fatalf("no warning about the history: %s", h.logs)
	}
}

// What the back-end saw while recovering (for a pod-kill, how long the
// Deployment took to be Ready again) goes into the thread, once.
func TestThreadCarriesRecoveryDetail(t *testing.T) {
	r := experiment.Result{WorkflowID: "w", RecoverLog: []chaos.Recovered{
		{FaultID: "gd-1-f0", Removed: true, Detail: "deployment/order 4/4 Ready within 1.2s of the kill"},
		{FaultID: "gd-1-f1", Removed: true},
	}}
	var texts []string
	for _, it := range threadItems(r) {
		if strings.HasPrefix(it.key, "recovered:") {
			texts = append(texts, it.text)
		}
	}
	if len(texts) != 1 || !strings.Contains(texts[0], "gd-1-f0") || !strings.Contains(texts[0], "deployment/order 4/4 Ready within 1.2s of the kill") {
		t.Fatalf("recovery thread items = %q, want one for gd-1-f0 with its detail", texts)
	}
}
