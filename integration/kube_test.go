package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
	"github.com/gameday/gameday/scenarios"
)

// kubeWorkerEnv is what a worker needs to act as the ServiceAccount of
// deploy/rbac.yaml on the test cluster.
func kubeWorkerEnv(kubeconfig, namespaces string) []string {
	return []string{
		"KUBECONFIG=" + kubeconfig,
		"GAMEDAY_KUBE=on",
		"GAMEDAY_NAMESPACES=" + namespaces,
		"GAMEDAY_MAX_BLAST_RADIUS=*=100%",
	}
}

// kubeScenario turns a catalog scenario into one aimed at the test
// cluster's Deployment, guarded by the demo shop's real SLIs.
func kubeScenario(t *testing.T, name, ns string, selector map[string]string, hold time.Duration, adjust func(*scenarios.Scenario)) scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Find(name)
	require.NoError(t, err)
	demo, err := scenarios.Find("demo-inventory-latency")
	require.NoError(t, err)
	sc.Metadata.Name = fmt.Sprintf("it-%s", name)
	sc.Spec.Target.Namespace = ns
	sc.Spec.Target.Selector = selector
	for i := range sc.Spec.Faults {
		sc.Spec.Faults[i].Duration = duration.Duration(hold)
	}
	sc.Spec.Guards = demo.Spec.Guards
	sc.Spec.SteadyState = scenarios.SteadyState{Timeout: duration.Duration(time.Minute)}
	sc.Spec.Signoff = scenarios.Signoff{}
	sc.Spec.Checklist = ""
	if adjust != nil {
		adjust(&sc)
	}
	return sc
}

func runJSON(t *testing.T, e *env, path string, extra ...string) (experiment.Result, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, stderr, code := e.gameday(ctx, append([]string{"run", path, "--wait", "--json"}, extra...)...)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), "stdout %q stderr %q", out, stderr)
	return r, stderr, code
}

// TestKubePodKillModes runs the catalog's order-pod-kill through the
// experiment workflow, with the worker authenticated as the ServiceAccount of
// deploy/rbac.yaml, against a real Deployment whose pods run on kwok nodes:
// each blast-radius mode deletes the right number of pods, the Deployment
// replaces them, recover waits until it is Ready and reports how long.
func TestKubePodKillModes(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.namespace(t, "shop", true)
	c.deployment(t, "shop", "order", 4)
	e := newEnv(t, false)
	e.extraEnv = kubeWorkerEnv(c.serviceAccountKubeconfig(t), "shop")
	e.workerProcess()

	for _, m := range []struct {
		mode, value string
		killed      int
	}{
		{"one", "", 1},
		{"fixed", "2", 2},
		{"fixed-percent", "50", 2},
		{"all", "", 4},
		{"random-max-percent", "50", -1}, // 1 or 2, chosen from the fault id: as define said
	} {
		t.Run(m.mode, func(t *testing.T) {
			c.waitDeploymentReady(t, "shop", "order")
			before := c.podUIDs(t, "shop", "app=order")
			require.Len(t, before, 4)
			sc := kubeScenario(t, "order-pod-kill", "shop", map[string]string{"app": "order"}, 2*time.Second, func(s *scenarios.Scenario) {
				s.Spec.Target.Mode, s.Spec.Target.Value = m.mode, m.value
			})
			r, stderr, code := runJSON(t, e, e.writeScenario(sc))
			require.Equal(t, 0, code, "run should pass: %s %s\n%s", r.Outcome, r.Error, stderr)
			assert.Equal(t, experiment.Passed, r.Outcome)
			require.Len(t, r.Targets, 1)
			killed := m.killed
			if killed < 0 {
				_, err := fmt.Sscanf(r.Targets[0][strings.Index(r.Targets[0], "delete ")+len("delete "):], "%d of 4", &killed)
				require.NoError(t, err, r.Targets[0])
				assert.True(t, killed == 1 || killed == 2, "random-max-percent 50 of 4 hits 1 or 2, got %d", killed)
			}
			assert.Contains(t, r.Targets[0], fmt.Sprintf("%d of 4 pods in shop", killed), "define lists what will be hit")

			after := c.podUIDs(t, "shop", "app=order")
			gone := 0
			for name, uid := range before {
				if after[name] != uid {
					gone++
				}
			}
			assert.Equal(t, killed, gone, "pods killed by mode %s", m.mode)
			assert.Len(t, after, 4, "the Deployment replaced them")
			require.Len(t, r.RecoverLog, 1)
			rec := r.RecoverLog[0]
			assert.True(t, rec.Removed)
			assert.Greater(t, rec.RecoveryTime, time.Duration(0), "recovery time measured")
			assert.Contains(t, rec.Detail, "deployment/order")
			assert.Contains(t, rec.Detail, "4/4 Ready within")
			t.Logf("mode %s: %s", m.mode, rec.Detail)
		})
	}
	// Nothing left behind: the marker ConfigMaps are gone.
	cms, err := c.admin.CoreV1().ConfigMaps("shop").List(context.Background(), metav1.ListOptions{LabelSelector: kubetarget.ManagedSelector})
	require.NoError(t, err)
	assert.Empty(t, cms.Items)
}

