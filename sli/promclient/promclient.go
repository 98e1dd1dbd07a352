// Package promclient is the Prometheus HTTP client behind sli.Querier:
// instant queries answering one number, credentials in the transport,
// answers bounded in size, secrets masked in every error. It lives apart from
// sli so the guard rules and the run result need no HTTP client.
package promclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/sli"
)

// Prometheus queries a Prometheus server's HTTP API. Credentials travel in
// the Authorization header, set by the client's transport, never in the
// URL; every error it returns names the server by its redacted URL and
// masks the secrets it knows.
type Prometheus struct {
	api     v1.API
	shown   string   // the URL as errors show it: no userinfo, token-like parameters redacted
	secrets []string // masked in every error text
}

// PrometheusOption configures NewPrometheus.
type PrometheusOption func(*promOptions)

type promOptions struct {
	creds     config.Credentials
	maxAnswer int64
	transport http.RoundTripper
}

// WithCredentials authenticates every request (a bearer token or basic
// auth; a secret file is read on each request).
func WithCredentials(c config.Credentials) PrometheusOption {
	return func(o *promOptions) { o.creds = c }
}

// WithMaxAnswer bounds the size of an answer body (default
// config.DefaultPrometheusMaxAnswer); n <= 0 keeps the default.
func WithMaxAnswer(n int64) PrometheusOption {
	return func(o *promOptions) {
		if n > 0 {
			o.maxAnswer = n
		}
	}
}

// WithTransport replaces the HTTP transport under the credential and size
// layers (default api.DefaultRoundTripper).
func WithTransport(rt http.RoundTripper) PrometheusOption {
	return func(o *promOptions) { o.transport = rt }
}

// NewPrometheus returns a client of the Prometheus API at rawURL.
// Credentials written in the URL (https://user:token@host) are moved into
// the transport as basic auth, as if given WithCredentials; giving both is
// an error. It does not contact the server.
func NewPrometheus(rawURL string, opts ...PrometheusOption) (*Prometheus, error) {
	o := promOptions{maxAnswer: config.DefaultPrometheusMaxAnswer, transport: api.DefaultRoundTripper}
	for _, opt := range opts {
		opt(&o)
	}
	shown := config.RedactURL(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The parser's message quotes the URL, credentials included.
		return nil, fmt.Errorf("prometheus client: %s is not an http(s) URL like http://prometheus:9090", shown)
	}
	address, inURL := config.CredentialsFromURL(rawURL)
	creds := o.creds
	if !inURL.IsZero() {
		if !creds.IsZero() {
			return nil, fmt.Errorf("prometheus client for %s: credentials both in the URL and given separately; give them one way", shown)
		}
		creds = inURL
	}
	rt := &limitTransport{next: creds.Transport(u.Host, o.transport), limit: o.maxAnswer}
	c, err := api.NewClient(api.Config{Address: address, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %s: not a valid URL", shown)
	}
	// Token-like query parameters of the URL are sent as they are (some
	// proxies want ?access_token=); their values are masked like the rest.
	secretValues := creds.Secrets()
	for name, vals := range u.Query() {
		if config.TokenLike(name) {
			secretValues = append(secretValues, vals...)
		}
	}
	var secrets []string
	for _, s := range secretValues {
		if len(s) >= 4 { // masking "a" everywhere would garble messages, and hides nothing
			secrets = append(secrets, s)
		}
	}
	return &Prometheus{api: v1.NewAPI(c), shown: shown, secrets: secrets}, nil
}

// AnswerTooLargeError is a successful Prometheus answer whose body is
// larger than the client's limit. It is refused before decoding: a guard
// aggregates to one series, so such an answer is a query that does not.
type AnswerTooLargeError struct{ Limit int64 }

func (e *AnswerTooLargeError) Error() string {
	return fmt.Sprintf("Prometheus answer larger than %s: a guard must aggregate to one series", config.FormatSize(e.Limit))
}

// Query returns the single value of an instant query. A vector with more
// than one series is an error: a guard must aggregate to one number.
func (p *Prometheus) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	val, _, _, err := p.api.Query(ctx, query, at)
	if err != nil {
		var perr *v1.Error
		if errors.As(err, &perr) && perr.Type == v1.ErrBadData {
			return 0, &sli.BadQueryError{Query: query, Msg: p.mask(perr.Msg)}
		}
		var big *AnswerTooLargeError
		if errors.As(err, &big) {
			return 0, &sli.BadQueryError{Query: query, Msg: big.Error() + " (wrap it in sum/max/histogram_quantile, or raise " + config.EnvPrometheusMaxAnswer + ")"}
		}
		return 0, p.wrap(err)
	}
	switch v := val.(type) {
	case *model.Scalar:
		return float64(v.Value), nil
	case model.Vector:
		if len(v) == 0 {
			return math.NaN(), sli.ErrNoData
		}
		if len(v) > 1 {
			return 0, &sli.BadQueryError{Query: query, Msg: fmt.Sprintf("returned %d series; a guard must aggregate to one (wrap it in sum/max/histogram_quantile)", len(v))}
		}
		return float64(v[0].Value), nil
	default:
		return 0, &sli.BadQueryError{Query: query, Msg: fmt.Sprintf("returned a %s; want a scalar or a one-element vector", val.Type())}
	}
}

