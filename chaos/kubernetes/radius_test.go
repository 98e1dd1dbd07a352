package kubernetes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gameday/gameday/chaos"
	gdk8s "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// The cumulative blast radius (safety.CheckCumulative) in the kubernetes
// back-end: what a fault may hit counts what is already down, whoever took
// it down.

// killStep is step i of run wf: pod-kill fixed-percent 50 on order.
func killStep(wf string, i int) chaos.Fault {
	f := podKillFault(chaos.ModeFixedPercent, "50", nil)
	f.WorkflowID, f.ID, f.Step = wf, chaos.FaultID(wf, i), i
	return f
}

// readyOrder counts the order pods that serve: Ready and not terminating.
func (c *cluster) readyOrder() int {
	c.t.Helper()
	obj, err := c.cs.Tracker().List(podsGVR, podKind, shop)
	require.NoError(c.t, err)
	n := 0
	for _, p := range obj.(*corev1.PodList).Items {
		if p.Labels["app"] == "order" && p.DeletionTimestamp == nil && isReady(&p) {
			n++
		}
	}
	return n
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pendingReplacement is a pod the ReplicaSet controller just created:
// scheduled nowhere yet, not Ready.
func pendingReplacement(name string) *corev1.Pod {
	p := replacement(name, t0)
	p.UID = types.UID("uid-" + name)
	p.Spec.NodeName = ""
	p.Status = corev1.PodStatus{Phase: corev1.PodPending}
	return p
}

// react plays the ReplicaSet controller (and the kubelet) after a kill:
// for every order pod in before that is gone, rng picks what the cluster
// looks like by the next step: no replacement yet, a Pending one, a Ready
// one, or the victim still terminating (Ready condition still True, as
// the kubelet leaves it until the container stops) next to a Pending
// replacement.
func (c *cluster) react(rng *rand.Rand, before []*corev1.Pod, tag string) {
	c.t.Helper()
	for i, p := range before {
		if _, still := c.pod(shop, p.Name); still {
			continue
		}
		name := fmt.Sprintf("order-7d9-%s%d", tag, i)
		switch rng.IntN(4) {
		case 0:
		case 1:
			c.add(pendingReplacement(name))
		case 2:
			r := replacement(name, t0)
			r.UID = types.UID("uid-" + name)
			c.add(r)
		case 3:
			dying := p.DeepCopy()
			now := metav1.NewTime(t0)
			dying.DeletionTimestamp = &now
			dying.ResourceVersion = ""
			c.add(dying)
			c.add(pendingReplacement(name))
		}
	}
}

func (c *cluster) orderPodList() []*corev1.Pod {
	c.t.Helper()
	obj, err := c.cs.Tracker().List(podsGVR, podKind, shop)
	require.NoError(c.t, err)
	var out []*corev1.Pod
	for _, p := range obj.(*corev1.PodList).Items {
		if p.Labels["app"] == "order" {
			out = append(out, p.DeepCopy())
		}
	}
	return out
}

// The case: two pod-kill steps at fixed-percent 50 on 4 replicas
// under *=50%, driven as the workflow drives them (both steps resolved in
// define, before anything is killed; then inject one after the other), with
// a controller that replaces the victims at random speeds. Before the
// cumulative rule, step 2 counted the Pending replacements as targets and
// took more than half the Ready replicas in most runs.
func TestTwoStepPodKillKeepsHalfTheReplicasReady(t *testing.T) {
	minReady, refused := 4, 0
	for seed := uint64(0); seed < 100; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(4, true))...)
		b := c.backend(policy(t, "*=50%"))
		ctx := context.Background()
		wf := fmt.Sprintf("gameday-order-2step-%d", seed)
		steps := []chaos.Fault{killStep(wf, 0), killStep(wf, 1)}
		for _, f := range steps {
			_, err := b.Resolve(ctx, f)
			require.NoError(t, err, "seed %d: define resolves both steps while nothing is down", seed)
		}
		for i, f := range steps {
			before := c.orderPodList()
			_, err := b.Inject(ctx, f)
			if err != nil {
				var r *safety.Refusal
				require.ErrorAs(t, err, &r, "seed %d step %d", seed, i)
				require.True(t, errkind.IsPermanent(err))
				// The fault's own radius can refuse too: with only three
				// pods left, fixed-percent 50 is 2 of 3.
				require.Contains(t, []string{"cumulative-blast-radius", "blast-radius"}, r.Rule, "seed %d step %d", seed, i)
				if r.Rule == "cumulative-blast-radius" {
					assert.Contains(t, err.Error(), "of deployment/order (namespace shop) already unavailable")
					refused++
				}
				_, marker := c.configMap(shop, f.ID)
				assert.False(t, marker, "a refused kill leaves no marker")
			}
			ready := c.readyOrder()
			minReady = min(minReady, ready)
			require.GreaterOrEqual(t, ready, 2, "seed %d: after step %d only %d of 4 order replicas Ready", seed, i, ready)
			c.react(rng, before, fmt.Sprintf("s%d", i))
		}
	}
	t.Logf("100 seeded runs: min Ready %d/4, refused by the cumulative rule in %d", minReady, refused)
}

