package devstack

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gameday/gameday/config"
)

// TestStartKubeAPIServer starts etcd and the API server and makes one
// authenticated call with client-go; the controllers are exercised by the
// integration tests.
func TestStartKubeAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	tools := config.FromEnv().ToolsDir
	if _, err := Tool(tools, "kube-apiserver"); err != nil {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "kube.log"))
	require.NoError(t, err)
	k, err := StartKube(ctx, KubeOptions{Dir: filepath.Join(dir, "kube"), Log: logf, ToolsDir: tools})
	require.NoError(t, err)
	defer k.Stop(10 * time.Second)
	cfg, err := clientcmd.BuildConfigFromFlags("", k.Kubeconfig)
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, "default", ns.Name)
	require.NoError(t, k.Alive())
}
