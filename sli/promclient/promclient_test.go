package promclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/sli"
)

// A Prometheus API stand-in that answers /api/v1/query by the query text,
// with the response bodies the real server sends.
func fakeProm(t *testing.T) *Prometheus {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("query") {
		case "one":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.42"]}]}}`))
		case "scalar":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"7"]}}`))
		case "empty":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
		case "two":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1700000000,"1"]},{"metric":{"a":"2"},"value":[1700000000,"2"]}]}}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected identifier"}`))
		}
	}))
	t.Cleanup(srv.Close)
	p, err := NewPrometheus(srv.URL)
	require.NoError(t, err)
	return p
}

func TestPrometheusQuery(t *testing.T) {
	p := fakeProm(t)
	ctx := context.Background()
	now := time.Now()

	v, err := p.Query(ctx, "one", now)
	require.NoError(t, err)
	assert.Equal(t, 0.42, v)

	v, err = p.Query(ctx, "scalar", now)
	require.NoError(t, err)
	assert.Equal(t, 7.0, v)

	_, err = p.Query(ctx, "empty", now)
	assert.ErrorIs(t, err, sli.ErrNoData)

	var bq *sli.BadQueryError
	_, err = p.Query(ctx, "two", now)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "returned 2 series")

	_, err = p.Query(ctx, "rate(x[", now)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "parse error")
}

func TestPrometheusUnreachableIsRetryable(t *testing.T) {
	p, err := NewPrometheus("http://127.0.0.1:1")
	require.NoError(t, err)
	_, err = p.Query(context.Background(), "up", time.Now())
	require.Error(t, err)
	var bq *sli.BadQueryError
	assert.False(t, errors.As(err, &bq))
	assert.Contains(t, err.Error(), "127.0.0.1:1")
}

const secret = "Zq9-s3cr3t-Xw7"

