package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Prometheus on a port it chose that exits before it is ready (the port
// was taken before it bound it) is started again on another port, at
// most three times; one that is still running but not ready in time is
// not started again (a new port would not help, and each try waited for
// readiness in vain). The "Prometheus" is a script that counts its starts.
func TestStartPrometheusRetriesOnlyAnEarlyExit(t *testing.T) {
	defer func(d time.Duration) { prometheusReady = d }(prometheusReady)
	prometheusReady = time.Second
	starts := func(t *testing.T, body string) int {
		dir := t.TempDir()
		count := filepath.Join(dir, "starts")
		bin := filepath.Join(dir, "prometheus")
		require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho x >> '"+count+"'\n"+body+"\n"), 0o755))
		_, err := StartPrometheus(context.Background(), PrometheusOptions{Bin: bin, DataDir: filepath.Join(dir, "data")})
		require.Error(t, err)
		b, err := os.ReadFile(count)
		require.NoError(t, err)
		return strings.Count(string(b), "x")
	}
	assert.Equal(t, 3, starts(t, "exit 1"), "exited at start: tried on three ports")
	assert.Equal(t, 1, starts(t, "exec sleep 30"), "running but not ready: not started again")
}
