package ticket

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
)

func clearEnv(t *testing.T) {
	for _, v := range []string{EnvURL, EnvUser, EnvToken, EnvProject, EnvIssueType, EnvLabels, EnvReadyStatus} {
		t.Setenv(v, "")
	}
}

// jiraConfigFromEnv is what the binary does: config reads JIRA_*, ticket
// takes the section.
func jiraConfigFromEnv() (JiraConfig, bool) { return JiraConfigFrom(config.FromEnv().Jira) }

func TestJiraConfigFromEnv(t *testing.T) {
	clearEnv(t)
	_, ok := jiraConfigFromEnv()
	assert.False(t, ok, "no JIRA_URL: Jira is off")

	t.Setenv(EnvURL, "https://acme.atlassian.net")
	t.Setenv(EnvUser, "bot@acme.com")
	t.Setenv(EnvToken, testToken)
	t.Setenv(EnvProject, "GD")
	cfg, ok := jiraConfigFromEnv()
	require.True(t, ok)
	assert.Equal(t, JiraConfig{
		URL: "https://acme.atlassian.net", User: "bot@acme.com", Token: testToken, Project: "GD",
		IssueType: "Bug", Labels: []string{"gameday", "chaos"}, ReadyStatus: "Ready for Prod",
	}, cfg)
	require.NoError(t, cfg.Validate())

	t.Setenv(EnvIssueType, "Incident")
	t.Setenv(EnvLabels, " chaos , ,sre-review ")
	t.Setenv(EnvReadyStatus, "Approved")
	cfg, _ = jiraConfigFromEnv()
	assert.Equal(t, "Incident", cfg.IssueType)
	assert.Equal(t, []string{"chaos", "sre-review"}, cfg.Labels)
	assert.Equal(t, "Approved", cfg.ReadyStatus)
}

func TestValidateNamesTheVariable(t *testing.T) {
	ok := JiraConfig{URL: "https://acme.atlassian.net", User: "u", Token: testToken, Project: "GD", IssueType: "Bug", ReadyStatus: "Ready", Labels: []string{"a"}}
	cases := map[string]func(c *JiraConfig){
		EnvProject: func(c *JiraConfig) { c.Project = "" },
		EnvUser:    func(c *JiraConfig) { c.User = "" },
		EnvToken:   func(c *JiraConfig) { c.Token = "" },
		EnvURL:     func(c *JiraConfig) { c.URL = "acme.atlassian.net" },
		EnvLabels:  func(c *JiraConfig) { c.Labels = []string{"game day"} },
	}
	for name, mut := range cases {
		c := ok
		mut(&c)
		err := c.Validate()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.NotContains(t, err.Error(), testToken)
	}
	c := ok
	c.URL = "https://u:" + testToken + "@acme.atlassian.net"
	err := c.Validate()
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
	_, err = NewJira(c, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), testToken)
}

func TestConfigNeverPrintsToken(t *testing.T) {
	c := JiraConfig{URL: "https://acme.atlassian.net", User: "u", Token: testToken, Project: "GD"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("jira", "cfg", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logs.String()} {
		assert.NotContains(t, s, testToken)
		assert.Contains(t, s, "GD")
	}
}
