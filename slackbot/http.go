package slackbot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// MaxBodyBytes caps a request body. Slack's commands and interaction
// payloads (a message or modal with its blocks) are a few KiB; the cap is
// read before the signature can be checked, so it bounds what an
// unauthenticated client can make the bot buffer.
const MaxBodyBytes = 64 << 10

// replayWindow is how long a signature is remembered. Slack's verifier
// accepts timestamps up to 5 minutes off either way, so a captured request
// stays valid for up to 10 minutes; within that window a replay (which
// would, say, start a second chaos run) is refused, however its signature
// is spelt. The cache is one replica's: what holds across replicas is the
// run's workflow id, derived from the request (requestKey), which Temporal
// refuses to start twice.
const replayWindow = 10 * time.Minute

// NewHandler serves Slack's HTTP endpoints: POST /slack/commands (slash
// commands) and POST /slack/interactions (buttons and modals). It is New
// as an http.Handler; keep the *Bot (or type-assert) to Close it.
func NewHandler(cfg Config, eng Engine, api *slack.Client, logger *slog.Logger) http.Handler {
	return New(cfg, eng, api, logger)
}

// routes are the two endpoints; anything else is 404 or 405.
func (b *Bot) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /slack/commands", b.serveCommand)
	mux.HandleFunc("POST /slack/interactions", b.serveInteraction)
	return mux
}

// ServeHTTP makes a Bot the HTTP handler NewHandler returns.
func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mux.ServeHTTP(w, r)
}

// delivery is a verified request: its body and Slack's timestamp, what its
// signature covers.
type delivery struct {
	body []byte
	ts   int64
}

// verified reads the body and checks Slack's signature over it. On failure
// it has answered the request and returns false. Refusals are logged with
// the reason but never the body, the signature or any secret.
func (b *Bot) verified(w http.ResponseWriter, r *http.Request) (delivery, bool) {
	refuse := func(status int, reason string, err error) (delivery, bool) {
		attrs := []any{"path", r.URL.Path, "remote", r.RemoteAddr, "status", status, "reason", reason}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		b.logger.Warn("slack: request refused", attrs...)
		http.Error(w, http.StatusText(status), status)
		return delivery{}, false
	}
	if b.cfg.SigningSecret == "" {
		return refuse(http.StatusUnauthorized, "no signing secret configured", nil)
	}
	// Headers and timestamp first: a stale or unsigned request is refused
	// without reading its body.
	sv, err := slack.NewSecretsVerifier(r.Header, b.cfg.SigningSecret)
	if err != nil {
		return refuse(http.StatusUnauthorized, "bad signature headers or stale timestamp", err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return refuse(http.StatusRequestEntityTooLarge, "body over limit", nil)
		}
		return refuse(http.StatusBadRequest, "unreadable body", err)
	}
	if _, err := sv.Write(body); err != nil {
		return refuse(http.StatusBadRequest, "unreadable body", err)
	}
	if err := sv.Ensure(); err != nil {
		return refuse(http.StatusUnauthorized, "signature mismatch", nil)
	}
	// The replay cache keys on the signature's bytes, the HMAC the
	// verifier just compared: the header's hex may be spelt in either
	// case (hex.DecodeString takes both), and every spelling of one
	// request is the same replay.
	mac, err := signatureMAC(r.Header.Get("X-Slack-Signature"))
	if err != nil {
		return refuse(http.StatusUnauthorized, "bad signature headers or stale timestamp", err)
	}
	if !b.replays.first(string(mac), time.Now()) {
		return refuse(http.StatusUnauthorized, "replayed request", nil)
	}
	// The verifier has parsed it already (and signed its exact spelling).
	ts, err := strconv.ParseInt(r.Header.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return refuse(http.StatusUnauthorized, "bad signature headers or stale timestamp", err)
	}
	// The slack-go parsers read the form from the request itself.
	r.Body = io.NopCloser(bytes.NewReader(body))
	return delivery{body: body, ts: ts}, true
}

// signatureMAC decodes X-Slack-Signature ("v0=" and the hex of the HMAC)
// as slack.NewSecretsVerifier does.
func signatureMAC(header string) ([]byte, error) {
	h, ok := strings.CutPrefix(header, "v0=")
	if !ok {
		return nil, errors.New("signature without v0=")
	}
	return hex.DecodeString(h)
}

// requestKey identifies one request from Slack: the same for every replay
// of it, on every bot replica, and different for any other (Slack's
// command body carries a fresh trigger_id per invocation, and a signed
// timestamp). It hashes the transport, team, channel, user, timestamp and
// the raw body or payload, each length-prefixed.
func requestKey(transport, team, channel, user string, ts int64, body []byte) []byte {
	h := sha256.New()
	field := func(p []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write(p)
	}
	for _, f := range []string{transport, team, channel, user, strconv.FormatInt(ts, 10)} {
		field([]byte(f))
	}
	field(body)
	return h.Sum(nil)
}

// runWorkflowID is the workflow id of the run a request starts, derived
// from its requestKey, so that Temporal refuses to start the same request
// twice (slacktemporal.Engine starts Slack runs with REJECT_DUPLICATE). Empty
// without a key: the engine picks a fresh id.
func runWorkflowID(scenario string, key []byte) string {
	if len(key) == 0 {
		return ""
	}
	return "gameday-" + strings.ToLower(scenario) + "-slack-" + hex.EncodeToString(key[:10])
}

func (b *Bot) serveCommand(w http.ResponseWriter, r *http.Request) {
	d, ok := b.verified(w, r)
	if !ok {
		return
	}
	cmd, err := slack.SlashCommandParse(r)
	if err != nil || cmd.Command == "" || cmd.UserID == "" || cmd.ChannelID == "" {
		b.malformed(w, r, "slash command without command, user or channel")
		return
	}
	writeJSON(w, b.command(cmd, requestKey("http", cmd.TeamID, cmd.ChannelID, cmd.UserID, d.ts, d.body)))
}

func (b *Bot) serveInteraction(w http.ResponseWriter, r *http.Request) {
	if _, ok := b.verified(w, r); !ok {
		return
	}
	ic, err := slack.InteractionCallbackParse(r)
	if err != nil || ic.Type == "" || ic.User.ID == "" {
		b.malformed(w, r, "interaction payload missing or not JSON")
		return
	}
	if resp := b.interaction(ic); resp != nil {
		writeJSON(w, resp)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (b *Bot) malformed(w http.ResponseWriter, r *http.Request, reason string) {
	b.logger.Warn("slack: malformed request", "path", r.URL.Path, "remote", r.RemoteAddr, "reason", reason)
	http.Error(w, "malformed Slack payload", http.StatusBadRequest)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// replayCache remembers recent request signatures (their decoded bytes,
// so every spelling of one is the same entry). Only verified requests
// get in, so only Slack (or a holder of the secret) can grow it, and
// expired entries are swept at most once per minute to keep the hot path
// O(1).
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // signature bytes → first seen
	nextSweep time.Time
}

// first records sig and reports whether it had not been seen within the
// replay window.
func (c *replayCache) first(sig string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.nextSweep) {
		for k, t := range c.seen {
			if now.Sub(t) > replayWindow {
				delete(c.seen, k)
			}
		}
		c.nextSweep = now.Add(time.Minute)
	}
	if t, ok := c.seen[sig]; ok && now.Sub(t) <= replayWindow {
		return false
	}
	c.seen[sig] = now
	return true
}
