package slackbot

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/scenarios"
)

func writeAccess(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "access.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv(EnvBotToken, testBotToken)
	t.Setenv(EnvSigningSecret, testSecret)
	t.Setenv(EnvAppToken, testAppToken)
	t.Setenv(EnvChannels, " C0GAMEDAY, C0OPS ,")
	t.Setenv(EnvAccess, writeAccess(t, testAccess))
	t.Setenv(EnvPollInterval, "500ms")
	c, err := ConfigFrom(config.FromEnv().Slack)
	if err != nil {
		t.Fatal(err)
	}
	if c.BotToken != testBotToken || c.SigningSecret != testSecret || c.AppToken != testAppToken ||
		strings.Join(c.Channels, ",") != "C0GAMEDAY,C0OPS" || len(c.Access.Users) != 4 || c.PollInterval != 500*time.Millisecond {
		t.Fatalf("config %#v", c.Access)
	}
	if !c.ChannelAllowed("C0OPS") || c.ChannelAllowed("C0RANDOM") || !(Config{}).ChannelAllowed("C0RANDOM") {
		t.Fatal("channel allow-list")
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	access := writeAccess(t, testAccess)
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no access file", map[string]string{EnvBotToken: "xoxb-1", EnvSigningSecret: "s"}, EnvAccess + " is required"},
		{"missing access file", map[string]string{EnvBotToken: "xoxb-1", EnvSigningSecret: "s", EnvAccess: "/nonexistent/access.yaml"}, "no such file"},
		{"no bot token", map[string]string{EnvSigningSecret: "s", EnvAccess: access}, EnvBotToken + " is required"},
		{"no secret nor app token", map[string]string{EnvBotToken: "xoxb-1", EnvAccess: access}, "set SLACK_SIGNING_SECRET (HTTP endpoint) or SLACK_APP_TOKEN"},
		{"bot token as app token", map[string]string{EnvBotToken: "xoxb-1", EnvAppToken: "xoxb-2", EnvAccess: access}, "app-level token"},
		{"bad poll", map[string]string{EnvBotToken: "xoxb-1", EnvSigningSecret: "s", EnvAccess: access, EnvPollInterval: "1ms"}, EnvPollInterval},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{EnvBotToken, EnvSigningSecret, EnvAppToken, EnvChannels, EnvAccess, EnvPollInterval} {
				t.Setenv(k, c.env[k])
			}
			_, err := ConfigFrom(config.FromEnv().Slack)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestConfigNeverShowsSecrets(t *testing.T) {
	c := testConfig(t)
	c.AppToken = testAppToken
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", c)
	out := fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c) + c.String() + logs.String()
	for _, secret := range []string{testSecret, testBotToken, testAppToken, "xoxb", "xapp"} {
		if strings.Contains(out, secret) {
			t.Fatalf("output shows %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "BotToken:set") || !strings.Contains(logs.String(), `"bot_token":"set"`) {
		t.Fatalf("masked output does not say the token is set:\n%s", out)
	}
}

func TestParseAccessErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"unknown field", `apiVersion: gameday/v1
kind: SlackAccess
users:
  U0DANA:
    name: dana
    abrot: true
`, []string{"access.yaml:6: users.U0DANA.abrot: unknown field (known: name, roles, run, environments, abort, kill_switch, override)"}},
		{"bad values", `apiVersion: gameday/v1
kind: SlackAccess
users:
  dana:
    name: ""
    roles: [dev, ops]
    run: ["demo-[", ""]
    environments: [" "]
`, []string{
			"access.yaml:4: users.dana: key must be a Slack user id",
			"access.yaml:5: users.dana.name: required",
			`access.yaml:6: users.dana.roles[1]: unknown role "ops" (one of dev, test, sre)`,
			`access.yaml:7: users.dana.run[0]: invalid glob "demo-["`,
			`access.yaml:7: users.dana.run[1]: invalid glob ""`,
			"access.yaml:8: users.dana.environments[0]: must not be empty",
		}},
		{"wrong kind, no users", "apiVersion: gameday/v2\nkind: Scenario\nusers: {}\n", []string{
			`access.yaml:1: apiVersion: must be "gameday/v1", got "gameday/v2"`,
			`access.yaml:2: kind: must be "SlackAccess", got "Scenario"`,
			"access.yaml:3: users: at least one user is required",
		}},
		{"wrong type", "apiVersion: gameday/v1\nkind: SlackAccess\nusers:\n  U0DANA: {name: dana, abort: maybe}\n", []string{"access.yaml:4:", "abort"}},
		{"empty", "", []string{"access.yaml:1: empty file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseAccess("access.yaml", []byte(c.doc))
			if err == nil {
				t.Fatal("no error")
			}
			if werr := yamlx.WellFormed(err, "access.yaml"); werr != nil {
				t.Fatal(werr)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestAccessCan(t *testing.T) {
	a := testConfig(t).Access
	sc := map[string]bool{}
	for _, s := range testScenarios() {
		sc[s.Metadata.Name] = true
	}
	cases := []struct {
		user   string
		action Action
		target string
		ok     bool
	}{
		{dana, ActionRun, "demo-inventory-latency", true},
		{dana, ActionDryRun, "demo-inventory-latency", true},
		{dana, ActionRun, "db-failover", false},
		{dana, ActionAbort, "", true},
		{dana, ActionStatus, "", true},
		{sam, ActionRun, "db-failover", true},
		{sam, ActionAbort, "", false},
		{vic, ActionRun, "demo-inventory-latency", false},
		{vic, ActionList, "", true},
		{stranger, ActionList, "", false},
		{stranger, ActionRun, "demo-inventory-latency", false},
		{dana, Action("launch"), "", false},
	}
	for _, c := range cases {
		if err := a.Can(c.user, c.action, c.target); (err == nil) != c.ok {
			t.Errorf("Can(%s, %s, %s) = %v, want ok=%v", c.user, c.action, c.target, err, c.ok)
		}
	}
	for _, s := range testScenarios() {
		err := a.CanRunScenario(dana, ActionRun, s)
		want := strings.HasPrefix(s.Metadata.Name, "demo-") && s.Metadata.Labels[scenarios.EnvironmentLabel] != "production"
		if (err == nil) != want {
			t.Errorf("dana runs %s: %v, want ok=%v", s.Metadata.Name, err, want)
		}
	}
	if a.CanSign(dana, "dev") != nil || a.CanSign(dana, "sre") == nil || a.CanSign(sam, "test") != nil || a.CanSign(vic, "dev") == nil || a.CanSign(stranger, "dev") == nil {
		t.Error("CanSign")
	}
	if err := a.CanSign(vic, "dev"); !strings.Contains(err.Error(), "holds: none") {
		t.Errorf("vic: %v", err)
	}
}
