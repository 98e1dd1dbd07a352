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
	off := config.Kube{Mode: "off"}
	acts, err := NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090", ToxiproxyURL: "http://127.0.0.1:8474", DataDir: t.TempDir(), Kube: off}, quiet)
	require.NoError(t, err)
	assert.IsType(t, postmortem.Dir{}, acts.Postmortems, "local Markdown without Jira")
	assert.Contains(t, acts.Backends, "toxiproxy")

	jira := config.Jira{URL: "http://127.0.0.1:1", User: "bot@example.com", Token: "s3cr3t-token", Project: "GD", IssueType: "Bug", ReadyStatus: "Ready for Prod"}
	acts, err = NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090", DataDir: t.TempDir(), Kube: off, Jira: jira}, quiet)
	require.NoError(t, err)
	assert.IsType(t, &ticket.Jira{}, acts.Postmortems)
	assert.IsType(t, &ticket.Jira{}, acts.Releases)
	assert.NotContains(t, acts.Backends, "toxiproxy", "TOXIPROXY_URL empty disables the back-end")

	jira.Project = ""
	_, err = NewActivities(config.Config{PrometheusURL: "http://127.0.0.1:9090", Kube: off, Jira: jira}, quiet)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JIRA_PROJECT")
	assert.NotContains(t, err.Error(), "s3cr3t-token")
}

// Who may sign, and whether distinct roles need distinct users, are the
// worker's configuration (GAMEDAY_ROLES, GAMEDAY_DISTINCT_SIGNERS).
func TestSignersFollowConfiguration(t *testing.T) {
	for _, tc := range []struct {
		value    string
		distinct map[string]bool
	}{
		{"", map[string]bool{"production": true, "prod": true, "staging": false, "": false}},
		{"*", map[string]bool{"production": true, "staging": true, "": true}},
		{"none", map[string]bool{"production": false, "prod": false}},
		{"staging", map[string]bool{"staging": true, "prod": false}},
	} {
		cfg := config.Read(config.MapLookup(map[string]string{
			config.EnvDistinctSigners: tc.value, config.EnvRoles: "dana=dev", config.EnvKube: "off", config.EnvToxiproxyURL: "off",
		}))
		require.NoError(t, cfg.Validate())
		cfg.DataDir = t.TempDir()
		acts, err := NewActivities(cfg, quiet)
		require.NoError(t, err)
		assert.Equal(t, map[string][]string{"dana": {"dev"}}, acts.Signers)
		for env, want := range tc.distinct {
			assert.Equal(t, want, acts.DistinctSigners(env), "GAMEDAY_DISTINCT_SIGNERS=%q, environment %q", tc.value, env)
		}
	}
}
