package slackbot

import (
	"context"
	"time"
)

// listTimeout bounds listing the runs to resume (every page of it).
const listTimeout = time.Minute

// Resume follows again, in the background, every run started from Slack
// that is still running: a bot restarted mid-run picks up where its
// predecessor left off. It asks the engine for those runs (RunLister; the
// channel is the one recorded on the run when it was started) and calls
// Watch for each one whose channel the allow-list admits, so the run
// message is found again and kept current. It returns at once; how many
// runs were resumed is logged. Failures (the listing, one run's message)
// are logged and never stop the bot. ctx bounds the watchers it starts,
// as Watch's does; Close stops them too. Call it once, after New.
func (b *Bot) Resume(ctx context.Context) {
	b.goWork(func() { b.resume(ctx) })
}

// resumeStats is what one resume did, for the log and the tests.
type resumeStats struct {
	listed, resumed, skipped, failed int
}

func (b *Bot) resume(ctx context.Context) resumeStats {
	var st resumeStats
	lister, ok := b.eng.(RunLister)
	if !ok {
		b.logger.Info("slack: the engine cannot list runs; not resuming runs in progress")
		return st
	}
	// Cancelled by ctx or by Close, but not when resume returns: the
	// watchers started below live on with it.
	wctx, wcancel := context.WithCancel(ctx)
	context.AfterFunc(b.ctx, wcancel)

	lctx, lcancel := context.WithTimeout(wctx, listTimeout)
	runs, err := lister.SlackRuns(lctx)
	lcancel()
	st.listed = len(runs)
	if err != nil {
		// Resume what was listed; the others' messages stay as they are
		// until someone watches them.
		b.logger.Warn("slack: cannot list the runs in progress to resume them", "listed", len(runs), "error", err)
	}
	for _, r := range runs {
		if wctx.Err() != nil {
			break
		}
		if r.Channel == "" || !b.cfg.ChannelAllowed(r.Channel) {
			b.logger.Info("slack: not resuming a run started in a channel not allowed", "workflow_id", r.WorkflowID, "channel", r.Channel)
			st.skipped++
			continue
		}
		if err := b.Watch(wctx, r.Channel, r.WorkflowID); err != nil {
			b.logger.Warn("slack: cannot resume a run", "workflow_id", r.WorkflowID, "channel", r.Channel, "error", err)
			st.failed++
			continue
		}
		st.resumed++
	}
	b.logger.Info("slack: resumed runs in progress", "resumed", st.resumed, "listed", st.listed, "skipped", st.skipped, "failed", st.failed)
	return st
}
