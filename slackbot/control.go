package slackbot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
)

// Pause, resume (continue after a drift pause) and notes from Slack: the
// Pause and Resume buttons on the run message, /gameday pause|resume|
// continue|note, and the pauses and notes in the run's thread. Which
// button shows is experiment.Result's rule (PauseOpen, ResumeOpen), the
// one the workflow's validators apply.

// RunControl is what Engine offers to pause, resume and annotate a run.
type RunControl interface {
	// Pause sends the pause Update: the run's faults are removed and it
	// holds, guards watching, until resumed, aborted or timed out. The
	// validator's refusal comes back as the error.
	Pause(ctx context.Context, workflowID, reason, by string) error
	// Resume sends the resume Update (the answer to a drift pause too):
	// the run re-injects what was left of its faults' holds.
	Resume(ctx context.Context, workflowID, by string) error
	// Note records an observation (kind experiment.NoteObservation) or an
	// action item (experiment.NoteAction) on the run.
	Note(ctx context.Context, workflowID, text, by, kind string) error
}

// Action ids of the pause and resume buttons.
const (
	actionPause  = "gameday_pause"
	actionResume = "gameday_resume"
)

// controlButtons: Pause while a pause changes something, Resume (Continue
// after a drift pause) while the run is paused.
func controlButtons(r experiment.Result) []slack.BlockElement {
	var out []slack.BlockElement
	if p, ok := r.CurrentPause(); ok && r.ResumeOpen() {
		label, title := "Resume", "Resume this run?"
		if p.Drift {
			label, title = "Continue", "Continue despite the drift?"
		}
		confirm := slack.NewConfirmationBlockObject(plain(title),
			mrkdwn(fmt.Sprintf("Re-inject the faults of *%s* for the %s of hold left and go on observing?", esc(r.Scenario), p.Remaining)),
			plain(label), plain("Stay paused"))
		out = append(out, slack.NewButtonBlockElement(actionResume, r.WorkflowID, plain(label)).WithStyle(slack.StylePrimary).WithConfirm(confirm))
	}
	if r.PauseOpen() {
		confirm := slack.NewConfirmationBlockObject(plain("Pause this run?"),
			mrkdwn("Pause *"+esc(r.Scenario)+"*? Its faults are removed and it holds, guards still watching, until someone resumes or aborts it (or the pause times out and aborts it)."),
			plain("Pause"), plain("Keep running"))
		out = append(out, slack.NewButtonBlockElement(actionPause, r.WorkflowID, plain("Pause")).WithConfirm(confirm))
	}
	return out
}

// phaseList is the order phases are shown in: paused after observe when
// the run has paused.
func phaseList(r experiment.Result) []string {
	for _, p := range r.Phases {
		if p.Name == experiment.PhasePaused {
			out := make([]string, 0, len(phaseOrder)+1)
			for _, name := range phaseOrder {
				out = append(out, name)
				if name == experiment.PhaseObserve {
					out = append(out, experiment.PhasePaused)
				}
			}
			return out
		}
	}
	return phaseOrder
}

// pausesText is the message's Pauses section ("" when the run never paused).
func pausesText(r experiment.Result) string {
	if len(r.Pauses) == 0 {
		return ""
	}
	lines := []string{"*Pauses*"}
	for _, p := range r.Pauses {
		lines = append(lines, pauseIcon(p)+" "+esc(truncate(p.String(), 400)))
	}
	if n := len(r.Notes); n > 0 {
		lines = append(lines, fmt.Sprintf(":memo: %d note(s) in the thread", n))
	}
	return strings.Join(lines, "\n")
}

func pauseIcon(p experiment.Pause) string {
	switch {
	case p.Ended == experiment.PauseRunning && p.Drift:
		return ":chart_with_upwards_trend:"
	case p.Ended == experiment.PauseRunning:
		return ":double_vertical_bar:"
	case p.Ended == experiment.PauseResumed:
		return ":arrow_forward:"
	}
	return ":octagonal_sign:"
}

