package demo_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/demo"
)

// testClient owns its transport so the test can drop its connections and
// not be mistaken for a leak.
func testClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Timeout: 5 * time.Second, Transport: tr}
}

func start(t *testing.T, cfg demo.Config) *demo.Shop {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := demo.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func body(t *testing.T, c *http.Client, method, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestOrdersAndMetrics(t *testing.T) {
	s := start(t, demo.Config{}) // default load: 20 rps
	c := testClient(t)

	for _, u := range []string{s.OrderURL(), s.InventoryURL(), s.ToxiproxyURL(), s.MetricsURL()} {
		assert.Regexp(t, `^http://127\.0\.0\.1:\d+`, u)
	}
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, s.MetricsTarget())
	assert.Equal(t, s.OrderURL()+"/metrics", s.MetricsURL())

	code, b := body(t, c, http.MethodPost, s.OrderURL()+"/orders?sku=widget&qty=2")
	assert.Equal(t, http.StatusOK, code, b)
	assert.Contains(t, b, `"status":"confirmed"`)
	code, _ = body(t, c, http.MethodGet, s.OrderURL()+"/orders")
	assert.Equal(t, http.StatusOK, code)
	code, b = body(t, c, http.MethodGet, s.InventoryURL()+"/stock?sku=widget")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, b, `"sku":"widget"`)

	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^http_requests_total\{handler="/orders",service="order",status="200"\} \d+`),
		regexp.MustCompile(`(?m)^http_requests_total\{handler="/stock",service="inventory",status="200"\} \d+`),
		regexp.MustCompile(`(?m)^http_request_duration_seconds_bucket\{handler="/orders",service="order",status="200",le="0\.3"\} \d+`),
		regexp.MustCompile(`(?m)^http_request_duration_seconds_bucket\{handler="/stock",service="inventory",status="200",le="0\.005"\} \d+`),
		regexp.MustCompile(`(?m)^go_goroutines `),
	}
	// The load generator alone must push the order count past what this
	// test sent by hand.
	loaded := regexp.MustCompile(`(?m)^http_requests_total\{handler="/orders",service="order",status="200"\} ([3-9]|\d\d+)$`)
	var last string
	assert.Eventually(t, func() bool {
		_, last = body(t, c, http.MethodGet, s.MetricsURL())
		if !loaded.MatchString(last) {
			return false
		}
		for _, re := range want {
			if !re.MatchString(last) {
				return false
			}
		}
		return true
	}, 5*time.Second, 50*time.Millisecond)
	if t.Failed() {
		t.Logf("last /metrics:\n%s", grep(last, "http_"))
	}
}

// A fault injected with the chaos back-end reaches the order path: a
// timeout toxic that closes inventory connections turns orders into 503s,
// and recovering it restores 200s.
func TestFaultThroughProxyAndRecover(t *testing.T) {
	s := start(t, demo.Config{LoadRPS: -1})
	c := testClient(t)
	b := toxiproxy.New(s.ToxiproxyURL())
	f := chaos.Fault{
		ID: "gd-test-f0", Action: "timeout", Duration: 10 * time.Second,
		Params: map[string]any{"timeout": "50ms"},
		Target: chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": demo.InventoryProxy}},
	}
	code, _ := body(t, c, http.MethodPost, s.OrderURL()+"/orders")
	require.Equal(t, http.StatusOK, code)

	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	code, msg := body(t, c, http.MethodPost, s.OrderURL()+"/orders")
	assert.Equal(t, http.StatusServiceUnavailable, code, msg)
	assert.Contains(t, msg, "inventory unavailable")

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, rec.Removed)
	assert.Eventually(t, func() bool {
		code, _ := body(t, c, http.MethodPost, s.OrderURL()+"/orders")
		return code == http.StatusOK
	}, 3*time.Second, 20*time.Millisecond)

	_, m := body(t, c, http.MethodGet, s.MetricsURL())
	assert.Regexp(t, `(?m)^http_requests_total\{handler="/orders",service="order",status="503"\} 1$`, m)
}

func TestReaperRemovesExpiredToxic(t *testing.T) {
	const interval = 50 * time.Millisecond
	s := start(t, demo.Config{LoadRPS: -1, ReapInterval: interval})
	cl := toxiclient.NewClient(s.ToxiproxyURL())
	p, err := cl.Proxy(demo.InventoryProxy)
	require.NoError(t, err)

	expired := toxiproxy.ToxicName("gd-reap-f0", time.Now().Add(-time.Second))
	live := toxiproxy.ToxicName("gd-reap-f1", time.Now().Add(time.Hour))
	for _, n := range []string{expired, live} {
		_, err := p.AddToxic(n, "latency", "downstream", 1, toxiclient.Attributes{"latency": 1000})
		require.NoError(t, err)
	}

	names := func() []string {
		ts, err := p.Toxics()
		require.NoError(t, err)
		var out []string
		for _, tx := range ts {
			out = append(out, tx.Name)
		}
		return out
	}
	// A couple of intervals, with slack for -race and a loaded machine.
	assert.Eventually(t, func() bool {
		return !contains(names(), expired)
	}, 40*interval, interval/5)
	assert.Equal(t, []string{live}, names(), "unexpired toxic must survive the reaper")
}

func TestCloseReleasesPortsAndGoroutines(t *testing.T) {
	for action, params := range map[string]map[string]any{
		"latency": {"latency": "2s"},
		"timeout": {"timeout": "0s"}, // holds data until removed
	} {
		for _, mode := range []demo.Mode{demo.ModePlain, demo.ModeSeed} {
			t.Run(action+"/"+string(mode), func(t *testing.T) { testClose(t, mode, action, params) })
		}
	}
}

func testClose(t *testing.T, mode demo.Mode, action string, params map[string]any) {
	before := runtime.NumGoroutine()
	ctx := context.Background()
	s, err := demo.Start(ctx, demo.Config{LoadRPS: 200, ReapInterval: 20 * time.Millisecond, Logger: testLogger(t), Mode: mode})
	require.NoError(t, err)

	// Let load, reaping and a held fault all be in flight when closing.
	b := toxiproxy.New(s.ToxiproxyURL())
	_, err = b.Inject(ctx, chaos.Fault{
		ID: "gd-close-f0", Action: action, Duration: time.Minute, Params: params,
		Target: chaos.Target{Selector: map[string]string{"proxy": demo.InventoryProxy}},
	})
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)

	addrs := []string{host(t, s.OrderURL()), host(t, s.InventoryURL()), host(t, s.ToxiproxyURL()), s.InventoryProxyAddr()}
	for _, p := range demo.Proxies {
		addrs = append(addrs, s.ProxyAddr(p), host(t, s.ServiceURL(p)))
	}
	done := make(chan error, 1)
	closeStart := time.Now()
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("Close did not return\n%s", buf[:runtime.Stack(buf, true)])
	}
	t.Logf("Close took %s", time.Since(closeStart))
	require.NoError(t, s.Close(), "second Close is a no-op")

	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if assert.NoError(t, err, "port %s still held", a) {
			_ = l.Close()
		}
	}

	// Polled by hand: assert.Eventually runs its own goroutines.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("goroutines drained %s after Close", time.Since(closeStart))
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines leaked: before %d, after %d\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestRunStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- demo.Run(ctx, demo.Config{LoadRPS: -1}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	_, err = demo.Start(context.Background(), demo.Config{LoadRPS: -1, OrderAddr: l.Addr().String()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "order")
}

// testLogger sends the shop's warnings and errors to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func host(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
