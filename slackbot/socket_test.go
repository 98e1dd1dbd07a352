package slackbot

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// fakeSocket plays Slack's side of Socket Mode: apps.connections.open
// hands out a WebSocket URL on the same test server, which says hello,
// then sends each envelope and collects the acknowledgement.
type fakeSocket struct {
	envelopes chan map[string]any
	acks      chan map[string]any
	authz     chan string
}

func (f *fakeSocket) bind(c slacktest.Customize) {
	c.Handle("/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		select {
		case f.authz <- r.Header.Get("Authorization"):
		default:
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": "ws://" + r.Host + "/socket-link"})
	})
	c.Handle("/socket-link", func(w http.ResponseWriter, r *http.Request) {
		// The client sends Origin: https://api.slack.com, as to Slack.
		up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}) != nil {
			return
		}
		gone := make(chan struct{}) // the bot closed the connection
		go func() {
			defer close(gone)
			for {
				var ack map[string]any
				if conn.ReadJSON(&ack) != nil {
					return
				}
				f.acks <- ack
			}
		}()
		for {
			select {
			case env := <-f.envelopes:
				if conn.WriteJSON(env) != nil {
					return
				}
			case <-gone:
				return
			}
		}
	})
}

func TestSocketModeSharesDispatch(t *testing.T) {
	fs := &fakeSocket{envelopes: make(chan map[string]any), acks: make(chan map[string]any, 8), authz: make(chan string, 1)}
	fsl := newFakeSlack(t, fs.bind)
	eng := newFakeEngine()
	cfg := testConfig(t)
	cfg.SigningSecret, cfg.AppToken = "", testAppToken
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- RunSocket(ctx, cfg, eng, fsl.api(), slog.New(slog.NewJSONHandler(logs, nil))) }()

	send := func(id, typ string, payload any) map[string]any {
		t.Helper()
		var ack map[string]any
		timeout := time.After(10 * time.Second)
		select {
		case fs.envelopes <- map[string]any{"envelope_id": id, "type": typ, "payload": payload, "accepts_response_payload": true}:
		case <-timeout:
			t.Fatalf("the bot did not connect for envelope %s; log:\n%s", id, logs)
		}
		select {
		case ack = <-fs.acks:
		case <-timeout:
			t.Fatalf("no ack for envelope %s; log:\n%s", id, logs)
		}
		if ack["envelope_id"] != id {
			t.Fatalf("ack %v for envelope %s", ack, id)
		}
		return ack
	}
	cmd := func(text string) map[string]any {
		return map[string]any{"command": "/gameday", "text": text, "user_id": dana, "user_name": "dana.s", "channel_id": testChannel, "trigger_id": "t1"}
	}

	if got := <-fs.authz; got != "Bearer "+testAppToken {
		t.Fatalf("apps.connections.open authorised with %q, want the app token", got)
	}
	ack := send("env-1", "slash_commands", cmd("help"))
	if p, _ := ack["payload"].(map[string]any); p["response_type"] != "ephemeral" || !strings.Contains(p["text"].(string), "Game days from Slack") {
		t.Fatalf("help ack %v", ack)
	}
	ack = send("env-2", "slash_commands", cmd("run demo-inventory-latency duration=30s"))
	if p, _ := ack["payload"].(map[string]any); !strings.Contains(p["text"].(string), "Starting `demo-inventory-latency`") {
		t.Fatalf("run ack %v", ack)
	}
	waitFor(t, "the run message", func() bool { return len(fsl.runMessages()) == 1 })
	if r := eng.startReqs(); len(r) != 1 || r[0].Params["duration"] != "30s" || r[0].WorkflowID == "" {
		t.Fatalf("starts %+v", r)
	}
	// Slack redelivers an envelope it got no ack for: the same payload,
	// so the same run id, which the engine refuses to start twice.
	send("env-2-retry", "slash_commands", cmd("run demo-inventory-latency duration=30s"))
	waitFor(t, "the redelivery's answer", func() bool { return len(fsl.get("chat.postEphemeral")) == 1 })
	if r, runs := eng.startReqs(), eng.startedRuns(); len(r) != 2 || r[1].WorkflowID != r[0].WorkflowID || len(runs) != 1 {
		t.Fatalf("a redelivered command: starts %+v, runs %v", r, runs)
	}
	if text := fsl.get("chat.postEphemeral")[0].Form.Get("text"); !strings.Contains(text, "already started: <") {
		t.Fatalf("answer to the redelivery %q", text)
	}

	press := buttonPress(dana, actionAbort, "wf-1")
	raw, _ := json.Marshal(&press)
	var payload map[string]any
	_ = json.Unmarshal(raw, &payload)
	if ack := send("env-3", "interactive", payload); ack["payload"] != nil {
		t.Fatalf("block action ack carries a payload: %v", ack)
	}
	waitFor(t, "engine.Abort", func() bool { return len(eng.abortCalls()) == 1 })

	eng.set(func(f *fakeEngine) { f.signoffErr = errRefused })
	sub := devSubmission("approve", "")
	raw, _ = json.Marshal(&sub)
	payload = nil
	_ = json.Unmarshal(raw, &payload)
	ack = send("env-4", "interactive", payload)
	if p, _ := ack["payload"].(map[string]any); p["response_action"] != "errors" {
		t.Fatalf("refused sign-off ack %v", ack)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunSocket: %v", err)
	}
	eng.mu.Lock()
	listed := eng.listCalls
	eng.mu.Unlock()
	if listed != 1 {
		t.Fatalf("RunSocket listed the runs to resume %d times, want once on start", listed)
	}
	for _, s := range []string{testAppToken, testBotToken} {
		if strings.Contains(logs.String(), s) {
			t.Fatalf("log shows a token:\n%s", logs)
		}
	}
}

func TestRunSocketNeedsAppToken(t *testing.T) {
	err := RunSocket(t.Context(), testConfig(t), newFakeEngine(), slack.New("xoxb-x"), nil)
	if err == nil || !strings.Contains(err.Error(), EnvAppToken) {
		t.Fatalf("error %v", err)
	}
}
