package kubernetes_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gameday/gameday/chaos"
	gdk8s "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/internal/errkind"
)

// nodeCluster: order has pods a, b on kwok-node-1 (and c on kwok-node-2
// when spread); kwok-node-1 also runs pods gameday must not evict.
func nodeCluster(t *testing.T, spread bool) *cluster {
	t.Helper()
	hosts := []string{"kwok-node-1"}
	replicas := 2
	if spread {
		hosts = []string{"kwok-node-1", "kwok-node-1", "kwok-node-2"}
		replicas = 3
	}
	mirror := readyPod("etcd-kwok-node-1", map[string]string{"app": "static"}, "kwok-node-1", t0)
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "abc"}
	ds := readyPod("log-agent-x1", map[string]string{"app": "log-agent"}, "kwok-node-1", t0)
	ds.OwnerReferences = controllerRef("apps/v1", "DaemonSet", "log-agent")
	done := readyPod("migrate-job-x", map[string]string{"app": "migrate"}, "kwok-node-1", t0)
	done.Status.Phase = corev1.PodSucceeded
	coredns := readyPod("coredns-1", map[string]string{"k8s-app": "kube-dns"}, "kwok-node-1", t0)
	coredns.Namespace = "kube-system"
	private := readyPod("billing-1", map[string]string{"app": "billing"}, "kwok-node-1", t0)
	private.Namespace = "other"
	batch := readyPod("batch-ok", map[string]string{"app": "batch", optKey: optVal}, "kwok-node-1", t0)
	batch.Namespace = "other"
	// Opted in, but in a namespace the worker may not touch.
	pay := readyPod("pay-1", map[string]string{"app": "pay", optKey: optVal}, "kwok-node-1", t0)
	pay.Namespace = "payments"
	elsewhere := readyPod("cart-1", map[string]string{"app": "cart"}, "kwok-node-2", t0)

	return newCluster(t, withObjs(
		objs(namespace(shop, true), namespace("other", false), namespace("kube-system", false), namespace("payments", true),
			node("kwok-node-1"), node("kwok-node-2"), node("kwok-node-3"),
			mirror, ds, done, coredns, private, batch, pay, elsewhere),
		orderApp(replicas, false, hosts...),
	)...)
}

func TestNodeNotReadyResolve(t *testing.T) {
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=100%"))
	lines, err := b.Resolve(context.Background(), nodeFault(chaos.ModeAll, "", nil))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"node-notready: would cordon node kwok-node-1 (hosts 2 matched pods)",
		"node-notready: would cordon node kwok-node-2 (hosts 1 matched pod)",
	}, lines)

	lines, err = b.Resolve(context.Background(), nodeFault(chaos.ModeAll, "", map[string]any{"evict": true}))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"node-notready: would cordon node kwok-node-1 (hosts 2 matched pods), then evict 3 pods: other/batch-ok, shop/order-7d9-a, shop/order-7d9-b (1 pod not opted in left alone)",
		"node-notready: would cordon node kwok-node-2 (hosts 1 matched pod), then evict 2 pods: shop/cart-1, shop/order-7d9-c",
	}, lines)
	assert.Zero(t, c.requests("patch", "nodes")+c.requests("create", "pods/eviction"), "resolve changes nothing")
}

