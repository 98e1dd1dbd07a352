package slacktemporal

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/slackbot"
)

const (
	slackSecret  = "control-test-signing-secret"
	slackToken   = "xoxb-control-test"
	slackChannel = "C0GAMEDAY"
	slackDana    = "U0DANA"
)

// slackAPI is slacktest recording the Web API calls the bot makes.
type slackAPI struct {
	srv   *slacktest.Server
	mu    sync.Mutex
	calls []slackCall
}

type slackCall struct {
	method string
	form   url.Values
}

func newSlackAPI(t *testing.T) *slackAPI {
	a := &slackAPI{}
	a.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral"} {
			c.Handle("/"+m, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				form, _ := url.ParseQuery(string(body))
				a.mu.Lock()
				a.calls = append(a.calls, slackCall{m, form})
				a.mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": form.Get("channel"), "ts": "1700000000.000001", "message_ts": "1700000000.000002"})
			})
		}
	})
	a.srv.Start()
	t.Cleanup(a.srv.Stop)
	return a
}

func (a *slackAPI) get(method string) []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []url.Values
	for _, c := range a.calls {
		if c.method == method {
			out = append(out, c.form)
		}
	}
	return out
}

// signed is a request signed as Slack signs it.
func signed(body []byte, ts time.Time, upper bool) *http.Request {
	mac := hmac.New(sha256.New, []byte(slackSecret))
	fmt.Fprintf(mac, "v0:%d:", ts.Unix())
	mac.Write(body)
	sig := hex.EncodeToString(mac.Sum(nil))
	if upper {
		sig = strings.ToUpper(sig)
	}
	r := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	r.Header.Set("X-Slack-Signature", "v0="+sig)
	return r
}

// slackRig is the Slack bot and slacktemporal.Engine together, with the fake
// client playing Temporal: one server for every bot replica.
type slackRig struct {
	fc  *fakeClient
	eng Engine
	api *slackAPI
	cfg slackbot.Config
}

func newSlackRig(t *testing.T) *slackRig {
	access, err := slackbot.ParseAccess("access.yaml", []byte("apiVersion: gameday/v1\nkind: SlackAccess\nusers:\n  U0DANA: {name: dana, roles: [dev], run: [\"demo-*\"]}\n"))
	require.NoError(t, err)
	fc := &fakeClient{}
	return &slackRig{
		fc:  fc,
		eng: Engine{control.Launcher{Client: fc, Config: config.Config{TaskQueue: "q", UIURL: "http://ui.test", Namespace: "default"}}},
		api: newSlackAPI(t),
		cfg: slackbot.Config{BotToken: slackToken, SigningSecret: slackSecret, Channels: []string{slackChannel}, Access: access},
	}
}

// replica is one more bot process, with its own (empty) replay cache.
func (r *slackRig) replica(t *testing.T) *slackbot.Bot {
	b := slackbot.New(r.cfg, r.eng, slack.New(slackToken, slack.OptionAPIURL(r.api.srv.GetAPIURL())), nil)
	t.Cleanup(b.Close)
	return b
}

// commandBody is a slash command form as Slack sends it.
func commandBody(text, trigger string) []byte {
	return []byte(url.Values{
		"team_id": {"T0001"}, "channel_id": {slackChannel}, "user_id": {slackDana}, "user_name": {"dana.slack"},
		"command": {"/gameday"}, "text": {text}, "trigger_id": {trigger},
		"response_url": {"https://hooks.slack.invalid/commands/1"},
	}.Encode())
}

func serve(bot *slackbot.Bot, r *http.Request) int {
	w := httptest.NewRecorder()
	bot.ServeHTTP(w, r)
	return w.Code
}

// One signed `/gameday run` request, replayed with its signature in upper
// case and re-sent as is to two more bot replicas (each with its own,
// empty replay cache), the last after the run has ended, starts exactly
// one run. The replicas that got a replay answer "already started" with
// the run's link.
func TestSlackReplayAcrossReplicasStartsOneRun(t *testing.T) {
	rig := newSlackRig(t)
	fc, api := rig.fc, rig.api
	a, b, c := rig.replica(t), rig.replica(t), rig.replica(t)
	body, now := commandBody("run demo-inventory-timeout", "trigger-1"), time.Now()
	send := func(bot *slackbot.Bot, upper bool) int { return serve(bot, signed(body, now, upper)) }
	alreadyStarted := func() int {
		n := 0
		for _, e := range api.get("chat.postEphemeral") {
			if strings.Contains(e.Get("text"), "already started: <http://ui.test/namespaces/default/workflows/") {
				n++
			}
		}
		return n
	}

	require.Equal(t, http.StatusOK, send(a, false))
	require.Eventually(t, func() bool { return len(fc.acceptedStarts()) == 1 }, 10*time.Second, 2*time.Millisecond)
	assert.Equal(t, http.StatusUnauthorized, send(a, true), "upper-case replay to the same replica")
	assert.Equal(t, http.StatusOK, send(b, true), "a replica that has not seen the request")
	assert.Equal(t, http.StatusUnauthorized, send(b, false), "lower-case replay to that replica")
	require.Eventually(t, func() bool { return alreadyStarted() == 1 }, 10*time.Second, 2*time.Millisecond)
	id := fc.acceptedStarts()[0].opts.ID
	fc.closeRun(id)
	assert.Equal(t, http.StatusOK, send(c, false), "a third replica, after the run ended")
	require.Eventually(t, func() bool { return alreadyStarted() == 2 }, 10*time.Second, 2*time.Millisecond)

	require.Len(t, fc.acceptedStarts(), 1, "one request, one run")
	assert.Equal(t, 3, fc.startCount(), "three starts asked for")
	assert.True(t, strings.HasPrefix(id, "gameday-demo-inventory-timeout-slack-"), "id %s", id)
	for _, e := range api.get("chat.postEphemeral") {
		assert.Equal(t, slackDana, e.Get("user"))
		assert.Contains(t, e.Get("text"), "|"+id+">", "links the run")
		assert.NotContains(t, e.Get("text"), "Could not start")
	}
}

// A `/gameday run` of a catalog scenario starts that catalog scenario, with
// the catalog's checklist, although files named like both sit in the
// bot's working directory.
func TestSlackRunNeverReadsTheWorkingDirectory(t *testing.T) {
	trapDir(t)
	rig := newSlackRig(t)
	require.Equal(t, http.StatusOK, serve(rig.replica(t), signed(commandBody("run demo-inventory-timeout", "trigger-2"), time.Now(), false)))
	require.Eventually(t, func() bool { return len(rig.fc.acceptedStarts()) == 1 }, 10*time.Second, 2*time.Millisecond)
	in := rig.fc.acceptedStarts()[0].input
	assert.Equal(t, "order-service", in.Scenario.Metadata.Service, "the catalog scenario, not ./demo-inventory-timeout")
	require.NotNil(t, in.Checklist)
	assert.Equal(t, 80.0, in.Checklist.Spec.Threshold, "the catalog checklist, not ./release-default")
	assert.Equal(t, "dana", in.StartedBy)
}
