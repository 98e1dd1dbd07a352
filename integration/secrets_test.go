package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/slackbot/slacktemporal"
	"github.com/gameday/gameday/ticket/jiratest"
	"github.com/gameday/gameday/workflows"
)

// Every credential gameday accepts, set in every place it accepts it, never
// reaches anything a person or another system reads: not the worker's or
// the CLI's output, not a Temporal history, not a postmortem file, not what
// was sent to Jira, not the Slack thread or the bot's log.
//
//   - Worker A: PROMETHEUS_URL with user:password@ pointing at a port where
//     nothing listens (so every query fails with an error naming the URL),
//     TOXIPROXY_URL with user:password@, and Jira. A run started from Slack
//     and one from the CLI both fail in define; their postmortems go to Jira
//     and their errors to the Slack thread and the CLI.
//   - Worker B: a bearer token for Prometheus from a mounted file, the same
//     toxiproxy credentials; a run passes.
//   - Worker C: Prometheus basic auth from plain variables, the toxiproxy
//     password from a file and toxiproxy unreachable: a run fails in
//     define, a sweep cannot list it, and `gameday reap` (credentials in
//     its URL, then from the variables) cannot reach it.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	stamp := time.Now().UnixNano()
	secrets := map[string]string{
		"prometheus password":     fmt.Sprintf("prom-pass-%x", stamp),
		"prometheus bearer token": fmt.Sprintf("prom-token-%x", stamp),
		"toxiproxy password":      fmt.Sprintf("toxi-pass-%x", stamp),
		"jira token":              fmt.Sprintf("jira-token-%x", stamp),
		"prometheus password 2":   fmt.Sprintf("prom-basic-%x", stamp),
		"toxiproxy password 2":    fmt.Sprintf("toxi-file-%x", stamp),
		"slack bot token":         slackBotToken,
		"slack signing secret":    slackSecret,
	}

	jira := jiratest.New(t, "bot@example.com", secrets["jira token"])
	jiraEnv := []string{"JIRA_URL=" + jira.URL(), "JIRA_USER=bot@example.com", "JIRA_TOKEN=" + secrets["jira token"], "JIRA_PROJECT=GD"}
	toxi, err := url.Parse(e.cfg.ToxiproxyURL)
	require.NoError(t, err)
	toxi.User = url.UserPassword("gd", secrets["toxiproxy password"])
	dead := deadAddr(t)
	tokenFile := filepath.Join(t.TempDir(), "prom-token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(secrets["prometheus bearer token"]+"\n"), 0o600))

	// --- Worker A: Prometheus unreachable, credentials in the URLs -------
	var outputs []*bytes.Buffer
	var workers []*exec.Cmd
	startWorker := func(env ...string) *exec.Cmd {
		cmd := exec.Command(gamedayBin, "worker")
		cmd.Env = append(append(e.environ(), jiraEnv...), env...)
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		outputs = append(outputs, &buf)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		require.NoError(t, cmd.Start())
		workers = append(workers, cmd)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	workerA := startWorker(
		"PROMETHEUS_URL=http://gd:"+secrets["prometheus password"]+"@"+dead,
		"TOXIPROXY_URL="+toxi.String(),
	)

	// The Slack bot, in process, as `gameday slack serve` runs it.
	api := newSlackAPI(t)
	scfg := slackBotConfig(t)
	botLog := &slackLogBuffer{}
	bot := slackbot.New(scfg, slacktemporal.Engine{Launcher: control.Launcher{Client: e.client, Config: e.cfg}},
		slack.New(slackBotToken, slack.OptionAPIURL(api.srv.GetAPIURL())), slog.New(slog.NewJSONHandler(botLog, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(bot.Close)
	srv := httptest.NewServer(bot)
	t.Cleanup(srv.Close)
	sl := &slackClient{t: t, url: srv.URL, http: srv.Client()}

	rep := sl.command(slackDana, "run demo-inventory-latency-harmless")
	require.Contains(t, rep.Text, "Starting")
	msg := api.waitRunMessage(t, 1)
	slackRun := msg.button(t, "gameday_abort").Value
	rSlack := slackRunResult(ctx, t, e, slackRun)
	assert.Equal(t, experiment.Failed, rSlack.Outcome, "define cannot reach Prometheus")
	assert.Contains(t, rSlack.Error, "127.0.0.1", "the error still says where it tried")
	api.waitMessage(t, msg.TS, "the failure on the run message", func(m slackCall) bool { return strings.Contains(m.text(), "failed") })

	var cliOut []string
	out, stderr, code := e.gameday(ctx, "run", "demo-inventory-latency-harmless", "--wait", "--json")
	cliOut = append(cliOut, out, stderr)
	require.Equal(t, 3, code, "a run that did not pass exits 3; stderr: %s", stderr)
	var rCLI experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &rCLI))
	assert.Equal(t, experiment.Failed, rCLI.Outcome)
	require.NotEmpty(t, rCLI.Postmortem, "the failed run's postmortem was filed")
	_ = workerA.Process.Kill()
	_ = workerA.Wait()
	workers = nil

	// --- Worker B: a bearer token from a file; the run passes ----------
	startWorker(
		"PROMETHEUS_URL="+e.cfg.PrometheusURL,
		"GAMEDAY_PROMETHEUS_BEARER_TOKEN_FILE="+tokenFile,
		"TOXIPROXY_URL="+toxi.String(),
	)
	_, path := e.scenario("demo-inventory-latency-harmless", func(sc *scenarios.Scenario) {
		sc.Spec.Faults[0].Duration = duration.Duration(3 * time.Second)
	})
	out, stderr, code = e.gameday(ctx, "run", path, "--wait", "--json")
	cliOut = append(cliOut, out, stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	var rPass experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &rPass))
	assert.Equal(t, experiment.Passed, rPass.Outcome)
	out, stderr, _ = e.gameday(ctx, "status", rCLI.WorkflowID)
	cliOut = append(cliOut, out, stderr)
	// --- Worker C: basic auth for Prometheus from plain variables, the
	// toxiproxy password from a file and toxiproxy unreachable, so the
	// toxiproxy error paths (define, the sweep, the reaper) run too -----
	toxiPassFile := filepath.Join(t.TempDir(), "toxi-pass")
	require.NoError(t, os.WriteFile(toxiPassFile, []byte(secrets["toxiproxy password 2"]), 0o600))
	killAll := func() {
		for _, c := range workers {
			_ = c.Process.Kill()
			_ = c.Wait()
		}
		workers = nil
	}
	killAll()
	startWorker(
		"PROMETHEUS_URL="+e.cfg.PrometheusURL,
		"GAMEDAY_PROMETHEUS_USERNAME=gd",
		"GAMEDAY_PROMETHEUS_PASSWORD="+secrets["prometheus password 2"],
		"TOXIPROXY_URL=http://"+deadAddr(t),
		"GAMEDAY_TOXIPROXY_USERNAME=gd",
		"GAMEDAY_TOXIPROXY_PASSWORD_FILE="+toxiPassFile,
	)
	out, stderr, code = e.gameday(ctx, "run", path, "--wait", "--json")
	cliOut = append(cliOut, out, stderr)
	require.Equal(t, 3, code, "toxiproxy unreachable: the run fails; stderr: %s", stderr)
	var rToxi experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &rToxi))
	assert.Equal(t, experiment.Failed, rToxi.Outcome)
	out, stderr, _ = e.gameday(ctx, "sweep", "--dry-run")
	cliOut = append(cliOut, out, stderr)
	reapEnv := append(e.environ(), "TOXIPROXY_URL=http://"+dead, "GAMEDAY_TOXIPROXY_USERNAME=gd", "GAMEDAY_TOXIPROXY_PASSWORD_FILE="+toxiPassFile)
	reap := exec.CommandContext(ctx, gamedayBin, "reap", "--toxiproxy", "http://gd:"+secrets["toxiproxy password"]+"@"+dead, "--once")
	reap.Env = reapEnv
	b, _ := reap.CombinedOutput()
	cliOut = append(cliOut, string(b))
	reap = exec.CommandContext(ctx, gamedayBin, "reap", "--toxiproxy", "http://"+dead, "--once")
	reap.Env = reapEnv
	b, _ = reap.CombinedOutput()
	cliOut = append(cliOut, string(b))
	assert.Contains(t, strings.Join(cliOut, "\n"), dead, "the reaper's errors were searched")

	// --- Search everything -------------------------------------------
	places := map[string]string{
		"bot log":  botLog.String(),
		"CLI":      strings.Join(cliOut, "\n"),
		"jira log": strings.Join(jira.Log(), "\n"),
	}
	for i, b := range outputs {
		places[fmt.Sprintf("worker %c output", 'A'+i)] = b.String()
	}
	var sent []string
	for _, c := range api.filter(func(slackCall) bool { return true }) {
		b, _ := json.Marshal(c)
		sent = append(sent, string(b))
	}
	places["slack calls"] = strings.Join(sent, "\n")
	for _, is := range jira.Issues() {
		b, _ := json.Marshal(is)
		places["jira issue "+is.Key] = string(b)
	}
	for _, id := range []string{slackRun, rCLI.WorkflowID, rPass.WorkflowID, rToxi.WorkflowID, workflows.LeasesWorkflowID(e.cfg.TaskQueue)} {
		b := e.historyJSON(ctx, id)
		places["history of "+id] = b
	}
	_ = filepath.WalkDir(e.cfg.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil {
				places["file "+p] = string(b)
			}
		}
		return nil
	})
	require.Greater(t, len(jira.Issues()), 0, "postmortems reached Jira")
	require.Contains(t, places["history of "+rCLI.WorkflowID], "127.0.0.1", "the histories hold the errors that were searched")
	// Encoded forms too: a basic-auth header value, a URL-escaped one.
	for what, secret := range maps.Clone(secrets) {
		secrets[what+" (basic auth)"] = base64.StdEncoding.EncodeToString([]byte("gd:" + secret))
		secrets[what+" (URL-escaped)"] = url.QueryEscape("gd:" + secret)
	}
	for place, text := range places {
		for what, secret := range secrets {
			assert.NotContains(t, text, secret, "the %s appears in the %s", what, place)
		}
	}
}

// deadAddr is a 127.0.0.1 port where nothing listens.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
