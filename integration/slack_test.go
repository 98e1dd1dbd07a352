package integration

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/slackbot/slacktemporal"
)

// Made-up credentials; the test checks they never reach a log.
const (
	slackSecret   = "it-signing-secret-5f0c2a9e7d1b"
	slackBotToken = "xoxb-it-0000-0000-MADEUPBOTTOKEN"
	slackChannel  = "C0ITGAMEDAY"
	slackDana     = "U0ITDANA" // dev; runs demo-*; may abort
	slackSam      = "U0ITSAM"  // sre and test; runs anything; may not abort
	slackVic      = "U0ITVIC"  // known, holds nothing
	slackMallory  = "U0ITMAL"  // sre in the access file, but not in the sign-off role map
)

const slackAccessFile = `apiVersion: gameday/v1
kind: SlackAccess
users:
  U0ITDANA: {name: dana, roles: [dev], run: ["demo-*"], abort: true, override: [duration]}
  U0ITSAM: {name: sam, roles: [sre, test], run: ["*"]}
  U0ITVIC: {name: vic}
  U0ITMAL: {name: mallory, roles: [sre], run: ["demo-*"]}
`

// The Slack control room end to end: the real slackbot HTTP handler, fed
// requests signed as Slack signs them, with slacktemporal.Engine against the real
// Temporal dev server and an in-process worker, and slacktest as the Slack
// Web API.
//
//  1. `/gameday run demo-inventory-timeout` (sign-off by dev, test, sre):
//     an ephemeral ack, a run message, a workflow started by dana. A user
//     without the role is refused (ephemeral, to them only); dana signs the
//     dev items through the button and the modal, and the workflow's gate
//     records it; a user the workflow's role map does not know gets the
//     validator's refusal in the modal. The bot is restarted and the new one,
//     told nothing, finds the run (its channel is in the run's memo) and
//     keeps updating the same message; `/gameday abort` ends the run aborted.
//  2. `/gameday run demo-inventory-latency-harmless duration=5m`: while the
//     toxic is held, the Abort button (after its confirm dialog) aborts
//     the run and the toxic is removed.
//
// Both run messages end showing the outcome with no buttons left, and each
// thread has the Temporal UI link once.
func TestSlackControlRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	began := time.Now()

	api := newSlackAPI(t)
	cfg := slackBotConfig(t)

	// The worker holds the sign-off role map (GAMEDAY_ROLES, testSigners)
	// that the workflow's validator checks: mallory is not in it.
	eng := slacktemporal.Engine{Launcher: control.Launcher{Client: e.client, Config: e.cfg}}
	logs := &slackLogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// As `gameday slack serve` starts it: New, then Resume.
	newBot := func() *slackbot.Bot {
		b := slackbot.New(cfg, eng, slack.New(slackBotToken, slack.OptionAPIURL(api.srv.GetAPIURL())), logger)
		b.Resume(ctx)
		return b
	}
	var bot atomic.Pointer[slackbot.Bot]
	bot.Store(newBot())
	t.Cleanup(func() { bot.Load().Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { bot.Load().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	sl := &slackClient{t: t, url: srv.URL, http: srv.Client()}
	t.Cleanup(func() {
		if t.Failed() { // what the bot did, to see why
			for _, c := range api.filter(func(slackCall) bool { return true }) {
				t.Logf("slack %s %s %s", c.Method, c.Form.Get("user"), c.Form.Get("text"))
			}
			t.Logf("bot log:\n%s", logs.String())
		}
	})

	// --- Run 1: the sign-off gate --------------------------------------

	rep := sl.command(slackDana, "run demo-inventory-timeout")
	assert.Contains(t, rep.Text, "Starting `demo-inventory-timeout`")
	msg1 := api.waitRunMessage(t, 1)
	id1 := msg1.button(t, "gameday_abort").Value
	require.True(t, strings.HasPrefix(id1, "gameday-demo-inventory-timeout-"), "run id %q", id1)
	desc, err := e.client.DescribeWorkflowExecution(ctx, id1, "")
	require.NoError(t, err, "the run exists on the server")
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.GetWorkflowExecutionInfo().GetStatus())
	var memoChannel string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[slackbot.MemoChannel], &memoChannel))
	assert.Equal(t, slackChannel, memoChannel, "the run records the channel it was started from")
	in, err := control.Input(ctx, e.client, id1)
	require.NoError(t, err)
	assert.Equal(t, "dana", in.StartedBy, "recorded under the access file's name")
	require.NotNil(t, in.Checklist, "the scenario's checklist travels with the run")

	e.waitPhase(ctx, id1, experiment.PhaseSignoff)
	cur := api.waitMessage(t, msg1.TS, "the sign-off buttons", func(m slackCall) bool {
		return slices.Equal(m.actionIDs(t), []string{"gameday_signoff:dev", "gameday_signoff:test", "gameday_signoff:sre", "gameday_abort"})
	})

	// vic holds no role: refused, to vic only, and no modal opens.
	trig := sl.press(slackVic, cur, "gameday_signoff:dev")
	api.waitEphemeral(t, slackVic, "does not hold the sign-off role dev")
	_, opened := api.view(trig)
	assert.False(t, opened, "no sign-off modal for a user without the role")

	// dana signs the dev items: button, modal, submission.
	trig = sl.press(slackDana, cur, "gameday_signoff:dev")
	view := api.waitView(t, trig)
	assert.Equal(t, "gameday_signoff", view["callback_id"])
	assert.ElementsMatch(t, []string{"item:cb-fallback:verdict", "item:lock-failure:verdict", "item:redis-pool-exhaustion:verdict", "decision"},
		slackInputBlocks(view, "radio_buttons"), "the modal lists the dev items of release-default and the decision")
	code, body := sl.submit(slackDana, view)
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, string(body), "errors", "sign-off refused: %s", body)
	var st experiment.Result
	require.Eventually(t, func() bool {
		st, err = e.status(ctx, id1)
		return err == nil && len(st.Signoffs) == 1
	}, time.Minute, 100*time.Millisecond, "the gate never recorded the sign-off")
	assert.Equal(t, "dev", st.Signoffs[0].Role)
	assert.Equal(t, "dana", st.Signoffs[0].User)
	assert.True(t, st.Signoffs[0].Approved)
	assert.Equal(t, []string{"dev", "test", "sre"}, st.RequiredRoles)
	assert.Equal(t, experiment.PhaseSignoff, st.Phase, "still waiting for test and sre")
	api.waitEphemeral(t, slackDana, "Signed off as dev")

	// mallory holds sre in Slack but the worker's role map does not know
	// her: the run says who may sign sre, and the button refuses her
	// before any form opens.
	sl.press(slackMallory, api.current(msg1.TS), "gameday_signoff:sre")
	api.waitEphemeral(t, slackMallory, "user mallory may not sign for sre: not in the worker's role map for this run (sam, sre-lead may)")
	st, err = e.status(ctx, id1)
	require.NoError(t, err)
	assert.Len(t, st.Signoffs, 1, "the refused sign-off is not recorded")

	cur = api.waitMessage(t, msg1.TS, "dana's sign-off on the message", func(m slackCall) bool {
		return strings.Contains(m.text(), "dev :white_check_mark: dana") &&
			slices.Equal(m.actionIDs(t), []string{"gameday_signoff:test", "gameday_signoff:sre", "gameday_abort"})
	})
	api.waitThread(t, msg1.TS, "dana signed off as dev")
	api.waitThread(t, msg1.TS, ":link: Temporal UI: <http://127.0.0.1:8233/namespaces/")

	// The bot restarts: nobody tells the new one about the run. It lists
	// the runs started from Slack that are still running (visibility, the
	// channel from the run's memo), finds the run message by its metadata
	// and keeps it current instead of posting another.
	bot.Load().Close()
	updatesBefore := len(api.updates(msg1.TS))
	bot.Store(newBot())
	require.Eventually(t, func() bool { return len(api.updates(msg1.TS)) > updatesBefore }, slackWait, 20*time.Millisecond,
		"the restarted bot never resumed the run message")
	assert.Equal(t, 1, len(api.runMessages()), "the restarted bot posted a new run message")
	require.Eventually(t, func() bool { r := slackResumed(logs); return len(r) == 2 && r[1] == 1 }, slackWait, 20*time.Millisecond,
		"the restarted bot did not log resuming one run: %v", slackResumed(logs))

	// Abort from the slash command: sam may not, dana may.
	rep = sl.command(slackSam, "abort "+id1+" not my call")
	assert.Contains(t, rep.Text, "sam may not abort runs")
	rep = sl.command(slackDana, "abort "+id1+" change freeze")
	assert.Contains(t, rep.Text, "Abort")
	r1 := slackRunResult(ctx, t, e, id1)
	assert.Equal(t, experiment.Aborted, r1.Outcome)
	assert.Equal(t, "aborted by dana: change freeze", r1.AbortReason)
	assert.Empty(t, r1.Injected, "aborted at the gate: nothing injected")

	final1 := api.waitMessage(t, msg1.TS, "the final state of run 1", func(m slackCall) bool {
		return strings.Contains(m.text(), "*Outcome* :octagonal_sign: aborted — aborted by dana: change freeze")
	})
	assert.Empty(t, final1.actionIDs(t), "buttons left on a finished run")
	assert.Contains(t, final1.Form.Get("text"), "Game day demo-inventory-timeout: aborted")
	api.waitThread(t, msg1.TS, "Postmortem:")
	assert.Equal(t, 1, api.threadCount(msg1.TS, ":link: Temporal UI:"), "UI link posted again after the restart")
	assert.Equal(t, 1, api.threadCount(msg1.TS, "dana signed off as dev"), "sign-off posted again after the restart")

	// --- Run 2: the Abort button while the fault is held ----------------

	rep = sl.command(slackDana, "run demo-inventory-latency-harmless duration=5m")
	assert.Contains(t, rep.Text, "with duration=5m")
	msg2 := api.waitRunMessage(t, 2)
	id2 := msg2.button(t, "gameday_abort").Value
	require.NotEqual(t, id1, id2)
	e.waitPhase(ctx, id2, experiment.PhaseObserve)
	require.Len(t, e.faults(), 1, "the toxic is held while observing")
	cur = api.waitMessage(t, msg2.TS, "observe on the message", func(m slackCall) bool {
		return strings.Contains(m.text(), "*observe* running")
	})
	abortBtn := cur.button(t, "gameday_abort")
	require.NotNil(t, abortBtn.Confirm, "Abort asks for confirmation first")
	assert.Equal(t, slack.StyleDanger, abortBtn.Style)

	// Slack sends the press only once the confirm dialog is accepted.
	sl.press(slackSam, cur, "gameday_abort")
	api.waitEphemeral(t, slackSam, "sam may not abort runs")
	sl.press(slackDana, cur, "gameday_abort")
	r2 := slackRunResult(ctx, t, e, id2)
	assert.Equal(t, experiment.Aborted, r2.Outcome, "%s %s", r2.AbortReason, r2.Error)
	assert.Equal(t, "aborted by dana: aborted from Slack by dana", r2.AbortReason)
	require.Len(t, r2.Injected, 1)
	assert.Equal(t, r2.Injected, r2.Recovered)
	assert.Empty(t, e.faults(), "nothing left in toxiproxy")
	assert.Less(t, r2.Ended.Sub(r2.Started), 2*time.Minute, "did not hold the 5 minute fault")

	final2 := api.waitMessage(t, msg2.TS, "the final state of run 2", func(m slackCall) bool {
		return strings.Contains(m.text(), "*Outcome* :octagonal_sign: aborted — aborted by dana: aborted from Slack by dana")
	})
	assert.Empty(t, final2.actionIDs(t), "buttons left on a finished run")
	assert.Contains(t, final2.text(), "*recover* done")
	assert.Equal(t, 1, api.threadCount(msg2.TS, ":link: Temporal UI: <http://127.0.0.1:8233/namespaces/"+temporalSrv.Namespace+"/workflows/"+id2))

	// Refusals went to their users only; secrets never reached a log.
	for _, c := range api.channelPosts() {
		assert.NotContains(t, c.text(), "may not abort")
		assert.NotContains(t, c.text(), "does not hold")
	}
	assert.NotContains(t, logs.String(), slackSecret)
	assert.NotContains(t, logs.String(), slackBotToken)
	t.Logf("slack control room test took %s", time.Since(began).Round(time.Millisecond))
}

