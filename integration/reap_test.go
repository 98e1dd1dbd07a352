package integration

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gameday/gameday/chaos/kubetarget"
)

// A cordoned node expires with no gameday worker and no Temporal: the
// run's worker dies and its workflow is terminated while the node is
// cordoned; `gameday reap --kube --once`, run as the worker's
// ServiceAccount against the real API server with an unreachable Temporal
// address, uncordons it once its expiry (+ grace) has passed, and leaves a
// node an admin cordoned alone.
func TestKubeReapExpiredCordonWithoutTemporal(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.namespace(t, "shop", true)
	c.deployment(t, "shop", "packer", 2)
	kcfg := c.serviceAccountKubeconfig(t)
	e := newEnv(t, false)
	e.extraEnv = kubeWorkerEnv(kcfg, "shop")
	w := e.workerProcess()
	ctx := context.Background()

	sc := kubeScenario(t, "worker-node-notready", "shop", map[string]string{"app": "packer"}, 10*time.Minute, nil)
	run := e.start(ctx, sc)
	var cordoned string
	require.NoError(t, waitFor(ctx, 2*time.Minute, "a cordoned node", func() (bool, error) {
		nodes, err := c.admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: kubetarget.ManagedSelector})
		if err != nil || len(nodes.Items) == 0 {
			return false, err
		}
		cordoned = nodes.Items[0].Name
		return nodes.Items[0].Spec.Unschedulable && nodes.Items[0].Annotations[kubetarget.AnnotationWorkflowID] == run.GetID(), nil
	}))
	// Everything gameday runs on is gone: the worker dies, the run is
	// terminated. Only the cluster is left.
	require.NoError(t, w.Process.Kill())
	_, _ = w.Process.Wait()
	require.NoError(t, e.client.TerminateWorkflow(ctx, run.GetID(), "", "test: the platform is gone"))
	t.Cleanup(func() { // never leave a cordoned node to the next test
		_, _ = c.admin.CoreV1().Nodes().Patch(context.Background(), cordoned, types.MergePatchType, []byte(`{"spec":{"unschedulable":null}}`), metav1.PatchOptions{})
	})

	// A node an admin cordoned for maintenance: not gameday's.
	nodes, err := c.admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var other string
	for _, n := range nodes.Items {
		if n.Name != cordoned {
			other = n.Name
		}
	}
	require.NotEmpty(t, other)
	_, err = c.admin.CoreV1().Nodes().Patch(ctx, other, types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.admin.CoreV1().Nodes().Patch(context.Background(), other, types.MergePatchType, []byte(`{"spec":{"unschedulable":null}}`), metav1.PatchOptions{})
	})

	reap := func() (string, int) {
		cmd := exec.CommandContext(ctx, gamedayBin, "reap", "--kube", "--once")
		cmd.Env = append(kubeWorkerEnv(kcfg, "shop"), "TEMPORAL_ADDRESS=127.0.0.1:1", "PATH=/usr/bin:/bin")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return string(out), code
	}

	// Not expired yet (10 minutes of hold ahead): left cordoned.
	out, code := reap()
	require.Equal(t, 0, code, out)
	n, err := c.admin.CoreV1().Nodes().Get(ctx, cordoned, metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, n.Spec.Unschedulable, "a cordon before its expiry stays: %s", out)

	// Its expiry passed (backdated rather than waiting 10 minutes).
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		kubetarget.AnnotationExpires: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
	}}})
	_, err = c.admin.CoreV1().Nodes().Patch(ctx, cordoned, types.MergePatchType, patch, metav1.PatchOptions{})
	require.NoError(t, err)
	out, code = reap()
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, cordoned)
	n, err = c.admin.CoreV1().Nodes().Get(ctx, cordoned, metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, n.Spec.Unschedulable, "uncordoned with no worker and no Temporal")
	assert.NotContains(t, n.Labels, kubetarget.LabelFaultID)
	for k := range n.Annotations {
		assert.False(t, strings.HasPrefix(k, "gameday.io/"), "annotation %s left on the node", k)
	}
	m, err := c.admin.CoreV1().Nodes().Get(ctx, other, metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, m.Spec.Unschedulable, "the admin's cordon is not gameday's to lift")
}
