package toxiproxy_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	toxiserver "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/internal/errkind"
)

// env is a real embedded toxiproxy API with one proxy "inventory" in front
// of a local HTTP upstream.
type env struct {
	apiURL    string
	proxyAddr string
	client    *toxiclient.Client
}

func newEnv(t *testing.T) env {
	t.Helper()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(upstream.Close)

	api := toxiserver.NewServer(toxiserver.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	srv := httptest.NewServer(api.Routes()) // listens on 127.0.0.1:0
	p := toxiserver.NewProxy(api, "inventory", "127.0.0.1:0", upstream.Listener.Addr().String())
	require.NoError(t, api.Collection.Add(p, true))
	t.Cleanup(func() {
		_ = api.Collection.Clear() // stops the proxy and its connections
		srv.Close()
	})
	return env{apiURL: srv.URL, proxyAddr: p.Listen, client: toxiclient.NewClient(srv.URL)}
}

func fault(id, action string, d time.Duration, params map[string]any) chaos.Fault {
	return chaos.Fault{
		ID: id, Backend: "toxiproxy", Action: action, Duration: d, Params: params,
		Target: chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}},
	}
}

func toxics(t *testing.T, e env) toxiclient.Toxics {
	t.Helper()
	p, err := e.client.Proxy("inventory")
	require.NoError(t, err)
	ts, err := p.Toxics()
	require.NoError(t, err)
	return ts
}

// get fetches through the proxy on a fresh connection, so toxics added
// after a previous request cannot be dodged by a pooled connection.
func get(proxyAddr string, timeout time.Duration) (time.Duration, error) {
	c := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	start := time.Now()
	resp, err := c.Get("http://" + proxyAddr + "/")
	if err != nil {
		return time.Since(start), err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return time.Since(start), err
}

func TestInjectIdempotentDelaysAndRecover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	b := toxiproxy.New(e.apiURL, toxiproxy.WithClock(func() time.Time { return now }), toxiproxy.WithTTLMargin(5*time.Second))
	f := fault("gd-abc-f0", "latency", time.Minute, map[string]any{"latency": "300ms", "jitter": "0s"})

	res, err := b.Resolve(ctx, f)
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.Regexp(t, `^toxiproxy proxy "inventory" 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ \(latency 300ms ±0s on 100% of downstream\)$`, res[0])
	assert.Empty(t, toxics(t, e), "resolve must not touch the proxy")

	inj, err := b.Inject(ctx, f)
	require.NoError(t, err)
	wantName := "gd-abc-f0." + "1700000065" // now + 1m + 5s margin
	assert.Equal(t, chaos.Injected{FaultID: f.ID, Backend: "toxiproxy", Object: "inventory/" + wantName, Expires: time.Unix(1_700_000_065, 0).UTC(), Since: now}, inj)
	ts := toxics(t, e)
	require.Len(t, ts, 1)
	assert.Equal(t, wantName, ts[0].Name)
	assert.Equal(t, "latency", ts[0].Type)
	assert.Equal(t, "downstream", ts[0].Stream)
	assert.EqualValues(t, 1, ts[0].Toxicity)
	assert.EqualValues(t, 300, ts[0].Attributes["latency"])

	// A retry later (different clock, so a different deadline) finds the
	// first toxic instead of adding a second one.
	now = now.Add(30 * time.Second)
	again, err := b.Inject(ctx, f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, inj.Object, again.Object)
	assert.Equal(t, inj.Expires, again.Expires)
	assert.True(t, inj.Since.Equal(again.Since), "the first inject's start (%s), not the retry's (%s): got %s", inj.Since, now, again.Since)
	assert.Len(t, toxics(t, e), 1)

	// Behaviour: a request through the proxy takes at least the latency.
	took, err := get(e.proxyAddr, 5*time.Second)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, took, 300*time.Millisecond)

	list, err := b.List(ctx)
	require.NoError(t, err)
	assert.Equal(t, []chaos.Injected{{FaultID: f.ID, Backend: "toxiproxy", Object: inj.Object, Expires: inj.Expires}}, list)

	rec, err := b.Recover(ctx, f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: f.ID, Removed: true}, rec)
	assert.Empty(t, toxics(t, e))

	rec, err = b.Recover(ctx, f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: f.ID, AlreadyGone: true}, rec)
}

