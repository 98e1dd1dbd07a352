package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/demo"
	"github.com/gameday/gameday/experiment"
)

// The demo inventory outage against the seed shop, through the CLI: the
// inventory stops answering, the breaker opens and the backup inventory
// serves every order, so no guard breaches and the run passes; verify
// waits for the breaker to close again.
func TestDemoSeedInventoryOutagePasses(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, true, demo.Config{Mode: demo.ModeSeed})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, path := e.scenario("demo-seed-inventory-outage", shorten(10*time.Second))

	start := time.Now()
	out, stderr, code := e.gameday(ctx, "run", path, "--wait", "--json")
	t.Logf("run took %s", time.Since(start))
	require.Equal(t, 0, code, "stderr: %s\nout: %s", stderr, out)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, experiment.Passed, r.Outcome)
	assert.Nil(t, r.Breach)
	assert.Equal(t, r.Injected, r.Recovered)
	assert.Empty(t, e.faults())

	// What the shop saw: the breaker opened and the backup served.
	open := shopMetric(t, e, `fallback_calls_total{dependency="inventory",reason="breaker_open",service="order"}`)
	failed := shopMetric(t, e, `fallback_calls_total{dependency="inventory",reason="primary_failed",service="order"}`)
	orders := shopMetric(t, e, `group_buy_order_total{status="success"}`)
	t.Logf("fallback: %v with the breaker open, %v after a failed call; %v orders served, %v failed",
		open, failed, orders, shopMetric(t, e, `group_buy_order_total{status="failed"}`))
	assert.Greater(t, open, 0.0, "the breaker opened during the outage")
	assert.Equal(t, 0.0, shopMetric(t, e, `circuit_breaker_state{name="inventory",service="order",state="open"}`), "and closed again")
}

func shopMetric(t *testing.T, e *env, series string) float64 {
	t.Helper()
	resp, err := http.Get(e.shop.MetricsURL())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	g := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
	if g == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(g[1]), 64)
	require.NoError(t, err)
	return v
}
