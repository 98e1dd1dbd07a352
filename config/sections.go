package config

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/signoff"
)

// DefaultToolsDir is where `make tools` puts the server binaries when
// GAMEDAY_TOOLS_DIR is unset: outside the clone, so a fresh clone (CI) on
// the same machine reuses them.
func DefaultToolsDir() string {
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "gameday", "bin")
	}
	return filepath.Join(os.TempDir(), "gameday-tools")
}

// DefaultDistinctSigners lists the environment labels whose sign-off roles
// need distinct users when GAMEDAY_DISTINCT_SIGNERS is unset.
const DefaultDistinctSigners = "production,prod"

// Signoff holds the sign-off rules besides the role map (Config.Users).
type Signoff struct {
	// DistinctSigners lists the environment labels (a scenario's
	// environment label) whose sign-off roles must each be signed by a
	// different user; "*" is every environment, empty is none
	// (GAMEDAY_DISTINCT_SIGNERS: default production,prod, "*" all, "none"
	// off).
	DistinctSigners []string
	// Required maps an environment label to the roles every scenario of
	// that environment must ask to sign (GAMEDAY_REQUIRED_SIGNOFF, e.g.
	// prod=dev+test+sre,*=sre), so whoever writes the scenario file cannot
	// drop the gate. "*" applies to every other label and to scenarios
	// without one; with no "*", those get every listed role (the
	// strictest, as the blast-radius limits do). Empty: none required.
	Required map[string][]string
}

// RequiredRoles are the roles a scenario of environment env must require.
func (s Signoff) RequiredRoles(env string) []string {
	if len(s.Required) == 0 {
		return nil
	}
	for l, roles := range s.Required {
		if l != "*" && env != "" && strings.EqualFold(l, env) {
			return roles
		}
	}
	if roles, ok := s.Required["*"]; ok {
		return roles
	}
	var all []string
	for _, l := range slices.Sorted(maps.Keys(s.Required)) {
		for _, r := range s.Required[l] {
			if !slices.Contains(all, r) {
				all = append(all, r)
			}
		}
	}
	return all
}

// Distinct reports whether the roles of a run in environment env must be
// signed by distinct users. Labels compare case-insensitively.
func (s Signoff) Distinct(env string) bool {
	for _, l := range s.DistinctSigners {
		if l == "*" || strings.EqualFold(l, env) {
			return true
		}
	}
	return false
}

func (s Signoff) String() string {
	return fmt.Sprintf("Signoff{DistinctSigners:%v Required:%v}", s.DistinctSigners, s.Required)
}

func signoffFrom(e env) (Signoff, error) {
	v := e.trimmed(EnvDistinctSigners)
	if v == "" {
		v = DefaultDistinctSigners
	}
	list := SplitList(v)
	if len(list) == 1 && strings.EqualFold(list[0], "none") {
		return Signoff{}, nil
	}
	for _, l := range list {
		if (l == "*" || strings.EqualFold(l, "none")) && len(list) > 1 {
			return Signoff{DistinctSigners: SplitList(DefaultDistinctSigners)},
				fmt.Errorf("%s: %q: \"*\" and \"none\" stand alone (want \"*\", \"none\" or a list of environment labels)", EnvDistinctSigners, v)
		}
	}
	out := Signoff{DistinctSigners: list}
	req, err := parseRequiredSignoff(e.trimmed(EnvRequiredSignoff))
	if err != nil {
		return out, fmt.Errorf("%s: %w", EnvRequiredSignoff, err)
	}
	out.Required = req
	return out, nil
}

// parseRequiredSignoff reads "env=role[+role],..." (roles dev, test, sre).
func parseRequiredSignoff(v string) (map[string][]string, error) {
	if v == "" {
		return nil, nil
	}
	out := map[string][]string{}
	for _, part := range SplitList(v) {
		env, roles, ok := strings.Cut(part, "=")
		env = strings.TrimSpace(env)
		if !ok || env == "" || strings.TrimSpace(roles) == "" {
			return nil, fmt.Errorf("%q: want environment=role[+role], e.g. prod=dev+test+sre,*=sre", part)
		}
		if _, dup := out[env]; dup {
			return nil, fmt.Errorf("environment %s given twice", env)
		}
		for _, r := range strings.Split(roles, "+") {
			r = strings.TrimSpace(r)
			if !slices.Contains(signoff.Roles, r) {
				return nil, fmt.Errorf("%s: unknown role %q (valid: %s)", env, r, strings.Join(signoff.Roles, ", "))
			}
			if !slices.Contains(out[env], r) {
				out[env] = append(out[env], r)
			}
		}
	}
	return out, nil
}

