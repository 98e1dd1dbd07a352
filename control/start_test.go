package control

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	_ "github.com/gameday/gameday/chaos/all" // registers every back-end
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
)

func TestOverrides(t *testing.T) {
	sc, err := LoadScenario("demo-inventory-latency", map[string]string{
		"duration":                  "15s",
		"inventory-latency.latency": "300ms",
		"toxicity":                  "0.5",
		"signoff.timeout":           "2h",
	})
	require.NoError(t, err)
	f := sc.Spec.Faults[0]
	assert.Equal(t, 15*time.Second, f.Duration.D())
	assert.Equal(t, "300ms", f.Params["latency"])
	assert.Equal(t, 0.5, f.Params["toxicity"])
	assert.Equal(t, 2*time.Hour, sc.Spec.Signoff.Timeout.D())
}

func TestOverridesAreValidated(t *testing.T) {
	for set, want := range map[string]string{
		"duration=-1s":         "want a positive duration",
		"nope.latency=1s":      `no fault named "nope"`,
		"toxicity=3":           "toxicity",
		"latency=soon":         "latency",
		"signoff.timeout=ever": "signoff.timeout",
	} {
		k, v, _ := strings.Cut(set, "=")
		_, err := LoadScenario("demo-inventory-latency", map[string]string{k: v})
		require.Error(t, err, set)
		assert.Contains(t, err.Error(), want, set)
	}
	_, err := LoadScenario("no-such-scenario", nil)
	assert.ErrorContains(t, err, "demo-inventory-latency", "lists the catalog")
}

// The overrides a run records say what changed and from what, so the
// approvers see "duration=1000h (scenario: 60s)" rather than the new value
// alone.
func TestDescribeOverrides(t *testing.T) {
	sc, err := scenarios.Find("demo-inventory-latency")
	if err != nil {
		t.Fatal(err)
	}
	got := DescribeOverrides(sc, map[string]string{"duration": "1000h", "inventory-latency.latency": "2s", "signoff.timeout": "5m", "toxicity": "0.5"})
	want := []experiment.Override{
		{Key: "duration", Value: "1000h", Was: "1m0s"},
		{Key: "inventory-latency.latency", Value: "2s", Was: "1200ms"},
		{Key: "signoff.timeout", Value: "5m"}, // no gate: no timeout set
		{Key: "toxicity", Value: "0.5", Was: "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overrides\n got %+v\nwant %+v", got, want)
	}
	in, err := Launcher{}.Prepare(context.Background(), "demo-inventory-latency", Options{Set: map[string]string{"duration": "30s"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Overrides) != 1 || in.Overrides[0].String() != "duration=30s (scenario: 1m0s)" || in.Users != nil {
		t.Fatalf("input overrides %+v, users %v", in.Overrides, in.Users)
	}
}

// Where a scenario and a checklist meet: evidence naming a guard the
// scenario lacks stops the run before it starts, saying which; a good
// reference travels resolved in the workflow input.
func TestPrepareResolvesEvidenceGuards(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	list := func(guard string) string {
		return `apiVersion: gameday/v1
kind: Checklist
metadata: {name: ev-test}
spec:
  items:
    - id: slo
      title: SLO holds
      verification: evidence
      criterion: p95 under 800 ms throughout
      owner: sre
      weight: 10
      verified_by:
        - guard: ` + guard + `
`
	}
	sc, err := scenarios.Find("demo-inventory-latency")
	require.NoError(t, err)
	for _, tt := range []struct{ guard, err string }{
		{"p95-latency", ""},
		{"p99", `scenario demo-inventory-latency: spec.checklist ` + filepath.Join(dir, "p99.yaml") + `: checklist ev-test: spec.items[0].verified_by[0].guard: item slo names guard "p99", which the scenario does not have (its guards: p95-latency, error-rate)`},
	} {
		sc.Spec.Checklist = write(tt.guard+".yaml", list(tt.guard))
		b, err := yaml.Marshal(sc)
		require.NoError(t, err)
		in, err := Launcher{}.Prepare(context.Background(), write(tt.guard+"-scenario.yaml", string(b)), Options{})
		if tt.err != "" {
			require.EqualError(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.NotNil(t, in.Checklist)
		c := in.Checklist.Spec.Items[0].VerifiedBy[0]
		assert.Equal(t, sc.Spec.Guards[0].Query, c.Query, "resolved from the scenario")
		assert.Empty(t, in.Scenario.Spec.Signoff.Roles, "evidence alone: nobody signs, no gate")
	}
}