// slackResumed is the resumed count of every "resumed runs in progress"
// log line, in order.
// slackBotConfig is the bot's configuration as `gameday slack serve` reads
// it from the environment: the test tokens, channel and access file.
func slackBotConfig(t *testing.T) slackbot.Config {
	access := filepath.Join(t.TempDir(), "slack-access.yaml")
	require.NoError(t, os.WriteFile(access, []byte(slackAccessFile), 0o600))
	// Read through config.Read like `gameday slack serve` reads the
	// environment, from a map: the tests run in parallel, so none may set
	// the process's environment.
	vars := map[string]string{
		slackbot.EnvBotToken:      slackBotToken,
		slackbot.EnvSigningSecret: slackSecret,
		slackbot.EnvAppToken:      "",
		slackbot.EnvChannels:      slackChannel,
		slackbot.EnvAccess:        access,
		slackbot.EnvPollInterval:  "200ms",
	}
	cfg, err := slackbot.ConfigFrom(config.Read(config.MapLookup(vars)).Slack)
	require.NoError(t, err)
	return cfg
}

func slackResumed(logs *slackLogBuffer) []float64 {
	var out []float64
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "slack: resumed runs in progress" {
			n, _ := rec["resumed"].(float64)
			out = append(out, n)
		}
	}
	return out
}

