package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/slack-go/slack"
	"github.com/spf13/cobra"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/slackbot/slacktemporal"
)

func newSlackCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "slack",
		Short: "Run the Slack control room: slash commands, live run messages, sign-off and abort buttons",
		Long: `Connect gameday to Slack with github.com/slack-go/slack.

  serve   HTTP endpoint for slash commands (/slack/commands) and interactivity
          (/slack/interactions); every request is verified with the signing secret
  socket  Socket Mode, for workspaces without public ingress

Environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (serve), SLACK_APP_TOKEN
(socket), SLACK_CHANNELS (allow-list of channel ids), GAMEDAY_SLACK_ACCESS (YAML
file mapping Slack user ids to names, roles and permissions; the names must match
GAMEDAY_ROLES), GAMEDAY_SLACK_POLL (run message refresh period, default 2s).
Secrets are read from the environment only and never logged.

On start, both follow again the runs started from Slack that are still running
(their channel is recorded on the run), so a restarted bot keeps their messages
current.

` + config.EnvHelp(),
	}
	var addr string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve slash commands and interactivity over HTTP",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSlack(cmd.Context(), a, cmd, true, func(ctx context.Context, bot botDeps) error {
				b := slackbot.New(bot.cfg, bot.eng, bot.api, bot.logger)
				defer b.Close()
				srv := &http.Server{Addr: addr, Handler: b, ReadHeaderTimeout: 10 * time.Second}
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					return fmt.Errorf("listen %s: %w", addr, err)
				}
				bot.logger.Info("slack endpoint listening", "addr", ln.Addr().String(), "commands", "/slack/commands", "interactions", "/slack/interactions")
				// Follow again the runs started from Slack before a restart
				// (socket mode does this inside RunSocket).
				b.Resume(ctx)
				go func() {
					<-ctx.Done()
					sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
					defer c()
					_ = srv.Shutdown(sctx)
				}()
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			})
		},
	}
	serve.Flags().StringVar(&addr, "addr", "127.0.0.1:3000", "listen address (put it behind your ingress/TLS)")
	socket := &cobra.Command{
		Use:   "socket",
		Short: "Connect over Socket Mode (no public endpoint needed)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSlack(cmd.Context(), a, cmd, false, func(ctx context.Context, bot botDeps) error {
				return slackbot.RunSocket(ctx, bot.cfg, bot.eng, bot.api, bot.logger)
			})
		},
	}
	cmd.AddCommand(serve, socket)
	return cmd
}

type botDeps struct {
	cfg    slackbot.Config
	eng    slackbot.Engine
	api    *slack.Client
	logger *slog.Logger
}

// runSlack checks the configuration, dials Temporal and runs the bot;
// httpMode says the bot is served over HTTP, which needs the signing secret
// (without it every request would be refused with 401).
func runSlack(ctx context.Context, a *app, cmd *cobra.Command, httpMode bool, run func(context.Context, botDeps) error) error {
	if err := a.cfg.Validate(); err != nil {
		return err
	}
	logger := newLogger(cmd.ErrOrStderr())
	scfg, err := slackbot.ConfigFrom(a.cfg.Slack)
	if err != nil {
		return err
	}
	if httpMode && scfg.SigningSecret == "" {
		return fmt.Errorf("slack serve needs %s (or use slack socket with %s)", slackbot.EnvSigningSecret, slackbot.EnvAppToken)
	}
	c, err := a.dial(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	opts := []slack.Option{}
	if scfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(scfg.AppToken))
	}
	api := slack.New(scfg.BotToken, opts...)
	eng := slacktemporal.Engine{Launcher: control.Launcher{Client: c, Config: a.cfg}}
	return run(ctx, botDeps{cfg: scfg, eng: eng, api: api, logger: logger})
}
