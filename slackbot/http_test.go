package slackbot

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The marker is in every request body; it must never reach the log.
const bodyMarker = "BODYMARKER7f3a"

func TestRequestVerification(t *testing.T) {
	h := newHarness(t)
	now := time.Now()
	body := func() []byte { return commandBody(dana, testChannel, "help "+bodyMarker) }
	interaction := func(payload string) []byte {
		return []byte(url.Values{"payload": {payload}}.Encode())
	}
	var replayed *http.Request // sent twice by the "exact replay" case
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"valid command", func() *http.Request { return signedRequest("/slack/commands", body(), testSecret, now) }, http.StatusOK},
		{"valid interaction", func() *http.Request {
			return signedRequest("/slack/interactions", interaction(`{"type":"view_closed","user":{"id":"U0DANA"},"x":"`+bodyMarker+`"}`), testSecret, now)
		}, http.StatusOK},
		{"wrong secret", func() *http.Request { return signedRequest("/slack/commands", body(), "not-the-secret", now) }, http.StatusUnauthorized},
		{"stale timestamp", func() *http.Request {
			return signedRequest("/slack/commands", body(), testSecret, now.Add(-5*time.Minute-30*time.Second))
		}, http.StatusUnauthorized},
		{"timestamp far in the future", func() *http.Request {
			return signedRequest("/slack/commands", body(), testSecret, now.Add(6*time.Minute))
		}, http.StatusUnauthorized},
		{"replayed body with another request's signature", func() *http.Request {
			r := signedRequest("/slack/commands", body(), testSecret, now)
			r.Header.Set("X-Slack-Signature", signature(testSecret, now.Unix(), body()))
			return r
		}, http.StatusUnauthorized},
		{"replayed body with a fresh timestamp", func() *http.Request {
			r := signedRequest("/slack/commands", body(), testSecret, now.Add(-time.Minute))
			r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
			return r
		}, http.StatusUnauthorized},
		{"exact replay: first", func() *http.Request {
			b := body()
			replayed = signedRequest("/slack/commands", b, testSecret, now)
			return signedRequest("/slack/commands", b, testSecret, now)
		}, http.StatusOK},
		{"exact replay: second", func() *http.Request { return replayed }, http.StatusUnauthorized},
		{"no signature headers", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body()))
		}, http.StatusUnauthorized},
		{"signature not hex", func() *http.Request {
			r := signedRequest("/slack/commands", body(), testSecret, now)
			r.Header.Set("X-Slack-Signature", "v0=zz"+bodyMarker)
			return r
		}, http.StatusUnauthorized},
		{"malformed interaction payload", func() *http.Request {
			return signedRequest("/slack/interactions", interaction("{not json "+bodyMarker), testSecret, now)
		}, http.StatusBadRequest},
		{"interaction without payload", func() *http.Request {
			return signedRequest("/slack/interactions", []byte("x="+bodyMarker), testSecret, now)
		}, http.StatusBadRequest},
		{"command without user or command", func() *http.Request {
			return signedRequest("/slack/commands", []byte("text="+bodyMarker), testSecret, now)
		}, http.StatusBadRequest},
		{"command body not a form", func() *http.Request {
			return signedRequest("/slack/commands", []byte("%zz"+bodyMarker), testSecret, now)
		}, http.StatusBadRequest},
		{"oversized body", func() *http.Request {
			big := append(body(), []byte("&pad="+strings.Repeat("a", MaxBodyBytes))...)
			return signedRequest("/slack/commands", big, testSecret, now)
		}, http.StatusRequestEntityTooLarge},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/slack/commands", nil) }, http.StatusMethodNotAllowed},
		{"unknown path", func() *http.Request { return signedRequest("/slack/events", body(), testSecret, now) }, http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := h.serve(c.req())
			if w.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.want, w.Body)
			}
		})
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "signature mismatch") || !strings.Contains(logs, "replayed request") || !strings.Contains(logs, "body over limit") {
		t.Errorf("refusals are not logged with their reason:\n%s", logs)
	}
	for _, secret := range []string{bodyMarker, testSecret, testBotToken, "v0="} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
}

// A bot without a signing secret (Socket Mode only) refuses HTTP.
func TestNoSigningSecretRefusesHTTP(t *testing.T) {
	h := newHarness(t)
	h.bot.cfg.SigningSecret = ""
	w := h.serve(signedRequest("/slack/commands", commandBody(dana, testChannel, "help"), "", time.Now()))
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", w.Code)
	}
}

func TestReplayCacheForgetsAfterWindow(t *testing.T) {
	c := replayCache{seen: map[string]time.Time{}}
	t0 := time.Unix(1_700_000_000, 0)
	if !c.first("a", t0) || c.first("a", t0.Add(time.Second)) {
		t.Fatal("a second sighting within the window must be refused")
	}
	if !c.first("a", t0.Add(replayWindow+time.Minute)) {
		t.Fatal("a signature older than the window is forgotten")
	}
	if len(c.seen) != 1 {
		t.Fatalf("expired entries are swept: %d left", len(c.seen))
	}
}

// upperSignature spells a request's signature hex in upper case: the
// verifier decodes it to the same bytes and accepts it.
func upperSignature(r *http.Request) *http.Request {
	r.Header.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0=")))
	return r
}

// mixedSignature spells every other hex digit in upper case.
func mixedSignature(r *http.Request) *http.Request {
	b := []byte(r.Header.Get("X-Slack-Signature"))
	for i := 3; i < len(b); i += 2 {
		b[i] = strings.ToUpper(string(b[i]))[0]
	}
	r.Header.Set("X-Slack-Signature", string(b))
	return r
}

// One captured request is one request however its signature is spelt:
// the replay cache keys on the signature's bytes, not the header's text.
func TestReplayRefusedWhateverTheSignatureSpelling(t *testing.T) {
	h := newHarness(t)
	body, now := commandBody(dana, testChannel, "help"), time.Now()
	send := func(spell func(*http.Request) *http.Request) int {
		return h.serve(spell(signedRequest("/slack/commands", body, testSecret, now))).Code
	}
	same := func(r *http.Request) *http.Request { return r }
	if code := send(upperSignature); code != http.StatusOK {
		t.Fatalf("the verifier accepts an upper-case signature: status %d", code)
	}
	for name, spell := range map[string]func(*http.Request) *http.Request{"lower case": same, "upper case": upperSignature, "mixed case": mixedSignature} {
		if code := send(spell); code != http.StatusUnauthorized {
			t.Errorf("replay with the signature in %s: status %d, want 401", name, code)
		}
	}
	if n := strings.Count(h.logs.String(), "replayed request"); n != 3 {
		t.Errorf("%d replays logged, want 3", n)
	}
}