// slackRunResult waits (bounded, so a missed abort fails in a minute, not
// at the test's deadline) for a run to close and returns its result.
func slackRunResult(ctx context.Context, t *testing.T, e *env, id string) experiment.Result {
	t.Helper()
	require.Eventually(t, func() bool {
		d, err := e.client.DescribeWorkflowExecution(ctx, id, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 2*time.Minute, 100*time.Millisecond, "run %s did not end", id)
	return e.result(ctx, e.client.GetWorkflow(ctx, id, ""))
}

// --- Slack's side: signed requests to the bot ------------------------------

type slackClient struct {
	t    *testing.T
	url  string
	http *http.Client
	seq  atomic.Int64
}

type slashReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// slackSign is Slack's request signature: v0=HMAC-SHA256(secret, "v0:ts:body").
func slackSign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends a signed request. How fast it is acknowledged (Slack's 3 s
// limit) is measured by BenchmarkSlashCommandAck in make bench, not asserted
// here: the machines are shared and noisy.
func (c *slackClient) post(path string, body []byte) (int, []byte) {
	c.t.Helper()
	now := time.Now().Unix()
	req, err := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now, 10))
	req.Header.Set("X-Slack-Signature", slackSign(slackSecret, now, body))
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, b
}

func (c *slackClient) trigger() string {
	return fmt.Sprintf("%d.1234567890.it%04d", time.Now().Unix(), c.seq.Add(1))
}

// command sends a slash command as Slack does and returns its ephemeral
// acknowledgement.
func (c *slackClient) command(user, text string) slashReply {
	c.t.Helper()
	body := url.Values{
		"token": {"legacy-verification-token"}, "team_id": {"T0IT"}, "team_domain": {"acme"},
		"channel_id": {slackChannel}, "channel_name": {"gameday"},
		"user_id": {user}, "user_name": {strings.ToLower(user)},
		"command": {"/gameday"}, "text": {text}, "api_app_id": {"A0IT"},
		"response_url": {"https://hooks.slack.invalid/commands/T0IT/1/x"},
		"trigger_id":   {c.trigger()},
	}.Encode()
	code, b := c.post("/slack/commands", []byte(body))
	require.Equal(c.t, http.StatusOK, code, "%s", b)
	var r slashReply
	require.NoError(c.t, json.Unmarshal(b, &r), "%s", b)
	require.Equal(c.t, slack.ResponseTypeEphemeral, r.ResponseType, "the ack of %q is for its user only", text)
	return r
}

func (c *slackClient) interact(payload map[string]any) (int, []byte) {
	c.t.Helper()
	js, err := json.Marshal(payload)
	require.NoError(c.t, err)
	return c.post("/slack/interactions", []byte(url.Values{"payload": {string(js)}}.Encode()))
}

func slackUser(id string) map[string]any {
	name := strings.ToLower(strings.TrimPrefix(id, "U0IT"))
	return map[string]any{"id": id, "username": name, "name": name, "team_id": "T0IT"}
}

// press clicks a button of the message as shown (it must be there) and
// returns the trigger id Slack attached to the click.
func (c *slackClient) press(user string, msg slackCall, actionID string) string {
	c.t.Helper()
	btn := msg.button(c.t, actionID)
	trigger := c.trigger()
	code, body := c.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": "T0IT", "domain": "acme"},
		"user": slackUser(user), "api_app_id": "A0IT", "token": "legacy-verification-token",
		"container":    map[string]any{"type": "message", "message_ts": msg.TS, "channel_id": slackChannel, "is_ephemeral": false},
		"trigger_id":   trigger,
		"channel":      map[string]any{"id": slackChannel, "name": "gameday"},
		"message":      map[string]any{"type": "message", "ts": msg.TS, "text": msg.Form.Get("text")},
		"state":        map[string]any{"values": map[string]any{}},
		"response_url": "https://hooks.slack.invalid/actions/T0IT/1/x",
		"actions": []any{map[string]any{
			"type": "button", "action_id": btn.ActionID, "block_id": "gameday_actions", "value": btn.Value,
			"text": map[string]any{"type": "plain_text", "text": btn.Text.Text}, "style": string(btn.Style),
			"action_ts": fmt.Sprintf("%d.000100", time.Now().Unix()),
		}},
	})
	require.Equal(c.t, http.StatusOK, code, "%s", body)
	return trigger
}

