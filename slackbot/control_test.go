package slackbot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// controlCalls records the fake engine's pauses, resumes and notes.
type controlCalls struct {
	pauses  []abortCall // id, reason, by
	resumes []abortCall // id, "", by
	notes   []noteCall
	err     error
}

type noteCall struct{ id, text, by, kind string }

func (f *fakeEngine) Pause(_ context.Context, id, reason, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.pauses = append(f.ctl.pauses, abortCall{id, reason, by})
	return f.ctl.err
}

func (f *fakeEngine) Resume(_ context.Context, id, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.resumes = append(f.ctl.resumes, abortCall{id: id, by: by})
	return f.ctl.err
}

func (f *fakeEngine) Note(_ context.Context, id, text, by, kind string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctl.notes = append(f.ctl.notes, noteCall{id, text, by, kind})
	return f.ctl.err
}

func (f *fakeEngine) control() controlCalls {
	f.mu.Lock()
	defer f.mu.Unlock()
	return controlCalls{pauses: slices.Clone(f.ctl.pauses), resumes: slices.Clone(f.ctl.resumes), notes: slices.Clone(f.ctl.notes)}
}

// pauseScript: observing, paused by a person, resumed and observing again,
// paused by the drift rule, aborted on the pause's timeout.
func pauseScript() []experiment.Result {
	base := experiment.Result{Scenario: "demo-inventory-latency", Service: "order-service", Outcome: experiment.Running, Started: t0,
		Phase: experiment.PhaseObserve, Phases: []experiment.Phase{phase("define", "done", ""), phase("inject", "done", ""), phase("observe", "running", "holding 30s")}}
	var out []experiment.Result
	add := func(f func(r *experiment.Result)) {
		r := base
		if len(out) > 0 {
			r = out[len(out)-1]
		}
		r.Phases, r.Pauses, r.Notes = slices.Clone(r.Phases), slices.Clone(r.Pauses), slices.Clone(r.Notes)
		f(&r)
		out = append(out, r)
	}
	add(func(r *experiment.Result) { // 0: observing
		r.DriftBaselines = []sli.DriftBaseline{{Guard: "p95", Source: "avg_over_time(p95[7d])", Value: 0.1, Limit: 15}}
	})
	add(func(r *experiment.Result) { // 1: paused
		r.Phase = experiment.PhasePaused
		r.Phases[2] = phase("observe", experiment.StatusPaused, "paused by dana: customer call")
		r.Phases = append(r.Phases, phase("paused", "running", "removing gd-1-f0"))
		r.Pauses = []experiment.Pause{{Reason: "customer call", By: "dana", From: t0.Add(5 * time.Second), Deadline: t0.Add(10*time.Minute + 5*time.Second), Faults: []string{"gd-1-f0"}, Remaining: 25 * time.Second}}
		r.Notes = []experiment.Note{{Text: "p95 at 300ms on the board", By: "sam", Kind: experiment.NoteObservation, At: t0.Add(6 * time.Second)}}
	})
	add(func(r *experiment.Result) { // 2: resumed, observing what is left
		r.Phase = experiment.PhaseObserve
		r.Phases[3] = phase("paused", "done", "resumed by dana")
		r.Phases = append(r.Phases, phase("inject", "done", ""), phase("observe", "running", "holding 25s"))
		p := &r.Pauses[0]
		p.To, p.Ended, p.EndedBy, p.Reinjected = t0.Add(65*time.Second), experiment.PauseResumed, "dana", []string{"gd-1-f0-r1"}
	})
	add(func(r *experiment.Result) { // 3: the drift rule paused it
		r.Phase = experiment.PhasePaused
		r.Phases[5] = phase("observe", experiment.StatusPaused, "drift")
		r.Phases = append(r.Phases, phase("paused", "running", "drift pause"))
		r.Pauses = append(r.Pauses, experiment.Pause{Reason: "guard p95 drifted 40% from its baseline 0.1 (limit 15%)", By: experiment.DriftPauser, Drift: true,
			From: t0.Add(70 * time.Second), Deadline: t0.Add(10*time.Minute + 70*time.Second), Faults: []string{"gd-1-f0-r1"}, Remaining: 20 * time.Second})
		r.Notes = append(r.Notes, experiment.Note{Text: "add a drift alert", By: "dana", Kind: experiment.NoteAction, At: t0.Add(80 * time.Second)})
	})
	add(func(r *experiment.Result) { // 4: nobody answered
		r.Outcome, r.AbortReason = experiment.Aborted, "paused for 10m0s without an answer"
		r.Phase = experiment.PhaseReport
		r.Phases[6] = phase("paused", "failed", "timeout")
		r.Phases = append(r.Phases, phase("recover", "done", ""), phase("verify", "done", ""), phase("report", "done", ""))
		p := &r.Pauses[1]
		p.To, p.Ended = p.Deadline, experiment.PauseTimeout
		r.Ended = t0.Add(11 * time.Minute)
	})
	return out
}

