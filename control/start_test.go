package control

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
