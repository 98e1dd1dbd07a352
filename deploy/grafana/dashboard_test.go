package grafana_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/deploy/grafana"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/telemetry"
)

// The committed dashboard is what the generator builds: edit the Go, run
// go generate ./deploy/grafana (make dashboard), commit both.
func TestCommittedDashboardIsGenerated(t *testing.T) {
	want, err := grafana.JSON()
	require.NoError(t, err)
	got, err := os.ReadFile(grafana.File)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "deploy/grafana/gameday.json is stale: run `go generate ./deploy/grafana`")
}

type dash struct {
	UID         string `json:"uid"`
	Annotations struct {
		List []struct {
			Name string `json:"name"`
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func load(t *testing.T) dash {
	b, err := grafana.JSON()
	require.NoError(t, err)
	var d dash
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// Inject, recover and breach marks come from gameday's own series: no
// Grafana API, no annotation store.
func TestAnnotationsComeFromGamedaysSeries(t *testing.T) {
	d := load(t)
	assert.Equal(t, grafana.UID, d.UID)
	want := map[string]string{
		"Faults live": telemetry.MetricFaultsInjected,
		"Inject":      telemetry.MetricFaultInjections,
		"Recover":     telemetry.MetricFaultRecoveries,
		"Breach":      telemetry.MetricGuardBreaches,
	}
	got := map[string]string{}
	for _, a := range d.Annotations.List {
		got[a.Name] = a.Expr
	}
	for name, metric := range want {
		assert.Contains(t, got[name], metric, "annotation %s", name)
	}
}

// Every metric gameday exports is on the dashboard, and every guard of
// the catalog has its SLI panel with its query.
func TestDashboardShowsEveryMetricAndEveryCatalogGuard(t *testing.T) {
	d := load(t)
	var exprs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, m := range []string{
		telemetry.MetricExperimentsStarted, telemetry.MetricExperimentsFinished, telemetry.MetricGuardEvaluations,
		telemetry.MetricGuardBreaches, telemetry.MetricAbortLatency, telemetry.MetricPhaseDuration,
		telemetry.MetricFaultInjections, telemetry.MetricFaultRecoveries, telemetry.MetricRecoverFailures,
		telemetry.MetricSweepRemovals, telemetry.MetricFaultsInjected, telemetry.MetricFaultExpiry,
		telemetry.MetricFaultListUp, telemetry.MetricFreezeActive, "temporal_num_pollers",
	} {
		assert.Contains(t, all, m)
	}
	catalog, err := scenarios.Catalog()
	require.NoError(t, err)
	for _, sc := range catalog {
		for _, g := range sc.Spec.Guards {
			if g.IsProbe() {
				continue // no series: TestProbeGuardsGetNoSLIPanel
			}
			assert.Contains(t, exprs, g.Query, "%s guard %s", sc.Metadata.Name, g.Name)
		}
	}
}