// controlThreadItems are the pauses (taken, and how each ended) and the
// notes, posted once each into the run's thread.
func controlThreadItems(r experiment.Result) []threadItem {
	var out []threadItem
	for i, p := range r.Pauses {
		what := ":double_vertical_bar: *Paused*"
		if p.Drift {
			what = ":chart_with_upwards_trend: *Drift pause*: a guard drifted from its baseline while still inside its threshold; a person decides"
		}
		t := fmt.Sprintf("%s by %s: %s\n• removing: %s\n• %s of hold left\n• resume (continue) or abort before %s, or the run is aborted",
			what, esc(orDash(p.By)), esc(p.Reason), esc(orNothing(p.Faults)), p.Remaining, p.Deadline.UTC().Format(time.RFC3339))
		out = append(out, threadItem{fmt.Sprintf("pause:%d", i), truncate(t, 3500)})
		if p.Ended == experiment.PauseRunning {
			continue
		}
		end := fmt.Sprintf("%s Pause ended: %s", pauseIcon(p), p.Ended)
		if p.EndedBy != "" {
			end += " by " + esc(p.EndedBy)
		}
		end += " after " + p.To.Sub(p.From).Round(time.Second).String()
		if len(p.Reinjected) > 0 {
			end += "; re-injecting " + esc(strings.Join(p.Reinjected, ", "))
		}
		out = append(out, threadItem{fmt.Sprintf("pause-end:%d", i), end})
	}
	for i, n := range r.Notes {
		icon, kind := ":eyes:", "observation"
		if n.Kind == experiment.NoteAction {
			icon, kind = ":pushpin:", "action item"
		}
		out = append(out, threadItem{fmt.Sprintf("note:%d", i), truncate(fmt.Sprintf("%s *%s* (%s, %s): %s", icon, esc(n.By), kind, n.At.UTC().Format(time.TimeOnly), esc(n.Text)), 3500)})
	}
	return out
}

func orNothing(ids []string) string {
	if len(ids) == 0 {
		return "nothing (no fault injected yet)"
	}
	return strings.Join(ids, ", ")
}

// pauseStatus is what /gameday status adds for a paused run.
func pauseStatus(r experiment.Result) string {
	p, ok := r.CurrentPause()
	if !ok || r.Finished() {
		return ""
	}
	verb := "resume"
	if p.Drift {
		verb = "continue"
	}
	return fmt.Sprintf("\n%s paused by %s: %s — `/gameday %s %s` or `/gameday abort %s <reason>` before %s",
		pauseIcon(p), esc(orDash(p.By)), esc(p.Reason), verb, esc(r.WorkflowID), esc(r.WorkflowID), p.Deadline.UTC().Format(time.RFC3339))
}

func (b *Bot) pauseButton(ic slack.InteractionCallback, channel, run string) {
	user := ic.User.ID
	if !b.cfg.ChannelAllowed(channel) {
		b.refuse(channel, user, ":no_entry: Game days are not run from this channel.")
		return
	}
	if err := b.cfg.Access.Can(user, ActionPause, ""); err != nil {
		b.refuse(channel, user, ":no_entry: "+esc(err.Error()))
		return
	}
	name := b.displayName(user, ic.User.Name)
	b.spawn(workTimeout, func(ctx context.Context) {
		if err := b.eng.Pause(ctx, run, "paused from Slack by "+name, name); err != nil {
			b.ephemeral(channel, user, fmt.Sprintf(":no_entry: Pause of `%s` refused: %s", esc(run), esc(err.Error())))
			return
		}
		b.nudgeWatcher(run)
	})
}

func (b *Bot) resumeButton(ic slack.InteractionCallback, channel, run string) {
	user := ic.User.ID
	if !b.cfg.ChannelAllowed(channel) {
		b.refuse(channel, user, ":no_entry: Game days are not run from this channel.")
		return
	}
	name := b.displayName(user, ic.User.Name)
	b.spawn(workTimeout, func(ctx context.Context) {
		if err := b.resumeRun(ctx, user, run, name); err != nil {
			b.ephemeral(channel, user, fmt.Sprintf(":no_entry: Resume of `%s` refused: %s", esc(run), esc(err.Error())))
			return
		}
		b.nudgeWatcher(run)
	})
}

// resumeRun checks that the user may run the run's scenario (resuming
// injects its faults again), then resumes it.
func (b *Bot) resumeRun(ctx context.Context, user, run, name string) error {
	r, err := b.eng.Status(ctx, run)
	if err != nil {
		return fmt.Errorf("cannot read the run: %w", err)
	}
	if err := b.cfg.Access.Can(user, ActionResume, r.Scenario); err != nil {
		return err
	}
	// A resume injects faults again: a user limited to some environments
	// resumes only runs whose environment the catalog says is one of them.
	if u, _ := b.cfg.Access.user(user); len(u.Environments) > 0 {
		scs, err := b.catalog()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(scs, func(s scenarios.Scenario) bool { return s.Metadata.Name == r.Scenario })
		if i < 0 {
			return fmt.Errorf("%s may run only in environment(s) %s, and scenario %s is not in the catalog: its environment is unknown", u.Name, strings.Join(u.Environments, ", "), r.Scenario)
		}
		if err := b.cfg.Access.CanRunScenario(user, ActionResume, scs[i]); err != nil {
			return err
		}
	}
	return b.eng.Resume(ctx, run, name)
}