// failingProm answers every request with status (after recording the
// Authorization header it got), the way a Prometheus behind an
// authenticating proxy does.
func failingProm(t *testing.T, status int) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var auths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="prometheus"`)
		w.WriteHeader(status)
		// A body that echoes what it was sent, as some proxies do: it must
		// not reach the error either.
		fmt.Fprintf(w, "denied %s %s", r.Header.Get("Authorization"), r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), auths...) }
}

// Wherever the credential is given, a failing query's error names the
// server and never contains the credential (nor the user name when the
// user name is the token).
func TestPrometheusErrorsHideCredentials(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))
	for _, status := range []int{http.StatusInternalServerError, http.StatusUnauthorized, http.StatusForbidden, http.StatusBadGateway} {
		srv, auths := failingProm(t, status)
		host := strings.TrimPrefix(srv.URL, "http://")
		for _, tc := range []struct {
			name string
			url  string
			opts []PrometheusOption
			auth string // the Authorization header Prometheus must get
		}{
			{"url user:password", "http://alice:" + secret + "@" + host, nil, "Basic YWxpY2U6WnE5LXMzY3IzdC1Ydzc="},
			{"url token as user", "http://" + secret + "@" + host, nil, "Basic WnE5LXMzY3IzdC1Ydzc6"},
			{"bearer", srv.URL, []PrometheusOption{WithCredentials(config.Credentials{BearerToken: secret})}, "Bearer " + secret},
			{"bearer file", srv.URL, []PrometheusOption{WithCredentials(config.Credentials{BearerTokenFile: file})}, "Bearer " + secret},
			{"password", srv.URL, []PrometheusOption{WithCredentials(config.Credentials{Username: "alice", Password: secret})}, "Basic YWxpY2U6WnE5LXMzY3IzdC1Ydzc="},
			{"password file", srv.URL, []PrometheusOption{WithCredentials(config.Credentials{Username: "alice", PasswordFile: file})}, "Basic YWxpY2U6WnE5LXMzY3IzdC1Ydzc="},
			{"query parameter", srv.URL + "/?access_token=" + secret, nil, ""},
		} {
			p, err := NewPrometheus(tc.url, tc.opts...)
			require.NoError(t, err, tc.name)
			before := len(auths())
			_, err = p.Query(context.Background(), "up", time.Now())
			require.Error(t, err, tc.name)
			msg := err.Error()
			assert.NotContains(t, msg, secret, "%s, HTTP %d", tc.name, status)
			assert.NotContains(t, msg, "WnE5LXMzY3IzdC1Ydzc", "%s: the base64 of the credential", tc.name)
			assert.Contains(t, msg, host, tc.name)
			assert.Contains(t, msg, strconv.Itoa(status), tc.name)
			var bq *sli.BadQueryError
			assert.False(t, errors.As(err, &bq), "%s: HTTP %d stays retryable", tc.name, status)
			require.Greater(t, len(auths()), before)
			assert.Equal(t, tc.auth, auths()[len(auths())-1], "%s: the credential still reaches Prometheus", tc.name)
			if status == http.StatusUnauthorized {
				assert.Contains(t, msg, "refused the credentials", tc.name)
			}
			assert.NotContains(t, fmt.Sprint(p.Ready(context.Background())), secret, tc.name)
		}
	}
}

// A server that cannot be reached: net/http's error quotes the request URL,
// which must not carry the credential.
func TestPrometheusTransportErrorHidesCredentials(t *testing.T) {
	for _, u := range []string{"http://" + secret + "@127.0.0.1:1", "http://alice:" + secret + "@127.0.0.1:1", "http://127.0.0.1:1/?token=" + secret} {
		p, err := NewPrometheus(u)
		require.NoError(t, err)
		_, err = p.Query(context.Background(), "up", time.Now())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
		assert.Contains(t, err.Error(), "127.0.0.1:1")
	}
	_, err := NewPrometheus("http://alice:" + secret + "@prom:9090/\x7f")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), secret)
	_, err = NewPrometheus("http://alice:"+secret+"@prom:9090", WithCredentials(config.Credentials{BearerToken: secret}))
	require.Error(t, err, "credentials given twice")
	assert.NotContains(t, err.Error(), secret)
}

// manySeries is an instant-query answer with n series, like a guard that
// forgot to aggregate a metric of a big fleet.
func manySeries(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"__name__":"http_requests_total","pod":"order-%d"},"value":[1700000000,"1"]}`, i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func TestPrometheusAnswerSizeBounded(t *testing.T) {
	body := manySeries(100_000)
	require.Greater(t, len(body), 4<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("query") {
		case "sized": // Content-Length announced: refused before reading
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		case "error": // a huge error page: the status is the error
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write(body)
		case "one":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.42"]}]}}`))
		default: // streamed (chunked), no length known in advance
			for i := 0; i < len(body); i += 32 << 10 {
				_, _ = w.Write(body[i:min(i+32<<10, len(body))])
				w.(http.Flusher).Flush()
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	p, err := NewPrometheus(srv.URL)
	require.NoError(t, err)
	for _, q := range []string{"sized", "streamed"} {
		_, err = p.Query(ctx, q, time.Now())
		require.Error(t, err, q)
		assert.Contains(t, err.Error(), "Prometheus answer larger than 1 MiB: a guard must aggregate to one series", q)
		var bq *sli.BadQueryError
		assert.True(t, errors.As(err, &bq), "%s: not retryable: %v", q, err)
	}
	_, err = p.Query(ctx, "error", time.Now())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "502")
	assert.NotContains(t, err.Error(), "larger than")
	v, err := p.Query(ctx, "one", time.Now())
	require.NoError(t, err)
	assert.Equal(t, 0.42, v)

	// The limit is configurable: with room for it, the answer is decoded
	// and refused for what it is.
	p, err = NewPrometheus(srv.URL, WithMaxAnswer(16<<20))
	require.NoError(t, err)
	_, err = p.Query(ctx, "streamed", time.Now())
	assert.ErrorContains(t, err, "returned 100000 series")

	p, err = NewPrometheus(srv.URL, WithMaxAnswer(64<<10))
	require.NoError(t, err)
	_, err = p.Query(ctx, "sized", time.Now())
	assert.ErrorContains(t, err, "Prometheus answer larger than 64 KiB")
}

// The body limit is exact: an answer of exactly the limit is read whole.
func TestLimitedBodyBoundary(t *testing.T) {
	for _, n := range []int{1023, 1024, 1025} {
		body := strings.Repeat("x", n)
		b := &limitedBody{rc: ioNopCloser{strings.NewReader(body)}, left: 1024 + 1, limit: 1024, fail: true}
		var got bytes.Buffer
		_, err := got.ReadFrom(b)
		if n <= 1024 {
			require.NoError(t, err, n)
			assert.Equal(t, n, got.Len())
		} else {
			var big *AnswerTooLargeError
			require.True(t, errors.As(err, &big), "%d: %v", n, err)
			assert.Equal(t, 1024, got.Len())
		}
	}
}

type ioNopCloser struct{ *strings.Reader }

func (ioNopCloser) Close() error { return nil }

// Range queries: one series with NaN and ±Inf kept, an empty matrix is no
// points, several series and bad PromQL are BadQueryErrors, the answer is
// bounded and errors never carry the credential.
func TestPrometheusQueryRange(t *testing.T) {
	var gotStep, gotStart string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		require.Equal(t, "/api/v1/query_range", r.URL.Path)
		gotStep, gotStart = r.Form.Get("step"), r.Form.Get("start")
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("query") {
		case "one":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"0.25"],[1700000001,"NaN"],[1700000002,"+Inf"],[1700000004,"-Inf"],[1700000005,"1e-3"]]}]}}`))
		case "empty":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
		case "two":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1700000000,"1"]]},{"metric":{"a":"2"},"values":[[1700000000,"2"]]}]}}`))
		case "big":
			_, _ = w.Write(manySeries(50_000))
		case "down":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "echo %s", r.Header.Get("Authorization"))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected identifier"}`))
		}
	}))
	defer srv.Close()
	p, err := NewPrometheus(srv.URL, WithCredentials(config.Credentials{BearerToken: secret}))
	require.NoError(t, err)
	ctx := context.Background()
	start := time.Unix(1700000000, 0)
	end := start.Add(5 * time.Second)

	pts, err := p.QueryRange(ctx, "one", start, end, time.Second)
	require.NoError(t, err)
	assert.Equal(t, "1", gotStep)
	assert.Equal(t, "1700000000", gotStart)
	require.Len(t, pts, 5)
	assert.Equal(t, 0.25, pts[0].Value)
	assert.True(t, start.Equal(pts[0].At))
	assert.True(t, math.IsNaN(pts[1].Value))
	assert.True(t, math.IsInf(pts[2].Value, 1))
	assert.True(t, math.IsInf(pts[3].Value, -1))
	assert.True(t, start.Add(4*time.Second).Equal(pts[3].At), "a missing step is a gap, not a zero")

	pts, err = p.QueryRange(ctx, "empty", start, end, time.Second)
	require.NoError(t, err)
	assert.Empty(t, pts)

	var bq *sli.BadQueryError
	_, err = p.QueryRange(ctx, "two", start, end, time.Second)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "returned 2 series")
	_, err = p.QueryRange(ctx, "rate(x[", start, end, time.Second)
	require.True(t, errors.As(err, &bq), "%v", err)
	_, err = p.QueryRange(ctx, "big", start, end, time.Second)
	require.True(t, errors.As(err, &bq), "%v", err)
	assert.Contains(t, err.Error(), "larger than 1 MiB")

	_, err = p.QueryRange(ctx, "down", start, end, time.Second)
	require.Error(t, err)
	assert.False(t, errors.As(err, &bq), "a server error stays retryable")
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), strings.TrimPrefix(srv.URL, "http://"))

	_, err = p.QueryRange(ctx, "one", end, start, time.Second)
	assert.ErrorContains(t, err, "empty window")
}