func TestNodeNotReadyCordonEvictAndUncordon(t *testing.T) {
	c := nodeCluster(t, false)
	// Evicting both order replicas is the point here: 100% lets the
	// cumulative radius (tested on its own) allow it.
	b := c.backend(policy(t, "*=100%"))
	f := nodeFault("", "", map[string]any{"evict": true, "grace_period": "10s"})

	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Injected{
		FaultID: f.ID, Backend: "kubernetes", Object: "node/kwok-node-1",
		Expires: t0.Add(2*time.Minute + gdk8s.DefaultTTLMargin), Since: t0, Targets: []string{"node/kwok-node-1"},
	}, inj)

	n := c.node("kwok-node-1")
	assert.True(t, n.Spec.Unschedulable, "cordoned")
	assert.Equal(t, map[string]string{
		"kubernetes.io/hostname": "kwok-node-1", "app.kubernetes.io/managed-by": "gameday",
		"gameday.io/fault-id": f.ID, "gameday.io/backend": "kubernetes",
	}, n.Labels)
	assert.Equal(t, map[string]string{
		"gameday.io/workflow-id": wfID, "gameday.io/fault": "node down under order", "gameday.io/action": "node-notready",
		"gameday.io/expires": "2026-11-25T10:03:00Z", "gameday.io/nodes": "kwok-node-1",
		"gameday.io/cordoned-at": "2026-11-25T10:00:00Z",
	}, n.Annotations)
	assert.False(t, c.node("kwok-node-2").Spec.Unschedulable)

	// Only targetable pods are evicted, with the grace period; DaemonSet,
	// mirror, finished pods and pods gameday may not target stay.
	assert.Equal(t, []string{"other/batch-ok", "shop/order-7d9-a", "shop/order-7d9-b"}, c.evicted())
	for _, e := range c.evictions {
		require.NotNil(t, e.DeleteOptions.GracePeriodSeconds)
		assert.EqualValues(t, 10, *e.DeleteOptions.GracePeriodSeconds)
	}
	assert.ElementsMatch(t, []string{"etcd-kwok-node-1", "log-agent-x1", "migrate-job-x", "cart-1"}, c.podNames(shop))
	assert.Equal(t, []string{"billing-1"}, c.podNames("other"))
	assert.Equal(t, []string{"coredns-1"}, c.podNames("kube-system"))
	assert.Equal(t, []string{"pay-1"}, c.podNames("payments"), "opted in, but not an allowed namespace")
	for _, a := range c.cs.Actions() {
		if a.GetVerb() == "list" && a.GetResource().Resource == "pods" {
			assert.Contains(t, []string{"shop", "other"}, a.GetNamespace(), "pods are only ever listed in allowed namespaces")
		}
	}

	// A retried inject finds its node and changes nothing.
	c.clock.Set(t0.Add(time.Minute))
	patches := c.requests("patch", "nodes")
	again, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, inj.Targets, again.Targets)
	assert.Equal(t, inj.Expires, again.Expires, "the recorded expiry, not a new one")
	assert.True(t, t0.Equal(again.Since), "Since is the recorded cordon time %s, not the retry's: got %s", t0, again.Since)
	assert.Equal(t, patches, c.requests("patch", "nodes"))
	assert.Len(t, c.evicted(), 3)

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: f.ID, Removed: true, Detail: "uncordoned node kwok-node-1"}, rec)
	n = c.node("kwok-node-1")
	assert.False(t, n.Spec.Unschedulable)
	assert.Equal(t, map[string]string{"kubernetes.io/hostname": "kwok-node-1"}, n.Labels, "gameday's labels removed, others kept")
	assert.Empty(t, n.Annotations)

	rec, err = b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: f.ID, AlreadyGone: true}, rec)
}

func TestNodeNotReadyWithoutEvictOnlyCordons(t *testing.T) {
	c := nodeCluster(t, false)
	_, err := c.backend(policy(t, "*=1")).Inject(context.Background(), nodeFault("", "", nil))
	require.NoError(t, err)
	assert.True(t, c.node("kwok-node-1").Spec.Unschedulable)
	assert.Empty(t, c.evicted())
	assert.Equal(t, 1, c.requests("list", "pods"), "pods listed once, by the selection; not those on the node")
}

func TestNodeNotReadyRefusesANodeCordonedBySomeoneElse(t *testing.T) {
	for name, mark := range map[string]func(*corev1.Node){
		"by a human": func(n *corev1.Node) { n.Spec.Unschedulable = true },
		"by another gameday fault": func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Labels["app.kubernetes.io/managed-by"] = "gameday"
			n.Labels["gameday.io/backend"] = "kubernetes"
			n.Labels["gameday.io/fault-id"] = "gd-0123456789ab-f3"
		},
	} {
		t.Run(name, func(t *testing.T) {
			c := nodeCluster(t, false)
			n := c.node("kwok-node-1").DeepCopy()
			mark(n)
			require.NoError(t, c.cs.Tracker().Update(nodesGVR, n, ""))
			b := c.backend(policy(t, "*=1"))
			f := nodeFault("", "", map[string]any{"evict": true})

			_, err := b.Resolve(context.Background(), f)
			require.Error(t, err)
			assert.True(t, errkind.IsPermanent(err), "dry-run shows the refusal")
			_, err = b.Inject(context.Background(), f)
			require.Error(t, err)
			assert.True(t, errkind.IsPermanent(err))
			assert.Contains(t, err.Error(), "node kwok-node-1 is already cordoned")
			assert.Zero(t, c.requests("patch", "nodes"))
			assert.Empty(t, c.evicted())

			rec, err := b.Recover(context.Background(), f)
			require.NoError(t, err)
			assert.True(t, rec.AlreadyGone)
			assert.True(t, c.node("kwok-node-1").Spec.Unschedulable, "their cordon is left alone")
		})
	}
	t.Run("human cordon message says why", func(t *testing.T) {
		c := nodeCluster(t, false)
		n := c.node("kwok-node-1").DeepCopy()
		n.Spec.Unschedulable = true
		require.NoError(t, c.cs.Tracker().Update(nodesGVR, n, ""))
		_, err := c.backend(policy(t, "*=1")).Inject(context.Background(), nodeFault("", "", nil))
		assert.ErrorContains(t, err, "not by gameday: recover would uncordon it and undo someone else's work")
	})
}