// Kube says which cluster the Kubernetes back-ends use. The values are as
// set; Validate checks the mode.
type Kube struct {
	// Mode is GAMEDAY_KUBE: "auto" or empty (use a cluster when one is
	// configured), "on" (require one), "off".
	Mode string
	// Context is GAMEDAY_KUBE_CONTEXT, the kubeconfig context (empty: the
	// current one).
	Context string
	// Kubeconfig is KUBECONFIG, a path list as for kubectl (empty:
	// in-cluster, then ~/.kube/config).
	Kubeconfig string
}

// Validate checks the mode, naming the variable.
func (k Kube) Validate() error {
	switch k.Mode {
	case "", "auto", "on", "off":
		return nil
	}
	return fmt.Errorf("%s=%q: want auto, on or off", EnvKube, k.Mode)
}

func (k Kube) String() string {
	return fmt.Sprintf("Kube{Mode:%s Context:%s Kubeconfig:%s}", k.Mode, k.Context, k.Kubeconfig)
}

func kubeFrom(e env) Kube {
	return Kube{Mode: e.raw(EnvKube), Context: e.raw(EnvKubeContext), Kubeconfig: e.raw(EnvKubeconfig)}
}

// Safety holds the inputs of the safety policy, as set; safety.FromConfig
// parses them and applies the defaults, naming the variable on an error.
type Safety struct {
	Namespaces       []string // GAMEDAY_NAMESPACES
	OptInLabel       string   // GAMEDAY_OPTIN_LABEL (key=value)
	MaxBlastRadius   string   // GAMEDAY_MAX_BLAST_RADIUS (env=limit list)
	MaxFaultDuration string   // GAMEDAY_MAX_FAULT_DURATION (env=duration list)
}

func (s Safety) String() string {
	return fmt.Sprintf("Safety{Namespaces:%v OptInLabel:%s MaxBlastRadius:%s MaxFaultDuration:%s}", s.Namespaces, s.OptInLabel, s.MaxBlastRadius, s.MaxFaultDuration)
}

func safetyFrom(e env) Safety {
	return Safety{
		Namespaces:       SplitList(e.raw(EnvNamespaces)),
		OptInLabel:       e.raw(EnvOptInLabel),
		MaxBlastRadius:   e.raw(EnvMaxBlastRadius),
		MaxFaultDuration: e.raw(EnvMaxFaultDuration),
	}
}

// Defaults of the optional Jira settings.
const (
	DefaultJiraIssueType   = "Bug"
	DefaultJiraLabels      = "gameday,chaos"
	DefaultJiraReadyStatus = "Ready for Prod"
)

// Jira is where and as whom postmortems and release evidence are filed
// (JIRA_*; an empty URL means Jira is not used). Values are trimmed and the
// defaults applied; ticket validates them. String, GoString, Format and
// LogValue mask the token.
type Jira struct {
	URL, User string
	Token     string `json:"-"` // never marshalled: String and LogValue mask it
	Project   string
	IssueType string
	// Labels go on every postmortem issue, besides the per-run label that
	// makes filing idempotent.
	Labels []string
	// ReadyStatus is the release-ticket status a passing gate moves to.
	ReadyStatus string
}

func jiraFrom(e env) Jira {
	if e.trimmed(EnvJiraURL) == "" {
		return Jira{}
	}
	return Jira{
		URL:         e.trimmed(EnvJiraURL),
		User:        e.trimmed(EnvJiraUser),
		Token:       e.trimmed(EnvJiraToken),
		Project:     e.trimmed(EnvJiraProject),
		IssueType:   e.trimmedOr(EnvJiraIssueType, DefaultJiraIssueType),
		Labels:      SplitList(e.trimmedOr(EnvJiraLabels, DefaultJiraLabels)),
		ReadyStatus: e.trimmedOr(EnvJiraReadyStatus, DefaultJiraReadyStatus),
	}
}

