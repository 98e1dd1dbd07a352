package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRoles(t *testing.T) {
	m, err := ParseRoles(" dana=dev, tess=test ,sam=sre+dev")
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"dana": {"dev"}, "tess": {"test"}, "sam": {"sre", "dev"}}, m)

	m, err = ParseRoles("")
	require.NoError(t, err)
	assert.Nil(t, m)

	for _, bad := range []string{"dana", "=dev", "dana=", "dana=qa", "dana=dev+ops"} {
		_, err := ParseRoles(bad)
		assert.Error(t, err, bad)
	}
}

func TestValidateNamesTheVariable(t *testing.T) {
	t.Setenv("GAMEDAY_ROLES", "dana=boss")
	assert.ErrorContains(t, FromEnv().Validate(), "GAMEDAY_ROLES")
	t.Setenv("GAMEDAY_ROLES", "dana=dev")
	t.Setenv("GAMEDAY_GATE_THRESHOLD", "120")
	assert.ErrorContains(t, FromEnv().Validate(), "GAMEDAY_GATE_THRESHOLD")
	t.Setenv("GAMEDAY_GATE_THRESHOLD", "75")
	require.NoError(t, FromEnv().Validate())
	c := FromEnv()
	assert.Equal(t, 75.0, c.GateThreshold)
	assert.Equal(t, []string{"dev"}, c.Users["dana"])
}

func TestDefaults(t *testing.T) {
	for _, v := range Vars {
		t.Setenv(v.Name, "")
	}
	c := FromEnv()
	assert.Equal(t, "gameday", c.TaskQueue)
	assert.Equal(t, "http://127.0.0.1:9090", c.PrometheusURL)
	t.Setenv("TOXIPROXY_URL", "off")
	assert.Empty(t, FromEnv().ToxiproxyURL)
}

func TestDistinctSigners(t *testing.T) {
	read := func(v string) (Signoff, error) {
		c := Read(MapLookup(map[string]string{EnvDistinctSigners: v}))
		return c.Signoff, c.Validate()
	}
	s, err := read("")
	require.NoError(t, err)
	assert.Equal(t, []string{"production", "prod"}, s.DistinctSigners, "default "+DefaultDistinctSigners)
	assert.True(t, s.Distinct("prod"))
	assert.True(t, s.Distinct("Production"), "labels compare case-insensitively")
	assert.False(t, s.Distinct("staging"))
	assert.False(t, s.Distinct(""), "no environment label: not a listed one")

	s, err = read("*")
	require.NoError(t, err)
	assert.True(t, s.Distinct("staging"))
	assert.True(t, s.Distinct(""))

	s, err = read(" none ")
	require.NoError(t, err)
	assert.Empty(t, s.DistinctSigners)
	assert.False(t, s.Distinct("prod"))

	s, err = read("staging, qa")
	require.NoError(t, err)
	assert.True(t, s.Distinct("qa"))
	assert.False(t, s.Distinct("prod"))

	for _, bad := range []string{"*,prod", "none,prod"} {
		s, err = read(bad)
		assert.ErrorContains(t, err, EnvDistinctSigners, bad)
		assert.True(t, s.Distinct("prod"), "a malformed value keeps the default")
	}
}

func TestSections(t *testing.T) {
	c := Read(MapLookup(nil))
	require.NoError(t, c.Validate())
	assert.Equal(t, Kube{}, c.Kube)
	assert.NoError(t, c.Kube.Validate())
	assert.Equal(t, Safety{}, c.Safety, "defaults are safety's")
	assert.Equal(t, Jira{}, c.Jira, "no JIRA_URL: no Jira")
	assert.Equal(t, Slack{}, c.Slack)
	assert.Equal(t, DefaultToolsDir(), c.ToolsDir)
	assert.Empty(t, c.User)

	c = Read(MapLookup(map[string]string{
		EnvKube: "sometimes", EnvKubeContext: "kind", EnvKubeconfig: "/a:/b",
		EnvNamespaces: "shop, payments,", EnvOptInLabel: "a=b", EnvMaxBlastRadius: "prod=1", EnvMaxFaultDuration: "10m",
		EnvJiraURL: " https://jira.example ", EnvJiraUser: "bot", EnvJiraToken: " tok ", EnvJiraProject: "GD", EnvJiraLabels: " a, ,b ",
		EnvSlackBotToken: " xoxb-1 ", EnvSlackChannels: "C1, C2", EnvSlackAccess: " /etc/access.yaml ", EnvSlackPoll: "500ms",
		EnvToolsDir: "/opt/tools", EnvUser: "dana",
	}))
	require.NoError(t, c.Validate(), "the sections check themselves")
	assert.Equal(t, Kube{Mode: "sometimes", Context: "kind", Kubeconfig: "/a:/b"}, c.Kube)
	assert.ErrorContains(t, c.Kube.Validate(), `GAMEDAY_KUBE="sometimes"`)
	assert.Equal(t, Safety{Namespaces: []string{"shop", "payments"}, OptInLabel: "a=b", MaxBlastRadius: "prod=1", MaxFaultDuration: "10m"}, c.Safety)
	assert.Equal(t, Jira{URL: "https://jira.example", User: "bot", Token: "tok", Project: "GD", IssueType: "Bug",
		Labels: []string{"a", "b"}, ReadyStatus: "Ready for Prod"}, c.Jira)
	assert.Equal(t, "xoxb-1", c.Slack.BotToken)
	assert.Equal(t, []string{"C1", "C2"}, c.Slack.Channels)
	assert.Equal(t, "/etc/access.yaml", c.Slack.AccessFile)
	assert.Equal(t, 500*time.Millisecond, c.Slack.PollInterval)
	assert.NoError(t, c.Slack.Err())
	assert.Equal(t, "/opt/tools", c.ToolsDir)
	assert.Equal(t, "dana", c.User)

	for _, bad := range []string{"soon", "10ms"} {
		c = Read(MapLookup(map[string]string{EnvSlackPoll: bad}))
		assert.ErrorContains(t, c.Slack.Err(), EnvSlackPoll)
		assert.NoError(t, c.Validate(), "a Slack setting does not stop the other commands")
	}
}

