package slackbot

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
)

// Secrets used by the tests; the log assertions look for them.
const (
	testSecret   = "8f742231b10e8888abcd99yyyzzz85a5"
	testBotToken = "xoxb-1234-5678-SECRETBOTTOKEN"
	testAppToken = "xapp-1-A111-2222-SECRETAPPTOKEN"
	testChannel  = "C0GAMEDAY"
	otherChannel = "C0RANDOM"
	dana         = "U0DANA" // dev, runs demo-*, staging only, may abort
	sam          = "U0SAM"  // sre + test, runs anything, may not abort
	vic          = "U0VIC"  // known but may do nothing
	kim          = "U0KIM"  // may only use the kill switch
	stranger     = "U0NOBODY"
)

const testAccess = `apiVersion: gameday/v1
kind: SlackAccess
users:
  U0DANA: {name: dana, roles: [dev], run: ["demo-*"], environments: [staging], abort: true, override: [duration, latency, "*.latency"]}
  U0SAM: {name: sam, roles: [sre, test], run: ["*"]}
  U0VIC: {name: vic}
  U0KIM: {name: kim, kill_switch: true}
`

func testConfig(t testing.TB) Config {
	t.Helper()
	a, err := ParseAccess("access.yaml", []byte(testAccess))
	if err != nil {
		t.Fatal(err)
	}
	return Config{BotToken: testBotToken, SigningSecret: testSecret, Channels: []string{testChannel}, Access: a}
}

func testScenarios() []scenarios.Scenario {
	sc := func(name, env string, roles ...string) scenarios.Scenario {
		s := scenarios.Scenario{APIVersion: scenarios.APIVersion, Kind: scenarios.Kind}
		s.Metadata.Name, s.Metadata.Service = name, "order-service"
		if env != "" {
			s.Metadata.Labels = map[string]string{scenarios.EnvironmentLabel: env}
		}
		s.Spec.Description = name + " description\nsecond line"
		s.Spec.Signoff.Roles = roles
		return s
	}
	return []scenarios.Scenario{
		sc("demo-inventory-latency", ""),
		sc("demo-inventory-latency-harmless", ""),
		sc("demo-inventory-timeout", "", "dev", "sre"),
		sc("demo-prod-failover", "production"),
		sc("db-failover", "staging"),
	}
}

func testChecklist() *checklist.Checklist {
	cl := &checklist.Checklist{APIVersion: "gameday/v1", Kind: checklist.Kind}
	cl.Metadata.Name = "release-default"
	cl.Spec.Threshold = 80
	cl.Spec.Items = []checklist.Item{
		{ID: "cb-fallback", Title: "Circuit breaker falls back", Verification: "inject latency", Criterion: "fallback within 3 s", Owner: "dev", Weight: 15, StrongBlocking: true},
		{ID: "trace-coloring", Title: "Trace coloring", Verification: "check traces", Criterion: "colored", Owner: "dev", Weight: 10},
		{ID: "kafka-isr-stable", Title: "Kafka ISR stable", Verification: "watch ISR", Criterion: "no shrink", Owner: "sre", Weight: 10},
	}
	return cl
}

// --- fake engine ---

type abortCall struct{ id, reason, by string }

type signoffCall struct {
	id, role, user string
	items          []ItemVerdict
	reject         bool
	reason         string
}

// fakeEngine serves scripted Status results; the test moves the script on
// with advance, so every phase is observed in order.
type fakeEngine struct {
	mu          sync.Mutex
	scs         []scenarios.Scenario
	script      []experiment.Result
	step        int
	statusCalls int
	statusErr   error
	starts      []StartRequest
	started     []string // workflow ids of the starts accepted
	startDelay  time.Duration
	startGate   chan struct{} // when set, Start waits for it
	startErr    error
	aborts      []abortCall
	abortErr    error
	signoffs    []signoffCall
	signoffErr  error
	signoffGate chan struct{}
	pending     []string
	cl          *checklist.Checklist
	nextID      int
	runs        []SlackRun // what SlackRuns lists
	runsErr     error
	listCalls   int
	ctl         controlCalls // control_test.go: pause, resume, note
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{scs: testScenarios(), cl: testChecklist()}
}

func (f *fakeEngine) Scenarios() ([]scenarios.Scenario, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]scenarios.Scenario(nil), f.scs...), nil
}

// Start records every request; like Temporal, it refuses a second start
// under one WorkflowID (an AlreadyStartedError), and only a start it
// accepts counts as a run (started).
func (f *fakeEngine) Start(ctx context.Context, req StartRequest) (string, error) {
	f.mu.Lock()
	gate, delay := f.startGate, f.startDelay
	f.starts = append(f.starts, req)
	f.nextID++
	id := req.WorkflowID
	if id == "" {
		id = fmt.Sprintf("gameday-%s-%d", req.Scenario.Metadata.Name, f.nextID)
	}
	if slices.Contains(f.started, id) {
		f.mu.Unlock()
		return "", &AlreadyStartedError{WorkflowID: id, RunID: "run-1", URL: "http://ui.test/namespaces/default/workflows/" + id + "/run-1/history"}
	}
	err := f.startErr
	if err == nil {
		f.started = append(f.started, id)
	}
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	if err != nil {
		return "", err
	}
	return id, nil
}

