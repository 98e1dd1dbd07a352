package gameday

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
)

// Step statuses.
const (
	StepPending = "pending" // not started yet
	StepRunning = "running" // its experiment runs
	StepDone    = "done"    // its experiment ended (Outcome says how)
	StepSkipped = "skipped" // never started: the plan stopped before it
)

// StepResult is one experiment of the game day.
type StepResult struct {
	Name string `json:"name"`
	// Group is the parallel group the step belongs to (empty for a step
	// of its own); Stage is the index in spec.steps of its entry, the same
	// for every member of a group.
	Group     string                `json:"group,omitempty"`
	Stage     int                   `json:"stage"`
	Scenario  string                `json:"scenario"`
	Service   string                `json:"service,omitempty"`
	Source    string                `json:"source,omitempty"` // as the plan names it
	OnFailure string                `json:"on_failure"`
	Overrides []experiment.Override `json:"overrides,omitempty"`
	// Blast says what the step's faults act on, how many and how long (see
	// Blast); Targets are what define resolved (the dry run shows them).
	Blast   string   `json:"blast"`
	Targets []string `json:"targets,omitempty"`
	// Gated: the step waits at a sign-off gate for these roles.
	Gated []string `json:"gated,omitempty"`

	WorkflowID string             `json:"workflow_id"`
	RunID      string             `json:"run_id,omitempty"`
	UIURL      string             `json:"ui_url,omitempty"`
	Status     string             `json:"status"`
	Outcome    experiment.Outcome `json:"outcome,omitempty"`
	Passed     bool               `json:"passed"`
	Reason     string             `json:"reason,omitempty"`
	Started    time.Time          `json:"started,omitzero"`
	Ended      time.Time          `json:"ended,omitzero"`
}

// Result is the live state of a game day (the status query) and its final
// report.
type Result struct {
	WorkflowID  string `json:"workflow_id"`
	RunID       string `json:"run_id"`
	Plan        string `json:"plan"`
	Environment string `json:"environment,omitempty"`
	People      People `json:"people"`
	DryRun      bool   `json:"dry_run,omitempty"`
	// Outcome: passed (every step passed), failed (the pre-flight refused,
	// or a step did not pass), aborted (a person aborted, or a pause timed
	// out), cancelled, dry-run, or running.
	Outcome experiment.Outcome `json:"outcome"`
	Reason  string             `json:"reason,omitempty"`
	// AbortedBy is who aborted the game day (set with the abort, before the
	// outcome).
	AbortedBy string                  `json:"aborted_by,omitempty"`
	Preflight []experiment.GuardValue `json:"preflight,omitempty"`
	Steps     []StepResult            `json:"steps"`
	Notes     []experiment.Note       `json:"notes,omitempty"`
	Pauses    []experiment.Pause      `json:"pauses,omitempty"`
	UIURL     string                  `json:"ui_url,omitempty"`
	// Report is where the game day's report was written when it ended.
	Report  *experiment.ReportLinks `json:"report,omitempty"`
	Started time.Time               `json:"started"`
	Ended   time.Time               `json:"ended,omitzero"`
}

// Final reports whether the game day has ended.
func (r Result) Final() bool { return r.Outcome != experiment.Running && r.Outcome != "" }

// Aborting reports whether an abort was accepted (the outcome may still be
// running while the steps clean up).
func (r Result) Aborting() bool { return r.AbortedBy != "" || r.Outcome == experiment.Aborted }

// Paused is the pause in progress, if any.
func (r Result) Paused() (experiment.Pause, bool) {
	if n := len(r.Pauses); n > 0 && r.Pauses[n-1].Ended == experiment.PauseRunning {
		return r.Pauses[n-1], true
	}
	return experiment.Pause{}, false
}

// Running are the steps whose experiment runs now.
func (r Result) Running() []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if s.Status == StepRunning {
			out = append(out, s)
		}
	}
	return out
}

