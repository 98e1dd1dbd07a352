package worker

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/ticket"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestSinksFollowConfiguration(t *testing.T) {
	t.Setenv("JIRA_URL", "")
	acts, err := NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090", ToxiproxyURL: "http://127.0.0.1:8474", DataDir: t.TempDir()}, quiet)
	require.NoError(t, err)
	assert.IsType(t, postmortem.Dir{}, acts.Postmortems, "local Markdown without Jira")
	assert.Contains(t, acts.Backends, "toxiproxy")

	t.Setenv("JIRA_URL", "http://127.0.0.1:1")
	t.Setenv("JIRA_USER", "bot@example.com")
	t.Setenv("JIRA_TOKEN", "s3cr3t-token")
	t.Setenv("JIRA_PROJECT", "GD")
	acts, err = NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090", DataDir: t.TempDir()}, quiet)
	require.NoError(t, err)
	assert.IsType(t, &ticket.Jira{}, acts.Postmortems)
	assert.IsType(t, &ticket.Jira{}, acts.Releases)
	assert.NotContains(t, acts.Backends, "toxiproxy", "TOXIPROXY_URL empty disables the back-end")

	t.Setenv("JIRA_PROJECT", "")
	_, err = NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090"}, quiet)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JIRA_PROJECT")
	assert.NotContains(t, err.Error(), "s3cr3t-token")
}