// submit fills the modal as a user would (Pass on every item with an
// evidence link, the decision left at approve) and sends view_submission.
func (c *slackClient) submit(user string, view map[string]any) (int, []byte) {
	c.t.Helper()
	values := map[string]any{}
	for _, b := range view["blocks"].([]any) {
		bm := b.(map[string]any)
		if bm["type"] != "input" {
			continue
		}
		el := bm["element"].(map[string]any)
		block, action := bm["block_id"].(string), el["action_id"].(string)
		var v map[string]any
		switch el["type"] {
		case "radio_buttons":
			opt := el["initial_option"]
			if opt == nil {
				opt = el["options"].([]any)[0] // Pass
			}
			v = map[string]any{"type": "radio_buttons", "selected_option": opt}
		case "url_text_input":
			v = map[string]any{"type": "url_text_input", "value": "https://grafana.example/d/" + url.PathEscape(block)}
		default:
			v = map[string]any{"type": el["type"], "value": nil}
		}
		values[block] = map[string]any{action: v}
	}
	sent := map[string]any{}
	for k, v := range view {
		sent[k] = v
	}
	sent["id"], sent["team_id"], sent["app_id"], sent["hash"] = "V0IT", "T0IT", "A0IT", "1700000000.abcdef"
	sent["state"] = map[string]any{"values": values}
	return c.interact(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0IT", "domain": "acme"},
		"user": slackUser(user), "api_app_id": "A0IT", "token": "legacy-verification-token",
		"trigger_id": c.trigger(), "view": sent, "response_urls": []any{},
	})
}

