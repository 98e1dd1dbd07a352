package kubetarget

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/errkind"
)

func pods(names ...string) []corev1.Pod {
	out := make([]corev1.Pod, len(names))
	for i, n := range names {
		out[i] = corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n}}
	}
	return out
}

func names(ps []corev1.Pod) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestChooseIsDeterministicPerFault(t *testing.T) {
	all := pods("a", "b", "c", "d", "e", "f")
	first := names(Choose(all, 2, "gd-1-f0"))
	assert.Len(t, first, 2)
	// Same fault, pods listed in another order: same choice (dry run = inject).
	assert.Equal(t, first, names(Choose(pods("f", "e", "d", "c", "b", "a"), 2, "gd-1-f0")))
	// Different faults spread over different pods.
	seen := map[string]bool{}
	for _, id := range []string{"gd-1-f0", "gd-2-f0", "gd-3-f0", "gd-4-f0", "gd-5-f0"} {
		for _, n := range names(Choose(all, 2, id)) {
			seen[n] = true
		}
	}
	assert.Greater(t, len(seen), 2)
	assert.Len(t, Choose(all, 10, "x"), 6, "never more than there are")
}

func TestAPIErrorClassification(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	forbidden := APIError("delete pod x", apierrors.NewForbidden(gr, "x", errors.New("no")))
	assert.True(t, errkind.IsPermanent(forbidden))
	assert.Contains(t, forbidden.Error(), "deploy/rbac.yaml")
	assert.True(t, errkind.IsPermanent(APIError("x", apierrors.NewUnauthorized("bad token"))))
	assert.True(t, errkind.IsPermanent(APIError("x", apierrors.NewBadRequest("bad"))))
	transient := APIError("list pods", apierrors.NewServiceUnavailable("later"))
	assert.False(t, errkind.IsPermanent(transient))
	assert.Contains(t, transient.Error(), "list pods")
	assert.NoError(t, APIError("x", nil))
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err := LoadConfig(config.Kube{})
	assert.ErrorIs(t, err, ErrNoConfig, "nothing configured: the worker runs without Kubernetes")

	path := filepath.Join(dir, "config")
	require.NoError(t, os.WriteFile(path, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://127.0.0.1:1"}}
- {name: b, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: u, user: {token: t}}
contexts:
- {name: one, context: {cluster: a, user: u}}
- {name: two, context: {cluster: b, user: u}}
current-context: one
`), 0o600))
	t.Setenv("KUBECONFIG", "") // what counts is the value config read
	c, err := LoadConfig(config.Kube{Kubeconfig: path})
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:1", c.Rest.Host)
	assert.Contains(t, c.Source, `context "one"`)
	c, err = LoadConfig(config.Kube{Kubeconfig: path, Context: "two"})
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:2", c.Rest.Host, "--context picks another cluster")
	_, err = LoadConfig(config.Kube{Kubeconfig: path, Context: "three"})
	assert.ErrorContains(t, err, "three")
}
