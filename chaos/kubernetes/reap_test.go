package kubernetes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gameday/gameday/chaos"
	gdk8s "github.com/gameday/gameday/chaos/kubernetes"
)

const grace = gdk8s.DefaultReapGrace

// nodeExpiry is when nodeFault's cordon expires when injected at t0.
var nodeExpiry = t0.Add(2*time.Minute + gdk8s.DefaultTTLMargin)

// enforceNodeResourceVersion does what the API server does with a
// resourceVersion in a node patch (the fake ignores it): refuse it with a
// Conflict when the node changed since. before, when set, runs first, once,
// in place of whoever changes the node between the reaper's list and its
// patch.
func enforceNodeResourceVersion(c *cluster, before func()) {
	c.cs.PrependReactor("patch", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if before != nil {
			f := before
			before = nil
			f()
		}
		p := a.(k8stesting.PatchAction)
		var body struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
			return true, nil, err
		}
		rv := body.Metadata.ResourceVersion
		if rv == "" {
			return false, nil, nil
		}
		obj, err := c.cs.Tracker().Get(nodesGVR, "", p.GetName())
		if err != nil {
			return false, nil, nil // the default reactor answers NotFound
		}
		if cur := obj.(*corev1.Node).ResourceVersion; cur != rv {
			return true, nil, apierrors.NewConflict(nodesGVR.GroupResource(), p.GetName(),
				fmt.Errorf("the object has been modified; please apply your changes to the latest version (have %s, patch says %s)", cur, rv))
		}
		return false, nil, nil
	})
}

// setNode replaces a node in the tracker (another actor changing it).
func (c *cluster) setNode(n *corev1.Node) {
	c.t.Helper()
	require.NoError(c.t, c.cs.Tracker().Update(nodesGVR, n, ""))
}

// withResourceVersion gives every node a resourceVersion (the fake sets
// none), so that the reaper's patches carry one.
func (c *cluster) withResourceVersion(rv string, names ...string) {
	for _, name := range names {
		n := c.node(name).DeepCopy()
		n.ResourceVersion = rv
		c.setNode(n)
	}
}

func TestReapUncordonsAnExpiredNodeExactlyAsRecoverWould(t *testing.T) {
	ctx := context.Background()
	f := nodeFault(chaos.ModeAll, "", nil)
	f.TemporalNamespace = "gameday"

	// Two identical clusters with the same fault: one recovered by the
	// workflow, one reaped with nobody else around.
	recovered, reaped := nodeCluster(t, true), nodeCluster(t, true)
	for _, c := range []*cluster{recovered, reaped} {
		_, err := c.backend(policy(t, "*=100%")).Inject(ctx, f)
		require.NoError(t, err)
		require.True(t, c.node("kwok-node-1").Spec.Unschedulable)
		require.True(t, c.node("kwok-node-2").Spec.Unschedulable)
	}
	_, err := recovered.backend(policy(t, "*=100%")).Recover(ctx, f)
	require.NoError(t, err)

	b := reaped.backend(policy(t, "*=100%"))
	// Expired, but still within the grace: left to the workflow.
	res, err := b.Reap(ctx, nodeExpiry.Add(grace-time.Second), grace)
	require.NoError(t, err)
	assert.Empty(t, res.Removed)
	assert.Equal(t, 2, res.Waiting)
	assert.True(t, nodeExpiry.Add(grace).Equal(res.NextDue), "next due %s", res.NextDue)
	assert.Equal(t, 2, reaped.requests("patch", "nodes"), "only the two cordons so far")

	now := nodeExpiry.Add(grace + 1500*time.Millisecond)
	res, err = b.Reap(ctx, now, grace)
	require.NoError(t, err)
	assert.Equal(t, []gdk8s.Reaped{
		{FaultID: f.ID, WorkflowID: wfID, Object: "node/kwok-node-1", Expires: nodeExpiry, Late: grace + 1500*time.Millisecond},
		{FaultID: f.ID, WorkflowID: wfID, Object: "node/kwok-node-2", Expires: nodeExpiry, Late: grace + 1500*time.Millisecond},
	}, res.Removed)
	assert.Zero(t, res.Waiting)
	assert.Empty(t, res.Skipped)
	for _, name := range []string{"kwok-node-1", "kwok-node-2"} {
		n := reaped.node(name)
		assert.False(t, n.Spec.Unschedulable, name)
		assert.Equal(t, map[string]string{"kubernetes.io/hostname": name}, n.Labels, "gameday's labels removed, others kept")
		assert.Empty(t, n.Annotations, "every gameday annotation removed (expiry, cordoned-at, nodes, temporal namespace...)")
		assert.Equal(t, recovered.node(name), n, "the same node as after the workflow's recover")
	}

	// Nothing left: a second pass changes nothing, and the workflow's own
	// recover, should it come back, finds nothing to do.
	patches := reaped.requests("patch", "nodes")
	res, err = b.Reap(ctx, now.Add(time.Hour), grace)
	require.NoError(t, err)
	assert.Empty(t, res.Removed)
	assert.Equal(t, patches, reaped.requests("patch", "nodes"))
	rec, err := b.Recover(ctx, f)
	require.NoError(t, err)
	assert.True(t, rec.AlreadyGone)
}

