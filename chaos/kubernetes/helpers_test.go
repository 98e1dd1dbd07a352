package kubernetes_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gameday/gameday/chaos"
	gdk8s "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/safety"
)

const (
	shop   = "shop"
	optKey = "gameday.io/chaos"
	optVal = "enabled"
	wfID   = "gameday-demo-20261125-1"
)

var (
	t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

	podsGVR        = corev1.SchemeGroupVersion.WithResource("pods")
	nodesGVR       = corev1.SchemeGroupVersion.WithResource("nodes")
	configMapsGVR  = corev1.SchemeGroupVersion.WithResource("configmaps")
	deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")
	podKind        = corev1.SchemeGroupVersion.WithKind("Pod")
	configMapKind  = corev1.SchemeGroupVersion.WithKind("ConfigMap")
)

// fakeClock is a settable clock, safe to read from a recover running in
// another goroutine.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// policy allows shop and other, with the default opt-in label; radius is a
// GAMEDAY_MAX_BLAST_RADIUS value.
func policy(t *testing.T, radius string) safety.Policy {
	t.Helper()
	r, err := safety.ParseRadius(radius)
	require.NoError(t, err)
	return safety.Policy{Namespaces: []string{shop, "other"}, OptInKey: optKey, OptInValue: optVal, MaxRadius: r}
}

// cluster is a fake API server with the behaviour the back-end relies on
// that the fake clientset lacks: UID preconditions on pod deletion and the
// Eviction subresource. Tests read and change state through the tracker
// directly, so that the recorded actions are exactly the back-end's, and
// every test checks those against the declared RBAC permissions.
type cluster struct {
	t     *testing.T
	cs    *fake.Clientset
	clock *fakeClock

	mu        sync.Mutex
	evictions []*policyv1.Eviction
	blockPDB  map[string]bool  // "ns/name": eviction refused by a PodDisruptionBudget
	failOnce  map[string]error // "verb resource name": fail the next such request
}

func newCluster(t *testing.T, objs ...runtime.Object) *cluster {
	t.Helper()
	c := &cluster{
		t:        t,
		cs:       fake.NewClientset(objs...),
		clock:    &fakeClock{t: t0},
		blockPDB: map[string]bool{},
		failOnce: map[string]error{},
	}
	c.cs.PrependReactor("*", "*", c.injectFailures)
	c.cs.PrependReactor("delete", "pods", c.podDeletePreconditions)
	c.cs.PrependReactor("create", "pods", c.eviction)
	t.Cleanup(c.checkPermissions)
	return c
}

func (c *cluster) backend(p safety.Policy, opts ...gdk8s.Option) *gdk8s.Backend {
	opts = append([]gdk8s.Option{gdk8s.WithClock(c.clock.Now), gdk8s.WithPollInterval(5 * time.Millisecond)}, opts...)
	return gdk8s.New(c.cs, p, opts...)
}

// failNext makes the next request "verb resource name" fail with err.
func (c *cluster) failNext(verb, resource, name string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failOnce[verb+" "+resource+" "+name] = err
}

func (c *cluster) injectFailures(a k8stesting.Action) (bool, runtime.Object, error) {
	name := ""
	switch a := a.(type) {
	case k8stesting.GetAction:
		name = a.GetName()
	case k8stesting.DeleteAction:
		name = a.GetName()
	case k8stesting.PatchAction:
		name = a.GetName()
	}
	key := a.GetVerb() + " " + a.GetResource().Resource + " " + name
	c.mu.Lock()
	defer c.mu.Unlock()
	if err, ok := c.failOnce[key]; ok {
		delete(c.failOnce, key)
		return true, nil, err
	}
	return false, nil, nil
}

// podDeletePreconditions does what the API server does with a UID
// precondition (the fake ignores it), and fails the test if the back-end
// ever deletes a pod without one.
func (c *cluster) podDeletePreconditions(a k8stesting.Action) (bool, runtime.Object, error) {
	d := a.(k8stesting.DeleteAction)
	pre := d.GetDeleteOptions().Preconditions
	if pre == nil || pre.UID == nil {
		c.t.Errorf("pod %s deleted without a UID precondition: a replacement with the same name could be killed", d.GetName())
		return false, nil, nil
	}
	obj, err := c.cs.Tracker().Get(podsGVR, d.GetNamespace(), d.GetName())
	if err != nil {
		return false, nil, nil // the default reactor answers NotFound
	}
	if uid := obj.(*corev1.Pod).UID; uid != *pre.UID {
		return true, nil, apierrors.NewConflict(podsGVR.GroupResource(), d.GetName(),
			fmt.Errorf("precondition failed: UID in precondition: %s, UID in object meta: %s", *pre.UID, uid))
	}
	return false, nil, nil
}

