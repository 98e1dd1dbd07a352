package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gameday/gameday/internal/devstack"
)

// The control plane is shared by the Kubernetes tests and started on first
// use: etcd, kube-apiserver (RBAC), controller manager, scheduler and kwok
// with two fake nodes, so Deployments really get Running, Ready pods.
var (
	kubeOnce sync.Once
	kubeMu   sync.Mutex // held by the Kubernetes test using the control plane
	kubeSrv  *cluster
	kubeErr  error
)

// stopKube is called by runMain after the tests.
func stopKube() {
	if kubeSrv != nil {
		kubeSrv.Stop(10 * time.Second)
		if kubeErr == nil {
			_ = os.RemoveAll(kubeSrv.dir) // etcd data, keys, logs; kept when setup failed
		}
	}
}

type cluster struct {
	*devstack.Kube
	admin *kubernetes.Clientset
	dyn   dynamic.Interface
	dir   string
	// crdErr is why Chaos Mesh's CRDs are not installed (folder absent).
	crdErr error
}

// needChaosMesh skips a test that needs Chaos Mesh's CRDs on the cluster
// when they could not be installed (reference data absent), with the
// reason. With CI set (CI=true, as CI runs) the data is expected, and its
// absence fails the test instead of hiding it behind a skip.
func (c *cluster) needChaosMesh(tb testing.TB) {
	tb.Helper()
	if c.crdErr == nil {
		return
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		tb.Fatalf("CI=%s: required test data missing: %v", ci, c.crdErr)
	}
	tb.Skip(c.crdErr)
}

// chaosMeshDir is Chaos Mesh's reference data, outside the repository.
func chaosMeshDir() string {
	if d := os.Getenv("GAMEDAY_CHAOS_MESH_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "chaos-mesh")
}

// kubeCluster returns the shared control plane, starting it if needed.
func kubeCluster(t testing.TB) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Kubernetes control plane (make kube-tools)")
	}
	// One test at a time on the shared control plane: they share nodes
	// (node-notready cordons one) and namespaces, and the cumulative blast
	// radius counts every gameday fault it sees. The other integration
	// tests run beside them.
	kubeMu.Lock()
	t.Cleanup(kubeMu.Unlock)
	kubeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gameday-kube-")
		if err != nil {
			kubeErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		k, err := devstack.StartKube(ctx, devstack.KubeOptions{ToolsDir: toolsDir, Dir: dir, Log: logFile(dir, "kube.log"), Controllers: true})
		if err != nil {
			kubeErr = fmt.Errorf("%w (logs: %s)", err, filepath.Join(dir, "kube.log"))
			return
		}
		kubeSrv = &cluster{Kube: k, dir: dir}
		kubeErr = kubeSrv.setup(ctx)
	})
	require.NoError(t, kubeErr, "Kubernetes control plane (build it with `make kube-tools`)")
	return kubeSrv
}

func (c *cluster) setup(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return err
	}
	if c.admin, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if c.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        fmt.Sprintf("kwok-node-%d", i),
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
				Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": fmt.Sprintf("kwok-node-%d", i)},
			},
			Status: corev1.NodeStatus{
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110")},
			},
		}
		if _, err := c.admin.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node: %w", err)
		}
	}
	if err := waitFor(ctx, 2*time.Minute, "kwok nodes Ready", func() (bool, error) {
		nodes, err := c.admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "type=kwok"})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == 2, nil
	}); err != nil {
		return err
	}
	// Chaos Mesh's own CRDs, read from the shared folder (never copied in).
	crd := filepath.Join(chaosMeshDir(), "crd.yaml")
	if _, err := os.Stat(crd); err != nil {
		c.crdErr = fmt.Errorf("Chaos Mesh CRDs not found at %s (set GAMEDAY_CHAOS_MESH_DIR): %w", crd, err)
	} else if err := c.apply(ctx, crd, ""); err != nil {
		return fmt.Errorf("apply %s: %w", crd, err)
	} else if err := c.waitCRDsEstablished(ctx); err != nil {
		return err
	}
	// The project's own RBAC, as an operator would apply it: its
	// RoleBinding is for namespace shop, opted in to chaos.
	shop := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"gameday.io/chaos": "enabled"}}}
	if _, err := c.admin.CoreV1().Namespaces().Create(ctx, shop, metav1.CreateOptions{}); err != nil {
		return err
	}
	return c.apply(ctx, filepath.Join("..", "deploy", "rbac.yaml"), "")
}