// TestKubeRefusalsAndForbidden: safety rules refuse in define, naming what
// is missing, before anything is touched; and a namespace the worker's
// configuration allows but its RBAC does not is refused by the API server
// as forbidden, which the run reports clearly and does not retry.
func TestKubeRefusalsAndForbidden(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.namespace(t, "vault", true) // opted in, but no RoleBinding for the worker
	c.deployment(t, "vault", "ledger", 1)
	c.namespace(t, "plain", false) // not opted in, but the worker is bound there
	c.deployment(t, "plain", "web", 2)
	c.bindWorker(t, "plain")
	e := newEnv(t, false)
	kcfg := c.serviceAccountKubeconfig(t)
	e.extraEnv = kubeWorkerEnv(kcfg, "shop,vault,plain")
	e.workerProcess()

	sc := kubeScenario(t, "order-pod-kill", "vault", map[string]string{"app": "ledger"}, 2*time.Second, nil)
	r, _, code := runJSON(t, e, e.writeScenario(sc))
	assert.Equal(t, 3, code)
	assert.Equal(t, experiment.Failed, r.Outcome)
	assert.Contains(t, r.Error, "forbidden")
	assert.Contains(t, r.Error, "deploy/rbac.yaml")
	assert.Empty(t, r.Injected, "nothing injected")
	// Non-retryable: define ran once.
	hist := e.client.GetWorkflowHistory(context.Background(), r.WorkflowID, r.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	attempts := 0
	for hist.HasNext() {
		ev, err := hist.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			attempts = max(attempts, int(a.GetAttempt()))
		}
	}
	assert.Equal(t, 1, attempts, "a forbidden call is not retried")

	sc = kubeScenario(t, "order-pod-kill", "plain", map[string]string{"app": "web"}, 2*time.Second, nil)
	r, _, code = runJSON(t, e, e.writeScenario(sc))
	assert.Equal(t, 3, code)
	assert.Contains(t, r.Error, "lack the label gameday.io/chaos=enabled")
	assert.Contains(t, r.Error, "pod/web-")

	sc = kubeScenario(t, "order-pod-kill", "kube-system", map[string]string{"app": "x"}, 2*time.Second, nil)
	r, _, _ = runJSON(t, e, e.writeScenario(sc))
	assert.Contains(t, r.Error, `namespace "kube-system" is not in the worker's allow-list`)

	// The ServiceAccount can do nothing outside its role.
	cs := clientFor(t, kcfg)
	_, err := cs.CoreV1().Secrets("shop").List(context.Background(), metav1.ListOptions{})
	assert.ErrorContains(t, err, "forbidden")
	err = kubetarget.APIError("list secrets", err)
	assert.True(t, errkind.IsPermanent(err), "forbidden is permanent")
}