// slackInputBlocks lists the block ids of the modal's inputs of one element type.
func slackInputBlocks(view map[string]any, elementType string) []string {
	var out []string
	for _, b := range view["blocks"].([]any) {
		bm := b.(map[string]any)
		if el, ok := bm["element"].(map[string]any); ok && bm["type"] == "input" && el["type"] == elementType {
			out = append(out, bm["block_id"].(string))
		}
	}
	return out
}

// --- The Slack Web API: slacktest with recording handlers ------------------

type slackCall struct {
	Method string
	Form   url.Values     // form-encoded methods (chat.*, conversations.*)
	JSON   map[string]any // JSON methods (views.open)
	TS     string         // the message ts answered to chat.postMessage
}

// text is everything the message shows: the fallback text and every text
// in its blocks.
func (c slackCall) text() string {
	var parts []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && k == "text" {
					parts = append(parts, s)
				} else {
					walk(y)
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	var blocks any
	_ = json.Unmarshal([]byte(c.Form.Get("blocks")), &blocks)
	walk(blocks)
	return c.Form.Get("text") + "\n" + strings.Join(parts, "\n")
}

func (c slackCall) buttons(t testing.TB) []*slack.ButtonBlockElement {
	t.Helper()
	var bs slack.Blocks
	if raw := c.Form.Get("blocks"); raw != "" {
		require.NoError(t, json.Unmarshal([]byte(raw), &bs))
	}
	var out []*slack.ButtonBlockElement
	for _, b := range bs.BlockSet {
		if ab, ok := b.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok {
					out = append(out, btn)
				}
			}
		}
	}
	return out
}

