package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	toxiserver "github.com/Shopify/toxiproxy/v2"
	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	k8sbackend "github.com/gameday/gameday/chaos/kubernetes"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/safety"
)

// syncBuffer is a bytes.Buffer a running command may write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// toxiEnv is a real toxiproxy API, embedded, with one proxy "inventory",
// and nothing else: no worker, no Temporal.
type toxiEnv struct {
	url   string
	proxy *toxiclient.Proxy // the test's own client
}

// newToxiEnv starts it. With auth ("user:password"), every request of the
// reaper (its User-Agent) must carry those as basic auth: the embedded
// server itself checks none.
func newToxiEnv(t *testing.T, auth string) *toxiEnv {
	t.Helper()
	api := toxiserver.NewServer(toxiserver.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	routes := api.Routes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth != "" && r.UserAgent() == "gameday-reap" {
			if u, p, ok := r.BasicAuth(); !ok || u+":"+p != auth {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
		}
		routes.ServeHTTP(w, r)
	}))
	p := toxiserver.NewProxy(api, "inventory", "127.0.0.1:0", "127.0.0.1:1")
	require.NoError(t, api.Collection.Add(p, true))
	t.Cleanup(func() {
		_ = api.Collection.Clear()
		srv.Close()
	})
	prox, err := toxiclient.NewClient(srv.URL).Proxy("inventory")
	require.NoError(t, err)
	return &toxiEnv{url: srv.URL, proxy: prox}
}

func (e *toxiEnv) add(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := e.proxy.AddToxic(n, "latency", "downstream", 1, toxiclient.Attributes{"latency": 1})
		require.NoError(t, err)
	}
}

func (e *toxiEnv) names(t *testing.T) []string {
	t.Helper()
	ts, err := e.proxy.Toxics()
	require.NoError(t, err)
	var out []string
	for _, tx := range ts {
		out = append(out, tx.Name)
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string { sort.Strings(s); return s }

func TestReapToxiproxyOnceRemovesOnlyExpiredGamedayToxics(t *testing.T) {
	e := newToxiEnv(t, "")
	now := time.Now()
	expired := toxiproxy.ToxicName("gd-0123456789ab-f0", now.Add(-3*time.Second))
	live := toxiproxy.ToxicName("gd-0123456789ab-f1", now.Add(time.Hour))
	e.add(t, expired, live, "latency_downstream", "someone.else")

	_, stderr, code := gameday(t, "reap", "--toxiproxy", e.url, "--once")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, sorted(live, "latency_downstream", "someone.else"), e.names(t), "only the expired gameday toxic is gone")

	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	require.Len(t, lines, 3, stderr)
	assert.Contains(t, lines[0], "reaper watching toxiproxy")
	assert.Contains(t, lines[0], "toxiproxy="+e.url)
	assert.Contains(t, lines[1], `msg="removed expired toxic" fault=gd-0123456789ab-f0 proxy=inventory toxic=`+expired)
	assert.Regexp(t, regexp.MustCompile(`late=[3-9](\.\d+)?s`), lines[1], "says how late")
	assert.Contains(t, lines[2], "toxiproxy pass done")

	// Nothing left to do: a second pass removes nothing and still exits 0.
	_, stderr, code = gameday(t, "reap", "--toxiproxy", e.url, "--once")
	require.Equal(t, 0, code, stderr)
	assert.NotContains(t, stderr, "removed expired toxic")
	assert.Equal(t, sorted(live, "latency_downstream", "someone.else"), e.names(t))
}

func TestReapToxiproxyNeverPrintsCredentials(t *testing.T) {
	const secret = "s3cr3t-pw"
	e := newToxiEnv(t, "alice:"+secret)
	expired := toxiproxy.ToxicName("gd-0123456789ab-f0", time.Now().Add(-time.Second))
	bare := strings.TrimPrefix(e.url, "http://")

	t.Run("in the URL", func(t *testing.T) {
		e.add(t, expired)
		_, stderr, code := gameday(t, "reap", "--toxiproxy", "http://alice:"+secret+"@"+bare, "--once")
		require.Equal(t, 0, code, stderr)
		assert.Empty(t, e.names(t), "sent as basic auth: the API accepted the removal")
		assert.NotContains(t, stderr, secret)
		assert.NotContains(t, stderr, "alice:")
		assert.Contains(t, stderr, "toxiproxy="+e.url)
		assert.Contains(t, stderr, `auth="basic auth, user alice, password REDACTED"`)
	})

	t.Run("from TOXIPROXY_URL for the same API", func(t *testing.T) {
		e.add(t, expired)
		t.Setenv("TOXIPROXY_URL", "alice:"+secret+"@"+bare)
		_, stderr, code := gameday(t, "reap", "--toxiproxy", e.url+"/", "--once")
		require.Equal(t, 0, code, stderr)
		assert.Empty(t, e.names(t))
		assert.NotContains(t, stderr, secret)
	})

	t.Run("wrong credentials fail without showing them", func(t *testing.T) {
		e.add(t, expired)
		_, stderr, code := gameday(t, "reap", "--toxiproxy", "http://alice:wrong-"+secret+"@"+bare, "--once")
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "HTTP 401")
		assert.NotContains(t, stderr, secret)
		assert.Equal(t, []string{expired}, e.names(t))
	})

	t.Run("unreachable", func(t *testing.T) {
		_, stderr, code := gameday(t, "reap", "--toxiproxy", "http://alice:"+secret+"@127.0.0.1:1", "--once")
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "toxiproxy API http://127.0.0.1:1")
		assert.NotContains(t, stderr, secret)
	})

	t.Run("not a URL", func(t *testing.T) {
		_, stderr, code := gameday(t, "reap", "--toxiproxy", "http://alice:"+secret+"@[::1", "--once")
		assert.Equal(t, 2, code, stderr)
		assert.NotContains(t, stderr, secret)
	})
}

