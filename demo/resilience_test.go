package demo

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/telemetry"
)

// The breaker opens exactly when 30 % of at least 10 calls in the window
// have failed; 20 % keeps it closed; a 4xx never counts.
func TestBreakerOpensAtThirtyPercent(t *testing.T) {
	fail := errors.New("boom")
	run := func(cb *gobreaker.CircuitBreaker[[]byte], errs ...error) {
		for _, e := range errs {
			_, _ = cb.Execute(func() ([]byte, error) { return nil, e })
		}
	}
	times := func(n int, e error) []error {
		out := make([]error, n)
		for i := range out {
			out[i] = e
		}
		return out
	}

	cb := gobreaker.NewCircuitBreaker[[]byte](breakerSettings("t"))
	run(cb, times(7, nil)...)
	run(cb, fail, fail) // 2 of 9: below the minimum count and the ratio
	assert.Equal(t, gobreaker.StateClosed, cb.State())
	run(cb, fail) // 3 of 10 = 30 %
	assert.Equal(t, gobreaker.StateOpen, cb.State(), "opens at the 10th call, 3 failures: 30 %%")
	_, err := cb.Execute(func() ([]byte, error) { t.Fatal("an open breaker must not call"); return nil, nil })
	assert.True(t, rejected(err), "%v", err)

	cb = gobreaker.NewCircuitBreaker[[]byte](breakerSettings("t"))
	run(cb, times(8, nil)...)
	run(cb, fail, fail) // 20 %
	run(cb, times(10, nil)...)
	assert.Equal(t, gobreaker.StateClosed, cb.State(), "20 %% failures keep it closed")

	cb = gobreaker.NewCircuitBreaker[[]byte](breakerSettings("t"))
	run(cb, times(20, &statusError{hop: "t", code: http.StatusNotFound})...)
	run(cb, times(5, context.Canceled)...)
	assert.Equal(t, gobreaker.StateClosed, cb.State(), "4xx and abandoned calls are not the dependency's failures")

	cb = gobreaker.NewCircuitBreaker[[]byte](breakerSettings("t"))
	run(cb, times(BreakerMinRequests-1, fail)...)
	assert.Equal(t, gobreaker.StateClosed, cb.State(), "fewer than %d calls never open it", BreakerMinRequests)
}

// At most 2 retries on a 5xx or a dropped connection, none on a 4xx
// (429 included: the seed skips every 4xx).
func TestRetriesAtMostTwiceNeverOn4xx(t *testing.T) {
	for _, c := range []struct {
		status   int
		attempts int32
	}{
		{http.StatusServiceUnavailable, 1 + RetryMax},
		{http.StatusInternalServerError, 1 + RetryMax},
		{http.StatusBadRequest, 1},
		{http.StatusNotFound, 1},
		{http.StatusTooManyRequests, 1},
		{http.StatusOK, 1},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				n.Add(1)
				w.WriteHeader(c.status)
			}))
			defer srv.Close()
			cl := newClient(hop{name: "t", url: srv.URL, timeout: time.Second}, telemetry.Off())
			defer cl.transport.CloseIdleConnections()
			_, err := cl.call(context.Background(), http.MethodGet, "/", nil)
			assert.Equal(t, c.attempts, n.Load())
			if c.status == http.StatusOK {
				assert.NoError(t, err)
			} else {
				assert.Equal(t, c.status >= 400 && c.status < 500, clientError(err), "%v", err)
			}
		})
	}

	t.Run("dropped connection", func(t *testing.T) {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n.Add(1)
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = c.Close()
			}
		}))
		defer srv.Close()
		cl := newClient(hop{name: "t", url: srv.URL, timeout: time.Second}, telemetry.Off())
		defer cl.transport.CloseIdleConnections()
		_, err := cl.call(context.Background(), http.MethodGet, "/", nil)
		assert.Error(t, err)
		assert.Equal(t, int32(1+RetryMax), n.Load())
	})
}

// Every attempt carries what is left of the caller's deadline, capped by
// the hop and attempt timeouts, and the served handler's context ends then.
func TestBudgetPropagatesToEachHop(t *testing.T) {
	type seen struct {
		header int64
		left   time.Duration
	}
	got := make(chan seen, 10)
	srv := httptest.NewServer(budgeted(serviceCap, func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.ParseInt(r.Header.Get(BudgetHeader), 10, 64)
		d, ok := r.Context().Deadline()
		require.True(t, ok, "a served request always has a deadline")
		got <- seen{ms, time.Until(d)}
		w.WriteHeader(http.StatusBadGateway) // retried: one header per attempt
	}))
	defer srv.Close()

	cl := newClient(hop{name: "t", url: srv.URL, timeout: 300 * time.Millisecond, attempt: 120 * time.Millisecond}, telemetry.Off())
	defer cl.transport.CloseIdleConnections()

	// A generous caller: each attempt gets the attempt cap.
	_, _ = cl.call(context.Background(), http.MethodGet, "/", nil)
	for range 1 + RetryMax {
		s := <-got
		assert.LessOrEqual(t, s.header, int64(120))
		assert.Greater(t, s.header, int64(100))
		assert.LessOrEqual(t, s.left, 120*time.Millisecond)
	}

	// A caller with 60 ms left: the attempts share those 60 ms, each told
	// what remains, and the call ends by then.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Millisecond)
	defer cancel()
	_, err := cl.call(ctx, http.MethodGet, "/", nil)
	assert.Error(t, err)
	prev := int64(61)
	for len(got) > 0 {
		s := <-got
		assert.LessOrEqual(t, s.header, int64(60))
		assert.Less(t, s.header, prev, "later attempts have less left")
		prev = s.header
		assert.LessOrEqual(t, s.left, 60*time.Millisecond)
	}

	// No header: the service's own cap.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	var left time.Duration
	budgeted(150*time.Millisecond, func(_ http.ResponseWriter, r *http.Request) {
		d, _ := r.Context().Deadline()
		left = time.Until(d)
	})(httptest.NewRecorder(), req)
	assert.InDelta(t, 150*time.Millisecond, left, float64(20*time.Millisecond))
}

// The local cache is bounded (LRU) and entries expire.
func TestLocalCacheBoundedWithTTL(t *testing.T) {
	c := newLocalCache(3, 50*time.Millisecond)
	for _, k := range []string{"a", "b", "c"} {
		c.put(k, item{SKU: k})
	}
	_, _ = c.get("a") // a is now the most recent
	c.put("d", item{SKU: "d"})
	assert.Equal(t, 3, c.len())
	_, ok := c.get("b")
	assert.False(t, ok, "least recently used is evicted")
	it, ok := c.get("a")
	assert.True(t, ok)
	assert.Equal(t, "a", it.SKU)
	time.Sleep(60 * time.Millisecond)
	_, ok = c.get("a")
	assert.False(t, ok, "expired")
}