func clientFor(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}

func dynFor(t *testing.T, kubeconfig string) dynamic.Interface {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	d, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	return d
}

// TestChaosMeshCatalogAndExamplesAgainstCRDs: with Chaos Mesh's own CRDs on
// the server, every chaos-mesh scenario of the catalog creates an object the
// server accepts under strict schema validation (the server's dry run in
// define, then the real create), as the worker's ServiceAccount; recover
// deletes it. Chaos Mesh's examples, round-tripped through the scenario
// format, are accepted too.
func TestChaosMeshCatalogAndExamplesAgainstCRDs(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.needChaosMesh(t)
	c.namespace(t, "shop", true)
	c.deployment(t, "shop", "cart", 2)
	kcfg := c.serviceAccountKubeconfig(t)
	policy := safety.Policy{Namespaces: []string{"shop"}, OptInKey: "gameday.io/chaos", OptInValue: "enabled", MaxRadius: map[string]safety.Limit{"*": {Percent: 100}}}
	b := chaosmesh.New(dynFor(t, kcfg), clientFor(t, kcfg), policy)
	ctx := context.Background()

	all, err := scenarios.Catalog()
	require.NoError(t, err)
	tried := 0
	for _, s := range all {
		if s.Spec.Target.Backend != chaosmesh.BackendName {
			continue
		}
		s.Spec.Target.Namespace = "shop"
		s.Spec.Target.Selector = map[string]string{"app": "cart"}
		for _, f := range s.ChaosFaults("gameday-it-" + s.Metadata.Name) {
			// A peer target (partition from Redis, delay to the primary)
			// must be in an allowed namespace too.
			if sel, ok, _ := unstructured.NestedMap(f.Params, "target", "selector"); ok {
				sel["namespaces"] = []any{"shop"}
				require.NoError(t, unstructured.SetNestedMap(f.Params, sel, "target", "selector"))
			}
			tried++
			lines, err := b.Resolve(ctx, f)
			require.NoError(t, err, "%s: server dry run", s.Metadata.Name)
			require.NotEmpty(t, lines)
			inj, err := b.Inject(ctx, f)
			require.NoError(t, err, "%s: create", s.Metadata.Name)
			listed, err := b.List(ctx)
			require.NoError(t, err)
			require.Condition(t, func() bool {
				for _, l := range listed {
					if l.FaultID == f.ID && l.WorkflowID == f.WorkflowID {
						return true
					}
				}
				return false
			}, "%s: List finds %s", s.Metadata.Name, inj.Object)
			rec, err := b.Recover(ctx, f)
			require.NoError(t, err)
			assert.True(t, rec.Removed, s.Metadata.Name)
		}
	}
	assert.GreaterOrEqual(t, tried, 8, "catalog chaos-mesh faults exercised")
	left, err := b.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, left)

	// A misspelled field is refused by the server in define (strict).
	bad := kubeScenario(t, "redis-slow", "shop", map[string]string{"app": "cart"}, time.Minute, nil)
	f := bad.ChaosFaults("gameday-it-bad")[0]
	f.Params = map[string]any{"delay": map[string]any{"latency": "10ms", "jitterr": "1ms"}}
	_, err = b.Resolve(ctx, f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "jitterr")

	// Chaos Mesh's examples, through the scenario format and back.
	files, _ := filepath.Glob(filepath.Join(chaosMeshDir(), "examples", "*.yaml"))
	require.NotEmpty(t, files)
	accepted := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		var u unstructured.Unstructured
		require.NoError(t, yamlToObject(data, &u.Object), file)
		action, dur, params, target, err := chaosmesh.FaultFromObject(&u)
		if err != nil {
			t.Logf("%s: not a single supported chaos object (%v)", filepath.Base(file), err)
			continue
		}
		target.Namespace = "shop"
		target.Selector = map[string]string{"app": "cart"}
		if dur == 0 {
			dur = time.Minute
		}
		f := chaos.Fault{ID: fmt.Sprintf("gd-example-f%d", accepted), WorkflowID: "example-" + filepath.Base(file), Name: "example", Backend: chaosmesh.BackendName, Action: action, Duration: dur, Params: params, Target: target}
		_, err = b.Inject(ctx, f)
		require.NoError(t, err, "%s accepted by the server", filepath.Base(file))
		_, err = b.Recover(ctx, f)
		require.NoError(t, err)
		accepted++
	}
	assert.GreaterOrEqual(t, accepted, 8)
}

