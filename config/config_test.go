package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRoles(t *testing.T) {
	m, err := ParseRoles(" dana=dev, tess=test ,sam=sre+dev")
	require.NoError(t, err)
	assert.Equal(t, map[string][]string{"dana": {"dev"}, "tess": {"test"}, "sam": {"sre", "dev"}}, m)

	m, err = ParseRoles("")
	require.NoError(t, err)
	assert.Nil(t, m)

	for _, bad := range []string{"dana", "=dev", "dana=", "dana=qa", "dana=dev+ops"} {
		_, err := ParseRoles(bad)
		assert.Error(t, err, bad)
	}
}

func TestValidateNamesTheVariable(t *testing.T) {
	t.Setenv("GAMEDAY_ROLES", "dana=boss")
	assert.ErrorContains(t, FromEnv().Validate(), "GAMEDAY_ROLES")
	t.Setenv("GAMEDAY_ROLES", "dana=dev")
	t.Setenv("GAMEDAY_GATE_THRESHOLD", "120")
	assert.ErrorContains(t, FromEnv().Validate(), "GAMEDAY_GATE_THRESHOLD")
	t.Setenv("GAMEDAY_GATE_THRESHOLD", "75")
	require.NoError(t, FromEnv().Validate())
	c := FromEnv()
	assert.Equal(t, 75.0, c.GateThreshold)
	assert.Equal(t, []string{"dev"}, c.Users["dana"])
}

func TestDefaults(t *testing.T) {
	for _, v := range Vars {
		t.Setenv(v.Name, "")
	}
	c := FromEnv()
	assert.Equal(t, "gameday", c.TaskQueue)
	assert.Equal(t, "http://127.0.0.1:9090", c.PrometheusURL)
	t.Setenv("TOXIPROXY_URL", "off")
	assert.Empty(t, FromEnv().ToxiproxyURL)
}