// The run message offers Pause while a pause changes something, Resume
// (Continue after a drift pause) while paused, and the thread gets each
// pause, how it ended, and every note, once.
func TestRunMessagePauseResumeButtonsAndThread(t *testing.T) {
	h := newHarness(t)
	h.eng.script = pauseScript()
	h.command(dana, testChannel, "run demo-inventory-latency")
	waitFor(t, "the run message", func() bool { return len(h.slack.runMessages()) == 1 })
	checkMsg(t, "observing", h.slack.runMessages()[0], []string{actionPause, actionAbort}, "*observe* running", ":chart_with_upwards_trend: p95: baseline 0.1, pauses beyond 15% drift")
	steps := []struct {
		name     string
		buttons  []string
		contains []string
	}{
		{"paused", []string{actionResume, actionAbort}, []string{":double_vertical_bar: *observe* paused", "*paused* running", "*Pauses*", "paused 2026-03-04T10:00:05Z by dana: customer call (still paused", ":memo: 1 note(s) in the thread", `"text":"Resume"`}},
		{"resumed", []string{actionPause, actionAbort}, []string{"ended resumed after 1m0s by dana; re-injected as gd-1-f0-r1"}},
		{"drift", []string{actionResume, actionAbort}, []string{"drift pause 2026-03-04T10:01:10Z by drift rule", `"text":"Continue"`, "Continue despite the drift?"}},
		{"timeout", nil, []string{"*Outcome* :octagonal_sign: aborted — paused for 10m0s without an answer", "ended timeout after 10m0s"}},
	}
	for i, s := range steps {
		h.eng.advance()
		waitFor(t, s.name+" update", func() bool { return len(h.slack.get("chat.update")) == i+1 })
		checkMsg(t, s.name, h.slack.get("chat.update")[i], s.buttons, s.contains...)
	}
	waitFor(t, "the watcher to stop", func() bool { return len(h.bot.followed(testChannel)) == 0 })
	var thread []string
	for _, c := range h.slack.thread() {
		thread = append(thread, c.Form.Get("text"))
	}
	all := strings.Join(thread, "\n---\n")
	for _, want := range []string{
		":double_vertical_bar: *Paused* by dana: customer call\n• removing: gd-1-f0\n• 25s of hold left\n• resume (continue) or abort before 2026-03-04T10:10:05Z",
		":arrow_forward: Pause ended: resumed by dana after 1m0s; re-injecting gd-1-f0-r1",
		":chart_with_upwards_trend: *Drift pause*: a guard drifted from its baseline while still inside its threshold; a person decides by drift rule: guard p95 drifted 40%",
		":octagonal_sign: Pause ended: timeout after 10m0s",
		":eyes: *sam* (observation, 10:00:06): p95 at 300ms on the board",
		":pushpin: *dana* (action item, 10:01:20): add a drift alert",
	} {
		if n := strings.Count(all, want); n != 1 {
			t.Errorf("thread has %q %d times, want once:\n%s", want, n, all)
		}
	}
}

func TestPauseCommandAndButton(t *testing.T) {
	h := newHarness(t)
	if rep := h.command(sam, testChannel, "pause wf-1 looks odd"); !strings.Contains(rep.Text, "sam may not pause runs (pausing needs the abort grant") {
		t.Fatalf("sam (no abort grant): %q", rep.Text)
	}
	if rep := h.command(dana, testChannel, "pause"); !strings.Contains(rep.Text, "Which run?") {
		t.Fatalf("no run: %q", rep.Text)
	}
	rep := h.command(dana, testChannel, "pause wf-1   customer  call")
	if !strings.Contains(rep.Text, "`wf-1` paused: its faults are being removed") {
		t.Fatalf("ack %q", rep.Text)
	}
	h.command(dana, testChannel, "pause wf-2")
	h.interact(buttonPress(dana, actionPause, "wf-3"))
	waitFor(t, "three pauses", func() bool { return len(h.eng.control().pauses) == 3 })
	got := h.eng.control().pauses
	want := []abortCall{{"wf-1", "customer  call", "dana"}, {"wf-2", "paused from Slack by dana", "dana"}, {"wf-3", "paused from Slack by dana", "dana"}}
	if !slices.Equal(got, want) {
		t.Fatalf("pauses %+v, want %+v", got, want)
	}
	// The validator's refusal reaches the user who asked.
	h.eng.set(func(f *fakeEngine) {
		f.ctl.err = errors.New("nothing to pause yet: no fault is injected before the inject phase (phase signoff)")
	})
	if rep := h.command(dana, testChannel, "pause wf-4 x"); !strings.Contains(rep.Text, "Pause of `wf-4` refused: nothing to pause yet") {
		t.Fatalf("refusal %q", rep.Text)
	}
}