// Without --once the reaper keeps watching: a toxic that expires while it
// runs is removed within a tick, and a signal (the context main cancels on
// SIGINT/SIGTERM) stops it with exit 0.
func TestReapToxiproxyWatchesUntilStopped(t *testing.T) {
	e := newToxiEnv(t, "")
	soon := toxiproxy.ToxicName("gd-0123456789ab-f0", time.Now().Add(2*time.Second))
	live := toxiproxy.ToxicName("gd-0123456789ab-f1", time.Now().Add(time.Hour))
	e.add(t, soon, live)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"reap", "--toxiproxy", e.url, "--every", "100ms"}, &stdout, &stderr) }()

	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), "reaper watching toxiproxy") },
		5*time.Second, 10*time.Millisecond, "a line at start")
	assert.Equal(t, sorted(soon, live), e.names(t), "not yet expired: untouched")
	require.Eventually(t, func() bool { return len(e.names(t)) == 1 }, 5*time.Second, 20*time.Millisecond, "removed once expired")
	assert.Equal(t, []string{live}, e.names(t))

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(5 * time.Second):
		t.Fatal("reap did not stop on its context")
	}
	out := stderr.String()
	assert.Equal(t, 1, strings.Count(out, "removed expired toxic"), out)
	assert.Contains(t, out, "reaper stopped")
	assert.Empty(t, stdout.String())
}

func TestReapUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"reap"},
		{"reap", "extra"},
		{"reap", "--toxiproxy", ""},
		{"reap", "--toxiproxy", "127.0.0.1:8474", "--grace", "1m"},
		{"reap", "--toxiproxy", "127.0.0.1:8474", "--every", "1ms"},
		{"reap", "--toxiproxy", "ftp://127.0.0.1:8474"},
		{"reap", "--kube", "--every", "1s"},
		{"reap", "--kube", "--grace", "-1m"},
	} {
		_, stderr, code := gameday(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr, "%v explains the usage error", args)
	}
}