// eviction implements pods/eviction: delete the pod unless a "budget"
// blocks it.
func (c *cluster) eviction(a k8stesting.Action) (bool, runtime.Object, error) {
	if a.GetSubresource() != "eviction" {
		return false, nil, nil
	}
	ev := a.(k8stesting.CreateAction).GetObject().(*policyv1.Eviction)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blockPDB[ev.Namespace+"/"+ev.Name] {
		return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	}
	if _, err := c.cs.Tracker().Get(podsGVR, ev.Namespace, ev.Name); err != nil {
		return true, nil, err
	}
	c.evictions = append(c.evictions, ev)
	return true, nil, c.cs.Tracker().Delete(podsGVR, ev.Namespace, ev.Name)
}

func (c *cluster) evicted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.evictions {
		out = append(out, e.Namespace+"/"+e.Name)
	}
	return out
}

// checkPermissions fails the test if the back-end made a request that
// gdk8s.Permissions (and so the documented RBAC) does not cover.
func (c *cluster) checkPermissions() {
	for _, a := range c.cs.Actions() {
		res := a.GetResource()
		r := res.Resource
		if s := a.GetSubresource(); s != "" {
			r += "/" + s
		}
		ok := false
		for _, p := range gdk8s.Permissions {
			ok = ok || p.Allows(res.Group, r, a.GetVerb())
		}
		if !ok {
			c.t.Errorf("the back-end made a request gdk8s.Permissions does not list: %s %s (group %q)", a.GetVerb(), r, res.Group)
		}
	}
}

// requests counts the back-end's requests with verb on resource.
func (c *cluster) requests(verb, resource string) int {
	n := 0
	for _, a := range c.cs.Actions() {
		r := a.GetResource().Resource
		if s := a.GetSubresource(); s != "" {
			r += "/" + s
		}
		if a.GetVerb() == verb && r == resource {
			n++
		}
	}
	return n
}

func (c *cluster) podNames(ns string) []string {
	c.t.Helper()
	obj, err := c.cs.Tracker().List(podsGVR, podKind, ns)
	require.NoError(c.t, err)
	var out []string
	for _, p := range obj.(*corev1.PodList).Items {
		out = append(out, p.Name)
	}
	return out
}

func (c *cluster) pod(ns, name string) (*corev1.Pod, bool) {
	obj, err := c.cs.Tracker().Get(podsGVR, ns, name)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	require.NoError(c.t, err)
	return obj.(*corev1.Pod), true
}

func (c *cluster) configMap(ns, name string) (*corev1.ConfigMap, bool) {
	obj, err := c.cs.Tracker().Get(configMapsGVR, ns, name)
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	require.NoError(c.t, err)
	return obj.(*corev1.ConfigMap), true
}

func (c *cluster) configMaps(ns string) []corev1.ConfigMap {
	obj, err := c.cs.Tracker().List(configMapsGVR, configMapKind, ns)
	require.NoError(c.t, err)
	return obj.(*corev1.ConfigMapList).Items
}

func (c *cluster) node(name string) *corev1.Node {
	c.t.Helper()
	obj, err := c.cs.Tracker().Get(nodesGVR, "", name)
	require.NoError(c.t, err)
	return obj.(*corev1.Node)
}

func (c *cluster) add(obj runtime.Object) {
	c.t.Helper()
	require.NoError(c.t, c.cs.Tracker().Add(obj))
}

func (c *cluster) remove(gvr schema.GroupVersionResource, ns, name string) {
	c.t.Helper()
	require.NoError(c.t, c.cs.Tracker().Delete(gvr, ns, name))
}

// setDeploymentReady plays the Deployment controller: ready of the
// deployment's replicas are ready (and updated, available).
func (c *cluster) setDeploymentReady(name string, ready int32) {
	c.t.Helper()
	obj, err := c.cs.Tracker().Get(deploymentsGVR, shop, name)
	require.NoError(c.t, err)
	d := obj.(*appsv1.Deployment).DeepCopy()
	d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UpdatedReplicas = ready, ready, *d.Spec.Replicas
	require.NoError(c.t, c.cs.Tracker().Update(deploymentsGVR, d, shop))
}

func namespace(name string, optedIn bool) *corev1.Namespace {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/metadata.name": name}}}
	if optedIn {
		ns.Labels[optKey] = optVal
	}
	return ns
}

func node(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
}

