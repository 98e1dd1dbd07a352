package safety

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
)

// env is the policy inputs config reads from an environment m.
func env(m map[string]string) config.Safety { return config.Read(config.MapLookup(m)).Safety }

func TestFromConfigDefaults(t *testing.T) {
	p, err := FromConfig(env(nil))
	require.NoError(t, err)
	assert.Empty(t, p.Namespaces)
	assert.Equal(t, "gameday.io/chaos=enabled", p.OptIn())
	assert.Equal(t, map[string]Limit{AnyEnvironment: {Percent: 50}}, p.MaxRadius)
	assert.NoError(t, p.CheckRadius("prod", 2, 4))
	assert.ErrorContains(t, p.CheckRadius("prod", 3, 4), "*=50%")
	// A Policy built by hand without limits gets the default too.
	assert.ErrorContains(t, Policy{}.CheckRadius("prod", 3, 4), "*=50%")
}

func TestFromConfigErrorsNameTheVariable(t *testing.T) {
	_, err := FromConfig(env(map[string]string{EnvOptIn: "nolabel"}))
	assert.ErrorContains(t, err, "GAMEDAY_OPTIN_LABEL")
	_, err = FromConfig(env(map[string]string{EnvMaxRadius: "prod=0"}))
	assert.ErrorContains(t, err, "GAMEDAY_MAX_BLAST_RADIUS")
	_, err = FromConfig(env(map[string]string{EnvMaxRadius: "prod=150%"}))
	assert.ErrorContains(t, err, "percentage")
}

func TestNamespaceAllowList(t *testing.T) {
	p, err := FromConfig(env(map[string]string{EnvNamespaces: "shop, payments"}))
	require.NoError(t, err)
	assert.NoError(t, p.CheckNamespace("shop"))
	err = p.CheckNamespace("kube-system")
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, "namespace", r.Rule)
	assert.Contains(t, err.Error(), `"kube-system" is not in the worker's allow-list (GAMEDAY_NAMESPACES=shop,payments)`)
	assert.ErrorContains(t, Policy{}.CheckNamespace("shop"), "allows no namespace")
}

func TestOptIn(t *testing.T) {
	p, _ := FromConfig(env(nil))
	assert.True(t, p.OptedIn(nil, map[string]string{"gameday.io/chaos": "enabled"}))
	assert.False(t, p.OptedIn(map[string]string{"gameday.io/chaos": "disabled"}))
	err := p.CheckOptIn("shop", []string{"pod/b", "pod/a"})
	assert.ErrorContains(t, err, "pod/a, pod/b lack the label gameday.io/chaos=enabled")
	assert.NoError(t, p.CheckOptIn("shop", nil))
}

func TestRadius(t *testing.T) {
	p, err := FromConfig(env(map[string]string{EnvMaxRadius: "prod=1,staging=50%"}))
	require.NoError(t, err)
	assert.NoError(t, p.CheckRadius("prod", 1, 10))
	assert.ErrorContains(t, p.CheckRadius("prod", 2, 10), `can hit 2 of 10 targets; the limit for environment "prod" is 1`)
	assert.NoError(t, p.CheckRadius("staging", 2, 4))
	assert.ErrorContains(t, p.CheckRadius("staging", 3, 4), "75%")
	// Unlisted environments and unlabelled scenarios must pass every limit:
	// the strictest applies (prod=1 here), so a typo never loosens it.
	assert.ErrorContains(t, p.CheckRadius("", 3, 3), "without an environment label (every limit applies")
	assert.ErrorContains(t, p.CheckRadius("production", 2, 10), `"production", which the policy does not list`)
	assert.ErrorContains(t, p.CheckRadius("production", 2, 10), "prod=1")
	assert.NoError(t, p.CheckRadius("dev", 1, 2))
	// With only the default, it is the default.
	d, _ := FromConfig(env(nil))
	assert.NoError(t, d.CheckRadius("", 1, 2))
	assert.ErrorContains(t, d.CheckRadius("", 2, 3), "*=50%")
}

func TestMaxDuration(t *testing.T) {
	p, err := FromConfig(config.Safety{MaxFaultDuration: "prod=10m,staging=2h"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		env  string
		d    time.Duration
		want string
	}{
		{"prod", 10 * time.Minute, ""},
		{"prod", 11 * time.Minute, `the longest allowed for environment "prod" is 10m0s (GAMEDAY_MAX_FAULT_DURATION)`},
		{"staging", 90 * time.Minute, ""},
		{"staging", 1000 * time.Hour, `environment "staging" is 2h0m0s`},
		{"", 30 * time.Minute, "without an environment label is 10m0s"},
		{"production", 11 * time.Minute, `"production", which the policy does not list, is 10m0s`},
	}
	for _, c := range cases {
		err := p.CheckDuration(c.env, c.d)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s %s: %v", c.env, c.d, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: got %v, want %q", c.env, c.d, err, c.want)
		}
	}
	// Nobody set anything: 1 h, for a hand-built policy too.
	if err := (Policy{}).CheckDuration("staging", 61*time.Minute); err == nil || !strings.Contains(err.Error(), "1h0m0s") {
		t.Errorf("default: %v", err)
	}
	if _, err := ParseDurations("prod=soon"); err == nil || !strings.Contains(err.Error(), `"prod=soon"`) {
		t.Errorf("bad duration: %v", err)
	}
}
