package experiment

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The pause, resume and note rules: the workflow's validators, the Slack
// buttons and `gameday status` read these.
func TestPauseResumeNoteRules(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	open := Pause{Reason: "look", By: "pat", From: at, Deadline: at.Add(10 * time.Minute)}
	closed := Pause{Reason: "look", By: "pat", From: at, To: at.Add(time.Minute), Ended: PauseResumed, EndedBy: "pat"}
	run := func(phase string, outcome Outcome, pauses ...Pause) Result {
		return Result{Phase: phase, Outcome: outcome, Pauses: pauses}
	}
	for _, tc := range []struct {
		name                             string
		r                                Result
		pauseOpen, resumeOpen, abortOpen bool
		notesOpen                        bool
		refusal                          string // of a pause; "" when open
	}{
		{"at the gate", run(PhaseSignoff, Running), false, false, true, true, "nothing to pause yet: no fault is injected before the inject phase (phase signoff)"},
		{"before define", run("", Running), false, false, true, true, "(phase not started)"},
		{"injecting", run(PhaseInject, Running), true, false, true, true, ""},
		{"observing after a resume", run(PhaseObserve, Running, closed), true, false, true, true, ""},
		{"paused", run(PhasePaused, Running, open), false, true, true, true, "already paused since 10:00:00 by pat: look"},
		{"recovering", run(PhaseRecover, Running), false, false, false, true, "nothing left to pause: the hold is over"},
		{"resuming", run(PhasePaused, Running, closed), false, false, true, true, "the run is resuming"},
		{"aborted while paused, cleaning up", run(PhaseRecover, Aborted, Pause{From: at, Ended: PauseAborted}), false, false, false, true, "run is already aborted"},
		{"reporting", run(PhaseReport, Passed), false, false, false, false, "run is already passed"},
		{"over", func() Result { r := run(PhaseReport, Passed); r.Ended = at; return r }(), false, false, false, false, "run is already passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if got := r.PauseOpen(); got != tc.pauseOpen {
				t.Errorf("PauseOpen = %t, want %t", got, tc.pauseOpen)
			}
			if got := r.ResumeOpen(); got != tc.resumeOpen {
				t.Errorf("ResumeOpen = %t, want %t", got, tc.resumeOpen)
			}
			if got := r.AbortOpen(); got != tc.abortOpen {
				t.Errorf("AbortOpen = %t, want %t", got, tc.abortOpen)
			}
			if got := r.NotesOpen(); got != tc.notesOpen {
				t.Errorf("NotesOpen = %t, want %t", got, tc.notesOpen)
			}
			err := r.PauseRefusal()
			switch {
			case tc.refusal == "" && err != nil:
				t.Errorf("PauseRefusal = %v, want none", err)
			case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
				t.Errorf("PauseRefusal = %v, want %q", err, tc.refusal)
			}
			if (r.ResumeRefusal() == nil) != tc.resumeOpen {
				t.Errorf("ResumeRefusal = %v, ResumeOpen %t", r.ResumeRefusal(), tc.resumeOpen)
			}
		})
	}
}

func TestPauseAndNoteRead(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	p := Pause{Reason: "p95 drifted 40%", By: DriftPauser, Drift: true, From: at, To: at.Add(90 * time.Second), Ended: PauseResumed, EndedBy: "pat",
		Faults: []string{"gd-1-f0"}, Removed: at.Add(1200 * time.Millisecond), Reinjected: []string{"gd-1-f0-r1"}}
	want := "drift pause 2026-03-01T10:00:00Z by drift rule: p95 drifted 40%; ended resumed after 1m30s by pat; faults removed 1.2s after the pause; re-injected as gd-1-f0-r1"
	if got := p.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	open := Pause{Reason: "look", By: "pat", From: at, Deadline: at.Add(10 * time.Minute)}
	if got := open.String(); !strings.Contains(got, "still paused; aborts at 2026-03-01T10:10:00Z without an answer") {
		t.Errorf("open pause reads %q", got)
	}
	n := Note{Text: "add an alert", By: "sam", Kind: NoteAction, At: at}
	if got := n.String(); got != "[action] sam 2026-03-01T10:00:00Z: add an alert" {
		t.Errorf("note reads %q", got)
	}
}

// One note rule for runs and game days.
func TestCheckNote(t *testing.T) {
	assert.NoError(t, CheckNote(" p95 flat ", "tess", ""))
	assert.NoError(t, CheckNote("page sent", "sam", NoteAction))
	assert.EqualError(t, CheckNote("  ", "tess", ""), "a note needs text")
	assert.EqualError(t, CheckNote(strings.Repeat("é", MaxNoteLength+1), "tess", ""), "a note is at most 2000 characters; this one has 2001")
	assert.EqualError(t, CheckNote("x", " ", ""), "a note needs its author")
	assert.EqualError(t, CheckNote("x", strings.Repeat("a", MaxNoteAuthor+1), ""), "a note's author is at most 200 characters")
	assert.EqualError(t, CheckNote("x", "tess", "gossip"), `note kind "gossip": want observation or action`)
	assert.EqualError(t, CheckReason("a pause", strings.Repeat("x", MaxReasonLength+1)), "the reason of a pause is at most 1000 characters; this one has 1001")
}