// readyPod is a running, Ready pod in shop, Ready since at.
func readyPod(name string, labels map[string]string, nodeName string, at time.Time) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: shop, UID: types.UID("uid-" + name), Labels: labels},
		Spec:       corev1.PodSpec{NodeName: nodeName, Containers: []corev1.Container{{Name: "app", Image: "shop/app:1"}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}},
		},
	}
}

func controllerRef(apiVersion, kind, name string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + name), Controller: &yes}}
}

// orderApp is Deployment "order" -> ReplicaSet "order-7d9" -> pods
// order-7d9-a, -b, ... spread round-robin over nodes, all Ready for an
// hour. optIn puts the opt-in label on the pod template.
func orderApp(replicas int, optIn bool, nodes ...string) []runtime.Object {
	if len(nodes) == 0 {
		nodes = []string{"kwok-node-1"}
	}
	n := int32(replicas)
	tmpl := map[string]string{"app": "order"}
	if optIn {
		tmpl[optKey] = optVal
	}
	podLabels := map[string]string{"pod-template-hash": "7d9"}
	for k, v := range tmpl {
		podLabels[k] = v
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "order"}}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "order", Namespace: shop, UID: "uid-order", Generation: 2},
		Spec: appsv1.DeploymentSpec{Replicas: &n, Selector: sel,
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: tmpl}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n},
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "order-7d9", Namespace: shop, UID: "uid-order-7d9",
			OwnerReferences: controllerRef("apps/v1", "Deployment", "order")},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &n, Selector: sel},
		Status: appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n},
	}
	objs := []runtime.Object{d, rs}
	for i := 0; i < replicas; i++ {
		p := readyPod(fmt.Sprintf("order-7d9-%c", 'a'+i), podLabels, nodes[i%len(nodes)], t0.Add(-time.Hour))
		p.OwnerReferences = controllerRef("apps/v1", "ReplicaSet", "order-7d9")
		objs = append(objs, p)
	}
	return objs
}

// statefulSet is StatefulSet name with pods name-0.., not opted in
// themselves.
func statefulSet(name string, replicas int) []runtime.Object {
	n := int32(replicas)
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: shop, UID: types.UID("uid-" + name)},
		Spec:       appsv1.StatefulSetSpec{Replicas: &n, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status:     appsv1.StatefulSetStatus{Replicas: n, ReadyReplicas: n},
	}
	out := []runtime.Object{ss}
	for i := 0; i < replicas; i++ {
		out = append(out, statefulPod(name, i))
	}
	return out
}

func statefulPod(name string, i int) *corev1.Pod {
	p := readyPod(fmt.Sprintf("%s-%d", name, i), map[string]string{"app": name}, "kwok-node-1", t0.Add(-time.Hour))
	p.OwnerReferences = controllerRef("apps/v1", "StatefulSet", name)
	return p
}

// replacement plays the ReplicaSet controller: a new Ready pod of order.
func replacement(name string, readySince time.Time) *corev1.Pod {
	p := readyPod(name, map[string]string{"app": "order", "pod-template-hash": "7d9", optKey: optVal}, "kwok-node-1", readySince)
	p.OwnerReferences = controllerRef("apps/v1", "ReplicaSet", "order-7d9")
	return p
}

func withObjs(groups ...[]runtime.Object) []runtime.Object {
	var out []runtime.Object
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func objs(o ...runtime.Object) []runtime.Object { return o }

var faultID = chaos.FaultID(wfID, 0)

func podKillFault(mode, value string, params map[string]any) chaos.Fault {
	return chaos.Fault{
		ID: faultID, WorkflowID: wfID, Name: "kill an order pod", Backend: gdk8s.BackendName, Action: gdk8s.ActionPodKill,
		Params: params, Environment: "staging",
		Target: chaos.Target{Backend: gdk8s.BackendName, Namespace: shop, Selector: map[string]string{"app": "order"}, Mode: mode, Value: value},
	}
}

func nodeFault(mode, value string, params map[string]any) chaos.Fault {
	f := podKillFault(mode, value, params)
	f.ID = chaos.FaultID(wfID, 1)
	f.Step = 1
	f.Name = "node down under order"
	f.Action = gdk8s.ActionNodeNotReady
	f.Duration = 2 * time.Minute
	return f
}

// sweepFault is what a sweep rebuilds from a listed fault: no selector, no
// params, no duration.
func sweepFault(inj chaos.Injected) chaos.Fault {
	return chaos.Fault{ID: inj.FaultID, WorkflowID: inj.WorkflowID, Backend: inj.Backend, Action: inj.Action,
		Target: chaos.Target{Backend: inj.Backend, Namespace: inj.Namespace}}
}
