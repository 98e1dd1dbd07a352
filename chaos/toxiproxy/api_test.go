package toxiproxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/internal/errkind"
)

// hungAPI accepts connections and never answers, like a toxiproxy server
// whose process is stopped (SIGSTOP) or wedged. Each accepted connection is
// signalled on the returned channel.
func hungAPI(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String(), ch
}

// returns runs call and fails the test if it has not returned within
// limit: far below the 30s the Shopify client waits, far above what a
// context-aware call needs after its context ends.
func returns(t *testing.T, limit time.Duration, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("the call did not return %s after its context ended", limit)
		return nil
	}
}

func TestHungAPIEndsInjectAndRecoverWithTheContext(t *testing.T) {
	addr, accepted := hungAPI(t)
	url := "http://" + addr
	b := toxiproxy.New(url)
	f := fault("gd-abc-f6", "latency", time.Minute, map[string]any{"latency": "10ms"})

	t.Run("inject, deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := returns(t, 10*time.Second, func() error { _, err := b.Inject(ctx, f); return err })
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, errkind.IsPermanent(err), "a hung API is worth retrying: %v", err)
		assert.Contains(t, err.Error(), url)
	})

	t.Run("recover, cancel", func(t *testing.T) {
		for len(accepted) > 0 {
			<-accepted
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-accepted // the request reached the server, which will never answer
			cancel()
		}()
		err := returns(t, 10*time.Second, func() error { _, err := b.Recover(ctx, f); return err })
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, errkind.IsPermanent(err))
	})

	t.Run("reap, deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := returns(t, 10*time.Second, func() error { _, err := b.Reap(ctx, time.Now()); return err })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("resolve and list, deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		err := returns(t, 10*time.Second, func() error { _, err := b.Resolve(ctx, f); return err })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		err = returns(t, 10*time.Second, func() error { _, err := b.List(ctx); return err })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestCancelledContextMakesNoRequest(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := toxiproxy.New(srv.URL).Recover(ctx, fault("gd-abc-f7", "latency", time.Second, map[string]any{"latency": "1ms"}))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, requests.Load())
}

// noSecrets checks that err names the API by its redacted URL and never
// shows the credentials.
func noSecrets(t *testing.T, err error, redacted string) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "s3cret")
	assert.NotContains(t, msg, "alice")
	assert.NotContains(t, msg, "@")
	assert.Contains(t, msg, redacted)
}

func TestCredentialsInTheURLNeverShowInErrors(t *testing.T) {
	f := fault("gd-abc-f8", "latency", time.Second, map[string]any{"latency": "10ms"})
	withCreds := func(u string) string { return strings.Replace(u, "http://", "http://alice:s3cret@", 1) }

	t.Run("sent as basic auth", func(t *testing.T) {
		var mu sync.Mutex
		var user, pass string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			user, pass, _ = r.BasicAuth()
			mu.Unlock()
			_, _ = io.WriteString(w, `{}`)
		}))
		defer srv.Close()
		_, err := toxiproxy.New(withCreds(srv.URL)).List(context.Background())
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, "alice", user)
		assert.Equal(t, "s3cret", pass)
		assert.Equal(t, srv.URL, toxiproxy.New(withCreds(srv.URL)).URL())
	})

	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		url := "http://" + l.Addr().String()
		require.NoError(t, l.Close())
		b := toxiproxy.New(withCreds(url))
		_, err = b.Inject(context.Background(), f)
		noSecrets(t, err, url)
		_, err = b.Recover(context.Background(), f)
		noSecrets(t, err, url)
		_, err = b.Reap(context.Background(), time.Now())
		noSecrets(t, err, url)
	})

	t.Run("hung", func(t *testing.T) {
		addr, _ := hungAPI(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := toxiproxy.New(withCreds("http://"+addr)).Inject(ctx, f)
		noSecrets(t, err, "http://"+addr)
	})

	t.Run("server error and unknown proxy", func(t *testing.T) {
		var status atomic.Int32
		status.Store(http.StatusInternalServerError)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s := int(status.Load()); s != http.StatusOK {
				http.Error(w, "boom", s)
				return
			}
			_, _ = io.WriteString(w, `{"other":{"name":"other","listen":"127.0.0.1:1","upstream":"127.0.0.1:2","enabled":true,"toxics":[]}}`)
		}))
		defer srv.Close()
		b := toxiproxy.New(withCreds(srv.URL))
		_, err := b.Inject(context.Background(), f)
		noSecrets(t, err, srv.URL)

		status.Store(http.StatusOK)
		_, err = b.Inject(context.Background(), f)
		noSecrets(t, err, srv.URL)
		assert.ErrorIs(t, err, toxiproxy.ErrNotFound)
	})

	t.Run("not a URL", func(t *testing.T) {
		b := toxiproxy.New("http://alice:s3cret@host:port/")
		_, err := b.Inject(context.Background(), f)
		noSecrets(t, err, "http://host:port")
		assert.True(t, errkind.IsPermanent(err), "an endpoint that is not a URL does not get better: %v", err)
	})
}

