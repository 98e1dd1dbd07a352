package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
)

func gameday(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"run"},
		{"run", "a", "b"},
		{"run", "x", "--no-such-flag"},
		{"abort", "wf"},
		{"signoff", "wf", "--role", "dev"},
		{"signoff", "wf", "--role", "dev", "--user", "u", "--reject"},
		{"status", "a", "b"},
		{"pause", "wf"},
		{"pause", "wf", "--reason", "x", "--timeout", "48h"},
		{"resume"},
		{"continue", "a", "b"},
		{"note", "wf"},
		{"note", "wf", "  "},
		{"scenarios", "validate"},
		{"abort", "--reason", "x"},
		{"abort", "wf", "--all", "--reason", "x"},
		{"freeze", "on"},
		{"freeze", "sideways", "--reason", "x"},
		{"schedule", "apply"},
		{"schedule", "pause", "demo/x"},
		{"schedule", "trigger"},
		{"report"},
		{"report", "wf", "--format", "pdf"},
		{"score", "a", "b"},
		{"score", "--days", "0"},
		{"maturity", "--days", "-1"},
		{"score", "--days", "200000"}, // past a time.Duration: the window would wrap into the future
	} {
		_, stderr, code := gameday(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr, "%v explains the usage error", args)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	root := newRoot(nil, nil)
	cmds := [][]string{{}}
	for _, c := range root.Commands() {
		cmds = append(cmds, []string{c.Name()})
		for _, sub := range c.Commands() {
			cmds = append(cmds, []string{c.Name(), sub.Name()})
		}
	}
	for _, c := range cmds {
		out, stderr, code := gameday(t, append(c, "--help")...)
		assert.Equal(t, 0, code, "%v --help: %s", c, stderr)
		assert.Contains(t, out, "Usage:", "%v --help", c)
	}
	out, _, _ := gameday(t, "--help")
	assert.Contains(t, out, "PROMETHEUS_URL", "root help documents the environment")
	for _, v := range []string{config.EnvPrometheusBearerToken, config.EnvPrometheusBearerTokenFile, config.EnvPrometheusUsername,
		config.EnvPrometheusPassword, config.EnvPrometheusPasswordFile, config.EnvPrometheusMaxAnswer} {
		assert.Contains(t, out, v, "root help documents the Prometheus credentials")
	}
}

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's configuration table from config.Vars")

// The README's configuration table is config.Vars, rendered like --help's
// (go test ./cmd/gameday -run TestReadmeConfigurationTableIsVars -update-readme
// rewrites it).
func TestReadmeConfigurationTableIsVars(t *testing.T) {
	const path = "../../README.md"
	readme, err := os.ReadFile(path)
	require.NoError(t, err)
	before, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	require.True(t, ok, "README has a Configuration section")
	start := strings.Index(section, "\n|")
	require.GreaterOrEqual(t, start, 0, "the Configuration section has a table")
	start++
	end := start
	for end < len(section) && section[end] == '|' {
		nl := strings.IndexByte(section[end:], '\n')
		require.GreaterOrEqual(t, nl, 0)
		end += nl + 1
	}
	got, want := section[start:end], config.MarkdownTable()
	if *updateReadme && got != want {
		out := before + "\n## Configuration\n" + section[:start] + want + section[end:]
		require.NoError(t, os.WriteFile(path, []byte(out), 0o644))
		got = want
	}
	assert.Equal(t, want, got, "README's configuration table is config.MarkdownTable(): rerun with -update-readme")
	help, _, code := gameday(t, "--help")
	require.Equal(t, 0, code)
	for _, v := range config.Vars {
		assert.Contains(t, help, v.Name, "gameday --help lists every variable")
	}
}

// The worker checks its credentials before connecting to anything, and
// says which variables clash without quoting a secret.
func TestWorkerRefusesBadCredentials(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	t.Setenv(config.EnvPrometheusBearerToken, "s3cr3t-bearer-value")
	t.Setenv(config.EnvPrometheusUsername, "alice")
	t.Setenv(config.EnvPrometheusPassword, "s3cr3t-password-value")
	_, stderr, code := gameday(t, "worker")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, config.EnvPrometheusBearerToken)
	assert.Contains(t, stderr, config.EnvPrometheusPassword)
	assert.NotContains(t, stderr, "127.0.0.1:1", "refused before dialing Temporal")
	assert.NotContains(t, stderr, "s3cr3t")

	t.Setenv(config.EnvPrometheusBearerToken, "")
	t.Setenv(config.EnvPrometheusUsername, "")
	t.Setenv(config.EnvPrometheusPassword, "")
	missing := filepath.Join(t.TempDir(), "token")
	t.Setenv(config.EnvPrometheusBearerTokenFile, missing)
	_, stderr, code = gameday(t, "worker")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, config.EnvPrometheusBearerTokenFile)
	assert.Contains(t, stderr, missing)
}

func TestScenariosListAndValidate(t *testing.T) {
	out, _, code := gameday(t, "scenarios", "list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "demo-inventory-latency ")
	assert.Contains(t, out, "[dev test sre]")

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	good, err := os.ReadFile("../../scenarios/demo-inventory-latency.yaml")
	require.NoError(t, err)
	broken := strings.Replace(string(good), "threshold: 0.8", "threshold: fast", 1)
	require.NoError(t, os.WriteFile(bad, []byte(broken), 0o644))
	okPath := filepath.Join(dir, "ok.yaml")
	require.NoError(t, os.WriteFile(okPath, good, 0o644))

	out, stderr, code := gameday(t, "scenarios", "validate", okPath, bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, okPath+": ok")
	assert.Regexp(t, `bad\.yaml:\d+: spec\.guards\[0\]\.threshold: `, stderr)
	assert.Contains(t, stderr, "1 of 2 file(s) invalid")
}

func TestRunUnknownScenario(t *testing.T) {
	_, stderr, code := gameday(t, "run", "no-such-scenario")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "demo-inventory-latency", "lists what exists")
}

func TestRunWithoutTemporal(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	_, stderr, code := gameday(t, "status", "wf")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "127.0.0.1:1")
}

func TestScheduleValidate(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile("../../schedules/seed.yaml")
	require.NoError(t, err)
	okPath := filepath.Join(dir, "ok.yaml")
	require.NoError(t, os.WriteFile(okPath, good, 0o644))
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(good), `cron: ["0 15 * * wed"]`, `cron: ["0 15 * * wendsday"]`, 1)), 0o644))

	out, stderr, code := gameday(t, "schedule", "validate", okPath, bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, okPath+": ok (set seed: 3 schedule(s), 3 blackout window(s))")
	assert.Regexp(t, `bad\.yaml:\d+: spec\.schedules\[1\]\.cron\[0\]: "0 15 \* \* wendsday": day of week: "wendsday" is not a number from 0 to 6 or a name`, stderr)
	assert.Contains(t, stderr, "1 of 2 file(s) invalid")
}
