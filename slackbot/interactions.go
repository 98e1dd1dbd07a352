package slackbot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
)

// interaction handles a button press or a modal submission. The returned
// value is the acknowledgement's body (nil: an empty 200), which for a
// view_submission can carry errors shown in the modal to its user only.
// Shared by HTTP and Socket Mode.
func (b *Bot) interaction(ic slack.InteractionCallback) any {
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range ic.ActionCallback.BlockActions {
			b.blockAction(ic, a)
		}
	case slack.InteractionTypeViewSubmission:
		if ic.View.CallbackID == signoffCallback {
			return b.submitSignoff(ic)
		}
	}
	return nil
}

func channelOf(ic slack.InteractionCallback) string {
	if ic.Channel.ID != "" {
		return ic.Channel.ID
	}
	return ic.Container.ChannelID
}

func (b *Bot) blockAction(ic slack.InteractionCallback, a *slack.BlockAction) {
	channel, user := channelOf(ic), ic.User.ID
	switch {
	case strings.HasPrefix(a.ActionID, actionSignoffPrefix):
		role := strings.TrimPrefix(a.ActionID, actionSignoffPrefix)
		b.logger.Info("slack: sign-off button", "workflow_id", a.Value, "role", role, "user", user)
		b.openSignoff(ic, channel, a.Value, role)
	case a.ActionID == actionAbort:
		b.logger.Info("slack: abort button", "workflow_id", a.Value, "user", user)
		b.abortButton(ic, channel, a.Value)
	case a.ActionID == actionPause:
		b.logger.Info("slack: pause button", "workflow_id", a.Value, "user", user)
		b.pauseButton(ic, channel, a.Value)
	case a.ActionID == actionResume:
		b.logger.Info("slack: resume button", "workflow_id", a.Value, "user", user)
		b.resumeButton(ic, channel, a.Value)
	}
}

// refuse tells one user why not, off the request path.
func (b *Bot) refuse(channel, user, text string) {
	b.goWork(func() { b.ephemeral(channel, user, text) })
}

// openSignoff opens the sign-off modal for one role, after checking the
// presser holds it: the button is visible to the whole channel.
func (b *Bot) openSignoff(ic slack.InteractionCallback, channel, run, role string) {
	user := ic.User.ID
	if !b.cfg.ChannelAllowed(channel) {
		b.refuse(channel, user, ":no_entry: Game days are not run from this channel.")
		return
	}
	if err := b.cfg.Access.CanSign(user, role); err != nil {
		b.refuse(channel, user, ":no_entry: "+esc(err.Error()))
		return
	}
	b.spawn(triggerTimeout, func(ctx context.Context) {
		cl, err := b.eng.Checklist(ctx, run)
		if err != nil {
			b.logger.Warn("slack: checklist unavailable", "workflow_id", run, "error", err)
			b.ephemeral(channel, user, fmt.Sprintf(":warning: Could not load the checklist of `%s`: %s", esc(run), esc(err.Error())))
			return
		}
		// The approvers see what they approve: the targets and every value
		// changed from the scenario as written. And a presser the worker's
		// role map does not name is told now, not after filling the form.
		r, err := b.eng.Status(ctx, run)
		if err != nil {
			b.logger.Warn("slack: status unavailable", "workflow_id", run, "error", err)
			b.ephemeral(channel, user, fmt.Sprintf(":warning: Could not read `%s`: %s", esc(run), esc(err.Error())))
			return
		}
		switch {
		case r.Signers != nil:
			// The validator's own rule, distinct signers included.
			if err := r.CheckSign(role, b.cfg.Access.Name(user)); err != nil {
				b.ephemeral(channel, user, ":no_entry: "+esc(err.Error()))
				return
			}
		case r.Phase == experiment.PhaseDefine || r.Phase == "":
			b.ephemeral(channel, user, ":hourglass: Sign-off opens once define has resolved who may sign; press the button again in a moment.")
			return
		}
		view := signoffModal(modalMeta{Run: run, Role: role, Channel: channel}, cl, r)
		if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
			b.logger.Warn("slack: views.open failed", "workflow_id", run, "error", err)
			b.ephemeral(channel, user, ":warning: Could not open the sign-off form ("+esc(err.Error())+"); press the button again.")
		}
	})
}