func (f *fakeEngine) Status(_ context.Context, id string) (experiment.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls++
	if f.statusErr != nil {
		return experiment.Result{}, f.statusErr
	}
	if len(f.script) == 0 {
		return experiment.Result{WorkflowID: id, Scenario: "demo-inventory-latency", Outcome: experiment.Passed, Phase: experiment.PhaseReport, Ended: time.Unix(1, 0)}, nil
	}
	r := f.script[min(f.step, len(f.script)-1)]
	r.WorkflowID = id
	return r, nil
}

func (f *fakeEngine) Abort(_ context.Context, id, reason, by string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aborts = append(f.aborts, abortCall{id, reason, by})
	return f.abortErr
}

func (f *fakeEngine) Signoff(ctx context.Context, id, role, user string, items []ItemVerdict, reject bool, reason string) ([]string, error) {
	f.mu.Lock()
	gate := f.signoffGate
	f.signoffs = append(f.signoffs, signoffCall{id, role, user, items, reject, reason})
	err, pending := f.signoffErr, f.pending
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return pending, err
}

func (f *fakeEngine) Checklist(context.Context, string) (*checklist.Checklist, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cl, nil
}

func (f *fakeEngine) SlackRuns(context.Context) ([]SlackRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	return append([]SlackRun(nil), f.runs...), f.runsErr
}

// set changes the fake while the bot may be calling it.
func (f *fakeEngine) set(fn func(f *fakeEngine)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeEngine) advance() {
	f.mu.Lock()
	f.step++
	f.mu.Unlock()
}

func (f *fakeEngine) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.statusCalls
}

func (f *fakeEngine) startReqs() []StartRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]StartRequest(nil), f.starts...)
}

func (f *fakeEngine) startedRuns() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.started...)
}

func (f *fakeEngine) abortCalls() []abortCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]abortCall(nil), f.aborts...)
}

func (f *fakeEngine) signoffCalls() []signoffCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signoffCall(nil), f.signoffs...)
}

// --- fake Slack Web API (slacktest with recording handlers) ---

// apiCall is one Web API call the bot made.
type apiCall struct {
	Method string
	Form   url.Values     // form-encoded methods (chat.*)
	JSON   map[string]any // JSON methods (views.open)
	TS     string         // the ts answered to chat.postMessage
}

func (c apiCall) blocks(t testing.TB) []slack.Block {
	t.Helper()
	var bs slack.Blocks
	if raw := c.Form.Get("blocks"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &bs); err != nil {
			t.Fatalf("blocks of %s: %v", c.Method, err)
		}
	}
	return bs.BlockSet
}

// buttons returns the action ids of the message's buttons.
func (c apiCall) buttons(t testing.TB) []string {
	var out []string
	for _, b := range c.blocks(t) {
		if ab, ok := b.(*slack.ActionBlock); ok {
			for _, e := range ab.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					out = append(out, btn.ActionID)
				}
			}
		}
	}
	return out
}

type fakeSlack struct {
	srv   *slacktest.Server
	mu    sync.Mutex
	calls []apiCall
	seq   int
	// historyErr, when set, is the error conversations.history and
	// conversations.replies answer (missing_scope, say).
	historyErr string
}

// newFakeSlack starts slacktest on 127.0.0.1 with recording handlers for
// the methods the bot calls; extra binds more (Socket Mode's endpoints).
func newFakeSlack(t testing.TB, extra ...slacktest.Binder) *fakeSlack {
	f := &fakeSlack{}
	binders := append([]slacktest.Binder{func(c slacktest.Customize) {
		for _, m := range []string{"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "conversations.history", "conversations.replies"} {
			c.Handle("/"+m, f.handler(m))
		}
	}}, extra...)
	f.srv = slacktest.NewTestServer(binders...)
	f.srv.Start()
	t.Cleanup(f.srv.Stop)
	return f
}

func (f *fakeSlack) api() *slack.Client {
	return slack.New(testBotToken, slack.OptionAPIURL(f.srv.GetAPIURL()))
}

func (f *fakeSlack) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := apiCall{Method: method}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &c.JSON)
		} else {
			c.Form, _ = url.ParseQuery(string(body))
		}
		f.mu.Lock()
		f.seq++
		ts := fmt.Sprintf("1700000000.%06d", f.seq)
		if method == "chat.postMessage" {
			c.TS = ts
		}
		f.calls = append(f.calls, c)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch method {
		case "conversations.history", "conversations.replies":
			_ = json.NewEncoder(w).Encode(f.history(c.Form))
			return
		case "views.open":
			_, _ = w.Write([]byte(`{"ok":true,"view":{"id":"V0001"}}`))
		case "chat.postEphemeral":
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "message_ts": ts})
		case "chat.update":
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts")})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": ts})
		}
	}
}