func TestNodeNotReadyModeAndRadiusCountNodes(t *testing.T) {
	ctx := context.Background()
	t.Run("radius on nodes, not pods", func(t *testing.T) {
		// 3 matched pods (over a pod limit of 2) on 2 nodes (within it).
		c := nodeCluster(t, true)
		inj, err := c.backend(policy(t, "*=2")).Inject(ctx, nodeFault(chaos.ModeAll, "", nil))
		require.NoError(t, err)
		assert.Equal(t, []string{"node/kwok-node-1", "node/kwok-node-2"}, inj.Targets)
		assert.True(t, c.node("kwok-node-1").Spec.Unschedulable)
		assert.True(t, c.node("kwok-node-2").Spec.Unschedulable)
		assert.False(t, c.node("kwok-node-3").Spec.Unschedulable, "hosts no matched pod")
	})
	t.Run("radius exceeded", func(t *testing.T) {
		c := nodeCluster(t, true)
		_, err := c.backend(policy(t, "*=1")).Inject(ctx, nodeFault(chaos.ModeAll, "", nil))
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), "nodes hosting the matched pods (kwok-node-1, kwok-node-2)")
		assert.Contains(t, err.Error(), "the fault can hit 2 of 2 targets")
		assert.Zero(t, c.requests("patch", "nodes"))
	})
	t.Run("one by default, the one resolve named", func(t *testing.T) {
		c := nodeCluster(t, true)
		b := c.backend(policy(t, "*=1"))
		f := nodeFault("", "", nil)
		lines, err := b.Resolve(ctx, f)
		require.NoError(t, err)
		require.Len(t, lines, 1)
		inj, err := b.Inject(ctx, f)
		require.NoError(t, err)
		require.Len(t, inj.Targets, 1)
		assert.Contains(t, lines[0], "would cordon node "+inj.Targets[0][len("node/"):]+" ")
		assert.Equal(t, 1, c.requests("patch", "nodes"))
	})
	t.Run("opt-in still applies to the pods", func(t *testing.T) {
		c := nodeCluster(t, false)
		ns := namespace(shop, false)
		require.NoError(t, c.cs.Tracker().Update(corev1.SchemeGroupVersion.WithResource("namespaces"), ns, ""))
		_, err := c.backend(policy(t, "*=1")).Inject(ctx, nodeFault("", "", nil))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "pod/order-7d9-a, pod/order-7d9-b lack the label gameday.io/chaos=enabled")
		assert.Zero(t, c.requests("patch", "nodes"))
	})
}

func TestNodeNotReadyRetryFinishesTheRecordedSet(t *testing.T) {
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=100%"))
	f := nodeFault(chaos.ModeAll, "", nil)

	c.failNext("patch", "nodes", "kwok-node-2", apierrors.NewInternalError(errors.New("etcd timeout")))
	_, err := b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err))
	require.True(t, c.node("kwok-node-1").Spec.Unschedulable)
	require.False(t, c.node("kwok-node-2").Spec.Unschedulable)
	assert.Equal(t, "kwok-node-1,kwok-node-2", c.node("kwok-node-1").Annotations["gameday.io/nodes"])

	// order-7d9-c moves to kwok-node-3: a fresh pick would cordon that.
	obj, err := c.cs.Tracker().Get(podsGVR, shop, "order-7d9-c")
	require.NoError(t, err)
	moved := obj.(*corev1.Pod).DeepCopy()
	moved.Spec.NodeName = "kwok-node-3"
	require.NoError(t, c.cs.Tracker().Update(podsGVR, moved, shop))

	c.clock.Set(t0.Add(45 * time.Second))
	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, inj.Existing)
	assert.Equal(t, []string{"node/kwok-node-1", "node/kwok-node-2"}, inj.Targets)
	assert.True(t, t0.Equal(inj.Since), "the first cordon (%s), not the retry (%s): got %s", t0, t0.Add(45*time.Second), inj.Since)
	assert.Equal(t, "2026-11-25T10:00:00Z", c.node("kwok-node-2").Annotations["gameday.io/cordoned-at"],
		"the node the retry cordons records the fault's start too")
	assert.True(t, c.node("kwok-node-2").Spec.Unschedulable)
	assert.False(t, c.node("kwok-node-3").Spec.Unschedulable)

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, "uncordoned node kwok-node-1, kwok-node-2", rec.Detail)
	assert.False(t, c.node("kwok-node-1").Spec.Unschedulable)
	assert.False(t, c.node("kwok-node-2").Spec.Unschedulable)
}