func TestReapWithoutGraceRemovesAtTheExpiry(t *testing.T) {
	c := nodeCluster(t, false)
	b := c.backend(policy(t, "*=1"))
	_, err := b.Inject(context.Background(), nodeFault("", "", nil))
	require.NoError(t, err)
	res, err := b.Reap(context.Background(), nodeExpiry.Add(-time.Nanosecond), 0)
	require.NoError(t, err)
	assert.Empty(t, res.Removed, "not yet expired: untouched")
	assert.True(t, c.node("kwok-node-1").Spec.Unschedulable)
	res, err = b.Reap(context.Background(), nodeExpiry, 0)
	require.NoError(t, err)
	require.Len(t, res.Removed, 1)
	assert.Zero(t, res.Removed[0].Late)
	assert.False(t, c.node("kwok-node-1").Spec.Unschedulable)
}

// Nodes gameday did not cordon are never touched, however expired the
// annotations they carry look.
func TestReapLeavesNodesGamedayDidNotCordon(t *testing.T) {
	expired := map[string]string{"gameday.io/expires": "2020-01-01T00:00:00Z", "gameday.io/workflow-id": wfID}
	maintenance := node("maintenance")
	maintenance.Spec.Unschedulable = true
	// An expiry annotation but none of gameday's labels (copied by hand,
	// or left by a tool).
	lookalike := node("lookalike")
	lookalike.Spec.Unschedulable = true
	lookalike.Annotations = expired
	// Gameday's managed-by and a fault id, but not this back-end's label.
	other := node("other-backend")
	other.Spec.Unschedulable = true
	other.Labels["app.kubernetes.io/managed-by"] = "gameday"
	other.Labels["gameday.io/fault-id"] = "gd-0123456789ab-f0"
	other.Annotations = expired
	// Another manager entirely.
	foreign := node("foreign")
	foreign.Spec.Unschedulable = true
	foreign.Labels["app.kubernetes.io/managed-by"] = "cluster-autoscaler"
	foreign.Labels["gameday.io/backend"] = "kubernetes"
	foreign.Annotations = expired

	c := newCluster(t, maintenance, lookalike, other, foreign)
	res, err := c.backend(policy(t, "*=1")).Reap(context.Background(), t0.Add(24*time.Hour), grace)
	require.NoError(t, err)
	assert.Empty(t, res.Removed)
	assert.Zero(t, res.Waiting)
	assert.Zero(t, c.requests("patch", "nodes"))
	for _, n := range []*corev1.Node{maintenance, lookalike, other, foreign} {
		assert.Equal(t, n, c.node(n.Name), "%s untouched", n.Name)
	}
}