// fakeKube makes `reap --kube` use a fake cluster holding objs, with shop
// as the allowed namespace.
func fakeKube(t *testing.T, objs ...runtime.Object) *fake.Clientset {
	t.Helper()
	cs := fake.NewClientset(objs...)
	old := newKubeReaper
	newKubeReaper = func(context.Context, config.Kube, config.Safety) (kubeReaper, error) {
		p := safety.Policy{Namespaces: []string{"shop"}, OptInKey: "gameday.io/chaos", OptInValue: "enabled"}
		return kubeReaper{backend: k8sbackend.New(cs, p), cluster: "https://fake:6443 (test)", namespaces: p.Namespaces}, nil
	}
	t.Cleanup(func() { newKubeReaper = old })
	return cs
}

// cordoned is a node as node-notready leaves it: cordoned, labelled and
// annotated for fault id, expiring at expires.
func cordoned(name, id string, expires time.Time) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{"kubernetes.io/hostname": name, kubetarget.LabelManagedBy: kubetarget.ManagedBy,
				kubetarget.LabelFaultID: id, k8sbackend.LabelBackend: k8sbackend.BackendName},
			Annotations: map[string]string{
				kubetarget.AnnotationWorkflowID: "gameday-demo-1", kubetarget.AnnotationFault: "node down", kubetarget.AnnotationAction: k8sbackend.ActionNodeNotReady,
				kubetarget.AnnotationExpires: expires.UTC().Format(time.RFC3339), k8sbackend.AnnotationNodes: name,
				k8sbackend.AnnotationCordonedAt:        expires.Add(-3 * time.Minute).UTC().Format(time.RFC3339Nano),
				kubetarget.AnnotationTemporalNamespace: "default",
			},
		},
		Spec: corev1.NodeSpec{Unschedulable: true},
	}
}

func marker(id string, expires time.Time) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: id, Namespace: "shop",
			Labels: map[string]string{kubetarget.LabelManagedBy: kubetarget.ManagedBy, kubetarget.LabelFaultID: id, k8sbackend.LabelBackend: k8sbackend.BackendName},
			Annotations: map[string]string{kubetarget.AnnotationWorkflowID: "gameday-demo-2", kubetarget.AnnotationAction: k8sbackend.ActionPodKill,
				kubetarget.AnnotationExpires: expires.UTC().Format(time.RFC3339)},
		},
		Data: map[string]string{"victims": `[{"name":"order-1","uid":"u1","owner":"deployment/order"}]`, "owners": `["deployment/order"]`,
			"killed-at": expires.Add(-2 * time.Minute).UTC().Format(time.RFC3339Nano), "ready-timeout": "1m"},
	}
}

func (c kubeNodes) get(t *testing.T, name string) *corev1.Node {
	t.Helper()
	n, err := c.cs.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	return n
}

type kubeNodes struct{ cs *fake.Clientset }

