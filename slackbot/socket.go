package slackbot

import (
	"context"
	"errors"
	"log/slog"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// socketReadLimit caps one Socket Mode frame: the HTTP body cap plus room
// for the envelope around the payload.
const socketReadLimit = 2 * MaxBodyBytes

// RunSocket serves the bot over Socket Mode: Slack pushes the same slash
// commands and interactions over a WebSocket the bot opens, so no public
// HTTP endpoint (nor signing secret) is needed. The dispatch is the HTTP
// handler's; only the transport differs. Every envelope is acknowledged,
// with the same body the HTTP handler would have answered. On start it
// resumes following the runs started from Slack that are still running
// (Bot.Resume). It blocks until ctx is done (then returns nil) or the
// connection fails for good.
func RunSocket(ctx context.Context, cfg Config, eng Engine, api *slack.Client, logger *slog.Logger) error {
	if cfg.AppToken == "" {
		return errors.New("socket mode needs an app-level token (" + EnvAppToken + ")")
	}
	// Socket Mode opens its connection with the app-level token; the Web
	// API calls keep the bot token. The copy leaves the caller's client
	// as it was.
	sc := *api
	slack.OptionAppLevelToken(cfg.AppToken)(&sc)
	sm := socketmode.New(&sc, socketmode.OptionReadLimit(socketReadLimit))
	b := New(cfg, eng, api, logger)
	defer b.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.Resume(ctx) // runs started from Slack before a restart
	runErr := make(chan error, 1)
	go func() { runErr <- sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			<-runErr
			return nil
		case err := <-runErr:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case evt := <-sm.Events:
			b.socketEvent(ctx, sm, evt)
		}
	}
}

// socketEvent handles one Socket Mode event. Requests are dispatched on
// their own goroutine: a status lookup may wait up to the ack budget, and
// it must not hold up the acknowledgement of the next envelope.
func (b *Bot) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		b.logger.Info("slack: socket mode connecting")
	case socketmode.EventTypeConnected:
		b.logger.Info("slack: socket mode connected")
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeInvalidAuth:
		b.logger.Warn("slack: socket mode problem", "event", string(evt.Type), "error", errorOf(evt.Data))
	}
	req := evt.Request
	if req == nil || req.EnvelopeID == "" {
		return // hello, disconnect and the client's own events carry no envelope
	}
	b.goWork(func() {
		var payload any
		switch evt.Type {
		case socketmode.EventTypeSlashCommand:
			if cmd, ok := evt.Data.(slack.SlashCommand); ok && cmd.UserID != "" {
				// A redelivered envelope carries the same payload (its
				// trigger_id included): the same run id, refused twice.
				var key []byte
				if len(req.Payload) > 0 {
					key = requestKey("socket", cmd.TeamID, cmd.ChannelID, cmd.UserID, 0, req.Payload)
				}
				payload = b.command(cmd, key)
			}
		case socketmode.EventTypeInteractive:
			if ic, ok := evt.Data.(slack.InteractionCallback); ok && ic.User.ID != "" {
				payload = b.interaction(ic)
			}
		}
		if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
			b.logger.Warn("slack: socket mode ack failed", "type", req.Type, "error", err)
		}
	})
}

func errorOf(v any) string {
	if err, ok := v.(error); ok {
		return err.Error()
	}
	return ""
}