// TestChaosMeshCrashAfterCreateAndSweep: the worker dies right after the
// object is created, before inject reports back (a failpoint); the retried
// inject on another worker adopts the same object instead of creating a
// second one, and recover removes it. Then an orphan left by a terminated
// workflow is found by `gameday sweep --dry-run` and removed by
// `gameday sweep`.
func TestChaosMeshCrashAfterCreateAndSweep(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.needChaosMesh(t)
	c.namespace(t, "shop", true)
	c.deployment(t, "shop", "basket", 1)
	kcfg := c.serviceAccountKubeconfig(t)
	e := newEnv(t, false)
	e.extraEnv = append(kubeWorkerEnv(kcfg, "shop"), "GAMEDAY_FAILPOINTS=after-inject")
	crashing := e.workerProcess()
	ctx := context.Background()
	netchaos := c.dyn.Resource(chaosmeshGVR("networkchaos")).Namespace("shop")

	sc := kubeScenario(t, "redis-slow", "shop", map[string]string{"app": "basket"}, 5*time.Second, nil)
	run := e.start(ctx, sc)
	f := sc.ChaosFaultsForRun(run.GetID(), run.GetRunID())[0]
	// The failpoint makes the worker exit once the object exists.
	waitErr := make(chan error, 1)
	go func() { waitErr <- crashing.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(2 * time.Minute):
		t.Fatal("worker did not hit the failpoint")
	}
	obj, err := netchaos.Get(ctx, f.ID, metav1.GetOptions{})
	require.NoError(t, err, "the object was created before the crash")
	uid := obj.GetUID()

	e.extraEnv = kubeWorkerEnv(kcfg, "shop")
	e.workerProcess()
	res := e.result(ctx, run)
	assert.Equal(t, experiment.Passed, res.Outcome, res.Error)
	assert.Equal(t, []string{f.ID}, res.Recovered)
	// The retried inject adopted the object: its result says existing, and
	// the server saw exactly one object (same UID) until recover.
	hist := e.client.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	sawExisting := false
	for hist.HasNext() {
		ev, err := hist.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			for _, p := range a.GetResult().GetPayloads() {
				if strings.Contains(string(p.GetData()), `"existing":true`) && strings.Contains(string(p.GetData()), f.ID) {
					sawExisting = true
				}
			}
		}
	}
	assert.True(t, sawExisting, "retried inject reported the existing object")
	_, err = netchaos.Get(ctx, f.ID, metav1.GetOptions{})
	assert.True(t, isNotFound(err), "recover removed the object (was uid %s): %v", uid, err)

	// An orphan: the workflow is terminated while its fault is held.
	sc = kubeScenario(t, "redis-slow", "shop", map[string]string{"app": "basket"}, 10*time.Minute, nil)
	run = e.start(ctx, sc)
	f = sc.ChaosFaultsForRun(run.GetID(), run.GetRunID())[0]
	require.NoError(t, waitFor(ctx, 2*time.Minute, "fault object", func() (bool, error) {
		_, err := netchaos.Get(ctx, f.ID, metav1.GetOptions{})
		return err == nil, nil
	}))
	require.NoError(t, e.client.TerminateWorkflow(ctx, run.GetID(), "", "test: leave an orphan"))

	out, stderr, code := e.gameday(ctx, "sweep", "--dry-run")
	assert.Equal(t, 3, code, "dry run with orphans exits 3: %s %s", out, stderr)
	assert.Contains(t, out, f.ID)
	assert.Contains(t, out, "would-remove")
	assert.Contains(t, out, "network-delay", "the fault's action is listed")
	assert.Contains(t, out, "terminated")
	_, err = netchaos.Get(ctx, f.ID, metav1.GetOptions{})
	require.NoError(t, err, "a dry run removes nothing")

	out, stderr, code = e.gameday(ctx, "sweep")
	assert.Equal(t, 0, code, "%s %s", out, stderr)
	assert.Contains(t, out, "removed")
	if m := regexp.MustCompile(`sweep (\S+) started`).FindStringSubmatch(stderr); m != nil {
		recordHistoryTo(t, e, m[1], "GAMEDAY_RECORD_SWEEP_HISTORY")
	}
	_, err = netchaos.Get(ctx, f.ID, metav1.GetOptions{})
	assert.True(t, isNotFound(err), "sweep removed the orphan: %v", err)

	// The periodic sweep: a Temporal Schedule, created once, then updated.
	out, stderr, code = e.gameday(ctx, "sweep", "schedule", "--every", "1h")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "schedule gameday-sweep created: sweeps every 1h0m0s")
	t.Cleanup(func() { _ = e.client.ScheduleClient().GetHandle(ctx, "gameday-sweep").Delete(ctx) })
	out, _, code = e.gameday(ctx, "sweep", "schedule", "--every", "30m")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "updated: sweeps every 30m0s")
	desc, err := e.client.ScheduleClient().GetHandle(ctx, "gameday-sweep").Describe(ctx)
	require.NoError(t, err)
	require.Len(t, desc.Schedule.Spec.Intervals, 1)
	assert.Equal(t, 30*time.Minute, desc.Schedule.Spec.Intervals[0].Every)
}

