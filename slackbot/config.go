package slackbot

import (
	"errors"
	"fmt"
	"github.com/gameday/gameday/config"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv. The tokens and the signing
// secret come from the environment only, never from a file that might be
// committed or shown.
const (
	EnvBotToken      = "SLACK_BOT_TOKEN"      // xoxb-…: Web API calls
	EnvSigningSecret = "SLACK_SIGNING_SECRET" // verifies HTTP requests from Slack
	EnvAppToken      = "SLACK_APP_TOKEN"      // xapp-…: Socket Mode instead of a public HTTP endpoint
	EnvChannels      = "SLACK_CHANNELS"       // comma list of channel ids the bot answers in
	EnvAccess        = "GAMEDAY_SLACK_ACCESS" // path of the SlackAccess YAML file
	EnvPollInterval  = "GAMEDAY_SLACK_POLL"   // how often a run message is refreshed
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

// ConfigFromEnv reads the SLACK_* and GAMEDAY_SLACK_* variables and loads
// the access file. It fails when something the bot cannot work without is
// missing, naming the variable to set.
func ConfigFromEnv() (Config, error) {
	c := Config{
		BotToken:      strings.TrimSpace(os.Getenv(EnvBotToken)),
		SigningSecret: strings.TrimSpace(os.Getenv(EnvSigningSecret)),
		AppToken:      strings.TrimSpace(os.Getenv(EnvAppToken)),
		Channels:      config.SplitList(os.Getenv(EnvChannels)),
	}
	if v := strings.TrimSpace(os.Getenv(EnvPollInterval)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			return Config{}, fmt.Errorf("%s: %q is not a duration of at least 100ms", EnvPollInterval, v)
		}
		c.PollInterval = d
	}
	file := strings.TrimSpace(os.Getenv(EnvAccess))
	if file == "" {
		// Without it every user is unknown and refused: fail loudly now
		// rather than with a bot that says no to everyone.
		return Config{}, fmt.Errorf("%s is required: the SlackAccess file saying who may run, abort and sign off", EnvAccess)
	}
	a, err := LoadAccess(file)
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
