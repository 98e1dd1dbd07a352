package worker

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/devstack"
)

func kubeconfig(t *testing.T, server string) string {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(devstack.KubeconfigFor(server, "worker", "tok")), 0o600))
	return path
}

func TestKubeBackendsFollowConfiguration(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("GAMEDAY_KUBE", "")
	t.Setenv("KUBECONFIG", "")

	// No configuration at all: the worker runs, without Kubernetes back-ends.
	b := map[string]chaos.Backend{}
	require.NoError(t, addKubeBackends(b, config.FromEnv(), quiet))
	assert.Empty(t, b)

	// A configuration that does not answer: refuse to start, say how to opt out.
	t.Setenv("KUBECONFIG", kubeconfig(t, "https://127.0.0.1:1"))
	err := addKubeBackends(b, config.FromEnv(), quiet)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "https://127.0.0.1:1")
	assert.Contains(t, err.Error(), "not reachable")
	assert.Contains(t, err.Error(), "GAMEDAY_KUBE=off")

	t.Setenv("GAMEDAY_KUBE", "off")
	require.NoError(t, addKubeBackends(b, config.FromEnv(), quiet))
	assert.Empty(t, b)

	t.Setenv("GAMEDAY_KUBE", "sometimes")
	assert.ErrorContains(t, addKubeBackends(b, config.FromEnv(), quiet), `GAMEDAY_KUBE="sometimes"`)

	// A cluster that answers: both back-ends.
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/version" {
			fmt.Fprint(w, `{"major":"1","minor":"37","gitVersion":"v1.37.2"}`)
			return
		}
		http.NotFound(w, r)
	}))
	defer api.Close()
	t.Setenv("GAMEDAY_KUBE", "on")
	t.Setenv("KUBECONFIG", kubeconfig(t, api.URL))
	t.Setenv("GAMEDAY_NAMESPACES", "shop")
	require.NoError(t, addKubeBackends(b, config.FromEnv(), quiet))
	assert.Contains(t, b, "kubernetes")
	assert.Contains(t, b, "chaos-mesh")

	// A malformed safety setting names the variable.
	t.Setenv("GAMEDAY_MAX_BLAST_RADIUS", "prod=lots")
	assert.ErrorContains(t, addKubeBackends(map[string]chaos.Backend{}, config.FromEnv(), quiet), "GAMEDAY_MAX_BLAST_RADIUS")

	// GAMEDAY_KUBE=on with nothing configured is an error, not a silent skip.
	t.Setenv("GAMEDAY_MAX_BLAST_RADIUS", "")
	t.Setenv("KUBECONFIG", "")
	assert.Error(t, addKubeBackends(map[string]chaos.Backend{}, config.FromEnv(), quiet))
}