// A node that gameday uncordoned and someone else then cordoned (for
// maintenance) is someone else's: the reaper leaves it cordoned.
func TestReapLeavesANodeCordonedBySomeoneElseAfterGamedaysUncordon(t *testing.T) {
	ctx := context.Background()
	f := nodeFault("", "", nil)

	t.Run("before the reaper looks", func(t *testing.T) {
		c := nodeCluster(t, false)
		b := c.backend(policy(t, "*=1"))
		_, err := b.Inject(ctx, f)
		require.NoError(t, err)
		_, err = b.Recover(ctx, f)
		require.NoError(t, err)
		n := c.node("kwok-node-1").DeepCopy()
		n.Spec.Unschedulable = true // kubectl cordon
		c.setNode(n)

		patches := c.requests("patch", "nodes")
		res, err := b.Reap(ctx, nodeExpiry.Add(time.Hour), grace)
		require.NoError(t, err)
		assert.Empty(t, res.Removed)
		assert.Equal(t, patches, c.requests("patch", "nodes"))
		assert.True(t, c.node("kwok-node-1").Spec.Unschedulable, "still cordoned by its operator")
	})

	t.Run("between the reaper's list and its uncordon", func(t *testing.T) {
		c := nodeCluster(t, false)
		b := c.backend(policy(t, "*=1"))
		c.withResourceVersion("10", "kwok-node-1")
		_, err := b.Inject(ctx, f)
		require.NoError(t, err)
		// The workflow's recover lands, then an operator cordons the node,
		// after the reaper listed it.
		enforceNodeResourceVersion(c, func() {
			n := c.node("kwok-node-1").DeepCopy()
			n.Labels = map[string]string{"kubernetes.io/hostname": "kwok-node-1"}
			n.Annotations = map[string]string{"ops.example.com/reason": "kernel upgrade"}
			n.Spec.Unschedulable = true
			n.ResourceVersion = "12"
			c.setNode(n)
		})
		res, err := b.Reap(ctx, nodeExpiry.Add(time.Hour), grace)
		require.NoError(t, err)
		assert.Empty(t, res.Removed)
		assert.Equal(t, []string{"node/kwok-node-1: changed since it was listed and is no longer cordoned by gameday fault " + f.ID + ": left alone"}, res.Skipped)
		n := c.node("kwok-node-1")
		assert.True(t, n.Spec.Unschedulable, "the operator's cordon stays")
		assert.Equal(t, "kernel upgrade", n.Annotations["ops.example.com/reason"])
	})

	t.Run("a node that only changed status is still reaped", func(t *testing.T) {
		c := nodeCluster(t, false)
		b := c.backend(policy(t, "*=1"))
		c.withResourceVersion("10", "kwok-node-1")
		_, err := b.Inject(ctx, f)
		require.NoError(t, err)
		enforceNodeResourceVersion(c, func() {
			n := c.node("kwok-node-1").DeepCopy() // the kubelet's heartbeat
			n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(t0.Add(time.Hour))
			n.ResourceVersion = "11"
			c.setNode(n)
		})
		res, err := b.Reap(ctx, nodeExpiry.Add(time.Hour), grace)
		require.NoError(t, err)
		require.Len(t, res.Removed, 1)
		assert.False(t, c.node("kwok-node-1").Spec.Unschedulable)
		assert.Empty(t, c.node("kwok-node-1").Annotations)
	})
}

func TestReapDeletesExpiredPodKillMarkers(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", map[string]any{"ready_timeout": "2m"})
	f.Duration = 30 * time.Second
	_, err := b.Inject(ctx, f)
	require.NoError(t, err)
	expiry := t0.Add(f.Duration + 2*time.Minute)

	// Left alone: a ConfigMap of the same shape that is not gameday's, and
	// a gameday marker that does not decode (the only record of a kill).
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: shop,
		Annotations: map[string]string{"gameday.io/expires": "2020-01-01T00:00:00Z"}}}
	corrupt := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gd-corrupt-f0", Namespace: "other",
		Labels:      map[string]string{"app.kubernetes.io/managed-by": "gameday", "gameday.io/fault-id": "gd-corrupt-f0", "gameday.io/backend": "kubernetes"},
		Annotations: map[string]string{"gameday.io/expires": "2020-01-01T00:00:00Z"}},
		Data: map[string]string{"victims": "not json"}}
	// A marker in a namespace the worker may not touch is not even looked at.
	elsewhere := corrupt.DeepCopy()
	elsewhere.Namespace, elsewhere.Name = "payments", "gd-elsewhere-f0"
	c.add(foreign)
	c.add(corrupt)
	c.add(elsewhere)

	res, err := b.Reap(ctx, expiry.Add(grace-time.Second), grace)
	require.NoError(t, err)
	assert.Empty(t, res.Removed)
	assert.Equal(t, 1, res.Waiting)
	_, ok := c.configMap(shop, f.ID)
	assert.True(t, ok, "not yet past expiry + grace")

	res, err = b.Reap(ctx, expiry.Add(grace), grace)
	require.NoError(t, err)
	assert.Equal(t, []gdk8s.Reaped{{FaultID: f.ID, WorkflowID: wfID, Object: "configmap/shop/" + f.ID, Expires: expiry, Late: grace}}, res.Removed)
	require.Len(t, res.Skipped, 1)
	assert.Contains(t, res.Skipped[0], "configmap/other/gd-corrupt-f0: pod-kill marker")
	assert.Contains(t, res.Skipped[0], "kept for a human")
	_, ok = c.configMap(shop, f.ID)
	assert.False(t, ok, "expired marker deleted")
	for _, cm := range []*corev1.ConfigMap{foreign, corrupt, elsewhere} {
		_, ok := c.configMap(cm.Namespace, cm.Name)
		assert.True(t, ok, "%s/%s kept", cm.Namespace, cm.Name)
	}
	for _, a := range c.cs.Actions() {
		if a.GetResource().Resource == "configmaps" && a.GetVerb() == "list" {
			assert.Contains(t, []string{shop, "other"}, a.GetNamespace(), "markers are only looked for in allowed namespaces")
		}
	}
	assert.Equal(t, 1, c.requests("delete", "configmaps"))

	// The workflow's recover, coming back late, finds nothing left.
	rec, err := b.Recover(ctx, f)
	require.NoError(t, err)
	assert.True(t, rec.AlreadyGone)
}

