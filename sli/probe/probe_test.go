package probe

import (
	"context"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

func httpGuard(url string, mod func(*sli.HTTPProbe)) sli.Guard {
	h := &sli.HTTPProbe{URL: url, Latency: duration.Duration(300 * time.Millisecond)}
	if mod != nil {
		mod(h)
	}
	return sli.Guard{Name: "health", Kind: sli.KindHTTP, HTTP: h, Op: sli.OpLE, Threshold: h.Latency.D().Seconds(), For: 1, OnError: sli.OnErrorAbort}
}

// listen accepts TCP connections on loopback and hands each to handle
// (which may keep it open: it is closed with the listener's test).
func listen(t *testing.T, handle func(net.Conn)) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			handle(c)
		}
	}()
	return l
}

func loopbackProber(t *testing.T) *Prober {
	a, err := ParseAllow("loopback")
	require.NoError(t, err)
	return New(a)
}

// Each way an answer can be bad, from a real HTTP server: what the probe
// returns is what the tracker judges (a bad sample, no data, or an error).
func TestHTTPProbeAnswers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"status":"ok"}`)) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.255.255.1/", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String() + "/"
	require.NoError(t, l.Close())
	// A server that accepts and never answers.
	hang := listen(t, func(net.Conn) {})

	p := loopbackProber(t)
	cases := []struct {
		name   string
		guard  sli.Guard
		noData bool
		bad    string // the reason of a bad answer; "" healthy
		inf    bool
	}{
		{"healthy", httpGuard(srv.URL+"/ok", nil), false, "", false},
		{"body matches", httpGuard(srv.URL+"/ok", func(h *sli.HTTPProbe) { h.Body = `"status":\s*"ok"` }), false, "", false},
		{"status out of range", httpGuard(srv.URL+"/down", nil), false, "status 503, want 200-399", false},
		{"status range given", httpGuard(srv.URL+"/ok", func(h *sli.HTTPProbe) { h.Status = "204" }), false, "status 200, want 204", false},
		{"body mismatch", httpGuard(srv.URL+"/ok", func(h *sli.HTTPProbe) { h.Body = "healthy" }), false, `body does not match "healthy"`, false},
		{"slow answer", httpGuard(srv.URL+"/slow", nil), false, "no answer within 300ms", true},
		{"hang", httpGuard("http://"+hang.Addr().String()+"/", nil), false, "no answer within 300ms", true},
		{"connection refused", httpGuard(closed, nil), true, "connection refused", false},
		{"redirect not followed", httpGuard(srv.URL+"/moved", func(h *sli.HTTPProbe) { h.Status = "200" }), false, "status 302, want 200", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := p.Probe(context.Background(), c.guard)
			tr := sli.NewTracker([]sli.Guard{c.guard})
			s, b := tr.Observe(0, v, err, time.Now())
			if c.bad == "" {
				require.NoError(t, err)
				assert.True(t, s.Healthy, s.Reading())
				assert.Less(t, v, 0.3)
				return
			}
			var ba *sli.BadAnswerError
			require.ErrorAs(t, err, &ba)
			assert.Equal(t, c.bad, ba.Reason)
			assert.Equal(t, c.noData, errors.Is(err, sli.ErrNoData))
			assert.Equal(t, c.inf, math.IsInf(v, 1), "no answer in time is +Inf: %v", v)
			require.NotNil(t, b, "a bad answer is a bad sample: for 1 breaches")
			assert.Empty(t, b.QueryError, "never a query error")
			assert.Contains(t, b.String(), c.bad)
			assert.Contains(t, b.String(), "health")
		})
	}
}

// A probe to a host the allow-list does not name is refused before
// anything is sent: in define (Allowed) with the guard's name, and at run
// time (an error: the probe could not run).
func TestProbeAllowList(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	for _, c := range []struct {
		allow string
		ok    bool
	}{
		{"", false},
		{"loopback", true},
		{"127.0.0.1:" + port, true},
		{"127.0.0.1:1-2", false},
		{"10.0.0.0/8", false},
		{"127.0.0.0/8:" + port, true},
		{"localhost", false}, // a name entry allows that name, not the address
	} {
		a, err := ParseAllow(c.allow)
		require.NoError(t, err, c.allow)
		p := New(a)
		g := httpGuard(srv.URL+"/", nil)
		err = p.Allowed(context.Background(), g)
		if c.ok {
			assert.NoError(t, err, c.allow)
			continue
		}
		require.Error(t, err, c.allow)
		assert.Contains(t, err.Error(), "guard health: probe target 127.0.0.1:"+port+" is not allowed")
		assert.Contains(t, err.Error(), "GAMEDAY_PROBE_ALLOW")
		before := hits
		_, err = p.Probe(context.Background(), g)
		var refused *RefusedError
		require.ErrorAs(t, err, &refused, "the probe is refused, not no data: %v", err)
		assert.Equal(t, before, hits, "nothing reached the server")
	}

	// A name is allowed by a name entry; otherwise by the addresses it
	// resolves to.
	a, err := ParseAllow("localhost:" + port)
	require.NoError(t, err)
	assert.NoError(t, New(a).Allowed(context.Background(), httpGuard("http://localhost:"+port+"/", nil)))
	a, err = ParseAllow("127.0.0.1")
	require.NoError(t, err)
	err = New(a).Allowed(context.Background(), httpGuard("http://localhost:"+port+"/", nil))
	if err != nil {
		assert.Contains(t, err.Error(), "resolves to ::1", "localhost resolving to ::1 is refused by a v4-only list")
	}
	a, err = ParseAllow("*.example.internal:443")
	require.NoError(t, err)
	assert.True(t, a.nameAllowed("api.example.internal", 443))
	assert.False(t, a.nameAllowed("example.internal.evil.test", 443))
	assert.False(t, a.nameAllowed("api.example.internal", 80))
}

func TestParseAllow(t *testing.T) {
	a, err := ParseAllow(" loopback, *.svc.cluster.local:8080 ,10.0.0.0/8:8000-8999,[fd00::/8]:443, db.internal, [::1]:*")
	require.NoError(t, err)
	assert.True(t, a.ipAllowed(net.ParseIP("127.0.0.5"), 1))
	assert.True(t, a.nameAllowed("localhost", 9))
	assert.True(t, a.nameAllowed("shop.svc.cluster.local", 8080))
	assert.False(t, a.nameAllowed("shop.svc.cluster.local", 8081))
	assert.True(t, a.ipAllowed(net.ParseIP("10.1.2.3"), 8500))
	assert.False(t, a.ipAllowed(net.ParseIP("10.1.2.3"), 9000))
	assert.True(t, a.ipAllowed(net.ParseIP("fd00::1"), 443))
	assert.True(t, a.nameAllowed("DB.internal.", 5432))
	assert.False(t, a.ipAllowed(net.ParseIP("192.168.1.1"), 80))
	for _, bad := range []string{"10.0.0.0/33", "host:0", "host:80-70", "a..b", "*", "x:y"} {
		_, err := ParseAllow(bad)
		assert.Error(t, err, bad)
	}
	var zero Allow
	assert.True(t, zero.Empty())
}

// TCP: connect within the limit; refused is no data; the value is the
// connect time.
func TestTCPProbe(t *testing.T) {
	l := listen(t, func(c net.Conn) { c.Close() })
	p := loopbackProber(t)
	g := sli.Guard{Name: "redis", Kind: sli.KindTCP, TCP: &sli.TCPProbe{Address: l.Addr().String(), Latency: duration.Duration(time.Second)}}
	v, err := p.Probe(context.Background(), g)
	require.NoError(t, err)
	assert.Less(t, v, 1.0)
	addr := l.Addr().String()
	l.Close()
	g.TCP.Address = addr
	_, err = p.Probe(context.Background(), g)
	var ba *sli.BadAnswerError
	require.ErrorAs(t, err, &ba)
	assert.True(t, ba.NoData)
	assert.Equal(t, "connection refused", ba.Reason)
}

// A URL's credentials never show: not in errors, not in the guard's
// description.
func TestProbeRedactsCredentials(t *testing.T) {
	p := loopbackProber(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	g := httpGuard("http://user:s3cretpw@"+addr+"/health?access_token=t0kenvalue", nil)
	_, err = p.Probe(context.Background(), g)
	require.Error(t, err)
	for _, s := range []string{err.Error(), g.Source()} {
		assert.NotContains(t, s, "s3cretpw")
		assert.NotContains(t, s, "t0kenvalue")
	}
	assert.Contains(t, g.Source(), "GET http://"+addr+"/health?access_token=REDACTED, status 200-399, within 300ms")
}

// The odd ways of writing this machine's address (decimal, octal, short,
// IPv4-mapped IPv6, a trailing dot, upper case) reach nothing a list that
// does not allow it: define refuses them and the probe sends nothing.
// Where a form does name loopback, a list allowing loopback allows it.
func TestProbeAllowListOddForms(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { mu.Lock(); hits++; mu.Unlock() }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	other, err := ParseAllow("10.0.0.0/8, *.example.internal, [fd00::/8]")
	require.NoError(t, err)
	p := New(other)
	for _, host := range []string{"2130706433", "0177.0.0.1", "127.1", "0x7f.0.0.1", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
		"localhost.", "LOCALHOST", "127.0.0.1.", "[::1]", "0.0.0.0", "[::]", "localhost.example.internal.evil.test"} {
		g := httpGuard("http://"+host+":"+port+"/", nil)
		assert.Error(t, p.Allowed(context.Background(), g), host)
		_, err := p.Probe(context.Background(), g)
		assert.Error(t, err, host)
		g = sli.Guard{Name: "t", Kind: sli.KindTCP, TCP: &sli.TCPProbe{Address: net.JoinHostPort(strings.Trim(host, "[]"), port), Latency: duration.Duration(300 * time.Millisecond)}}
		assert.Error(t, p.Allowed(context.Background(), g), host)
		_, err = p.Probe(context.Background(), g)
		assert.Error(t, err, host)
	}
	mu.Lock()
	assert.Zero(t, hits, "nothing reached the server")
	mu.Unlock()

	lo := loopbackProber(t)
	for _, host := range []string{"[::ffff:127.0.0.1]", "localhost.", "LocalHost"} {
		g := httpGuard("http://"+host+":"+port+"/", nil)
		assert.NoError(t, lo.Allowed(context.Background(), g), host)
	}
}