// Two runs of one scenario at once, interleaved at the worst moment: run A
// has written its marker but not killed yet when run B injects. B counts
// A's victims as already hit and is refused (its marker goes), A's retry
// adopts its own marker and is not refused by itself; later, with A's
// victims gone and their replacements Pending, B is refused again and a
// further retry of A still succeeds.
func TestConcurrentRunsOnOneDeployment(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(4, true))...)
	b := c.backend(policy(t, "*=50%"))
	ctx := context.Background()
	wfA := "gameday-order-kill-a"
	fA := killStep(wfA, 0)
	victimsA := victimsOf(t, b, fA)
	// A run B whose pick differs from A's (the same pick would take
	// nothing more away).
	var fB chaos.Fault
	for i := 0; ; i++ {
		fB = killStep(fmt.Sprintf("gameday-order-kill-b%d", i), 0)
		if victimsOf(t, b, fB) != victimsA {
			break
		}
	}

	first := strings.Split(victimsA, ", ")[0]
	c.failNext("delete", "pods", first, fmt.Errorf("connection reset"))
	_, err := b.Inject(ctx, fA)
	require.Error(t, err)
	require.False(t, errkind.IsPermanent(err))
	_, ok := c.configMap(shop, fA.ID)
	require.True(t, ok, "A's marker is written before its kill")

	_, err = b.Inject(ctx, fB)
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "refused by safety rule cumulative-blast-radius: 2 of 4 pods of deployment/order (namespace shop) already unavailable (2 being killed by "+fA.ID+" of workflow "+wfA+")")
	_, ok = c.configMap(shop, fB.ID)
	assert.False(t, ok, "B's refused marker is deleted")
	assert.Equal(t, 4, c.readyOrder(), "B killed nothing")

	inj, err := b.Inject(ctx, fA)
	require.NoError(t, err, "A's retry adopts its own marker")
	assert.True(t, inj.Existing)
	assert.Equal(t, 2, c.readyOrder())

	c.add(pendingReplacement("order-7d9-x"))
	c.add(pendingReplacement("order-7d9-y"))
	_, err = b.Inject(ctx, fB)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 of 4 pods of deployment/order (namespace shop) already unavailable (2 killed by "+fA.ID+" of workflow "+wfA+"); killing")
	_, err = b.Resolve(ctx, fB)
	assert.ErrorContains(t, err, "cumulative-blast-radius", "define of a new run is refused too")

	inj, err = b.Inject(ctx, fA)
	require.NoError(t, err, "A's own victims, gone, are not counted against A")
	assert.True(t, inj.Existing)
	assert.Equal(t, 2, c.readyOrder())
}

var victimsRE = regexp.MustCompile(`: ([^:]+)$`)

// victimsOf is what Resolve says the fault would kill, "a, b".
func victimsOf(t *testing.T, b *gdk8s.Backend, f chaos.Fault) string {
	t.Helper()
	lines, err := b.Resolve(context.Background(), f)
	require.NoError(t, err)
	m := victimsRE.FindStringSubmatch(lines[0])
	require.NotNil(t, m, lines[0])
	return m[1]
}

// A retry of an inject whose kill is done, with the replacements still
// Pending (2 of 4 unavailable, all through this fault), succeeds.
func TestRetriedPodKillAdoptsItsMarkerWhileReplacementsArePending(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(4, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := killStep("gameday-order-retry", 0)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.add(pendingReplacement("order-7d9-x"))
	c.add(pendingReplacement("order-7d9-y"))
	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, inj.Existing)
	assert.Equal(t, 2, c.readyOrder())
}

