package grafana

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// A catalog probe guard (kind http or tcp) has no Prometheus series: it
// gets no SLI panel (one would query an empty expression).
func TestProbeGuardsGetNoSLIPanel(t *testing.T) {
	var sc scenarios.Scenario
	sc.Metadata.Name = "probe-scenario"
	sc.Spec.Guards = []sli.Guard{
		{Name: "p95", Query: "histogram_quantile(0.95, sum by (le) (rate(x_bucket[10s])))", Op: sli.OpLE, Threshold: 0.8},
		{Name: "answers", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: "http://shop/healthz"}, Op: sli.OpLE, Threshold: 1},
	}
	panels := sliPanels([]scenarios.Scenario{sc})
	require.Len(t, panels, 1)
	p, err := panels[0].Build()
	require.NoError(t, err)
	require.Contains(t, *p.Title, "p95")
}
