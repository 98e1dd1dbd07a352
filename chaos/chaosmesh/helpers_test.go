package chaosmesh_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynfake "k8s.io/client-go/dynamic/fake"
	kfake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

const (
	ns      = "shop"
	optKey  = "gameday.io/chaos"
	optVal  = "enabled"
	faultID = "gd-0123456789ab-f0"
)

var netGVR = schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: "networkchaos"}

func policy() safety.Policy {
	return safety.Policy{
		Namespaces: []string{ns, "other"},
		OptInKey:   optKey, OptInValue: optVal,
		MaxRadius: map[string]safety.Limit{safety.AnyEnvironment: {Percent: 50}, "prod": {Count: 1}},
	}
}

// pod is a running, Ready pod of ns.
func pod(name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels, UID: types.UID("uid-" + name)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

// owned makes p a pod of the controller kind/name.
func owned(p *corev1.Pod, kind, name string) *corev1.Pod {
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: &yes}}
	return p
}

func replicas(n int32) *int32 { return &n }

// cluster is a fake cluster: namespace shop (opted in when nsOptIn) with
// three checkout pods, and no Chaos Mesh objects.
type cluster struct {
	cs  *kfake.Clientset
	dyn *dynfake.FakeDynamicClient
}

func newCluster(t *testing.T, nsOptIn bool) cluster {
	t.Helper()
	nsLabels := map[string]string{}
	if nsOptIn {
		nsLabels[optKey] = optVal
	}
	app := map[string]string{"app": "checkout"}
	cs := kfake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: nsLabels}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
		// Deployment checkout (through ReplicaSet checkout-5f) with three
		// replicas; cart-a has no controller.
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "checkout", Namespace: ns}, Spec: appsv1.DeploymentSpec{Replicas: replicas(3)}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "checkout-5f", Namespace: ns, OwnerReferences: owned(&corev1.Pod{}, "Deployment", "checkout").OwnerReferences},
			Spec: appsv1.ReplicaSetSpec{Replicas: replicas(3)}},
		owned(pod("checkout-a", app), "ReplicaSet", "checkout-5f"), owned(pod("checkout-b", app), "ReplicaSet", "checkout-5f"), owned(pod("checkout-c", app), "ReplicaSet", "checkout-5f"),
		pod("cart-a", map[string]string{"app": "cart"}),
		// Network peers: two database pods here (StatefulSet db), one in
		// "other" (allowed, not opted in).
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns}, Spec: appsv1.StatefulSetSpec{Replicas: replicas(2)}},
		owned(pod("db-a", map[string]string{"app": "db"}), "StatefulSet", "db"), owned(pod("db-b", map[string]string{"app": "db"}), "StatefulSet", "db"),
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-x", Namespace: "other", Labels: map[string]string{"app": "db"}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
	)
	listKinds := map[schema.GroupVersionResource]string{}
	for _, k := range chaosmesh.Kinds() {
		listKinds[k.GVR()] = k.Kind + "List"
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	return cluster{cs: cs, dyn: dyn}
}

func (c cluster) backend(opts ...chaosmesh.Option) *chaosmesh.Backend {
	opts = append([]chaosmesh.Option{chaosmesh.WithServerDryRun(false)}, opts...)
	return chaosmesh.New(c.dyn, c.cs, policy(), opts...)
}

// stampCreation plays the API server, which sets creationTimestamp on every
// object it creates (the fake dynamic client does not), from now.
func (c cluster) stampCreation(now func() time.Time) {
	c.dyn.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if u, ok := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured); ok {
			u.SetCreationTimestamp(metav1.NewTime(now()))
		}
		return false, nil, nil // the tracker stores it
	})
}

// objects returns every object of a resource in shop.
func (c cluster) objects(t *testing.T, k chaosmesh.Kind) []unstructured.Unstructured {
	t.Helper()
	gvr := k.GVR()
	obj, err := c.dyn.Tracker().List(gvr, gvr.GroupVersion().WithKind(k.Kind), ns)
	require.NoError(t, err)
	return obj.(*unstructured.UnstructuredList).Items
}

// creates returns the recorded create actions.
func (c cluster) creates() []k8stesting.CreateActionImpl {
	var out []k8stesting.CreateActionImpl
	for _, a := range c.dyn.Actions() {
		if ca, ok := a.(k8stesting.CreateActionImpl); ok {
			out = append(out, ca)
		}
	}
	return out
}

func delayFault() chaos.Fault {
	return chaos.Fault{
		ID: faultID, WorkflowID: "run/checkout-latency#1", Step: 0, Name: "slow-db",
		Backend: chaosmesh.BackendName, Action: chaosmesh.ActionNetworkDelay, Duration: 2 * time.Minute,
		Params: map[string]any{"delay": map[string]any{"latency": "100ms", "jitter": "10ms", "correlation": "0"}},
		Target: chaos.Target{Backend: chaosmesh.BackendName, Namespace: ns, Selector: map[string]string{"app": "checkout"}},
	}
}

func permanent(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errkind.IsPermanent(err), "want a permanent error, got %v", err)
}