// QueryRange returns the single series of a range query over [start, end]
// at step: a guard's value over a report's window. An empty matrix is no
// points (the series did not exist then, or the server's retention dropped
// it); more than one series is an error, as for Query. The answer is bounded
// like an instant one (WithMaxAnswer) and errors are redacted alike. NaN
// and ±Inf samples are kept as they came.
func (p *Prometheus) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]sli.Point, error) {
	if step <= 0 || !end.After(start) {
		return nil, fmt.Errorf("range query %q: empty window %s..%s or step %s", query, start.Format(time.RFC3339), end.Format(time.RFC3339), step)
	}
	val, _, _, err := p.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		var perr *v1.Error
		if errors.As(err, &perr) && perr.Type == v1.ErrBadData {
			return nil, &sli.BadQueryError{Query: query, Msg: p.mask(perr.Msg)}
		}
		var big *AnswerTooLargeError
		if errors.As(err, &big) {
			return nil, &sli.BadQueryError{Query: query, Msg: big.Error() + " (wrap it in sum/max/histogram_quantile, or raise " + config.EnvPrometheusMaxAnswer + ")"}
		}
		return nil, p.wrap(err)
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, &sli.BadQueryError{Query: query, Msg: fmt.Sprintf("range query returned a %s; want a matrix", val.Type())}
	}
	switch {
	case len(m) == 0:
		return nil, nil
	case len(m) > 1:
		return nil, &sli.BadQueryError{Query: query, Msg: fmt.Sprintf("returned %d series; a guard must aggregate to one (wrap it in sum/max/histogram_quantile)", len(m))}
	case len(m[0].Values) == 0 && len(m[0].Histograms) > 0:
		return nil, &sli.BadQueryError{Query: query, Msg: "returned native histograms; a guard must answer a number (wrap it in histogram_quantile)"}
	}
	out := make([]sli.Point, 0, len(m[0].Values))
	for _, sp := range m[0].Values {
		out = append(out, sli.Point{At: sp.Timestamp.Time(), Value: float64(sp.Value)})
	}
	return out, nil
}

// Ready reports whether the server answers.
func (p *Prometheus) Ready(ctx context.Context) error {
	if _, err := p.api.Buildinfo(ctx); err != nil {
		return p.wrap(err)
	}
	return nil
}

// promError is an error whose text was made safe to print (URL redacted,
// secrets masked) while errors.Is and errors.As still reach the cause.
type promError struct {
	msg string
	err error
}

func (e *promError) Error() string { return e.msg }
func (e *promError) Unwrap() error { return e.err }

// wrap names the server and makes err's text safe: net/http's *url.Error
// quotes the request URL (with the user name and every query parameter),
// so it is replaced by a copy quoting the redacted URL.
func (p *Prometheus) wrap(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && err == error(ue) {
		cp := *ue
		cp.URL = config.RedactURL(ue.URL)
		err = &cp
	}
	msg := fmt.Sprintf("prometheus %s: %v", p.shown, err)
	var perr *v1.Error
	if errors.As(err, &perr) && (perr.Msg == "client error: 401" || perr.Msg == "client error: 403") {
		msg += fmt.Sprintf(" (Prometheus refused the credentials; check %s or %s/%s)", config.EnvPrometheusBearerToken, config.EnvPrometheusUsername, config.EnvPrometheusPassword)
	}
	return &promError{msg: p.mask(msg), err: err}
}

// mask replaces the known secrets in text that came from elsewhere (a
// server's error message, a transport error).
func (p *Prometheus) mask(s string) string {
	for _, sec := range p.secrets {
		s = strings.ReplaceAll(s, sec, config.Redacted)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, config.Redacted)
		}
	}
	return s
}

// limitTransport bounds every answer body. A successful answer larger than
// limit fails with *AnswerTooLargeError, at once when Content-Length says
// so, else as soon as limit bytes have been read, so it is never buffered
// nor decoded whole. An error answer (4xx, 5xx) is cut at limit instead, so
// that its status still reaches the caller as the error.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	ok := resp.StatusCode/100 == 2
	if ok && resp.ContentLength > t.limit {
		_ = resp.Body.Close()
		return nil, &AnswerTooLargeError{Limit: t.limit}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.limit + 1, limit: t.limit, fail: ok}
	return resp, nil
}

// limitedBody reads at most limit bytes; one more means the answer is too
// large.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64 // limit+1 minus what was read
	limit int64
	fail  bool // too large is an error (else the body just ends)
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, b.over()
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left <= 0 {
		return n - 1, b.over() // the extra byte is not handed out
	}
	return n, err
}

func (b *limitedBody) over() error {
	if b.fail {
		return &AnswerTooLargeError{Limit: b.limit}
	}
	return io.EOF
}

func (b *limitedBody) Close() error { return b.rc.Close() }