func orNobody(users []string) string {
	if len(users) == 0 {
		return "nobody"
	}
	return strings.Join(users, ", ")
}

func (b *Bot) abortButton(ic slack.InteractionCallback, channel, run string) {
	user := ic.User.ID
	if !b.cfg.ChannelAllowed(channel) {
		b.refuse(channel, user, ":no_entry: Game days are not run from this channel.")
		return
	}
	if err := b.cfg.Access.Can(user, ActionAbort, ""); err != nil {
		b.refuse(channel, user, ":no_entry: "+esc(err.Error()))
		return
	}
	name := b.displayName(user, ic.User.Name)
	b.spawn(workTimeout, func(ctx context.Context) {
		if err := b.eng.Abort(ctx, run, "aborted from Slack by "+name, name); err != nil {
			b.ephemeral(channel, user, fmt.Sprintf(":no_entry: Abort of `%s` refused: %s", esc(run), esc(err.Error())))
			return
		}
		b.nudgeWatcher(run)
	})
}

// signResult is the engine's answer to a sign-off.
type signResult struct {
	pending []string
	err     error
	late    bool // the answer was not ready within the ack budget
}

// submitSignoff sends the modal's verdicts to the engine. A quick answer
// lands in the acknowledgement: a refusal stays in the modal, next to the
// decision, where only its user sees it. A slow one closes the modal and
// arrives later as an ephemeral message.
func (b *Bot) submitSignoff(ic slack.InteractionCallback) any {
	user := ic.User.ID
	s, err := parseSubmission(ic.View)
	if err != nil {
		b.logger.Warn("slack: bad sign-off submission", "user", user, "error", err)
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockDecision: err.Error()})
	}
	if !b.cfg.ChannelAllowed(s.meta.Channel) {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockDecision: "Game days are not run from that channel."})
	}
	if err := b.cfg.Access.CanSign(user, s.meta.Role); err != nil {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockDecision: err.Error()})
	}
	if len(s.invalid) > 0 {
		return slack.NewErrorsViewSubmissionResponse(s.invalid)
	}
	name := b.displayName(user, ic.User.Name)
	b.logger.Info("slack: sign-off", "workflow_id", s.meta.Run, "role", s.meta.Role, "by", name, "user", user, "reject", s.reject)
	work := func(ctx context.Context) signResult {
		pending, err := b.eng.Signoff(ctx, s.meta.Run, s.meta.Role, name, s.items, s.reject, s.reason)
		if err == nil {
			b.nudgeWatcher(s.meta.Run)
		}
		return signResult{pending: pending, err: err}
	}
	r := soon(b, work, signResult{late: true}, func(r signResult) {
		b.ephemeral(s.meta.Channel, user, signText(s, r))
	})
	switch {
	case r.late:
		return nil
	case r.err != nil:
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockDecision: truncate("Refused: "+r.err.Error(), 300)})
	}
	b.goWork(func() { b.ephemeral(s.meta.Channel, user, signText(s, r)) })
	return nil
}

func signText(s submission, r signResult) string {
	if r.err != nil {
		return fmt.Sprintf(":no_entry: Sign-off as %s on `%s` refused: %s", s.meta.Role, esc(s.meta.Run), esc(r.err.Error()))
	}
	verb := "Signed off"
	if s.reject {
		verb = "Rejected"
	}
	t := fmt.Sprintf(":white_check_mark: %s as %s on `%s`.", verb, s.meta.Role, esc(s.meta.Run))
	if len(r.pending) > 0 {
		t += " Still pending: " + strings.Join(r.pending, ", ") + "."
	}
	return t
}
