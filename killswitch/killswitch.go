// Package killswitch holds the words of gameday's kill switch: the freeze
// (while it is on, every new run is refused in define, saying who froze and
// why) and aborting every running run at once (`gameday abort --all`, a
// blackout window opening). The switch itself is durable state in Temporal
// (the KillSwitch entity workflow); this package is its pure half, shared
// by the entity, define, the CLI, the schedules and the Slack bot. No
// Temporal import.
package killswitch

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// State is the switch as the entity holds it.
type State struct {
	Frozen bool      `json:"frozen"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
	// History is the last changes, newest last (at most HistoryLen).
	History []Change `json:"history,omitempty"`
}

// Change is one freeze or unfreeze.
type Change struct {
	On     bool      `json:"on"`
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// HistoryLen bounds the history the entity keeps (and carries across
// continue-as-new).
const HistoryLen = 20

// Request asks to turn the switch on or off.
type Request struct {
	On     bool   `json:"on"`
	Reason string `json:"reason"`
	By     string `json:"by"`
}

// Check is the validator's rule: a reason and a name always, and the
// switch must change (turning on what is on would hide who froze first).
func (s State) Check(r Request) error {
	switch {
	case strings.TrimSpace(r.Reason) == "":
		return errors.New("a freeze or unfreeze needs a reason")
	case strings.TrimSpace(r.By) == "":
		return errors.New("a freeze or unfreeze needs the name of who asks")
	case r.On && s.Frozen:
		return fmt.Errorf("already %s", s.Refusal())
	case !r.On && !s.Frozen:
		return errors.New("not frozen: nothing to unfreeze")
	}
	return nil
}

// Apply returns the state after r (checked by Check) at time at.
func (s State) Apply(r Request, at time.Time) State {
	c := Change{On: r.On, By: r.By, Reason: r.Reason, At: at}
	out := State{History: append(append([]Change(nil), s.History...), c)}
	if n := len(out.History); n > HistoryLen {
		out.History = out.History[n-HistoryLen:]
	}
	if r.On {
		out.Frozen, out.By, out.Reason, out.Since = true, r.By, r.Reason, at
	}
	return out
}

// Refusal is what a run refused by the freeze says: "frozen by sam at
// 2026-12-07T08:00:00Z: payment incident". Empty when not frozen.
func (s State) Refusal() string {
	if !s.Frozen {
		return ""
	}
	return fmt.Sprintf("%s%s at %s: %s", frozenBy, s.By, s.Since.UTC().Format(time.RFC3339), s.Reason)
}

// Banner is the one line `gameday status` and the Slack message show while
// the switch is on.
func (s State) Banner() string {
	if !s.Frozen {
		return ""
	}
	return "FROZEN: new runs are refused (" + s.Refusal() + "); `gameday freeze off --reason ...` lifts it"
}

const (
	frozenBy       = "frozen by "
	blackoutWindow = "blackout window "
)

// BlackoutRefusal is what a run refused inside a blackout window says.
func BlackoutRefusal(window string, until time.Time) string {
	return fmt.Sprintf("%s%s until %s", blackoutWindow, window, until.UTC().Format(time.RFC3339))
}

// BlackoutAbortReason is the abort reason of a run still going when a
// blackout window opens.
func BlackoutAbortReason(window string, until time.Time) string {
	return fmt.Sprintf("%s%s opened (until %s)", blackoutWindow, window, until.UTC().Format(time.RFC3339))
}

// refusedRE matches a run's error when define (or its re-check after the
// sign-off gate) refused it for the freeze or a blackout window: the
// workflow records "define: <refusal>"; a game day's reason when its
// pre-flight did ("pre-flight: <refusal>; nothing was started").
var refusedRE = regexp.MustCompile(`^(define|re-check after sign-off|pre-flight): (` + frozenBy + `|` + blackoutWindow + `)`)

// Skipped reports whether a run's error says the kill switch or a blackout
// window refused it before anything was done. Such a run is a skipped
// action, not a failure: it files no postmortem and does not pause its
// schedule on failure.
func Skipped(runError string) bool { return refusedRE.MatchString(runError) }

// blackoutAbortRE matches the abort reason of a run stopped because its
// blackout window opened, as the workflow records it ("aborted by
// blackout window X: blackout window X opened (until T)").
var blackoutAbortRE = regexp.MustCompile(`(^|: )` + blackoutWindow + `\S+ opened \(until `)

// BlackedOut reports whether a run was aborted because a blackout window
// opened: a planned stop, not a failure (its schedule is not paused for
// it; the postmortem is still filed, the run did inject).
func BlackedOut(abortReason string) bool { return blackoutAbortRE.MatchString(abortReason) }

// Filter says which running runs an abort-all reaches.
type Filter struct {
	// TaskQueue is the installation: the runs on this queue (one
	// installation's workers), never another's sharing the namespace.
	TaskQueue string `json:"task_queue"`
	// ScheduledBy, when set, limits it to runs started by these Temporal
	// Schedules (a blackout window that applies to some schedules).
	ScheduledBy []string `json:"scheduled_by,omitempty"`
}

// Aborted is one run an abort-all reached: aborted, or refused with the
// workflow's reason (already recovering, say).
type Aborted struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"type"`            // Experiment or GameDay
	Phase      string `json:"phase,omitempty"` // when it was accepted
	Refused    string `json:"refused,omitempty"`
	// GameDay: a step of a game day that was aborted too; the game day
	// forwards the abort to its running steps, so it is not sent twice.
	GameDay string `json:"game_day,omitempty"`
}

// Counts is how many were aborted and how many refused.
func Counts(as []Aborted) (aborted, refused int) {
	for _, a := range as {
		if a.Refused != "" {
			refused++
		} else {
			aborted++
		}
	}
	return aborted, refused
}