func TestAPIAnswersAreClassified(t *testing.T) {
	f := fault("gd-abc-f9", "latency", time.Second, map[string]any{"latency": "10ms"})
	for _, c := range []struct {
		status    int
		body      string
		permanent bool
		want      string
	}{
		{http.StatusBadRequest, `{"error":"bad toxic","status":400}`, true, "HTTP 400: bad toxic"},
		// Not JSON: still a 4xx, still permanent (the Shopify client
		// returned its JSON error instead, which looked transient).
		{http.StatusForbidden, "forbidden by proxy", true, "HTTP 403: forbidden by proxy"},
		{http.StatusInternalServerError, `{"error":"internal","status":500}`, false, "HTTP 500: internal"},
		{http.StatusBadGateway, "", false, "HTTP 502: Bad Gateway"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
		}))
		b := toxiproxy.New(srv.URL)
		for name, call := range map[string]func() error{
			"inject":  func() error { _, err := b.Inject(context.Background(), f); return err },
			"recover": func() error { _, err := b.Recover(context.Background(), f); return err },
		} {
			err := call()
			require.Error(t, err, "%d %s", c.status, name)
			assert.Equal(t, c.permanent, errkind.IsPermanent(err), "%d %s: %v", c.status, name, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "toxiproxy API "+srv.URL+": list proxies")
			var ae *toxiproxy.APIError
			require.True(t, errors.As(err, &ae))
			assert.Equal(t, c.status, ae.Status)
		}
		srv.Close()
	}
}

// A retry on another worker, at a clock that is not on a whole second,
// reports the start of the first inject (within the second the deadline
// was rounded to), not its own time.
func TestRetriedInjectReportsTheFirstStart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Unix(1_700_000_000, 250_000_000).UTC()
	f := fault("gd-abc-f10", "latency", time.Minute, map[string]any{"latency": "5ms"})

	first, err := toxiproxy.New(e.apiURL, toxiproxy.WithClock(func() time.Time { return start })).Inject(ctx, f)
	require.NoError(t, err)
	assert.Equal(t, start, first.Since, "a new toxic takes effect now")

	retryAt := start.Add(40 * time.Second)
	again, err := toxiproxy.New(e.apiURL, toxiproxy.WithClock(func() time.Time { return retryAt })).Inject(ctx, f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.WithinRange(t, again.Since, start, start.Add(time.Second))
	assert.Equal(t, time.Unix(1_700_000_001, 0).UTC(), again.Since, "deadline 1700000071 - 10s margin - 1m")

	// A worker configured with a smaller margin would place the start
	// after it was; it never reports a start in the future.
	early := start.Add(time.Second)
	odd, err := toxiproxy.New(e.apiURL, toxiproxy.WithTTLMargin(0), toxiproxy.WithClock(func() time.Time { return early })).Inject(ctx, f)
	require.NoError(t, err)
	assert.False(t, odd.Since.After(early))
}
