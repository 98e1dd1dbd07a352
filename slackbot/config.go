package slackbot

import (
	"errors"
	"fmt"
	"github.com/gameday/gameday/config"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Environment variables of the bot (read and documented by config). The
// tokens and the signing secret come from the environment only, never from
// a file that might be committed or shown.
const (
	EnvBotToken      = config.EnvSlackBotToken      // xoxb-…: Web API calls
	EnvSigningSecret = config.EnvSlackSigningSecret // verifies HTTP requests from Slack
	EnvAppToken      = config.EnvSlackAppToken      // xapp-…: Socket Mode instead of a public HTTP endpoint
	EnvChannels      = config.EnvSlackChannels      // comma list of channel ids the bot answers in
	EnvAccess        = config.EnvSlackAccess        // path of the SlackAccess YAML file
	EnvPollInterval  = config.EnvSlackPoll          // how often a run message is refreshed
)

// DefaultPollInterval is how often a watcher asks the engine for a run's
// status: fast enough that a breach shows up within a couple of seconds,
// slow enough to stay far below chat.update's rate limit.
const DefaultPollInterval = 2 * time.Second

// Config is the bot's configuration. String, GoString and LogValue mask
// the tokens and the secret, so printing or logging a Config cannot leak
// them.
type Config struct {
	BotToken      string
	SigningSecret string
	AppToken      string
	// Channels is the allow-list of channel ids; empty means any channel.
	// Chaos is started from a few agreed channels so everyone sees it.
	Channels []string
	Access   Access
	// PollInterval is the watcher's status poll period (DefaultPollInterval
	// when zero).
	PollInterval time.Duration
}

// ConfigFrom takes the Slack section of the configuration (SLACK_*,
// GAMEDAY_SLACK_*) and loads the access file. It fails when something the
// bot cannot work without is missing, naming the variable to set.
func ConfigFrom(s config.Slack) (Config, error) {
	if err := s.Err(); err != nil {
		return Config{}, err
	}
	c := Config{
		BotToken:      s.BotToken,
		SigningSecret: s.SigningSecret,
		AppToken:      s.AppToken,
		Channels:      s.Channels,
		PollInterval:  s.PollInterval,
	}
	if s.AccessFile == "" {
		// Without it every user is unknown and refused: fail loudly now
		// rather than with a bot that says no to everyone.
		return Config{}, fmt.Errorf("%s is required: the SlackAccess file saying who may run, abort and sign off", EnvAccess)
	}
	a, err := LoadAccess(s.AccessFile)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", EnvAccess, err)
	}
	c.Access = a
	return c, c.Validate()
}

// Validate reports the first setting that stops the bot from working.
func (c Config) Validate() error {
	if c.BotToken == "" {
		return fmt.Errorf("%s is required", EnvBotToken)
	}
	if c.SigningSecret == "" && c.AppToken == "" {
		return fmt.Errorf("set %s (HTTP endpoint) or %s (Socket Mode)", EnvSigningSecret, EnvAppToken)
	}
	if c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-") {
		// A bot token here would fail later with a vague invalid_auth.
		return fmt.Errorf("%s must be an app-level token (xapp-…)", EnvAppToken)
	}
	if len(c.Access.Users) == 0 {
		return errors.New("no access file loaded: every user would be refused")
	}
	return nil
}

// ChannelAllowed reports whether the bot answers in channel.
func (c Config) ChannelAllowed(channel string) bool {
	return len(c.Channels) == 0 || slices.Contains(c.Channels, channel)
}

func (c Config) pollInterval() time.Duration {
	if c.PollInterval > 0 {
		return c.PollInterval
	}
	return DefaultPollInterval
}

// mask says whether a secret is set without showing any of it: even a
// prefix narrows a guess, and "set"/"unset" is all an operator needs.
func mask(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// String shows the configuration with the secrets masked.
func (c Config) String() string {
	return fmt.Sprintf("slackbot.Config{BotToken:%s SigningSecret:%s AppToken:%s Channels:%v Users:%d PollInterval:%s}",
		mask(c.BotToken), mask(c.SigningSecret), mask(c.AppToken), c.Channels, len(c.Access.Users), c.pollInterval())
}

// GoString keeps %#v from printing the raw fields.
func (c Config) GoString() string { return c.String() }

// Format makes every verb (%v, %+v, %s, %q, %#v) use String, since %+v
// would otherwise print the struct fields, secrets included.
func (c Config) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(c.String()))
}

// LogValue is what slog records for a Config.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bot_token", mask(c.BotToken)),
		slog.String("signing_secret", mask(c.SigningSecret)),
		slog.String("app_token", mask(c.AppToken)),
		slog.Any("channels", c.Channels),
		slog.Int("users", len(c.Access.Users)),
		slog.Duration("poll_interval", c.pollInterval()),
	)
}