func TestReapKubeOnce(t *testing.T) {
	now := time.Now()
	// Someone else's maintenance, after gameday's uncordon: no gameday
	// label left, cordoned again by an operator.
	maintenance := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "maintenance",
		Labels:      map[string]string{"kubernetes.io/hostname": "maintenance"},
		Annotations: map[string]string{"ops.example.com/reason": "kernel upgrade"}},
		Spec: corev1.NodeSpec{Unschedulable: true}}
	cs := fakeKube(t,
		cordoned("expired", "gd-aaaaaaaaaaaa-f1", now.Add(-10*time.Minute)), // past expiry + 5m grace
		cordoned("in-grace", "gd-bbbbbbbbbbbb-f1", now.Add(-time.Minute)),   // expired, within the grace
		cordoned("live", "gd-cccccccccccc-f1", now.Add(time.Hour)),          // not yet expired
		maintenance,
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}, // never cordoned
		marker("gd-dddddddddddd-f0", now.Add(-6*time.Minute)),      // expired marker
		marker("gd-eeeeeeeeeeee-f0", now.Add(time.Minute)),         // live marker
	)
	k := kubeNodes{cs}

	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"reap", "--kube", "--once"}, &bytes.Buffer{}, &stderr)
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("--once did not exit")
	}
	out := stderr.String()
	require.Equal(t, 0, code, out)

	n := k.get(t, "expired")
	assert.False(t, n.Spec.Unschedulable, "expired cordon uncordoned")
	assert.Equal(t, map[string]string{"kubernetes.io/hostname": "expired"}, n.Labels)
	assert.Empty(t, n.Annotations, "gameday's annotations removed")
	for _, name := range []string{"in-grace", "live"} {
		n := k.get(t, name)
		assert.True(t, n.Spec.Unschedulable, "%s: not past expiry + grace: untouched", name)
		assert.Contains(t, n.Annotations, kubetarget.AnnotationExpires, name)
	}
	assert.Equal(t, maintenance, k.get(t, "maintenance"), "cordoned by someone else: untouched")
	assert.False(t, k.get(t, "plain").Spec.Unschedulable)

	cms, err := cs.CoreV1().ConfigMaps("shop").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, cms.Items, 1)
	assert.Equal(t, "gd-eeeeeeeeeeee-f0", cms.Items[0].Name, "the expired marker is deleted, the live one kept")

	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	assert.Contains(t, lines[0], "reaper watching Kubernetes")
	assert.Contains(t, lines[0], "marker_namespaces=shop")
	assert.Contains(t, lines[0], "grace=5m0s")
	assert.Contains(t, lines[1], `msg="uncordoned expired node" fault=gd-aaaaaaaaaaaa-f1 object=node/expired workflow=gameday-demo-1`)
	assert.Regexp(t, regexp.MustCompile(`late=10m\d+(\.\d+)?s`), lines[1])
	assert.Contains(t, lines[2], `msg="deleted expired pod-kill marker" fault=gd-dddddddddddd-f0 object=configmap/shop/gd-dddddddddddd-f0`)
	assert.Contains(t, lines[3], `msg="kubernetes pass done" removed=2 waiting=3`)
}

func TestReapKubeOnceFailsWhenTheClusterRefuses(t *testing.T) {
	cs := fakeKube(t, cordoned("expired", "gd-aaaaaaaaaaaa-f1", time.Now().Add(-time.Hour)))
	cs.PrependReactor("patch", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), "expired", errors.New(`User "system:serviceaccount:gameday:gameday-worker" cannot patch resource "nodes"`))
	})
	_, stderr, code := gameday(t, "reap", "--kube", "--once")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "kubernetes reap: uncordon expired node expired")
	assert.Contains(t, stderr, "deploy/rbac.yaml")
}

func TestReapKubeWatchesUntilStopped(t *testing.T) {
	cs := fakeKube(t, cordoned("expired", "gd-aaaaaaaaaaaa-f1", time.Now().Add(-time.Hour)))
	k := kubeNodes{cs}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"reap", "--kube", "--kube-every", "100ms"}, &bytes.Buffer{}, &stderr)
	}()
	require.Eventually(t, func() bool { return !k.get(t, "expired").Spec.Unschedulable }, 5*time.Second, 20*time.Millisecond)
	// A node gameday cordons later, already past its expiry, is found on a
	// later pass.
	_, err := cs.CoreV1().Nodes().Create(ctx, cordoned("later", "gd-ffffffffffff-f1", time.Now().Add(-time.Hour)), metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return !k.get(t, "later").Spec.Unschedulable }, 5*time.Second, 20*time.Millisecond)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(5 * time.Second):
		t.Fatal("reap --kube did not stop on its context")
	}
	assert.Equal(t, 2, strings.Count(stderr.String(), "uncordoned expired node"), stderr.String())
}