// cmdPause: /gameday pause <run> [reason...].
func (b *Bot) cmdPause(cmd slack.SlashCommand, text string) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionPause, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	id, reason := runAndRest(text)
	if id == "" {
		return ephemeral("Which run? `%s pause &lt;run&gt; [reason...]`", cmd.Command)
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	if reason == "" {
		reason = "paused from Slack by " + by
	}
	b.logger.Info("slack: pause requested", "workflow_id", id, "by", by, "user", cmd.UserID)
	work := func(ctx context.Context) *reply {
		if err := b.eng.Pause(ctx, id, reason, by); err != nil {
			return ephemeral(":no_entry: Pause of `%s` refused: %s", esc(id), esc(err.Error()))
		}
		b.nudgeWatcher(id)
		return ephemeral(":double_vertical_bar: `%s` paused: its faults are being removed, the guards keep watching. `%s resume %s` or `%s abort %s &lt;reason&gt;`.", esc(id), cmd.Command, esc(id), cmd.Command, esc(id))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Pausing `%s`…", esc(id)), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}

// cmdResume: /gameday resume|continue <run>.
func (b *Bot) cmdResume(cmd slack.SlashCommand, sub string, args []string) *reply {
	if _, err := b.cfg.Access.user(cmd.UserID); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	if len(args) == 0 {
		return ephemeral("Which run? `%s %s &lt;run&gt;`", cmd.Command, sub)
	}
	id := args[0]
	by := b.displayName(cmd.UserID, cmd.UserName)
	b.logger.Info("slack: resume requested", "workflow_id", id, "by", by, "user", cmd.UserID)
	work := func(ctx context.Context) *reply {
		if err := b.resumeRun(ctx, cmd.UserID, id, by); err != nil {
			return ephemeral(":no_entry: Resume of `%s` refused: %s", esc(id), esc(err.Error()))
		}
		b.nudgeWatcher(id)
		return ephemeral(":arrow_forward: `%s` resumed: its faults are re-injected for what was left of their hold.", esc(id))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Resuming `%s`…", esc(id)), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}

// cmdNote: /gameday note <run> [--action] <text...>.
func (b *Bot) cmdNote(cmd slack.SlashCommand, text string) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionNote, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	id, note := runAndRest(text)
	kind := experiment.NoteObservation
	if rest, ok := strings.CutPrefix(note, "--action"); ok && (rest == "" || rest[0] == ' ') {
		kind, note = experiment.NoteAction, strings.TrimSpace(rest)
	}
	if id == "" || note == "" {
		return ephemeral("A note needs the run and its text: `%s note &lt;run&gt; [--action] &lt;text...&gt;`", cmd.Command)
	}
	if n := len([]rune(note)); n > experiment.MaxNoteLength {
		return ephemeral(":warning: A note is at most %d characters; this one has %d.", experiment.MaxNoteLength, n)
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	b.logger.Info("slack: note", "workflow_id", id, "by", by, "user", cmd.UserID, "kind", kind)
	work := func(ctx context.Context) *reply {
		if err := b.eng.Note(ctx, id, note, by, kind); err != nil {
			return ephemeral(":no_entry: Note on `%s` refused: %s", esc(id), esc(err.Error()))
		}
		b.nudgeWatcher(id)
		return ephemeral(":memo: Noted on `%s`; it is in the run's thread, status, postmortem and ticket.", esc(id))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Noting on `%s`…", esc(id)), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}

// runAndRest splits "<sub> <run> <rest...>" into the run and the rest,
// keeping the rest's own spacing.
func runAndRest(text string) (string, string) {
	args := strings.Fields(text)
	if len(args) < 2 {
		return "", ""
	}
	rest := strings.TrimSpace(strings.TrimSpace(text)[len(args[0]):])
	return args[1], strings.TrimSpace(rest[len(args[1]):])
}

// driftLines are the guards' drift rules for the Guards section.
func driftLines(r experiment.Result) []string {
	var out []string
	for _, d := range r.DriftBaselines {
		out = append(out, ":chart_with_upwards_trend: "+esc(d.String()))
	}
	return out
}
