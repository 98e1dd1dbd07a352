// Package ticket files game-day evidence in Jira: a postmortem issue for
// every run that did not pass (a postmortem.Sink) and a comment, a status
// move or a link on the release ticket a run was started for. It talks Jira
// REST v2 through github.com/andygrunwald/go-jira with basic auth (user +
// API token).
//
// Everything here runs inside Temporal activities that are retried, so every
// write is idempotent (a label per run for issues, a marker per run for
// comments, a status and link check before moving or linking), and every
// error says whether a retry can help: network trouble, 5xx, 408 and 429 are
// plain errors; any other 4xx is wrapped with errkind.Permanent. The API token
// never appears in an error or a log line.
package ticket

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/gameday/gameday/config"
)

// Environment variables of the Jira settings (read and documented by
// config). The token is read from the environment only: it must never sit
// in a scenario or config file that is committed or shown.
const (
	EnvURL         = config.EnvJiraURL
	EnvUser        = config.EnvJiraUser
	EnvToken       = config.EnvJiraToken
	EnvProject     = config.EnvJiraProject
	EnvIssueType   = config.EnvJiraIssueType
	EnvLabels      = config.EnvJiraLabels
	EnvReadyStatus = config.EnvJiraReadyStatus
)

// Defaults for the optional settings.
const (
	DefaultIssueType   = config.DefaultJiraIssueType
	DefaultLabels      = config.DefaultJiraLabels
	DefaultReadyStatus = config.DefaultJiraReadyStatus
)

// JiraConfig is where and as whom postmortems and release evidence are
// filed. Its String, GoString and LogValue mask the token, so printing or
// logging a config cannot leak it.
type JiraConfig struct {
	URL, User, Token, Project, IssueType string
	// Labels go on every postmortem issue, besides the per-run label that
	// makes filing idempotent.
	Labels []string
	// ReadyStatus is the release-ticket status a passing gate moves to.
	ReadyStatus string
}

// JiraConfigFrom takes the Jira section of the configuration (JIRA_*). ok
// is false when JIRA_URL is unset: Jira is optional and the local Markdown
// sink stays in use. The result is not validated here, so that the caller
// decides how to report a half-configured Jira; call Validate (NewJira
// does).
func JiraConfigFrom(c config.Jira) (cfg JiraConfig, ok bool) {
	if c.URL == "" {
		return JiraConfig{}, false
	}
	return JiraConfig{
		URL: c.URL, User: c.User, Token: c.Token, Project: c.Project, IssueType: c.IssueType,
		Labels: c.Labels, ReadyStatus: c.ReadyStatus,
	}, true
}

// Validate reports the first setting that stops Jira from working, naming
// the environment variable to fix, because that is where an operator sets it.
func (c JiraConfig) Validate() error {
	if c.URL == "" {
		return fmt.Errorf("%s is required", EnvURL)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parse error can quote the URL; the URL is not a secret
		// unless it holds credentials, which are rejected below anyway.
		return fmt.Errorf("%s must be an http(s) URL like https://example.atlassian.net, got %q", EnvURL, redactURL(c.URL))
	}
	if u.User != nil {
		// Credentials in the URL would end up in error messages and logs.
		return fmt.Errorf("%s must not contain credentials; set %s and %s instead", EnvURL, EnvUser, EnvToken)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be the Jira base URL without query or fragment", EnvURL)
	}
	var missing []string
	if c.Project == "" {
		missing = append(missing, EnvProject)
	}
	if c.User == "" {
		missing = append(missing, EnvUser)
	}
	if c.Token == "" {
		missing = append(missing, EnvToken)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s is set but %s %s not: Jira needs a project to file in and a user with an API token",
			EnvURL, strings.Join(missing, ", "), map[bool]string{true: "is", false: "are"}[len(missing) == 1])
	}
	if c.IssueType == "" {
		return fmt.Errorf("%s must not be empty", EnvIssueType)
	}
	if c.ReadyStatus == "" {
		return fmt.Errorf("%s must not be empty", EnvReadyStatus)
	}
	for _, l := range c.Labels {
		// Jira rejects labels with spaces (400) on every create; say so
		// at start-up instead.
		if l == "" || strings.ContainsAny(l, " \t\r\n") {
			return fmt.Errorf("%s: label %q must be non-empty and contain no spaces", EnvLabels, l)
		}
	}
	return nil
}

func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "…" + raw[i:]
	}
	return raw
}

func (c JiraConfig) masked() string {
	if c.Token == "" {
		return ""
	}
	return "[redacted]"
}

// String shows the config with the token masked.
func (c JiraConfig) String() string {
	return fmt.Sprintf("JiraConfig{URL:%s User:%s Token:%s Project:%s IssueType:%s Labels:%v ReadyStatus:%s}",
		redactURL(c.URL), c.User, c.masked(), c.Project, c.IssueType, c.Labels, c.ReadyStatus)
}

// GoString keeps %#v from printing the token.
func (c JiraConfig) GoString() string { return "ticket." + c.String() }

// LogValue keeps slog from printing the token.
func (c JiraConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.String("user", c.User),
		slog.String("token", c.masked()),
		slog.String("project", c.Project),
		slog.String("issue_type", c.IssueType),
		slog.Any("labels", c.Labels),
		slog.String("ready_status", c.ReadyStatus),
	)
}