// One failure does not stop the rest of the pass; every error is returned.
func TestReapKeepsGoingPastAFailure(t *testing.T) {
	ctx := context.Background()
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=100%"))
	_, err := b.Inject(ctx, nodeFault(chaos.ModeAll, "", nil))
	require.NoError(t, err)
	c.failNext("patch", "nodes", "kwok-node-1", apierrors.NewInternalError(errors.New("etcd leader changed")))
	c.failNext("list", "configmaps", "", apierrors.NewForbidden(configMapsGVR.GroupResource(), "", errors.New("no RoleBinding")))

	res, err := b.Reap(ctx, nodeExpiry.Add(grace), grace)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "uncordon expired node kwok-node-1")
	assert.Contains(t, err.Error(), "deploy/rbac.yaml", "a forbidden list points at the RBAC")
	require.Len(t, res.Removed, 1)
	assert.Equal(t, "node/kwok-node-2", res.Removed[0].Object)
	assert.True(t, c.node("kwok-node-1").Spec.Unschedulable, "failed this pass")

	res, err = b.Reap(ctx, nodeExpiry.Add(grace), grace)
	require.NoError(t, err, "the next pass gets it")
	require.Len(t, res.Removed, 1)
	assert.Equal(t, "node/kwok-node-1", res.Removed[0].Object)
}

func TestReapEndsWithTheContext(t *testing.T) {
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=100%"))
	_, err := b.Inject(context.Background(), nodeFault(chaos.ModeAll, "", nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	c.cs.PrependReactor("patch", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		cancel()
		return false, nil, nil
	})
	res, err := b.Reap(ctx, nodeExpiry.Add(grace), grace)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, res.Removed, 1, "the patch in flight landed; the next node was not started")
	assert.True(t, c.node("kwok-node-2").Spec.Unschedulable)
	assert.Zero(t, c.requests("list", "configmaps"))
}

// Every request Reap makes is in ReapPermissions (what the reaper's
// CronJob relies on), and that is within Permissions (what rbac.yaml grants).
func TestReapUsesOnlyReapPermissions(t *testing.T) {
	ctx := context.Background()
	c := newCluster(t, withObjs(objs(namespace(shop, false), node("kwok-node-1"), node("kwok-node-2")), orderApp(3, true, "kwok-node-1", "kwok-node-2"))...)
	b := c.backend(policy(t, "*=100%"))
	pk := podKillFault("", "", nil)
	pk.Target.Mode = chaos.ModeOne
	_, err := b.Inject(ctx, pk)
	require.NoError(t, err)
	_, err = b.Inject(ctx, nodeFault(chaos.ModeAll, "", nil))
	require.NoError(t, err)
	c.withResourceVersion("5", "kwok-node-1", "kwok-node-2")
	enforceNodeResourceVersion(c, func() { // one conflict: the re-read path too
		n := c.node("kwok-node-1").DeepCopy()
		n.ResourceVersion = "6"
		c.setNode(n)
	})
	c.cs.ClearActions()

	res, err := b.Reap(ctx, t0.Add(24*time.Hour), grace)
	require.NoError(t, err)
	assert.Len(t, res.Removed, 3, "two nodes and the marker")
	require.NotZero(t, c.requests("get", "nodes"), "the conflict path ran")
	for _, a := range c.cs.Actions() {
		res := a.GetResource()
		ok := false
		for _, p := range gdk8s.ReapPermissions {
			ok = ok || p.Allows(res.Group, res.Resource, a.GetVerb())
		}
		assert.True(t, ok, "Reap made a request ReapPermissions does not list: %s %s", a.GetVerb(), res.Resource)
	}
	for _, rp := range gdk8s.ReapPermissions {
		for _, v := range rp.Verbs {
			ok := false
			for _, p := range gdk8s.Permissions {
				ok = ok || p.Allows(rp.Group, rp.Resource, v)
			}
			assert.True(t, ok, "ReapPermissions %s %s is not in Permissions", v, rp.Resource)
		}
	}
}