// deployment is Deployment name (opted in) with a ReplicaSet and one pod
// per entry of nodes; ready says which are Ready.
func deployment(name string, nodes []string, ready []bool) []runtime.Object {
	n := int32(len(nodes))
	labels := map[string]string{"app": name, optKey: optVal}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}
	out := []runtime.Object{
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: shop, UID: types.UID("uid-" + name)},
			Spec: appsv1.DeploymentSpec{Replicas: &n, Selector: sel}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-1a", Namespace: shop, UID: types.UID("uid-" + name + "-1a"),
			OwnerReferences: controllerRef("apps/v1", "Deployment", name)}, Spec: appsv1.ReplicaSetSpec{Replicas: &n, Selector: sel}},
	}
	for i, node := range nodes {
		p := readyPod(fmt.Sprintf("%s-1a-%d", name, i), labels, node, t0)
		p.OwnerReferences = controllerRef("apps/v1", "ReplicaSet", name+"-1a")
		if !ready[i] {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}
		out = append(out, p)
	}
	return out
}

var cordonRE = regexp.MustCompile(`would cordon node (\S+)`)

// node-notready with evict: true on order evicts every opted-in pod of the
// node; if those are all of another Deployment's replicas, it is refused
// before anything is cordoned, naming that Deployment. Pods of an owner
// already down count too.
func TestNodeNotReadyEvictionsCountAgainstEveryOwner(t *testing.T) {
	f := nodeFault(chaos.ModeOne, "", map[string]any{"evict": true})
	base := func(extra ...[]runtime.Object) *cluster {
		return newCluster(t, withObjs(append([][]runtime.Object{
			objs(namespace(shop, false), node("kwok-node-1"), node("kwok-node-2"), node("kwok-node-3")),
			orderApp(4, true, "kwok-node-1", "kwok-node-2"),
		}, extra...)...)...)
	}
	// Which of the two order nodes the fault picks (seeded by its id).
	lines, err := base().backend(policy(t, "*=50%")).Resolve(context.Background(), f)
	require.NoError(t, err)
	chosen := cordonRE.FindStringSubmatch(lines[0])[1]

	t.Run("all of another deployment", func(t *testing.T) {
		c := base(deployment("stock", []string{chosen, chosen}, []bool{true, true}))
		b := c.backend(policy(t, "*=50%"))
		_, err := b.Resolve(context.Background(), f)
		assert.ErrorContains(t, err, "cumulative-blast-radius", "define shows the refusal")
		_, err = b.Inject(context.Background(), f)
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), "0 of 2 pods of deployment/stock (namespace shop) already unavailable; evicting 2 more would make 2 of 2 unavailable (100%), over the limit of 50%")
		assert.Zero(t, c.requests("patch", "nodes"), "nothing cordoned")
		assert.Empty(t, c.evicted())
	})
	t.Run("one of three, with another already not Ready", func(t *testing.T) {
		c := base(deployment("stock", []string{chosen, "kwok-node-3", "kwok-node-3"}, []bool{true, false, true}))
		_, err := c.backend(policy(t, "*=50%")).Inject(context.Background(), f)
		assert.ErrorContains(t, err, "1 of 3 pods of deployment/stock (namespace shop) already unavailable (1 not Ready); evicting 1 more would make 2 of 3 unavailable (67%)")
		assert.Empty(t, c.evicted())
	})
	t.Run("one of three, all Ready: allowed", func(t *testing.T) {
		c := base(deployment("stock", []string{chosen, "kwok-node-3", "kwok-node-3"}, []bool{true, true, true}))
		_, err := c.backend(policy(t, "*=50%")).Inject(context.Background(), f)
		require.NoError(t, err)
		assert.Contains(t, c.evicted(), "shop/stock-1a-0")
	})
	// Judged before cordoning and again after: another run's pod-kill that
	// strikes between the two (here, as the cordon is written) is seen, the
	// eviction is refused and the cordon undone.
	t.Run("a concurrent kill between plan and cordon", func(t *testing.T) {
		c := base(deployment("stock", []string{chosen, "kwok-node-3", "kwok-node-3"}, []bool{true, true, true}))
		var victim string
		for _, n := range c.podNames(shop) {
			if p, _ := c.pod(shop, n); strings.HasPrefix(n, "stock-") && p.Spec.NodeName == "kwok-node-3" {
				victim = n
				break
			}
		}
		require.NotEmpty(t, victim)
		struck := false
		c.cs.PrependReactor("patch", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
			if !struck {
				struck = true
				require.NoError(t, c.cs.Tracker().Delete(corev1.SchemeGroupVersion.WithResource("pods"), shop, victim))
			}
			return false, nil, nil
		})
		_, err := c.backend(policy(t, "*=50%")).Inject(context.Background(), f)
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), "deployment/stock")
		assert.Empty(t, c.evicted(), "nothing evicted")
		assert.False(t, c.node(chosen).Spec.Unschedulable, "the cordon was undone")
	})
}