func (j Jira) String() string {
	return fmt.Sprintf("Jira{URL:%s User:%s Token:%s Project:%s IssueType:%s Labels:%v ReadyStatus:%s}",
		RedactURL(j.URL), j.User, mask(j.Token), j.Project, j.IssueType, j.Labels, j.ReadyStatus)
}

// GoString keeps %#v from printing the token.
func (j Jira) GoString() string { return "config." + j.String() }

// Format makes every verb (%v, %+v, %s, %q, %#v) use String.
func (j Jira) Format(f fmt.State, verb rune) { format(f, verb, j.String(), j.GoString()) }

// LogValue keeps slog from printing the token.
func (j Jira) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", RedactURL(j.URL)),
		slog.String("user", j.User),
		slog.String("token", mask(j.Token)),
		slog.String("project", j.Project),
		slog.String("issue_type", j.IssueType),
		slog.Any("labels", j.Labels),
		slog.String("ready_status", j.ReadyStatus),
	)
}

// Slack is the Slack control room's settings (SLACK_*, GAMEDAY_SLACK_*).
// Values are trimmed; slackbot loads the access file and checks what the
// bot cannot work without. String, GoString, Format and LogValue mask the
// tokens and the secret.
type Slack struct {
	// Never marshalled: String and LogValue mask them.
	BotToken      string `json:"-"`
	SigningSecret string `json:"-"`
	AppToken      string `json:"-"`
	// Channels is the allow-list of channel ids; empty means any channel.
	Channels []string
	// PollInterval is the run message refresh period; zero means the
	// bot's default.
	PollInterval time.Duration
	// AccessFile is the SlackAccess YAML file.
	AccessFile string

	err error // a malformed GAMEDAY_SLACK_POLL
}

// Err reports a malformed GAMEDAY_SLACK_* value, naming the variable.
func (s Slack) Err() error { return s.err }

func slackFrom(e env) Slack {
	s := Slack{
		BotToken:      e.trimmed(EnvSlackBotToken),
		SigningSecret: e.trimmed(EnvSlackSigningSecret),
		AppToken:      e.trimmed(EnvSlackAppToken),
		Channels:      SplitList(e.raw(EnvSlackChannels)),
		AccessFile:    e.trimmed(EnvSlackAccess),
	}
	if v := e.trimmed(EnvSlackPoll); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond {
			s.err = fmt.Errorf("%s: %q is not a duration of at least 100ms", EnvSlackPoll, v)
		} else {
			s.PollInterval = d
		}
	}
	return s
}

func (s Slack) String() string {
	return fmt.Sprintf("Slack{BotToken:%s SigningSecret:%s AppToken:%s Channels:%v PollInterval:%s AccessFile:%s}",
		mask(s.BotToken), mask(s.SigningSecret), mask(s.AppToken), s.Channels, s.PollInterval, s.AccessFile)
}

// GoString keeps %#v from printing the tokens.
func (s Slack) GoString() string { return "config." + s.String() }

// Format makes every verb (%v, %+v, %s, %q, %#v) use String.
func (s Slack) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// LogValue keeps slog from printing the tokens.
func (s Slack) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("bot_token", mask(s.BotToken)),
		slog.String("signing_secret", mask(s.SigningSecret)),
		slog.String("app_token", mask(s.AppToken)),
		slog.Any("channels", s.Channels),
		slog.Duration("poll_interval", s.PollInterval),
		slog.String("access_file", s.AccessFile),
	)
}

// mask says whether a secret is set without showing any of it: even a
// prefix narrows a guess.
func mask(s string) string {
	if s == "" {
		return "unset"
	}
	return Redacted
}

func format(f fmt.State, verb rune, s, gs string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, gs)
		return
	}
	_, _ = io.WriteString(f, s)
}