// history answers conversations.history (the channel's top-level
// messages, newest first) and conversations.replies (the thread of ts)
// from what the bot posted, metadata included as Slack returns it with
// include_all_metadata.
func (f *fakeSlack) history(q url.Values) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.historyErr != "" {
		return map[string]any{"ok": false, "error": f.historyErr}
	}
	thread := q.Get("ts") // set for conversations.replies
	msgs := []map[string]any{}
	for _, c := range f.calls {
		if c.Method != "chat.postMessage" || c.Form.Get("channel") != q.Get("channel") || c.Form.Get("thread_ts") != thread {
			continue
		}
		m := map[string]any{"type": "message", "ts": c.TS, "text": c.Form.Get("text")}
		if md := c.Form.Get("metadata"); md != "" && q.Get("include_all_metadata") == "1" {
			m["metadata"] = json.RawMessage(md)
		}
		msgs = append([]map[string]any{m}, msgs...)
	}
	return map[string]any{"ok": true, "messages": msgs, "has_more": false}
}

// get returns the calls of one method, in order.
func (f *fakeSlack) get(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// thread returns the thread replies (postMessage with thread_ts).
func (f *fakeSlack) thread() []apiCall {
	var out []apiCall
	for _, c := range f.get("chat.postMessage") {
		if c.Form.Get("thread_ts") != "" {
			out = append(out, c)
		}
	}
	return out
}

// runMessages returns the top-level posts (the run messages).
func (f *fakeSlack) runMessages() []apiCall {
	var out []apiCall
	for _, c := range f.get("chat.postMessage") {
		if c.Form.Get("thread_ts") == "" {
			out = append(out, c)
		}
	}
	return out
}

// --- helpers ---

// waitFor polls cond until it holds or the deadline passes: tests never
// sleep a fixed time to synchronise.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t     testing.TB
	slack *fakeSlack
	eng   *fakeEngine
	bot   *Bot
	logs  *syncBuffer
}

func newHarness(t testing.TB) *harness {
	h := &harness{t: t, slack: newFakeSlack(t), eng: newFakeEngine(), logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.bot = New(testConfig(t), h.eng, h.slack.api(), logger)
	h.bot.poll = 5 * time.Millisecond
	t.Cleanup(h.bot.Close)
	return h
}

func signature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// signedRequest builds a request signed the way Slack signs.
func signedRequest(path string, body []byte, secret string, ts time.Time) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	r.Header.Set("X-Slack-Signature", signature(secret, ts.Unix(), body))
	return r
}

var triggerSeq struct {
	sync.Mutex
	n int
}

// commandBody is a slash command form as Slack sends it; the trigger id
// differs per call, as Slack's does, so no two bodies are identical.
func commandBody(user, channel, text string) []byte {
	triggerSeq.Lock()
	triggerSeq.n++
	n := triggerSeq.n
	triggerSeq.Unlock()
	return []byte(url.Values{
		"token": {"legacy"}, "team_id": {"T0001"}, "team_domain": {"acme"},
		"channel_id": {channel}, "channel_name": {"gameday"},
		"user_id": {user}, "user_name": {strings.ToLower(user) + ".slack"},
		"command": {"/gameday"}, "text": {text},
		"response_url": {"https://hooks.slack.invalid/commands/1"},
		"trigger_id":   {fmt.Sprintf("trigger-%d", n)},
	}.Encode())
}

func (h *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.bot.ServeHTTP(w, r)
	return w
}

// command sends a signed /gameday command and decodes the ephemeral reply.
func (h *harness) command(user, channel, text string) reply {
	h.t.Helper()
	w := h.serve(signedRequest("/slack/commands", commandBody(user, channel, text), testSecret, time.Now()))
	if w.Code != http.StatusOK {
		h.t.Fatalf("command %q: status %d: %s", text, w.Code, w.Body)
	}
	var rep reply
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		h.t.Fatalf("command %q: reply %q: %v", text, w.Body, err)
	}
	if rep.ResponseType != slack.ResponseTypeEphemeral {
		h.t.Fatalf("command %q: reply is %q, want ephemeral", text, rep.ResponseType)
	}
	return rep
}

// interact sends a signed interaction payload.
func (h *harness) interact(ic slack.InteractionCallback) *httptest.ResponseRecorder {
	h.t.Helper()
	js, err := json.Marshal(&ic)
	if err != nil {
		h.t.Fatal(err)
	}
	body := []byte(url.Values{"payload": {string(js)}}.Encode())
	return h.serve(signedRequest("/slack/interactions", body, testSecret, time.Now()))
}

func buttonPress(user, actionID, value string) slack.InteractionCallback {
	triggerSeq.Lock()
	triggerSeq.n++
	n := triggerSeq.n
	triggerSeq.Unlock()
	ic := slack.InteractionCallback{
		Type:      slack.InteractionTypeBlockActions,
		User:      slack.User{ID: user, Name: strings.ToLower(user) + ".slack"},
		TriggerID: fmt.Sprintf("trigger-%d", n),
		ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{
			{ActionID: actionID, BlockID: "gameday_actions", Value: value, Type: "button"},
		}},
	}
	ic.Channel.ID = testChannel
	ic.Container = slack.Container{Type: "message", ChannelID: testChannel, MessageTs: "1700000000.000001"}
	return ic
}

var errRefused = errors.New("role sre already signed by sam")
