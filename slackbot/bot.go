package slackbot

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

const (
	// ackBudget is how long a handler may wait for a quick engine answer
	// before acknowledging without it: Slack gives up after 3 s, and the
	// network round trip needs the rest.
	ackBudget = 2 * time.Second
	// workTimeout bounds the background work one request starts (Start,
	// Abort, Signoff plus the Slack calls that report on them), so a hung
	// Temporal call cannot pile goroutines up forever.
	workTimeout = 30 * time.Second
	// triggerTimeout bounds opening a modal: a trigger_id expires 3 s after
	// the click, so a later views.open fails anyway.
	triggerTimeout = 3 * time.Second
)

// Bot is the Slack side of game days: it answers slash commands and
// interactions (over HTTP or Socket Mode) and keeps one channel message per
// run current. It is safe for concurrent use.
type Bot struct {
	cfg    Config
	eng    Engine
	api    *slack.Client
	logger *slog.Logger

	// ackBudget and poll are fields so tests can shorten them.
	ackBudget time.Duration
	poll      time.Duration

	ctx    context.Context // cancelled by Close; parent of all background work
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mux *http.ServeMux

	mu       sync.Mutex
	closed   bool
	watchers map[string]*watcher // by workflow id
	replays  replayCache
	sw       switchCache // the kill switch as the run messages show it
}

// New builds a Bot. api is the Web API client made with the bot token
// (slack.New(cfg.BotToken)); a nil logger discards logs.
func New(cfg Config, eng Engine, api *slack.Client, logger *slog.Logger) *Bot {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bot{
		cfg: cfg, eng: eng, api: api, logger: logger,
		ackBudget: ackBudget,
		poll:      cfg.pollInterval(),
		ctx:       ctx, cancel: cancel,
		watchers: map[string]*watcher{},
		replays:  replayCache{seen: map[string]time.Time{}},
	}
	b.mux = b.routes()
	return b
}

// Close stops every watcher and waits for background work to end. The
// runs themselves go on in Temporal; a new Bot can Watch them again.
func (b *Bot) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
}

// goWork starts fn as tracked background work unless the Bot is closed
// (adding to the WaitGroup while Close waits on it would be a race).
func (b *Bot) goWork(fn func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
	return true
}

// spawn runs slow work off the request path with its own deadline,
// detached from the request (which ends at the acknowledgement) but
// stopped by Close.
func (b *Bot) spawn(timeout time.Duration, fn func(ctx context.Context)) bool {
	return b.goWork(func() {
		ctx, cancel := context.WithTimeout(b.ctx, timeout)
		defer cancel()
		fn(ctx)
	})
}

// soon runs work in the background and waits up to the ack budget for it.
// If it finishes in time its answer goes into the acknowledgement (one
// message for the user instead of two); if not, ack is returned and late
// receives the answer when it comes.
func soon[T any](b *Bot, work func(ctx context.Context) T, ack T, late func(v T)) T {
	res := make(chan T, 1)
	var mu sync.Mutex
	acked := false // the request side gave up waiting and answered ack
	started := b.spawn(workTimeout, func(ctx context.Context) {
		v := work(ctx)
		mu.Lock()
		if acked {
			mu.Unlock()
			late(v)
			return
		}
		res <- v
		mu.Unlock()
	})
	if !started {
		return ack
	}
	t := time.NewTimer(b.ackBudget)
	defer t.Stop()
	select {
	case v := <-res:
		return v
	case <-t.C:
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case v := <-res: // finished right at the deadline
		return v
	default:
		acked = true
		return ack
	}
}

// ephemeral shows text to one user in a channel, best effort. It has its
// own deadline: the report of a failure must go out even when the failure
// was the work's deadline passing.
func (b *Bot) ephemeral(channel, user, text string) {
	if channel == "" || user == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, callTimeout)
	defer cancel()
	if _, err := b.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		b.logger.Warn("slack: ephemeral message failed", "channel", channel, "user", user, "error", err)
	}
}

// displayName is how a user is recorded in the workflow: the access file's
// name, which the sign-off role map knows, else the Slack handle.
func (b *Bot) displayName(userID, slackName string) string {
	if n := b.cfg.Access.Name(userID); n != "" {
		return n
	}
	if slackName != "" {
		return slackName
	}
	return userID
}
