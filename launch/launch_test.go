package launch

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/gameday/gameday/chaos/all" // registers every back-end
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
