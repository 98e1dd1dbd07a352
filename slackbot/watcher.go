package slackbot

import (
	"context"
	"errors"
	"time"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
)

const (
	// callTimeout bounds one engine or Slack call made by a watcher.
	callTimeout = 10 * time.Second
	// giveUpAfter: a run whose status cannot be read for this long is
	// probably gone (deleted, namespace changed); stop polling it.
	giveUpAfter = 10 * time.Minute
	// finalRetries: polls after the run ended spent retrying a failed
	// final update or thread post before the watcher gives up on it.
	finalRetries = 5
)

// watcher keeps one run's channel message current. Only its own goroutine
// touches its fields after Watch returns, except last (under Bot.mu), which
// /gameday status reads.
type watcher struct {
	channel, id string
	ts          string          // the run message's timestamp
	shown       string          // fingerprint of what the message shows
	posted      map[string]bool // thread items already posted
	nudge       chan struct{}   // refresh now (after a sign-off or abort)
	last        experiment.Result
}

// Watch posts a run's message in channel and keeps it current until the
// run's outcome is final, ctx is done or the Bot is closed. It returns once
// the message is posted (the error says why it could not be), so a bot
// restarted mid-run can resume following a run it knows the id of; the new
// message replaces the lost one. Watching a run already watched does
// nothing.
func (b *Bot) Watch(ctx context.Context, channel, workflowID string) error {
	return b.watch(ctx, channel, experiment.Result{WorkflowID: workflowID, Outcome: experiment.Running})
}

func (b *Bot) watch(ctx context.Context, channel string, seed experiment.Result) error {
	id := seed.WorkflowID
	w := &watcher{channel: channel, id: id, posted: map[string]bool{}, nudge: make(chan struct{}, 1), last: seed}
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return errors.New("slackbot: closed")
	case b.watchers[id] != nil:
		b.mu.Unlock()
		return nil
	}
	b.watchers[id] = w // reserved, so a second Watch does not post twice
	b.mu.Unlock()

	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	first := seed
	if r, err := b.eng.Status(cctx, id); err == nil {
		first = r
	} // else: a run that has just started may not answer queries yet
	text, blocks := render(first)
	ch, ts, err := b.api.PostMessageContext(cctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
	cancel()
	if err != nil {
		b.forget(id)
		return err
	}
	b.mu.Lock()
	w.channel, w.ts, w.shown, w.last = ch, ts, fingerprint(text, blocks), first
	b.mu.Unlock()
	b.logger.Info("slack: watching run", "workflow_id", id, "channel", ch, "ts", ts)
	if !b.goWork(func() { b.follow(ctx, w) }) {
		b.forget(id)
	}
	return nil
}

func (b *Bot) forget(id string) {
	b.mu.Lock()
	delete(b.watchers, id)
	b.mu.Unlock()
}

// nudgeWatcher makes a run's watcher poll now rather than at its next
// tick, so a button press shows its effect at once.
func (b *Bot) nudgeWatcher(id string) {
	b.mu.Lock()
	w := b.watchers[id]
	b.mu.Unlock()
	if w != nil {
		select {
		case w.nudge <- struct{}{}:
		default:
		}
	}
}

// follow is the watcher loop: poll, re-render, update only on change,
// post new thread details, stop after the final update.
func (b *Bot) follow(ctx context.Context, w *watcher) {
	defer b.forget(w.id)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(b.ctx, cancel)
	defer stop()

	synced := b.sync(ctx, w, w.last)
	if final(w.last) && synced {
		return
	}
	tick := time.NewTicker(b.poll)
	defer tick.Stop()
	var failingSince time.Time
	finalTries := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-w.nudge:
		}
		cctx, ccancel := context.WithTimeout(ctx, callTimeout)
		r, err := b.eng.Status(cctx, w.id)
		ccancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if failingSince.IsZero() {
				failingSince = time.Now()
				b.logger.Warn("slack: run status unavailable", "workflow_id", w.id, "error", err)
			}
			if time.Since(failingSince) > giveUpAfter {
				b.logger.Error("slack: giving up on run", "workflow_id", w.id, "error", err)
				b.reply(ctx, w, ":warning: Lost track of this run (status unavailable for "+giveUpAfter.String()+"); use `/gameday status "+esc(w.id)+"`.")
				return
			}
			continue
		}
		failingSince = time.Time{}
		b.mu.Lock()
		w.last = r
		b.mu.Unlock()
		synced := b.sync(ctx, w, r)
		if final(r) {
			if synced || finalTries >= finalRetries {
				b.logger.Info("slack: run finished", "workflow_id", w.id, "outcome", r.Outcome)
				return
			}
			finalTries++
		}
	}
}

// sync brings the message and its thread up to r; it reports whether
// everything got through (a failed call is retried on the next poll).
func (b *Bot) sync(ctx context.Context, w *watcher, r experiment.Result) bool {
	ok := true
	text, blocks := render(r)
	if fp := fingerprint(text, blocks); fp != w.shown {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, _, _, err := b.api.UpdateMessageContext(cctx, w.channel, w.ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		cancel()
		if err != nil {
			b.logger.Warn("slack: chat.update failed", "workflow_id", w.id, "error", err)
			ok = false
		} else {
			w.shown = fp
		}
	}
	for _, it := range threadItems(r) {
		if w.posted[it.key] {
			continue
		}
		if b.reply(ctx, w, it.text) {
			w.posted[it.key] = true
		} else {
			ok = false
		}
	}
	return ok
}

// reply posts into the run message's thread.
func (b *Bot) reply(ctx context.Context, w *watcher, text string) bool {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, _, err := b.api.PostMessageContext(cctx, w.channel, slack.MsgOptionText(text, false), slack.MsgOptionTS(w.ts), slack.MsgOptionDisableLinkUnfurl())
	if err != nil {
		b.logger.Warn("slack: thread reply failed", "workflow_id", w.id, "error", err)
		return false
	}
	return true
}

// followed lists the runs watched in a channel, for /gameday status.
func (b *Bot) followed(channel string) []experiment.Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []experiment.Result
	for _, w := range b.watchers {
		if w.channel == channel {
			out = append(out, w.last)
		}
	}
	return out
}
