package slackbot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/killswitch"
)

// switchCache is the kill switch as the run messages show it: read at most
// once a poll interval however many runs are followed, and set at once by
// /gameday freeze.
type switchCache struct {
	st killswitch.State
	at time.Time
}

// switchLine is the freeze line of the run messages ("" when not frozen or
// when the engine cannot reach the switch).
func (b *Bot) switchLine(ctx context.Context) string {
	ks, ok := b.eng.(KillSwitchEngine)
	if !ok {
		return ""
	}
	b.mu.Lock()
	c := b.sw
	b.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= b.poll {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		st, err := ks.KillSwitch(cctx)
		cancel()
		if err == nil {
			c = switchCache{st: st, at: time.Now()}
			b.mu.Lock()
			b.sw = c
			b.mu.Unlock()
		}
	}
	return frozenLine(c.st)
}

func frozenLine(st killswitch.State) string {
	if !st.Frozen {
		return ""
	}
	return fmt.Sprintf(":snowflake: *Frozen*: new runs are refused (%s). `/gameday freeze off <reason>` lifts it.", esc(st.Refusal()))
}

// setSwitch records a switch the bot just turned and refreshes every run
// message, so the channel sees the freeze at once.
func (b *Bot) setSwitch(st killswitch.State) {
	b.mu.Lock()
	b.sw = switchCache{st: st, at: time.Now()}
	var ids []string
	for id := range b.watchers {
		ids = append(ids, id)
	}
	b.mu.Unlock()
	for _, id := range ids {
		b.nudgeWatcher(id)
	}
}

// announce posts to the channel, best effort: a kill switch used from
// Slack is everyone's business, the answer to its user alone is not.
func (b *Bot) announce(channel, text string) {
	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	if _, _, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false)); err != nil {
		b.logger.Warn("slack: announcement failed", "channel", channel, "error", err)
	}
}

// restAfter is text without its first n words, its own spacing kept.
func restAfter(text string, n int) string {
	s := strings.TrimSpace(text)
	for range n {
		f := strings.Fields(s)
		if len(f) == 0 {
			return ""
		}
		s = strings.TrimSpace(s[strings.Index(s, f[0])+len(f[0]):])
	}
	return s
}

// cmdAbortAll is /gameday abort all <reason...>.
func (b *Bot) cmdAbortAll(cmd slack.SlashCommand, text string) *reply {
	if err := b.cfg.Access.Can(cmd.UserID, ActionKillSwitch, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	reason := restAfter(text, 2)
	if reason == "" {
		return ephemeral("Aborting every run needs a reason: `%s abort all &lt;reason...&gt;`", cmd.Command)
	}
	ks, ok := b.eng.(KillSwitchEngine)
	if !ok {
		return ephemeral(":warning: This bot cannot reach the kill switch.")
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	b.logger.Info("slack: abort all requested", "by", by, "user", cmd.UserID)
	work := func(ctx context.Context) *reply {
		runs, err := ks.AbortAll(ctx, reason, by)
		if err != nil && len(runs) == 0 {
			return ephemeral(":warning: Abort of every run failed: %s", esc(err.Error()))
		}
		// An error with runs (the bot stopped waiting for some answers):
		// the aborts already sent stand, so they are listed and announced
		// like any others, the unanswered ones as refused with the error.
		aborted, refused := killswitch.Counts(runs)
		var lines []string
		for _, r := range runs {
			b.nudgeWatcher(r.WorkflowID)
			switch {
			case r.Refused != "":
				lines = append(lines, fmt.Sprintf("• `%s` refused: %s", esc(r.WorkflowID), esc(r.Refused)))
			case r.GameDay != "":
				lines = append(lines, fmt.Sprintf("• `%s` aborted with its game day `%s`", esc(r.WorkflowID), esc(r.GameDay)))
			default:
				lines = append(lines, fmt.Sprintf("• `%s` aborted during %s", esc(r.WorkflowID), esc(r.Phase)))
			}
		}
		b.announce(cmd.ChannelID, fmt.Sprintf(":octagonal_sign: *%s aborted every running run*: %s (%d aborted, %d refused)", esc(by), esc(reason), aborted, refused))
		if len(runs) == 0 {
			return ephemeral("No experiment or game day was running.")
		}
		head := fmt.Sprintf("*%d aborted, %d refused*", aborted, refused)
		if err != nil {
			head += fmt.Sprintf(" (stopped waiting for the rest: %s; `/gameday status` shows each run)", esc(err.Error()))
		}
		return ephemeral("%s", truncate(head+"\n"+strings.Join(lines, "\n"), 3900))
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Aborting every running run…"), func(r *reply) {
		b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text)
	})
}

// cmdFreeze is /gameday freeze [on|off <reason...>].
func (b *Bot) cmdFreeze(cmd slack.SlashCommand, text string) *reply {
	ks, ok := b.eng.(KillSwitchEngine)
	if !ok {
		return ephemeral(":warning: This bot cannot reach the kill switch.")
	}
	fields := strings.Fields(text)
	if len(fields) < 2 || fields[1] == "status" {
		if err := b.cfg.Access.Can(cmd.UserID, ActionStatus, ""); err != nil {
			return ephemeral(":no_entry: %s", esc(err.Error()))
		}
		work := func(ctx context.Context) *reply {
			st, err := ks.KillSwitch(ctx)
			if err != nil {
				return ephemeral(":warning: Cannot read the kill switch: %s", esc(err.Error()))
			}
			if st.Frozen {
				return ephemeral("%s", frozenLine(st))
			}
			return ephemeral(":sunny: Not frozen: new runs start.")
		}
		return soon(b, work, ephemeral(":hourglass_flowing_sand: Reading the kill switch…"), func(r *reply) { b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text) })
	}
	if err := b.cfg.Access.Can(cmd.UserID, ActionKillSwitch, ""); err != nil {
		return ephemeral(":no_entry: %s", esc(err.Error()))
	}
	on := strings.ToLower(fields[1])
	reason := restAfter(text, 2)
	if (on != "on" && on != "off") || reason == "" {
		return ephemeral("`%s freeze on &lt;reason...&gt;` or `%s freeze off &lt;reason...&gt;`", cmd.Command, cmd.Command)
	}
	by := b.displayName(cmd.UserID, cmd.UserName)
	b.logger.Info("slack: freeze requested", "on", on, "by", by, "user", cmd.UserID)
	work := func(ctx context.Context) *reply {
		st, err := ks.Freeze(ctx, on == "on", reason, by)
		if err != nil {
			return ephemeral(":no_entry: Freeze %s refused: %s", on, esc(err.Error()))
		}
		b.setSwitch(st)
		if st.Frozen {
			b.announce(cmd.ChannelID, fmt.Sprintf(":snowflake: *Frozen by %s*: %s. Every new run is refused until `%s freeze off <reason>`; runs going go on (`%s abort all <reason>` stops them).", esc(by), esc(reason), cmd.Command, cmd.Command))
			return ephemeral("Frozen: %s", esc(st.Refusal()))
		}
		b.announce(cmd.ChannelID, fmt.Sprintf(":sunny: *Unfrozen by %s*: %s. New runs start again.", esc(by), esc(reason)))
		return ephemeral("Unfrozen.")
	}
	return soon(b, work, ephemeral(":hourglass_flowing_sand: Freeze %s…", on), func(r *reply) { b.ephemeral(cmd.ChannelID, cmd.UserID, r.Text) })
}