func (c slackCall) actionIDs(t testing.TB) []string {
	var out []string
	for _, b := range c.buttons(t) {
		out = append(out, b.ActionID)
	}
	return out
}

func (c slackCall) button(t testing.TB, actionID string) *slack.ButtonBlockElement {
	t.Helper()
	for _, b := range c.buttons(t) {
		if b.ActionID == actionID {
			return b
		}
	}
	require.Failf(t, "no such button", "%s not on the message (buttons %v)", actionID, c.actionIDs(t))
	return nil
}

type slackAPI struct {
	srv   *slacktest.Server
	mu    sync.Mutex
	calls []slackCall
	seq   int
}

func newSlackAPI(t *testing.T) *slackAPI {
	s := &slackAPI{}
	s.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "conversations.history", "conversations.replies"} {
			c.Handle("/"+m, s.handler(m))
		}
	})
	s.srv.Start()
	t.Cleanup(s.srv.Stop)
	return s
}

func (s *slackAPI) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		answer := func(v map[string]any) { _ = json.NewEncoder(w).Encode(v) }
		body, _ := io.ReadAll(r.Body)
		c := slackCall{Method: method}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &c.JSON)
		} else {
			c.Form, _ = url.ParseQuery(string(body))
		}
		// slack-go sends the bot token as a bearer header (JSON methods)
		// or a form field (the others); Slack refuses anything else.
		if r.Header.Get("Authorization") != "Bearer "+slackBotToken && c.Form.Get("token") != slackBotToken {
			answer(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		c.Form.Del("token")
		s.mu.Lock()
		defer s.mu.Unlock()
		s.seq++
		ts := fmt.Sprintf("1700000000.%06d", s.seq)
		switch method {
		case "chat.postMessage":
			c.TS = ts
			s.calls = append(s.calls, c)
			answer(map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": ts})
		case "chat.update":
			if !slices.ContainsFunc(s.calls, func(p slackCall) bool { return p.TS == c.Form.Get("ts") && p.TS != "" }) {
				answer(map[string]any{"ok": false, "error": "message_not_found"})
				return
			}
			s.calls = append(s.calls, c)
			answer(map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")})
		case "chat.postEphemeral":
			s.calls = append(s.calls, c)
			answer(map[string]any{"ok": true, "message_ts": ts})
		case "views.open":
			s.calls = append(s.calls, c)
			answer(map[string]any{"ok": true, "view": map[string]any{"id": "V0IT" + strconv.Itoa(s.seq)}})
		case "conversations.history", "conversations.replies":
			answer(s.historyLocked(c.Form))
		}
	}
}

// historyLocked answers conversations.history (top-level messages, newest
// first) and conversations.replies (the thread of ts) from what was
// posted, with the metadata as Slack returns it under include_all_metadata.
func (s *slackAPI) historyLocked(q url.Values) map[string]any {
	thread := q.Get("ts")
	msgs := []map[string]any{}
	for _, c := range s.calls {
		if c.Method != "chat.postMessage" || c.Form.Get("channel") != q.Get("channel") || c.Form.Get("thread_ts") != thread {
			continue
		}
		m := map[string]any{"type": "message", "ts": c.TS, "text": c.Form.Get("text"), "bot_id": "B0IT"}
		if md := c.Form.Get("metadata"); md != "" && q.Get("include_all_metadata") == "1" {
			m["metadata"] = json.RawMessage(md)
		}
		msgs = append([]map[string]any{m}, msgs...)
	}
	return map[string]any{"ok": true, "messages": msgs, "has_more": false}
}

func (s *slackAPI) filter(keep func(slackCall) bool) []slackCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []slackCall
	for _, c := range s.calls {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func (s *slackAPI) runMessages() []slackCall {
	return s.filter(func(c slackCall) bool { return c.Method == "chat.postMessage" && c.Form.Get("thread_ts") == "" })
}

func (s *slackAPI) updates(ts string) []slackCall {
	return s.filter(func(c slackCall) bool { return c.Method == "chat.update" && c.Form.Get("ts") == ts })
}

// channelPosts is everything the whole channel sees.
func (s *slackAPI) channelPosts() []slackCall {
	return s.filter(func(c slackCall) bool { return c.Method == "chat.postMessage" || c.Method == "chat.update" })
}

// current is the run message as the channel sees it now: the last
// chat.update of its ts, else the post itself.
func (s *slackAPI) current(ts string) slackCall {
	if ups := s.updates(ts); len(ups) > 0 {
		return ups[len(ups)-1]
	}
	for _, c := range s.runMessages() {
		if c.TS == ts {
			return c
		}
	}
	return slackCall{}
}

func (s *slackAPI) threadCount(ts, contains string) int {
	return len(s.filter(func(c slackCall) bool {
		return c.Method == "chat.postMessage" && c.Form.Get("thread_ts") == ts && strings.Contains(c.Form.Get("text"), contains)
	}))
}

func (s *slackAPI) view(trigger string) (map[string]any, bool) {
	for _, c := range s.filter(func(c slackCall) bool { return c.Method == "views.open" && c.JSON["trigger_id"] == trigger }) {
		v, ok := c.JSON["view"].(map[string]any)
		return v, ok
	}
	return nil, false
}

const slackWait = time.Minute

func (s *slackAPI) waitRunMessage(t *testing.T, n int) slackCall {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.runMessages()) >= n }, slackWait, 20*time.Millisecond, "run message %d never posted", n)
	m := s.runMessages()[n-1]
	require.Equal(t, slackChannel, m.Form.Get("channel"))
	return m
}