// Resuming injects the faults again: only who may run the run's scenario.
func TestResumeNeedsTheRunGrant(t *testing.T) {
	h := newHarness(t)
	h.eng.script = []experiment.Result{{Scenario: "db-failover", Outcome: experiment.Running, Phase: experiment.PhasePaused}}
	if rep := h.command(dana, testChannel, "resume wf-1"); !strings.Contains(rep.Text, "dana may not resume db-failover (allowed: demo-*)") {
		t.Fatalf("dana: %q", rep.Text)
	}
	if rep := h.command(sam, testChannel, "continue wf-1"); !strings.Contains(rep.Text, "`wf-1` resumed") {
		t.Fatalf("sam: %q", rep.Text)
	}
	h.interact(buttonPress(sam, actionResume, "wf-2"))
	h.interact(buttonPress(dana, actionResume, "wf-3"))
	waitFor(t, "the refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if e := h.slack.get("chat.postEphemeral")[0]; !strings.Contains(e.Form.Get("text"), "Resume of `wf-3` refused: dana may not resume db-failover") {
		t.Fatalf("refusal %v", e.Form)
	}
	waitFor(t, "two resumes", func() bool { return len(h.eng.control().resumes) == 2 })
	if got := h.eng.control().resumes; got[0] != (abortCall{id: "wf-1", by: "sam"}) || got[1] != (abortCall{id: "wf-2", by: "sam"}) {
		t.Fatalf("resumes %+v", got)
	}
}

// Resuming re-injects faults, so the environment limit of run applies too:
// dana runs demo-* in staging only and may not resume a production run
// someone else paused, nor one whose environment the catalog cannot tell.
func TestResumeKeepsTheEnvironmentLimit(t *testing.T) {
	h := newHarness(t)
	h.eng.script = []experiment.Result{{Scenario: "demo-prod-failover", Outcome: experiment.Running, Phase: experiment.PhasePaused}}
	if rep := h.command(dana, testChannel, "resume wf-1"); !strings.Contains(rep.Text, "dana may not run in environment production (allowed: staging)") {
		t.Fatalf("dana, production: %q", rep.Text)
	}
	h.eng.script = []experiment.Result{{Scenario: "demo-from-a-file", Outcome: experiment.Running, Phase: experiment.PhasePaused}}
	if rep := h.command(dana, testChannel, "resume wf-2"); !strings.Contains(rep.Text, "not in the catalog") {
		t.Fatalf("dana, unknown environment: %q", rep.Text)
	}
	h.eng.script = []experiment.Result{{Scenario: "demo-inventory-latency", Outcome: experiment.Running, Phase: experiment.PhasePaused}}
	if rep := h.command(dana, testChannel, "resume wf-3"); !strings.Contains(rep.Text, "`wf-3` resumed") {
		t.Fatalf("dana, her own: %q", rep.Text)
	}
	h.eng.script = []experiment.Result{{Scenario: "demo-prod-failover", Outcome: experiment.Running, Phase: experiment.PhasePaused}}
	if rep := h.command(sam, testChannel, "resume wf-4"); !strings.Contains(rep.Text, "`wf-4` resumed") {
		t.Fatalf("sam, no environment limit: %q", rep.Text)
	}
	if got := h.eng.control().resumes; len(got) != 2 || got[0].id != "wf-3" || got[1].id != "wf-4" {
		t.Fatalf("resumes %+v", got)
	}
}

func TestNoteCommand(t *testing.T) {
	h := newHarness(t)
	if rep := h.command(stranger, testChannel, "note wf-1 hello"); !strings.Contains(rep.Text, "not in the game-day access file") {
		t.Fatalf("stranger: %q", rep.Text)
	}
	if rep := h.command(vic, testChannel, "note wf-1"); !strings.Contains(rep.Text, "A note needs the run and its text") {
		t.Fatalf("no text: %q", rep.Text)
	}
	if rep := h.command(vic, testChannel, "note wf-1 "+strings.Repeat("x", experiment.MaxNoteLength+1)); !strings.Contains(rep.Text, "at most 2000 characters") {
		t.Fatalf("too long: %q", rep.Text)
	}
	if rep := h.command(vic, testChannel, "note wf-1 p95 at 300ms, cache <miss> storm"); !strings.Contains(rep.Text, ":memo: Noted on `wf-1`") {
		t.Fatalf("ack: %q", rep.Text)
	}
	h.command(vic, testChannel, "note wf-1 --action add an alert on cache misses")
	waitFor(t, "two notes", func() bool { return len(h.eng.control().notes) == 2 })
	got := h.eng.control().notes
	want := []noteCall{{"wf-1", "p95 at 300ms, cache <miss> storm", "vic", experiment.NoteObservation}, {"wf-1", "add an alert on cache misses", "vic", experiment.NoteAction}}
	if !slices.Equal(got, want) {
		t.Fatalf("notes %+v, want %+v", got, want)
	}
}