// GAMEDAY_REQUIRED_SIGNOFF: the worker decides the gate an environment
// cannot go without; unlisted labels and scenarios without one get "*" or,
// with no "*", every listed role (the strictest).
func TestRequiredSignoff(t *testing.T) {
	read := func(v string) (Signoff, error) {
		c := Read(MapLookup(map[string]string{EnvRequiredSignoff: v}))
		return c.Signoff, c.Validate()
	}
	s, err := read("")
	require.NoError(t, err)
	assert.Empty(t, s.RequiredRoles("prod"), "default: nothing required")

	s, err = read("prod=dev+test+sre, staging=sre")
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "test", "sre"}, s.RequiredRoles("PROD"))
	assert.Equal(t, []string{"sre"}, s.RequiredRoles("staging"))
	assert.Equal(t, []string{"dev", "test", "sre"}, s.RequiredRoles(""), "no label: the strictest")
	assert.Equal(t, []string{"dev", "test", "sre"}, s.RequiredRoles("qa"), "unlisted: the strictest")

	s, err = read("prod=dev+sre,*=sre")
	require.NoError(t, err)
	assert.Equal(t, []string{"sre"}, s.RequiredRoles("qa"))
	assert.Equal(t, []string{"dev", "sre"}, s.RequiredRoles("prod"))

	for v, want := range map[string]string{
		"prod":              "want environment=role[+role]",
		"prod=boss":         `prod: unknown role "boss"`,
		"prod=dev,prod=sre": "environment prod given twice",
	} {
		_, err := read(v)
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), EnvRequiredSignoff+": ")
		assert.Contains(t, err.Error(), want)
	}
}

func TestDemoFallback(t *testing.T) {
	for v, want := range map[string]bool{"": true, "on": true, "OFF": false, "false": false, "1": true} {
		c := Read(MapLookup(map[string]string{EnvDemoFallback: v}))
		assert.NoError(t, c.Validate(), v)
		assert.Equal(t, want, c.DemoFallback, v)
	}
	c := Read(MapLookup(map[string]string{EnvDemoFallback: "maybe"}))
	assert.NoError(t, c.Validate(), "only the demo reads it: a typo must not stop a worker")
	assert.ErrorContains(t, c.DemoErr, EnvDemoFallback)
	assert.True(t, c.DemoFallback, "a bad value keeps the safe default")
}

func TestTelemetry(t *testing.T) {
	read := func(m map[string]string) Telemetry { return Read(MapLookup(m)).Telemetry }
	tel := read(nil)
	assert.Equal(t, Telemetry{}, tel, "both off by default")
	assert.False(t, tel.Tracing())
	require.NoError(t, tel.Validate())

	tel = read(map[string]string{EnvMetricsAddr: " :9464 ", EnvOTLPEndpoint: "http://127.0.0.1:4318/"})
	require.NoError(t, tel.Validate())
	assert.Equal(t, ":9464", tel.MetricsAddr)
	assert.Equal(t, "http://127.0.0.1:4318", tel.OTLPEndpoint)
	assert.True(t, tel.Tracing())

	tel = read(map[string]string{EnvMetricsAddr: "OFF", EnvOTLPEndpoint: "off"})
	assert.Equal(t, Telemetry{}, tel)

	for _, bad := range []string{"9464", "localhost", "http://x:9464"} {
		assert.ErrorContains(t, read(map[string]string{EnvMetricsAddr: bad}).Validate(), EnvMetricsAddr, bad)
	}
	for _, bad := range []string{"127.0.0.1:4318", "grpc://x:4317", "http://"} {
		assert.ErrorContains(t, read(map[string]string{EnvOTLPEndpoint: bad}).Validate(), EnvOTLPEndpoint, bad)
	}
	err := read(map[string]string{EnvOTLPEndpoint: "ftp://user:hunter2@x"}).Validate()
	assert.NotContains(t, err.Error(), "hunter2", "a password in the URL is never printed")
}

func TestReportAndTraceURLs(t *testing.T) {
	c := Read(MapLookup(map[string]string{EnvReportURL: "https://gameday.example.com/reports/", EnvTraceURL: "http://jaeger:16686"}))
	require.NoError(t, c.Validate())
	assert.Equal(t, "https://gameday.example.com/reports", c.ReportURL)
	assert.Equal(t, "http://jaeger:16686", c.TraceURL)
	assert.Equal(t, filepath.Join(".data", "reports"), c.ReportDir())
	require.NoError(t, Read(MapLookup(map[string]string{EnvTraceURL: "https://tempo.example.com/explore?trace={trace_id}"})).Validate())
	for name, v := range map[string]string{EnvReportURL: "/srv/reports", EnvTraceURL: "jaeger:16686"} {
		err := Read(MapLookup(map[string]string{name: v})).Validate()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}
