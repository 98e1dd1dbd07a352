package experiment

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// PhasePaused is the phase of a paused run: its faults are removed (or
// being removed), the guards keep watching, and it waits for a person to
// resume (continue) or abort it, or for the pause's timeout.
const PhasePaused = "paused"

// How else a pause can end (besides PauseResumed, PauseAborted and
// PauseTimeout): a guard breached while paused, or the workflow was
// cancelled. Both end the run; recover still removes every fault.
const (
	PauseBreach    = "breach"
	PauseCancelled = "cancelled"
)

// DriftPauser is the Pause.By of a pause the drift rule took.
const DriftPauser = "drift rule"

// Note limits, read by the workflow's validator and the CLI alike.
const (
	// MaxNoteLength bounds one note (in characters): a note is a line in
	// a status, a postmortem row and a ticket comment, not a document.
	MaxNoteLength = 2000
	// MaxReasonLength bounds the reason of an abort or a pause: it is
	// kept in the run's result (with up to 50 pauses), which Temporal
	// refuses over 2 MB, leaving the run unable to complete.
	MaxReasonLength = 1000
	// MaxNoteAuthor bounds a note's author (a name, not a text).
	MaxNoteAuthor = 200
)

// CheckNote is the rule every note meets, a run's or a game day's: a text
// of at most MaxNoteLength characters, an author, a known kind ("" is an
// observation).
func CheckNote(text, by, kind string) error {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return errors.New("a note needs text")
	case utf8.RuneCountInString(text) > MaxNoteLength:
		return fmt.Errorf("a note is at most %d characters; this one has %d", MaxNoteLength, utf8.RuneCountInString(text))
	case strings.TrimSpace(by) == "":
		return errors.New("a note needs its author")
	case utf8.RuneCountInString(by) > MaxNoteAuthor:
		return fmt.Errorf("a note's author is at most %d characters", MaxNoteAuthor)
	}
	switch kind {
	case "", NoteObservation, NoteAction:
		return nil
	}
	return fmt.Errorf("note kind %q: want %s or %s", kind, NoteObservation, NoteAction)
}

// CheckReason refuses a reason longer than MaxReasonLength characters;
// what names it ("an abort", "a pause").
func CheckReason(what, reason string) error {
	if n := utf8.RuneCountInString(strings.TrimSpace(reason)); n > MaxReasonLength {
		return fmt.Errorf("the reason of %s is at most %d characters; this one has %d", what, MaxReasonLength, n)
	}
	return nil
}

// CurrentPause is the pause in effect now, if the run is paused.
func (r Result) CurrentPause() (Pause, bool) {
	if n := len(r.Pauses); n > 0 && r.Pauses[n-1].Ended == PauseRunning {
		return r.Pauses[n-1], true
	}
	return Pause{}, false
}

// Paused reports whether the run is paused now.
func (r Result) Paused() bool {
	_, ok := r.CurrentPause()
	return ok
}

// PauseOpen reports whether a pause changes something now: the run is
// injecting or holding its faults and not already paused. Before inject
// nothing is injected yet (abort stops a run that has not started); after
// observe the faults are being removed anyway. The workflow's validator
// reads it (with its own checks on top), and so do the Slack button and
// `gameday status`, so a button never offers what the validator refuses.
func (r Result) PauseOpen() bool {
	if r.Finished() || r.Paused() {
		return false
	}
	return r.Phase == PhaseInject || r.Phase == PhaseObserve
}

// ResumeOpen reports whether a resume (or, after a drift pause, a
// continue) is taken now: the run is paused and its outcome undecided.
func (r Result) ResumeOpen() bool { return !r.Finished() && r.Paused() }

// NotesOpen reports whether a note is still taken: until the report
// starts. A note taken later would be in no postmortem and no ticket, so
// the run stops taking them when its report is being written.
func (r Result) NotesOpen() bool {
	return r.Ended.IsZero() && r.Phase != PhaseReport
}

// PauseRefusal says why a pause is refused in this state (nil: PauseOpen).
func (r Result) PauseRefusal() error {
	if p, ok := r.CurrentPause(); ok {
		return fmt.Errorf("already paused since %s by %s: %s (resume or abort it)", p.From.UTC().Format(time.TimeOnly), orSomeone(p.By), p.Reason)
	}
	if r.Finished() {
		return fmt.Errorf("run is already %s (phase %s): nothing left to pause", r.Outcome, r.Phase)
	}
	switch r.Phase {
	case "", PhaseDefine, PhaseSignoff:
		return fmt.Errorf("nothing to pause yet: no fault is injected before the inject phase (phase %s); abort stops the run instead", orNone(r.Phase))
	case PhaseInject, PhaseObserve:
		return nil
	case PhasePaused:
		return errors.New("the run is resuming (its paused faults are still being removed): pause it again once it re-injects")
	}
	return fmt.Errorf("nothing left to pause: the hold is over and the faults are being removed (phase %s)", r.Phase)
}

// ResumeRefusal says why a resume is refused in this state (nil:
// ResumeOpen).
func (r Result) ResumeRefusal() error {
	switch {
	case r.Finished():
		return fmt.Errorf("run is already %s (phase %s): nothing to resume", r.Outcome, r.Phase)
	case !r.Paused():
		return fmt.Errorf("run is not paused (phase %s): nothing to resume", orNone(r.Phase))
	}
	return nil
}

// String describes a pause for people: when, who, why, how it ended.
func (p Pause) String() string {
	var b strings.Builder
	what := "paused"
	if p.Drift {
		what = "drift pause"
	}
	fmt.Fprintf(&b, "%s %s by %s: %s", what, p.From.UTC().Format(time.RFC3339), orSomeone(p.By), p.Reason)
	switch {
	case p.Ended == PauseRunning:
		b.WriteString(" (still paused")
		if !p.Deadline.IsZero() {
			fmt.Fprintf(&b, "; aborts at %s without an answer", p.Deadline.UTC().Format(time.RFC3339))
		}
		b.WriteString(")")
	default:
		fmt.Fprintf(&b, "; ended %s after %s", p.Ended, p.To.Sub(p.From).Round(time.Second))
		if p.EndedBy != "" {
			fmt.Fprintf(&b, " by %s", p.EndedBy)
		}
	}
	if !p.Removed.IsZero() {
		fmt.Fprintf(&b, "; faults removed %s after the pause", p.Removed.Sub(p.From).Round(100*time.Millisecond))
	}
	if len(p.Reinjected) > 0 {
		fmt.Fprintf(&b, "; re-injected as %s", strings.Join(p.Reinjected, ", "))
	}
	return b.String()
}

// String is a note as one line: "[action] dana 12:03:04: restart cache".
func (n Note) String() string {
	kind := ""
	if n.Kind == NoteAction {
		kind = "[action] "
	}
	return fmt.Sprintf("%s%s %s: %s", kind, n.By, n.At.UTC().Format(time.RFC3339), n.Text)
}

func orSomeone(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "not started"
	}
	return s
}

// StatusPaused is the status of the inject or observe phase a pause
// interrupted (the paused phase follows it).
const StatusPaused = "paused"