// A node another gameday fault cordoned and a live gameday Chaos Mesh
// object both make their pods already hit for a pod-kill; a Chaos Mesh
// object in mode one counts as one pod, not all it selects.
func TestPodKillCountsCordonsAndChaosMeshObjects(t *testing.T) {
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range kubetarget.ChaosMeshResources {
		listKinds[schema.GroupVersionResource{Group: kubetarget.ChaosMeshGroup, Version: kubetarget.ChaosMeshVersion, Resource: r}] = r + "List"
	}
	network := func(mode string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos",
			"metadata": map[string]any{"name": "gd-0000000000aa-f0", "namespace": shop,
				"labels":      map[string]any{kubetarget.LabelManagedBy: kubetarget.ManagedBy, kubetarget.LabelFaultID: "gd-0000000000aa-f0"},
				"annotations": map[string]any{kubetarget.AnnotationWorkflowID: "gameday-latency-7"}},
			"spec": map[string]any{"action": "delay", "mode": mode,
				"selector": map[string]any{"namespaces": []any{shop}, "labelSelectors": map[string]any{"app": "order"}}},
		}}
	}
	kill := podKillFault(chaos.ModeFixed, "1", nil)
	netGVR := schema.GroupVersionResource{Group: kubetarget.ChaosMeshGroup, Version: kubetarget.ChaosMeshVersion, Resource: "networkchaos"}
	withNetwork := func(mode string) *dynfake.FakeDynamicClient {
		dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
		require.NoError(t, dyn.Tracker().Create(netGVR, network(mode), shop))
		return dyn
	}

	t.Run("chaos mesh, mode all", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(4, true))...)
		dyn := withNetwork("all")
		b := c.backend(policy(t, "*=50%"), gdk8s.WithDynamic(dyn))
		_, err := b.Resolve(context.Background(), kill)
		assert.ErrorContains(t, err, "4 of 4 pods of deployment/order (namespace shop) already unavailable (4 selected by NetworkChaos gd-0000000000aa-f0 of workflow gameday-latency-7)")
		_, err = b.Inject(context.Background(), kill)
		assert.ErrorContains(t, err, "cumulative-blast-radius")
		assert.Equal(t, 4, c.readyOrder())
	})
	t.Run("chaos mesh, mode one", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(4, true))...)
		dyn := withNetwork("one")
		b := c.backend(policy(t, "*=50%"), gdk8s.WithDynamic(dyn))
		_, err := b.Inject(context.Background(), kill)
		require.NoError(t, err, "1 under network chaos + 1 killed = 2 of 4")
		two := podKillFault(chaos.ModeFixed, "2", nil)
		two.ID = chaos.FaultID("gameday-other", 0)
		c.add(pendingReplacement("order-7d9-x"))
		_, err = b.Resolve(context.Background(), two)
		assert.ErrorContains(t, err, "cumulative-blast-radius")
	})
	t.Run("cordoned node", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true), node("kwok-node-1"), node("kwok-node-2")), orderApp(4, true, "kwok-node-1", "kwok-node-2"))...)
		n := c.node("kwok-node-1").DeepCopy()
		n.Spec.Unschedulable = true
		n.Labels[kubetarget.LabelManagedBy], n.Labels[kubetarget.LabelFaultID], n.Labels[gdk8s.LabelBackend] = kubetarget.ManagedBy, "gd-0000000000bb-f1", gdk8s.BackendName
		n.Annotations = map[string]string{kubetarget.AnnotationWorkflowID: "gameday-node-3"}
		require.NoError(t, c.cs.Tracker().Update(nodesGVR, n, ""))
		_, err := c.backend(policy(t, "*=50%")).Inject(context.Background(), kill)
		assert.ErrorContains(t, err, "2 of 4 pods of deployment/order (namespace shop) already unavailable (2 on node kwok-node-1 cordoned by gd-0000000000bb-f1 of workflow gameday-node-3)")
	})
}
