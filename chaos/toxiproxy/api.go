package toxiproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultHTTPTimeout bounds one request to the toxiproxy API when the
// caller's context has no earlier deadline (the Shopify client's own
// timeout, kept as a backstop: a context without a deadline must not let a
// hung API block forever).
const DefaultHTTPTimeout = 30 * time.Second

// DefaultUserAgent is sent with every request unless WithUserAgent says
// otherwise, so the toxiproxy server's logs name who changed the toxics.
const DefaultUserAgent = "gameday"

// APIError is a non-2xx answer of the toxiproxy API. 4xx answers are
// wrapped in a *PermanentError by the Backend; 5xx answers are transient.
type APIError struct {
	Status  int    // HTTP status code
	Message string // the API's "error" field, or the body's start when it is not JSON
}

func (e *APIError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// apiProxy and apiToxic mirror the JSON of toxiproxy's REST API (the same
// fields the Shopify client reads and writes).
type apiProxy struct {
	Name     string     `json:"name"`
	Listen   string     `json:"listen"`
	Upstream string     `json:"upstream"`
	Enabled  bool       `json:"enabled"`
	Toxics   []apiToxic `json:"toxics"`
}

type apiToxic struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream,omitempty"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

// api is a small client of toxiproxy's REST API in which every call takes a
// context (the Shopify client takes none, so a hung API would block inject
// and recover for its whole 30s timeout whatever the activity's deadline).
// Only the four calls the back-end needs exist.
type api struct {
	base  string // endpoint, credentials included, no trailing slash
	shown string // endpoint without credentials: the only form put in errors
	bad   bool   // the endpoint does not parse: every call fails permanently
	http  *http.Client
	agent string
}

// newAPI parses endpoint ("http://host:8474", "host:8474" and
// "http://user:pass@host:8474" are accepted, like the Shopify client).
// Userinfo is sent as basic auth and never shown.
func newAPI(endpoint string) *api {
	if !strings.HasPrefix(endpoint, "http://") && !strings.HasPrefix(endpoint, "https://") {
		endpoint = "http://" + endpoint
	}
	a := &api{http: &http.Client{Timeout: DefaultHTTPTimeout}, agent: DefaultUserAgent}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		a.bad = true
		a.shown = redact(endpoint)
		return a
	}
	u.RawQuery, u.Fragment = "", ""
	a.base = strings.TrimSuffix(u.String(), "/")
	u.User = nil
	a.shown = strings.TrimSuffix(u.String(), "/")
	return a
}

// redact removes the userinfo of a URL that url.Parse refused (a
// parseable one is redacted by clearing URL.User).
func redact(raw string) string {
	rest := raw
	scheme := ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + rest
}

// errBadURL is what every call returns for an endpoint that does not
// parse. The parser's own message is not used: it may quote the userinfo.
var errBadURL = errors.New("not a valid URL (want http://host:port)")

func (a *api) proxies(ctx context.Context) (map[string]apiProxy, error) {
	var out map[string]apiProxy
	if err := a.do(ctx, http.MethodGet, "/proxies", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *api) toxics(ctx context.Context, proxy string) ([]apiToxic, error) {
	var out []apiToxic
	if err := a.do(ctx, http.MethodGet, "/proxies/"+url.PathEscape(proxy)+"/toxics", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *api) addToxic(ctx context.Context, proxy string, t apiToxic) error {
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return a.do(ctx, http.MethodPost, "/proxies/"+url.PathEscape(proxy)+"/toxics", body, nil)
}

func (a *api) removeToxic(ctx context.Context, proxy, toxic string) error {
	return a.do(ctx, http.MethodDelete, "/proxies/"+url.PathEscape(proxy)+"/toxics/"+url.PathEscape(toxic), nil, nil)
}

// do sends one request and decodes a 2xx answer into out (when not nil).
// Errors never contain the endpoint (the caller names it, redacted): the
// *url.Error of net/http would quote it with the user name.
func (a *api) do(ctx context.Context, method, path string, body []byte, out any) error {
	if a.bad {
		return errBadURL
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return unwrapURLError(err)
	}
	req.Header.Set("User-Agent", a.agent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return readAPIError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// unwrapURLError drops net/http's *url.Error wrapper (its message quotes
// the request URL, user name included) and keeps what it wraps, so
// errors.Is(err, context.DeadlineExceeded) and the like still hold.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Op == "parse" {
			return errBadURL
		}
		return ue.Err
	}
	return err
}

// readAPIError turns a non-2xx answer into an *APIError whatever its body
// (the Shopify client returned a JSON decoding error instead when the body
// was not JSON, which hid the status and made a 4xx look transient).
func readAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	e := &APIError{Status: resp.StatusCode}
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else if s := strings.TrimSpace(string(raw)); s != "" {
		e.Message = s
	} else {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
