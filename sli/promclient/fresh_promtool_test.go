package promclient_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/devstack"
	"github.com/gameday/gameday/sli/promclient"
)

// The derived freshness queries are evaluated by Prometheus' own engine
// (promtool, built from the server's module by make tools), not only
// parsed: each answers the newest sample's time over the series its guard
// query reads. Series a and b have equal labels once timestamp() drops
// their names (the "or" form must keep both), b's newest sample is older
// than a's, and offsets, @ and subqueries in the guard do not move it.
func TestFreshnessQueriesEvaluateInPrometheus(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs promtool (make tools)")
	}
	promtool, err := devstack.Tool(config.FromEnv().ToolsDir, "promtool")
	require.NoError(t, err)
	cases := []struct {
		guard  string
		newest int // seconds
	}{
		{`sum(rate(a{job="x"}[5m])) / sum(rate(b{job="x"}[5m]))`, 120},
		{`sum(rate(b{job="x"}[5m])) or vector(0)`, 60},
		{`sum(b{job="x"} offset 1m)`, 60},
		{`max_over_time(sum(b{job="x"})[5m:30s] @ 30) + sum(a{job="x"} offset 2m)`, 120},
		{`histogram_quantile(0.9, sum by (le) (rate(c_bucket[5m])))`, 90},
	}
	var b strings.Builder
	b.WriteString(`evaluation_interval: 30s
tests:
  - interval: 30s
    input_series:
      - series: 'a{job="x"}'
        values: '1 2 3 4 5'
      - series: 'b{job="x"}'
        values: '1 2 3 _ _'
      - series: 'c_bucket{le="1"}'
        values: '1 2 3 4 _'
      - series: 'c_bucket{le="+Inf"}'
        values: '1 2 3 4 _'
    promql_expr_test:
`)
	for _, c := range cases {
		fq, err := promclient.FreshnessQuery(c.guard)
		require.NoError(t, err, c.guard)
		fmt.Fprintf(&b, "      - expr: '%s'\n        eval_time: 2m\n        exp_samples:\n          - labels: '{}'\n            value: %d\n", fq, c.newest)
	}
	file := filepath.Join(t.TempDir(), "fresh_test.yml")
	require.NoError(t, os.WriteFile(file, []byte(b.String()), 0o644))
	out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
	require.NoError(t, err, "promtool test rules:\n%s\n%s", out, b.String())
}