// apply creates every object of a multi-document YAML file (like
// `kubectl create -f`), ignoring ones that exist. namespace, when set,
// overrides the namespace of namespaced objects.
func (c *cluster) apply(ctx context.Context, file, namespace string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	return c.applyBytes(ctx, data, namespace)
}

func (c *cluster) applyBytes(ctx context.Context, data []byte, namespace string) error {
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.admin.Discovery()))
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 1<<20)
	for {
		var obj unstructured.Unstructured
		if err := dec.Decode(&obj.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if len(obj.Object) == 0 {
			continue
		}
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk, obj.GetName(), err)
		}
		var ri dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			if namespace != "" {
				obj.SetNamespace(namespace)
			}
			if obj.GetNamespace() == "" {
				obj.SetNamespace("default")
			}
			ri = c.dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		if _, err := ri.Create(ctx, &obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
	}
}

func (c *cluster) waitCRDsEstablished(ctx context.Context) error {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	return waitFor(ctx, time.Minute, "Chaos Mesh CRDs established", func() (bool, error) {
		list, err := c.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		n := 0
		for _, crd := range list.Items {
			if !strings.HasSuffix(crd.GetName(), ".chaos-mesh.org") {
				continue
			}
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, cond := range conds {
				m, _ := cond.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					n++
				}
			}
		}
		return n > 0 && n == countChaosCRDs(list.Items), nil
	})
}

func countChaosCRDs(items []unstructured.Unstructured) int {
	n := 0
	for _, crd := range items {
		if strings.HasSuffix(crd.GetName(), ".chaos-mesh.org") {
			n++
		}
	}
	return n
}

// namespace creates a namespace, opted in to chaos or not.
func (c *cluster) namespace(t testing.TB, name string, optIn bool) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if optIn {
		ns.Labels = map[string]string{"gameday.io/chaos": "enabled"}
	}
	_, err := c.admin.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return
	}
	require.NoError(t, err)
}

// deployment creates a Deployment scheduled onto the kwok nodes and waits
// until all its replicas are Ready.
func (c *cluster) deployment(t testing.TB, ns, name string, replicas int32) *appsv1.Deployment {
	t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{"type": "kwok"},
					Containers:   []corev1.Container{{Name: "app", Image: "example.invalid/" + name + ":1"}},
				},
			},
		},
	}
	_, err := c.admin.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	require.NoError(t, err)
	c.waitDeploymentReady(t, ns, name)
	got, err := c.admin.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	return got
}

func (c *cluster) waitDeploymentReady(t testing.TB, ns, name string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, waitFor(ctx, 2*time.Minute, "deployment "+ns+"/"+name+" Ready", func() (bool, error) {
		d, err := c.admin.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		r := *d.Spec.Replicas
		return d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas == r && d.Status.UpdatedReplicas == r && d.Status.AvailableReplicas == r && d.Status.Replicas == r, nil
	}))
}

// podUIDs maps the live pods of a selector to their UIDs.
func (c *cluster) podUIDs(t *testing.T, ns, selector string) map[string]string {
	t.Helper()
	list, err := c.admin.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	require.NoError(t, err)
	out := map[string]string{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Name] = string(p.UID)
		}
	}
	return out
}

// serviceAccountKubeconfig returns a kubeconfig that authenticates as the
// worker's ServiceAccount from deploy/rbac.yaml, with a token from the
// TokenRequest API: what the worker runs as in a real cluster.
func (c *cluster) serviceAccountKubeconfig(t testing.TB) string {
	t.Helper()
	exp := int64(3600)
	tok, err := c.admin.CoreV1().ServiceAccounts("gameday").CreateToken(context.Background(), "gameday-worker",
		&authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "worker.kubeconfig")
	require.NoError(t, os.WriteFile(path, []byte(devstack.KubeconfigFor(c.Host, "gameday-worker", tok.Status.Token)), 0o600))
	return path
}

func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func chaosmeshGVR(resource string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: "chaos-mesh.org", Version: "v1alpha1", Resource: resource}
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

func yamlToObject(data []byte, into *map[string]any) error {
	return utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 1<<20).Decode(into)
}

// bindWorker binds the worker's ClusterRole in another namespace, as an
// operator does for each namespace in GAMEDAY_NAMESPACES.
func (c *cluster) bindWorker(t testing.TB, ns string) {
	t.Helper()
	rb := fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: gameday-chaos, namespace: %s}
subjects: [{kind: ServiceAccount, name: gameday-worker, namespace: gameday}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gameday-chaos}
`, ns)
	require.NoError(t, c.applyBytes(context.Background(), []byte(rb), ""))
}
