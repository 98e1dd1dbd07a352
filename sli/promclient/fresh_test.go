package promclient

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreshnessQuery(t *testing.T) {
	for _, c := range []struct{ query, want string }{
		{`histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="order"}[10s])))`,
			`max(timestamp(http_request_duration_seconds_bucket{service="order"}))`},
		{`up`, `max(timestamp(up))`},
		// offset and @ are dropped: what matters is the newest sample.
		{`sum(rate(x_total[1m] offset 5m)) / sum(rate(x_total[1m] @ 100))`, `max(timestamp(x_total))`},
		// Two selectors: each tagged so "or" keeps series whose labels
		// are equal once timestamp() dropped the metric name.
		{`(sum(rate(http_requests_total{service="order",status=~"5.."}[10s])) or vector(0)) / clamp_min(sum(rate(http_requests_total{service="order"}[10s])), 1e-9)`,
			`max(label_replace(timestamp(http_requests_total{service="order",status=~"5.."}), "gameday_selector", "0", "", "") or ` +
				`label_replace(timestamp(http_requests_total{service="order"}), "gameday_selector", "1", "", ""))`},
		{`{__name__="a", job="x"}`, `max(timestamp({__name__="a",job="x"}))`},
	} {
		got, err := FreshnessQuery(c.query)
		require.NoError(t, err, c.query)
		assert.Equal(t, c.want, got, c.query)
		_, err = promql.ParseExpr(got)
		assert.NoError(t, err, "the freshness query parses: %s", got)
	}
	// A selector that may read several metric names has none: timestamp()
	// drops the name, and Prometheus refuses series left with equal
	// labels ("vector cannot contain metrics with the same labelset").
	for _, q := range []string{`sum(rate({__name__=~"a|b", job="x"}[1m]))`, `sum(x) / count({job="x"})`} {
		_, err := FreshnessQuery(q)
		assert.ErrorContains(t, err, "several metric names", q)
	}
	_, err := FreshnessQuery(`vector(1)`)
	assert.ErrorContains(t, err, "reads no series")
	_, err = FreshnessQuery(`sum(`)
	assert.ErrorContains(t, err, "does not parse")
}
