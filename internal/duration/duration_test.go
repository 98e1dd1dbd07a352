package duration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestRoundTrip(t *testing.T) {
	var d Duration
	require.NoError(t, yaml.Unmarshal([]byte("30s"), &d))
	assert.Equal(t, 30*time.Second, d.D())
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.JSONEq(t, `"30s"`, string(b))
	var back Duration
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d, back)
	var te *yaml.TypeError
	assert.ErrorAs(t, yaml.Unmarshal([]byte("soon"), &d), &te, "a bad duration lets the strict decoder carry on")
}
