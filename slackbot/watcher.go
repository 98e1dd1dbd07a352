package slackbot

import (
	"context"
	"errors"
	"fmt"
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

// Watch follows a run in channel and keeps its message current until the
// run's outcome is final, ctx is done or the Bot is closed. It returns once
// the message is in place (the error says why it could not be), so a bot
// restarted mid-run can resume following a run it knows the id of. The run
// message and its thread replies carry Slack message metadata with the
// workflow id, so Watch first looks for the run's message in the channel
// history (conversations.history, scope channels:history or
// groups:history) and keeps updating that one, without repeating thread
// details already posted. When the history cannot be read, the message is
// not found or can no longer be edited, it posts a fresh message instead.
// Watching a run already watched does nothing.
func (b *Bot) Watch(ctx context.Context, channel, workflowID string) error {
	return b.watch(ctx, channel, experiment.Result{WorkflowID: workflowID, Outcome: experiment.Running}, true)
}

// watch posts (or, when resume is set, first looks for) a run's message
// and starts its watcher.
func (b *Bot) watch(ctx context.Context, channel string, seed experiment.Result, resume bool) error {
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
	cancel()
	text, blocks := renderWith(first, b.switchLine(ctx))
	ch, ts, posted := channel, "", map[string]bool{}
	if resume {
		ts, posted = b.resumeMessage(ctx, channel, first, text, blocks)
	}
	resumed := ts != ""
	if !resumed {
		posted = map[string]bool{}
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		var err error
		ch, ts, err = b.api.PostMessageContext(cctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionMetadata(runMetadata(id, "")))
		cancel()
		if err != nil {
			b.forget(id)
			return err
		}
	}
	b.mu.Lock()
	w.channel, w.ts, w.shown, w.last, w.posted = ch, ts, fingerprint(text, blocks), first, posted
	b.mu.Unlock()
	b.logger.Info("slack: watching run", "workflow_id", id, "channel", ch, "ts", ts, "resumed", resumed)
	if !b.goWork(func() { b.follow(ctx, w) }) {
		b.forget(id)
	}
	return nil
}

// Message metadata (Slack's event_type/event_payload) on everything the
// bot posts about a run: how a restarted bot finds the run message again
// and knows which thread details it already posted.
const (
	metaRunMessage = "gameday_run"        // the run message; payload workflow_id
	metaRunDetail  = "gameday_run_detail" // a thread reply; payload workflow_id, key
	// historyPages bounds the channel history read when resuming (200
	// messages a page, from the run's start on).
	historyPages = 5
)

func runMetadata(id, key string) slack.SlackMetadata {
	if key == "" {
		return slack.SlackMetadata{EventType: metaRunMessage, EventPayload: map[string]any{"workflow_id": id}}
	}
	return slack.SlackMetadata{EventType: metaRunDetail, EventPayload: map[string]any{"workflow_id": id, "key": key}}
}

func metaIs(m slack.SlackMetadata, eventType, id string) bool {
	v, _ := m.EventPayload["workflow_id"].(string)
	return m.EventType == eventType && v == id
}

// resumeMessage finds the run message a previous bot posted and brings it
// up to the current render. It returns its ts and the thread details
// already posted, or "" when a fresh message is needed. Every failure is
// logged and answered with a fresh message: a restarted bot must follow
// the run either way.
func (b *Bot) resumeMessage(ctx context.Context, channel string, r experiment.Result, text string, blocks []slack.Block) (string, map[string]bool) {
	id := r.WorkflowID
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	p := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 200, IncludeAllMetadata: true}
	if !r.Started.IsZero() {
		// The message is posted after the run starts; a minute of slack
		// for clock skew between Temporal and Slack.
		p.Oldest = fmt.Sprintf("%d.000000", r.Started.Add(-time.Minute).Unix())
	}
	ts := ""
	for page := 0; page < historyPages && ts == ""; page++ {
		h, err := b.api.GetConversationHistoryContext(cctx, p)
		if err != nil {
			b.logger.Warn("slack: cannot read the channel history to resume a run; posting a new message", "workflow_id", id, "channel", channel, "error", err)
			return "", nil
		}
		for _, m := range h.Messages {
			if metaIs(m.Metadata, metaRunMessage, id) {
				ts = m.Timestamp
				break
			}
		}
		if !h.HasMore || h.ResponseMetaData.NextCursor == "" {
			break
		}
		p.Cursor = h.ResponseMetaData.NextCursor
	}
	if ts == "" {
		return "", nil
	}
	// Update it now: this also proves the message can still be edited
	// (not deleted, posted by this app).
	if _, _, _, err := b.api.UpdateMessageContext(cctx, channel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionMetadata(runMetadata(id, ""))); err != nil {
		b.logger.Warn("slack: cannot update the previous run message; posting a new one", "workflow_id", id, "ts", ts, "error", err)
		return "", nil
	}
	posted := map[string]bool{}
	rp := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: ts, Limit: 200, IncludeAllMetadata: true}
	for page := 0; page < historyPages; page++ {
		msgs, more, cursor, err := b.api.GetConversationRepliesContext(cctx, rp)
		if err != nil {
			// Better a detail twice than a breach never posted.
			b.logger.Warn("slack: cannot read the run message's thread; details may be posted again", "workflow_id", id, "ts", ts, "error", err)
			break
		}
		for _, m := range msgs {
			if metaIs(m.Metadata, metaRunDetail, id) {
				if k, _ := m.Metadata.EventPayload["key"].(string); k != "" {
					posted[k] = true
				}
			}
		}
		if !more || cursor == "" {
			break
		}
		rp.Cursor = cursor
	}
	return ts, posted
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
	if w.last.Final() && synced {
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
				b.reply(ctx, w, "", ":warning: Lost track of this run (status unavailable for "+giveUpAfter.String()+"); use `/gameday status "+esc(w.id)+"`.")
				return
			}
			continue
		}
		failingSince = time.Time{}
		b.mu.Lock()
		w.last = r
		b.mu.Unlock()
		synced := b.sync(ctx, w, r)
		if r.Final() {
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
	text, blocks := renderWith(r, b.switchLine(ctx))
	if fp := fingerprint(text, blocks); fp != w.shown {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		_, _, _, err := b.api.UpdateMessageContext(cctx, w.channel, w.ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...), slack.MsgOptionMetadata(runMetadata(w.id, "")))
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
		if b.reply(ctx, w, it.key, it.text) {
			w.posted[it.key] = true
		} else {
			ok = false
		}
	}
	return ok
}

// reply posts into the run message's thread; key (the thread item's, or
// "" for a one-off notice) goes into the reply's metadata.
func (b *Bot) reply(ctx context.Context, w *watcher, key, text string) bool {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	opts := []slack.MsgOption{slack.MsgOptionText(text, false), slack.MsgOptionTS(w.ts), slack.MsgOptionDisableLinkUnfurl()}
	if key != "" {
		opts = append(opts, slack.MsgOptionMetadata(runMetadata(w.id, key)))
	}
	_, _, err := b.api.PostMessageContext(cctx, w.channel, opts...)
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