func TestNodeNotReadyEvictionBlockedByABudgetIsRetried(t *testing.T) {
	c := nodeCluster(t, false)
	// Evicting both order replicas is the point here: 100% lets the
	// cumulative radius (tested on its own) allow it.
	b := c.backend(policy(t, "*=100%"))
	f := nodeFault("", "", map[string]any{"evict": true})
	c.mu.Lock()
	c.blockPDB["shop/order-7d9-a"] = true
	c.mu.Unlock()

	_, err := b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err), "the budget may allow it later")
	assert.Contains(t, err.Error(), "PodDisruptionBudget refused to evict shop/order-7d9-a")
	assert.True(t, c.node("kwok-node-1").Spec.Unschedulable)
	assert.Equal(t, []string{"other/batch-ok", "shop/order-7d9-b"}, c.evicted(), "the others are evicted anyway")

	c.mu.Lock()
	c.blockPDB["shop/order-7d9-a"] = false
	c.mu.Unlock()
	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, inj.Existing)
	assert.Equal(t, []string{"other/batch-ok", "shop/order-7d9-b", "shop/order-7d9-a"}, c.evicted())
}

func TestNodeNotReadyNeedsScheduledPods(t *testing.T) {
	pending := readyPod("order-pending", map[string]string{"app": "order"}, "", t0)
	pending.Status = corev1.PodStatus{Phase: corev1.PodPending}
	c := newCluster(t, []runtime.Object{namespace(shop, true), pending}...)
	_, err := c.backend(policy(t, "*=100%")).Inject(context.Background(), nodeFault("", "", nil))
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "is scheduled on a node yet")
}

// A node cordoned by a version that did not record the cordon time: the
// retry derives it from the expiry (inject time + duration + margin).
func TestNodeNotReadyRetryWithoutACordonTimeDerivesIt(t *testing.T) {
	c := nodeCluster(t, false)
	b := c.backend(policy(t, "*=1"))
	f := nodeFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	n := c.node("kwok-node-1").DeepCopy()
	delete(n.Annotations, gdk8s.AnnotationCordonedAt)
	require.NoError(t, c.cs.Tracker().Update(nodesGVR, n, ""))

	c.clock.Set(t0.Add(time.Minute))
	again, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.True(t, t0.Equal(again.Since), "want %s, got %s", t0, again.Since)
}

// Recover removes every annotation cordon wrote, the Temporal namespace
// and the cordon time included.
func TestNodeNotReadyRecoverRemovesEveryAnnotation(t *testing.T) {
	c := nodeCluster(t, false)
	b := c.backend(policy(t, "*=1"))
	f := nodeFault("", "", nil)
	f.TemporalNamespace = "gameday"
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	require.Equal(t, "gameday", c.node("kwok-node-1").Annotations["gameday.io/temporal-namespace"])
	_, err = b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Empty(t, c.node("kwok-node-1").Annotations)
}

// A recover whose context is cancelled stops before the next uncordon and
// says why; the retry uncordons.
func TestNodeNotReadyRecoverHonoursACancelledContext(t *testing.T) {
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=100%"))
	f := nodeFault(chaos.ModeAll, "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	var progress []string
	ctx = chaos.WithProgress(ctx, func(d string) { progress = append(progress, d); cancel() })
	_, err = b.Recover(ctx, f)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errkind.IsPermanent(err))
	assert.Equal(t, []string{"uncordoning node kwok-node-1"}, progress)
	assert.False(t, c.node("kwok-node-1").Spec.Unschedulable)
	assert.True(t, c.node("kwok-node-2").Spec.Unschedulable, "not reached: the context ended first")

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, "uncordoned node kwok-node-2", rec.Detail)
}