func (s *slackAPI) waitMessage(t *testing.T, ts, what string, ok func(slackCall) bool) slackCall {
	t.Helper()
	var last slackCall
	require.Eventually(t, func() bool { last = s.current(ts); return ok(last) }, slackWait, 20*time.Millisecond,
		"run message %s never showed %s; last:\n%s", ts, what, last.text())
	return last
}

func (s *slackAPI) waitThread(t *testing.T, ts, contains string) {
	t.Helper()
	require.Eventually(t, func() bool { return s.threadCount(ts, contains) > 0 }, slackWait, 20*time.Millisecond,
		"thread of %s never got %q", ts, contains)
}

func (s *slackAPI) waitEphemeral(t *testing.T, user, contains string) {
	t.Helper()
	require.Eventually(t, func() bool {
		return len(s.filter(func(c slackCall) bool {
			return c.Method == "chat.postEphemeral" && c.Form.Get("user") == user && c.Form.Get("channel") == slackChannel &&
				strings.Contains(c.Form.Get("text"), contains)
		})) > 0
	}, slackWait, 20*time.Millisecond, "no ephemeral message to %s with %q", user, contains)
}

func (s *slackAPI) waitView(t *testing.T, trigger string) map[string]any {
	t.Helper()
	var v map[string]any
	require.Eventually(t, func() bool { var ok bool; v, ok = s.view(trigger); return ok }, slackWait, 20*time.Millisecond,
		"no modal opened for trigger %s", trigger)
	return v
}

// slackLogBuffer is a goroutine-safe log sink.
type slackLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *slackLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *slackLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