// Ran are the steps whose experiment was started and ended (its run id
// known): what the game day's report covers, in the plan's order. They
// come from the game day's own state, never from visibility, which also
// lists the steps of an earlier game day that had the same id (--id).
func (r Result) Ran() []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if s.Status == StepDone && s.RunID != "" && s.Outcome != "" {
			out = append(out, s)
		}
	}
	return out
}

// Counts says how many steps passed, did not pass, were skipped, and are
// still to run or running.
func (r Result) Counts() (passed, notPassed, skipped, open int) {
	for _, s := range r.Steps {
		switch {
		case s.Status == StepSkipped:
			skipped++
		case s.Status != StepDone:
			open++
		case s.Passed:
			passed++
		default:
			notPassed++
		}
	}
	return
}

// CheckAbort is the rule of the abort validator: a reason, a game day not
// over and not already aborting.
func (r Result) CheckAbort(reason string) error {
	if err := experiment.CheckReason("an abort", reason); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("an abort needs a reason")
	case r.Final():
		return fmt.Errorf("game day %s has ended (%s): nothing left to abort", r.WorkflowID, r.Outcome)
	case r.Aborting():
		return fmt.Errorf("game day %s is already being aborted: %s", r.WorkflowID, r.Reason)
	}
	return nil
}

// CheckPause is the rule of the pause validator.
func (r Result) CheckPause(reason string, timeout time.Duration) error {
	if err := r.checkOpen("pause"); err != nil {
		return err
	}
	if err := experiment.CheckReason("a pause", reason); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(reason) == "":
		return fmt.Errorf("a pause needs a reason")
	case timeout < 0 || (timeout > 0 && timeout < time.Second) || timeout > MaxPauseTimeout:
		return fmt.Errorf("pause timeout %s: want between 1s and %s (0: %s)", timeout, MaxPauseTimeout, DefaultPauseTimeout)
	case len(r.Pauses) >= MaxPauses:
		return fmt.Errorf("game day %s was paused %d times already (at most %d)", r.WorkflowID, len(r.Pauses), MaxPauses)
	}
	if p, paused := r.Paused(); paused {
		return fmt.Errorf("game day %s is already paused since %s by %s: %s", r.WorkflowID, p.From.Format(time.TimeOnly), orSomeone(p.By), p.Reason)
	}
	return nil
}

// CheckResume is the rule of the resume validator.
func (r Result) CheckResume() error {
	if err := r.checkOpen("resume"); err != nil {
		return err
	}
	if _, paused := r.Paused(); !paused {
		return fmt.Errorf("game day %s is not paused", r.WorkflowID)
	}
	return nil
}

// CheckNote is the rule of the note validator.
func (r Result) CheckNote(text, by, kind string) error {
	if err := experiment.CheckNote(text, by, kind); err != nil {
		return err
	}
	switch {
	case r.Final():
		return fmt.Errorf("game day %s has ended (%s): notes are closed", r.WorkflowID, r.Outcome)
	case len(r.Notes) >= MaxNotes:
		return fmt.Errorf("game day %s has %d notes already (at most %d)", r.WorkflowID, len(r.Notes), MaxNotes)
	}
	return nil
}

func (r Result) checkOpen(what string) error {
	switch {
	case r.Final():
		return fmt.Errorf("game day %s has ended (%s): nothing to %s", r.WorkflowID, r.Outcome, what)
	case r.Aborting():
		return fmt.Errorf("game day %s is being aborted: nothing to %s", r.WorkflowID, what)
	}
	return nil
}

func orSomeone(by string) string {
	if by == "" {
		return "someone"
	}
	return by
}