// TestKubeNodeNotReady runs the catalog's worker-node-notready as the
// ServiceAccount: the node of a target pod is cordoned and its opted-in
// pods evicted during the hold, then uncordoned, and the Deployment is whole
// again on the other node.
func TestKubeNodeNotReady(t *testing.T) {
	t.Parallel()
	c := kubeCluster(t)
	c.namespace(t, "shop", true)
	c.deployment(t, "shop", "picker", 2)
	e := newEnv(t, false)
	e.extraEnv = kubeWorkerEnv(c.serviceAccountKubeconfig(t), "shop")
	e.workerProcess()
	ctx := context.Background()

	sc := kubeScenario(t, "worker-node-notready", "shop", map[string]string{"app": "picker"}, 4*time.Second, nil)
	run := e.start(ctx, sc)
	var cordoned string
	require.NoError(t, waitFor(ctx, 2*time.Minute, "a cordoned node", func() (bool, error) {
		nodes, err := c.admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: kubetarget.ManagedSelector})
		if err != nil || len(nodes.Items) == 0 {
			return false, err
		}
		n := nodes.Items[0]
		cordoned = n.Name
		return n.Spec.Unschedulable && n.Annotations[kubetarget.AnnotationWorkflowID] == run.GetID(), nil
	}))
	// Evicted: no live picker pod stays on the cordoned node.
	require.NoError(t, waitFor(ctx, time.Minute, "pods evicted from "+cordoned, func() (bool, error) {
		list, err := c.admin.CoreV1().Pods("shop").List(ctx, metav1.ListOptions{LabelSelector: "app=picker"})
		if err != nil {
			return false, err
		}
		for _, p := range list.Items {
			if p.Spec.NodeName == cordoned && p.DeletionTimestamp == nil {
				return false, nil
			}
		}
		return true, nil
	}))
	res := e.result(ctx, run)
	assert.Equal(t, experiment.Passed, res.Outcome, res.Error)
	n, err := c.admin.CoreV1().Nodes().Get(ctx, cordoned, metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, n.Spec.Unschedulable, "uncordoned on recover")
	assert.NotContains(t, n.Labels, kubetarget.LabelFaultID)
	assert.NotContains(t, n.Annotations, kubetarget.AnnotationWorkflowID)
	c.waitDeploymentReady(t, "shop", "picker")
}
