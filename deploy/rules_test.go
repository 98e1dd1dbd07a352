package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/deploy"
	"github.com/gameday/gameday/internal/devstack"
)

// The rules parse and their unit tests (prometheus/rules_test.yml) pass
// under promtool built from the same Prometheus module as the server
// (make tools). A broken expression or an alert that stopped firing on its
// own case fails here, not in production.
func TestPrometheusRulesCheckAndUnitTests(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("needs promtool (make tools)")
	}
	promtool, err := devstack.Tool(config.FromEnv().ToolsDir, "promtool")
	require.NoError(t, err)
	for _, args := range [][]string{
		{"check", "rules", "rules.yml"},
		{"test", "rules", "rules_test.yml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
		t.Logf("promtool %s: %s", strings.Join(args, " "), strings.TrimSpace(string(out)))
	}
}

// gameday dev loads the embedded copy: it is the file promtool checked.
func TestEmbeddedRulesAreTheFile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("prometheus", "rules.yml"))
	require.NoError(t, err)
	require.Equal(t, string(b), string(deploy.PrometheusRules))
}
