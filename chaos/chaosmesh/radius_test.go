package chaosmesh_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/chaos/kubetarget"
)

// The census reads every Chaos Mesh kind this back-end creates.
func TestCensusKnowsEveryKind(t *testing.T) {
	assert.Equal(t, chaosmesh.Resources(), kubetarget.ChaosMeshResources)
}

// otherChaos is a live NetworkChaos of another run's fault on checkout.
func otherChaos(mode string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos",
		"metadata": map[string]any{"name": "gd-00000000aaaa-f0", "namespace": ns,
			"labels":      map[string]any{kubetarget.LabelManagedBy: kubetarget.ManagedBy, kubetarget.LabelFaultID: "gd-00000000aaaa-f0"},
			"annotations": map[string]any{kubetarget.AnnotationWorkflowID: "run/other"}},
		"spec": map[string]any{"action": "loss", "mode": mode,
			"selector": map[string]any{"namespaces": []any{ns}, "labelSelectors": map[string]any{"app": "checkout"}}},
	}}
}

// Deployment checkout has 3 replicas under *=50%: one pod down is all the
// room there is, so any fault on a second one is refused, whichever
// gameday fault (this back-end's or the kubernetes one's, this run's or
// another's) holds the first.
func TestCumulativeRadiusCountsOtherFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("another chaos-mesh object", func(t *testing.T) {
		c := newCluster(t, true)
		require.NoError(t, c.dyn.Tracker().Create(netGVR, otherChaos("one"), ns))
		_, err := c.backend().Resolve(ctx, delayFault())
		assert.ErrorContains(t, err, "refused by safety rule cumulative-blast-radius: 1 of 3 pods of deployment/checkout (namespace shop) already unavailable (1 selected by NetworkChaos gd-00000000aaaa-f0 of workflow run/other); putting a NetworkChaos on 1 more would make 2 of 3 unavailable (67%)")
		_, err = c.backend().Inject(ctx, delayFault())
		permanent(t, err)
		assert.Len(t, c.objects(t, chaosmesh.Kinds()[0]), 1, "nothing created")
	})
	t.Run("a pod-kill marker", func(t *testing.T) {
		c := newCluster(t, true)
		_, err := c.cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "gd-00000000bbbb-f1", Namespace: ns,
				Labels:      map[string]string{kubetarget.LabelManagedBy: kubetarget.ManagedBy, kubetarget.LabelFaultID: "gd-00000000bbbb-f1", "gameday.io/backend": "kubernetes"},
				Annotations: map[string]string{kubetarget.AnnotationWorkflowID: "run/kill"}},
			Data: map[string]string{kubetarget.MarkerKeyVictims: `[{"name":"checkout-a","uid":"uid-checkout-a","owner":"deployment/checkout"}]`},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = c.backend().Inject(ctx, delayFault())
		permanent(t, err)
		assert.Contains(t, err.Error(), "(1 being killed by gd-00000000bbbb-f1 of workflow run/kill)")
		// Once the victim is gone the controller has a replacement Pending:
		// still one replica down.
		require.NoError(t, c.cs.CoreV1().Pods(ns).Delete(ctx, "checkout-a", metav1.DeleteOptions{}))
		_, err = c.backend().Inject(ctx, delayFault())
		assert.ErrorContains(t, err, "1 of 3 pods of deployment/checkout (namespace shop) already unavailable (1 killed by gd-00000000bbbb-f1 of workflow run/kill)")
	})
	t.Run("a pod not Ready", func(t *testing.T) {
		c := newCluster(t, true)
		p, err := c.cs.CoreV1().Pods(ns).Get(ctx, "checkout-b", metav1.GetOptions{})
		require.NoError(t, err)
		p.Status.Conditions[0].Status = corev1.ConditionFalse
		_, err = c.cs.CoreV1().Pods(ns).Update(ctx, p, metav1.UpdateOptions{})
		require.NoError(t, err)
		_, err = c.backend().Inject(ctx, delayFault())
		assert.ErrorContains(t, err, "(1 not Ready)")
	})
	t.Run("nothing else: allowed", func(t *testing.T) {
		c := newCluster(t, true)
		_, err := c.backend().Inject(ctx, delayFault())
		require.NoError(t, err)
	})
}

// A retried inject adopts its own object before any check: its own fault
// is not "already hit", and another fault that arrived since does not
// refuse a fault already in place.
func TestRetriedInjectAdoptsItsObjectDespiteTheRadius(t *testing.T) {
	c := newCluster(t, true)
	ctx := context.Background()
	first, err := c.backend().Inject(ctx, delayFault())
	require.NoError(t, err)
	_, err = c.backend().Inject(ctx, delayFault())
	require.NoError(t, err, "its own object is left out of the census")
	require.NoError(t, c.dyn.Tracker().Create(netGVR, otherChaos("all"), ns))
	again, err := c.backend().Inject(ctx, delayFault())
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.Object, again.Object)
	other := delayFault()
	other.ID = "gd-0123456789ab-f7"
	_, err = c.backend().Inject(ctx, other)
	assert.ErrorContains(t, err, "cumulative-blast-radius", "a new fault is refused")
}