func TestTimeoutHoldsUntilRecovered(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := toxiproxy.New(e.apiURL)
	f := fault("gd-abc-f1", "timeout", 10*time.Second, map[string]any{"timeout": "0s", "toxicity": 1.0, "stream": "upstream"})

	before := time.Now()
	inj, err := b.Inject(ctx, f)
	require.NoError(t, err)
	assert.False(t, inj.Existing)
	// default margin 10s, rounded up to whole seconds
	assert.WithinRange(t, inj.Expires, before.Add(20*time.Second).Truncate(time.Second), time.Now().Add(21*time.Second))
	ts := toxics(t, e)
	require.Len(t, ts, 1)
	assert.Equal(t, "timeout", ts[0].Type)
	assert.Equal(t, "upstream", ts[0].Stream)

	_, err = get(e.proxyAddr, 300*time.Millisecond)
	require.Error(t, err, "request should hang while the timeout toxic holds data")

	_, err = b.Recover(ctx, f)
	require.NoError(t, err)
	_, err = get(e.proxyAddr, 5*time.Second)
	require.NoError(t, err)
}

func TestRecoverFindsFaultOnAnyProxy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := toxiproxy.New(e.apiURL)
	f := fault("gd-abc-f2", "latency", time.Second, map[string]any{"latency": "10ms"})
	_, err := b.Inject(ctx, f)
	require.NoError(t, err)

	f.Target.Selector["proxy"] = "somewhere-else" // target edited since inject
	rec, err := b.Recover(ctx, f)
	require.NoError(t, err)
	assert.True(t, rec.Removed)
	assert.Empty(t, toxics(t, e))
}

func TestReapRemovesOnlyExpiredGamedayToxics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Proxy("inventory")
	require.NoError(t, err)
	now := time.Now()
	expired := toxiproxy.ToxicName("gd-x-f0", now.Add(-time.Second))
	live := toxiproxy.ToxicName("gd-x-f1", now.Add(time.Hour))
	for _, name := range []string{expired, live, "someone-elses"} {
		_, err := p.AddToxic(name, "latency", "downstream", 1, toxiclient.Attributes{"latency": 1})
		require.NoError(t, err)
	}

	removed, err := toxiproxy.New(e.apiURL).Reap(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"inventory/" + expired}, removed)
	var names []string
	for _, tx := range toxics(t, e) {
		names = append(names, tx.Name)
	}
	assert.ElementsMatch(t, []string{live, "someone-elses"}, names)

	removed, err = toxiproxy.New(e.apiURL).Reap(ctx, now)
	require.NoError(t, err)
	assert.Empty(t, removed)

	// List shows only gameday's own toxic.
	list, err := toxiproxy.New(e.apiURL).List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "gd-x-f1", list[0].FaultID)
}

func TestUnknownProxyIsPermanent(t *testing.T) {
	e := newEnv(t)
	b := toxiproxy.New(e.apiURL)
	f := fault("gd-abc-f3", "latency", time.Second, map[string]any{"latency": "10ms"})
	f.Target.Selector["proxy"] = "payments"

	for name, call := range map[string]func() error{
		"resolve": func() error { _, err := b.Resolve(context.Background(), f); return err },
		"inject":  func() error { _, err := b.Inject(context.Background(), f); return err },
	} {
		err := call()
		require.Error(t, err, name)
		assert.ErrorIs(t, err, toxiproxy.ErrNotFound, name)
		var pe *toxiproxy.PermanentError
		assert.ErrorAs(t, err, &pe, name)
		assert.Contains(t, err.Error(), `"payments"`, name)
		assert.Contains(t, err.Error(), "existing proxies: inventory", name)
	}
}

func TestBadParamsArePermanentFieldErrors(t *testing.T) {
	e := newEnv(t)
	b := toxiproxy.New(e.apiURL)
	_, err := b.Inject(context.Background(), fault("gd-abc-f4", "latency", time.Second, map[string]any{"latency": "-1s"}))
	var pe *toxiproxy.PermanentError
	require.ErrorAs(t, err, &pe)
	var fe *errkind.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "latency", fe.Field)
	assert.Empty(t, toxics(t, e))

	_, err = b.Inject(context.Background(), fault("bad/id", "latency", time.Second, map[string]any{"latency": "1s"}))
	require.ErrorAs(t, err, &pe)
}

func TestUnreachableAPIIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	b := toxiproxy.New(url)
	f := fault("gd-abc-f5", "latency", time.Second, map[string]any{"latency": "10ms"})
	_, err = b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), url)
	var pe *toxiproxy.PermanentError
	assert.False(t, errors.As(err, &pe), "unreachable API must be retryable: %v", err)

	_, err = b.Recover(context.Background(), f)
	require.Error(t, err)
	assert.False(t, errors.As(err, &pe))
}