// Verdict judges a step's finished experiment: a step passes when its run
// passed (a dry run: when define answered) and, with a release checklist,
// its gate passed too, as `gameday run` exits 0. reason says why not.
func Verdict(r experiment.Result, dryRun bool) (passed bool, reason string) {
	want := experiment.Passed
	if dryRun {
		want = experiment.DryRun
	}
	if r.Outcome != want {
		why := r.AbortReason
		if why == "" {
			why = r.Error
		}
		if why == "" {
			return false, string(r.Outcome)
		}
		return false, fmt.Sprintf("%s: %s", r.Outcome, why)
	}
	if g := r.Gate; g != nil && !g.Passed {
		return false, fmt.Sprintf("release gate %s failed: %s", g.Checklist, g.Reason)
	}
	return true, ""
}

// Blast says what a step's faults act on and for how long: the dry run
// shows it next to the targets define resolved, before anything runs.
func Blast(t chaos.Target, faults int, hold time.Duration) string {
	var b strings.Builder
	b.WriteString(t.Backend)
	if t.Namespace != "" {
		b.WriteString(" " + t.Namespace)
	}
	if len(t.Selector) > 0 {
		var sel []string
		for _, k := range slices.Sorted(maps.Keys(t.Selector)) {
			sel = append(sel, k+"="+t.Selector[k])
		}
		b.WriteString(" " + strings.Join(sel, ","))
	}
	if t.Mode != "" {
		b.WriteString(", mode " + t.Mode)
		if t.Value != "" {
			b.WriteString(" " + t.Value)
		}
	}
	fmt.Fprintf(&b, ", %d fault(s) held %s", faults, hold)
	return b.String()
}

// Details is the Markdown the Temporal UI shows for a running game day:
// one line of state and a table of the steps.
func (r Result) Details() string {
	var b strings.Builder
	passed, notPassed, skipped, open := r.Counts()
	fmt.Fprintf(&b, "**%s**", r.Plan)
	if r.Environment != "" {
		fmt.Fprintf(&b, " in %s", r.Environment)
	}
	fmt.Fprintf(&b, ": %s; %d passed, %d not passed, %d skipped, %d to go", r.Outcome, passed, notPassed, skipped, open)
	if r.DryRun {
		b.WriteString(" (dry run)")
	}
	b.WriteString("\n\n")
	if p, paused := r.Paused(); paused {
		fmt.Fprintf(&b, "**PAUSED** by %s: %s\n\n", orSomeone(p.By), p.Reason)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n\n", r.Reason)
	}
	b.WriteString("| step | scenario | status | outcome | run |\n| --- | --- | --- | --- | --- |\n")
	for _, s := range r.Steps {
		name := s.Name
		if s.Group != "" {
			name = s.Group + " / " + s.Name
		}
		run := s.WorkflowID
		if s.UIURL != "" {
			run = "[" + s.WorkflowID + "](" + s.UIURL + ")"
		}
		outcome := string(s.Outcome)
		if s.Reason != "" {
			outcome = strings.TrimSpace(outcome + " " + s.Reason)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(name), cell(s.Scenario), s.Status, cell(outcome), run)
	}
	if n := len(r.Notes); n > 0 {
		fmt.Fprintf(&b, "\n%d note(s); the last by %s: %s\n", n, r.Notes[n-1].By, r.Notes[n-1].Text)
	}
	return b.String()
}

// cell keeps a table cell on one line and its pipes from ending it.
func cell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", "\\|")
}

// Forwarded is what one running step's experiment answered when the game
// day passed it an abort, a pause or a resume.
type Forwarded struct {
	Step       string `json:"step"`
	WorkflowID string `json:"workflow_id"`
	OK         bool   `json:"ok"`
	// Refused is the experiment's refusal (its validator, an older worker
	// that does not know the message, a run that has ended), or why it
	// could not be reached.
	Refused string `json:"refused,omitempty"`
}

func (f Forwarded) String() string {
	if f.OK {
		return fmt.Sprintf("%s (%s): ok", f.Step, f.WorkflowID)
	}
	return fmt.Sprintf("%s (%s): %s", f.Step, f.WorkflowID, f.Refused)
}