func TestValidators(t *testing.T) {
	d, ok := chaos.Lookup("toxiproxy")
	require.True(t, ok, "driver registered at init")
	assert.Equal(t, []string{"latency", "timeout"}, d.ActionNames())

	good := []struct {
		action string
		params map[string]any
	}{
		{"latency", map[string]any{"latency": "500ms"}},
		{"latency", map[string]any{"latency": "1s", "jitter": "100ms", "toxicity": 0.5, "stream": "upstream"}},
		{"latency", map[string]any{"latency": "1s", "toxicity": float64(1)}},
		{"timeout", map[string]any{"timeout": "0s"}},
		{"timeout", map[string]any{"timeout": "5s", "toxicity": 0.0, "stream": "downstream"}},
	}
	for _, c := range good {
		assert.NoError(t, d.Actions[c.action](c.params), "%s %v", c.action, c.params)
	}

	bad := []struct {
		action string
		params map[string]any
		field  string
	}{
		{"latency", map[string]any{}, "latency"},
		{"latency", map[string]any{"latency": "0s"}, "latency"},
		{"latency", map[string]any{"latency": "fast"}, "latency"},
		{"latency", map[string]any{"latency": 100}, "latency"},
		{"latency", map[string]any{"latency": "1s", "jitter": "-1ms"}, "jitter"},
		{"latency", map[string]any{"latency": "1s", "toxicity": 1.5}, "toxicity"},
		{"latency", map[string]any{"latency": "1s", "toxicity": -0.1}, "toxicity"},
		{"latency", map[string]any{"latency": "1s", "toxicity": "all"}, "toxicity"},
		{"latency", map[string]any{"latency": "1s", "stream": "sideways"}, "stream"},
		{"latency", map[string]any{"latency": "1s", "timeout": "1s"}, "timeout"},
		{"timeout", map[string]any{}, "timeout"},
		{"timeout", map[string]any{"timeout": "-1s"}, "timeout"},
		{"timeout", map[string]any{"timeout": "1s", "latency": "1s"}, "latency"},
	}
	for _, c := range bad {
		err := d.Actions[c.action](c.params)
		var fe *errkind.FieldError
		if assert.ErrorAs(t, err, &fe, "%s %v", c.action, c.params) {
			assert.Equal(t, c.field, fe.Field, "%s %v: %v", c.action, c.params, err)
		}
	}

	require.NotNil(t, d.ValidateTarget)
	assert.NoError(t, d.ValidateTarget(chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}}))
	var fe *errkind.FieldError
	require.ErrorAs(t, d.ValidateTarget(chaos.Target{Backend: "toxiproxy"}), &fe)
	assert.Equal(t, "selector.proxy", fe.Field)
	require.ErrorAs(t, d.ValidateTarget(chaos.Target{Selector: map[string]string{"proxy": ""}}), &fe)
}

func TestToxicNameRoundTrip(t *testing.T) {
	dl := time.Unix(1_700_000_123, 0).UTC()
	name := toxiproxy.ToxicName("gd-0123456789ab-f3", dl)
	assert.Equal(t, "gd-0123456789ab-f3.1700000123", name)
	id, got, ok := toxiproxy.ParseToxicName(name)
	require.True(t, ok)
	assert.Equal(t, "gd-0123456789ab-f3", id)
	assert.True(t, dl.Equal(got))

	id, _, ok = toxiproxy.ParseToxicName("a.b.42")
	assert.True(t, ok)
	assert.Equal(t, "a.b", id)

	for _, n := range []string{"", "latency_downstream", "x.", ".123", "x.12a", "x.-5", "x." + strings.Repeat("9", 30)} {
		_, _, ok := toxiproxy.ParseToxicName(n)
		assert.False(t, ok, n)
	}
}

// A paused run that resumes re-injects under chaos.ResumedFaultID: a fresh
// toxic (the first id would be adopted as "existing"), listed under its own
// id, removable from what List found (as a sweep does).
func TestResumedFaultIDIsANewToxic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := toxiproxy.New(e.apiURL)
	first := fault("gd-0123456789ab-f0", "latency", time.Minute, map[string]any{"latency": "100ms"})
	_, err := b.Inject(ctx, first)
	require.NoError(t, err)
	again, err := b.Inject(ctx, first)
	require.NoError(t, err)
	assert.True(t, again.Existing, "the same id is adopted, not injected anew")
	_, err = b.Recover(ctx, first)
	require.NoError(t, err)

	resumed := first
	resumed.ID = chaos.ResumedFaultID(first.ID, 1)
	resumed.Duration = 20 * time.Second // what was left of the hold
	inj, err := b.Inject(ctx, resumed)
	require.NoError(t, err)
	assert.False(t, inj.Existing)
	list, err := b.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "gd-0123456789ab-f0-r1", list[0].FaultID)
	rec, err := b.Recover(ctx, chaos.Fault{ID: list[0].FaultID, Backend: list[0].Backend})
	require.NoError(t, err)
	assert.True(t, rec.Removed)
	assert.Empty(t, toxics(t, e))
}
