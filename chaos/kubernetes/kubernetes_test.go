package kubernetes_test

import (
	"context"
	"errors"
	"os"
	"strings"
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
	"github.com/gameday/gameday/internal/errkind"
)

func TestDriverIsRegistered(t *testing.T) {
	d, ok := chaos.Lookup("kubernetes")
	require.True(t, ok)
	assert.Equal(t, []string{"node-notready", "pod-kill"}, d.ActionNames())
	require.NotNil(t, d.ValidateTarget)
	assert.Equal(t, "kubernetes", gdk8s.New(nil, policy(t, "*=1")).Name())
}

func TestParamsValidationNamesTheField(t *testing.T) {
	d, _ := chaos.Lookup("kubernetes")
	valid := []struct {
		action string
		params map[string]any
	}{
		{"pod-kill", nil},
		{"pod-kill", map[string]any{"grace_period": "0s", "ready_timeout": "2m"}},
		{"pod-kill", map[string]any{"grace_period": "30s"}},
		{"pod-kill", map[string]any{"grace_period": "30m", "ready_timeout": "30m"}}, // the maxima
		{"node-notready", map[string]any{"evict": true, "grace_period": "30m"}},
		{"node-notready", nil},
		{"node-notready", map[string]any{"evict": true, "grace_period": "10s"}},
		{"node-notready", map[string]any{"evict": false}},
	}
	for _, v := range valid {
		assert.NoError(t, d.Actions[v.action](v.params), "%s %v", v.action, v.params)
	}

	invalid := []struct {
		action string
		params map[string]any
		field  string
		msg    string
	}{
		{"pod-kill", map[string]any{"grace_period": "1500ms"}, "grace_period", "whole seconds"},
		{"pod-kill", map[string]any{"grace_period": "-1s"}, "grace_period", "negative"},
		{"pod-kill", map[string]any{"grace_period": 30}, "grace_period", "wrong type"},
		{"pod-kill", map[string]any{"ready_timeout": "10ms"}, "ready_timeout", "at least 1s"},
		{"pod-kill", map[string]any{"ready_timeout": "five minutes"}, "ready_timeout", "wrong type"},
		// Recover waits up to ready_timeout: 1000h would block it for 1000h.
		{"pod-kill", map[string]any{"ready_timeout": "1000h"}, "ready_timeout", "must be at most 30m0s"},
		{"pod-kill", map[string]any{"ready_timeout": "30m1s"}, "ready_timeout", "must be at most 30m0s"},
		{"pod-kill", map[string]any{"grace_period": "1000h"}, "grace_period", "must be at most 30m0s"},
		{"node-notready", map[string]any{"evict": true, "grace_period": "1000h"}, "grace_period", "must be at most 30m0s"},
		{"node-notready", map[string]any{"evict": true, "grace_period": "31m"}, "grace_period", "must be at most 30m0s"},
		{"pod-kill", map[string]any{"evict": true}, "evict", "unknown field (known: grace_period, ready_timeout)"},
		{"node-notready", map[string]any{"evict": "yes"}, "evict", "wrong type: want bool"},
		{"node-notready", map[string]any{"grace_period": "10s"}, "grace_period", "set evict: true"},
		{"node-notready", map[string]any{"evict": true, "grace_period": "2.5s"}, "grace_period", "whole seconds"},
		{"node-notready", map[string]any{"ready_timeout": "1m"}, "ready_timeout", "unknown field"},
	}
	for _, tc := range invalid {
		err := d.Actions[tc.action](tc.params)
		var fe *errkind.FieldError
		require.ErrorAs(t, err, &fe, "%s %v", tc.action, tc.params)
		assert.Equal(t, tc.field, fe.Field, "%s %v", tc.action, tc.params)
		assert.Contains(t, fe.Msg, tc.msg)
	}

	// Inject refuses the same, permanently, before touching anything.
	c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(3, true))...)
	_, err := c.backend(policy(t, "*=100%")).Inject(context.Background(), podKillFault("", "", map[string]any{"ready_timeout": "5"}))
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	var fe *errkind.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ready_timeout", fe.Field)
	assert.Empty(t, c.cs.Actions())

	_, err = c.backend(policy(t, "*=100%")).Inject(context.Background(), podKillFault("", "", map[string]any{"ready_timeout": "1000h"}))
	assert.True(t, errkind.IsPermanent(err))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "ready_timeout", fe.Field)
	assert.Contains(t, fe.Msg, gdk8s.MaxReadyTimeout.String())
	assert.Empty(t, c.cs.Actions())
}

func TestValidateTarget(t *testing.T) {
	d, _ := chaos.Lookup("kubernetes")
	ok := chaos.Target{Backend: "kubernetes", Namespace: shop, Selector: map[string]string{"app": "order"}}
	assert.NoError(t, d.ValidateTarget(ok))

	cases := []struct {
		edit  func(*chaos.Target)
		field string
	}{
		{func(t *chaos.Target) { t.Namespace = "" }, "namespace"},
		{func(t *chaos.Target) { t.Selector = nil }, "selector"},
		{func(t *chaos.Target) { t.Selector = map[string]string{"app": "order shop"} }, "selector.app"},
		{func(t *chaos.Target) { t.Mode = "some" }, "mode"},
		{func(t *chaos.Target) { t.Mode = chaos.ModeFixed }, "value"},
		{func(t *chaos.Target) { t.Mode, t.Value = chaos.ModeFixedPercent, "150" }, "value"},
		{func(t *chaos.Target) { t.Value = "2" }, "value"},
	}
	for _, tc := range cases {
		tg := ok
		tc.edit(&tg)
		var fe *errkind.FieldError
		require.ErrorAs(t, d.ValidateTarget(tg), &fe, "%+v", tg)
		assert.Equal(t, tc.field, fe.Field, "%+v", tg)
	}
}

func TestUnknownActionAndBadFaultID(t *testing.T) {
	c := newCluster(t)
	b := c.backend(policy(t, "*=1"))
	f := podKillFault("", "", nil)
	f.Action = "pod-failure"
	_, err := b.Inject(context.Background(), f)
	assert.True(t, errkind.IsPermanent(err))
	assert.ErrorContains(t, err, `unknown kubernetes action "pod-failure" (known: node-notready, pod-kill)`)

	f = podKillFault("", "", nil)
	f.ID = "Not_A_DNS_Label"
	_, err = b.Inject(context.Background(), f)
	assert.True(t, errkind.IsPermanent(err))
	assert.ErrorContains(t, err, "cannot name a Kubernetes object")
	_, err = b.Recover(context.Background(), chaos.Fault{Action: gdk8s.ActionPodKill})
	assert.True(t, errkind.IsPermanent(err))
	assert.Empty(t, c.cs.Actions())
}

func TestListReturnsWhatASweepNeedsAndRecoverWorksFromIt(t *testing.T) {
	foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "gd-aaaaaaaaaaaa-f0", Namespace: shop,
		// The other Kubernetes back-end's object: managed by gameday, not by this back-end.
		Labels: map[string]string{"app.kubernetes.io/managed-by": "gameday", "gameday.io/fault-id": "gd-aaaaaaaaaaaa-f0"}}}
	c := newCluster(t, withObjs(objs(namespace(shop, false), node("kwok-node-1"), foreign), orderApp(2, true))...)
	b := c.backend(policy(t, "*=1"))

	kill, err := b.Inject(context.Background(), podKillFault("", "", nil))
	require.NoError(t, err)
	_, err = b.Inject(context.Background(), nodeFault("", "", nil))
	require.NoError(t, err)

	list, err := b.List(context.Background())
	require.NoError(t, err)
	nodeID := chaos.FaultID(wfID, 1)
	assert.Equal(t, []chaos.Injected{
		{FaultID: nodeID, Backend: "kubernetes", Object: "node/kwok-node-1", Expires: t0.Add(3 * time.Minute),
			WorkflowID: wfID, Action: "node-notready", Targets: []string{"node/kwok-node-1"}},
		{FaultID: faultID, Backend: "kubernetes", Object: "configmap/" + faultID, Expires: t0.Add(5 * time.Minute),
			WorkflowID: wfID, Action: "pod-kill", Namespace: shop, Targets: kill.Targets},
	}, list)

	// The sweep runs late, from the list alone; the service had healed 2s
	// after the kill.
	c.add(replacement("order-7d9-x", t0.Add(2*time.Second)))
	c.clock.Set(t0.Add(10 * time.Minute))
	for _, inj := range list {
		rec, err := b.Recover(context.Background(), sweepFault(inj))
		require.NoError(t, err, inj.Object)
		assert.True(t, rec.Removed, inj.Object)
		if inj.Action == gdk8s.ActionPodKill {
			assert.Equal(t, 3*time.Second, rec.RecoveryTime, "upper bound: Ready times have whole-second resolution")
			assert.Equal(t, "deployment/order 2/2 Ready within 3s of the kill", rec.Detail)
		}
	}
	assert.False(t, c.node("kwok-node-1").Spec.Unschedulable)
	list, err = b.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list, "nothing left behind")
	_, ok := c.configMap(shop, foreign.Name)
	assert.True(t, ok, "another back-end's configmap is neither listed nor touched")
}

func TestListOnlyLooksInAllowedNamespaces(t *testing.T) {
	c := newCluster(t)
	p := policy(t, "*=1")
	p.Namespaces = []string{"shop", "payments"}
	_, err := c.backend(p).List(context.Background())
	require.NoError(t, err)
	var where []string
	for _, a := range c.cs.Actions() {
		if a.GetResource().Resource == "configmaps" {
			where = append(where, a.GetNamespace())
			assert.Equal(t, "app.kubernetes.io/managed-by=gameday,gameday.io/backend=kubernetes",
				a.(k8stesting.ListAction).GetListRestrictions().Labels.String())
		}
	}
	assert.Equal(t, []string{"shop", "payments"}, where)
}

func forbid(c *cluster, verb, resource string) {
	c.cs.PrependReactor(verb, resource, func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(a.GetResource().GroupResource(), "",
			errors.New(`User "system:serviceaccount:gameday:worker" cannot `+verb+` resource "`+resource+`"`))
	})
}

func TestForbiddenIsPermanentAndPointsAtRBAC(t *testing.T) {
	ctx := context.Background()
	calls := map[string]struct {
		verb, resource string
		call           func(b *gdk8s.Backend) error
	}{
		"inject pod-kill, list pods": {"list", "pods", func(b *gdk8s.Backend) error {
			_, err := b.Inject(ctx, podKillFault("", "", nil))
			return err
		}},
		"inject pod-kill, delete pods": {"delete", "pods", func(b *gdk8s.Backend) error {
			_, err := b.Inject(ctx, podKillFault("", "", nil))
			return err
		}},
		"inject pod-kill, get replicasets": {"get", "replicasets", func(b *gdk8s.Backend) error {
			_, err := b.Inject(ctx, podKillFault("", "", nil))
			return err
		}},
		"recover pod-kill, get configmaps": {"get", "configmaps", func(b *gdk8s.Backend) error {
			_, err := b.Recover(ctx, podKillFault("", "", nil))
			return err
		}},
		"inject node-notready, patch nodes": {"patch", "nodes", func(b *gdk8s.Backend) error {
			_, err := b.Inject(ctx, nodeFault("", "", nil))
			return err
		}},
		"recover node-notready, list nodes": {"list", "nodes", func(b *gdk8s.Backend) error {
			_, err := b.Recover(ctx, nodeFault("", "", nil))
			return err
		}},
		"list, list configmaps": {"list", "configmaps", func(b *gdk8s.Backend) error {
			_, err := b.List(ctx)
			return err
		}},
	}
	for name, tc := range calls {
		t.Run(name, func(t *testing.T) {
			c := newCluster(t, withObjs(objs(namespace(shop, true), node("kwok-node-1")), orderApp(2, true))...)
			forbid(c, tc.verb, tc.resource)
			err := tc.call(c.backend(policy(t, "*=1")))
			require.Error(t, err)
			assert.True(t, errkind.IsPermanent(err), "retrying cannot grant a permission: %v", err)
			assert.Contains(t, err.Error(), "forbidden by the cluster's RBAC")
			assert.Contains(t, err.Error(), "deploy/rbac.yaml")
			assert.Contains(t, err.Error(), `cannot `+tc.verb+` resource "`+tc.resource+`"`, "the API's own words say which permission")
		})
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(2, true))...)
	c.failNext("get", "configmaps", faultID, apierrors.NewServiceUnavailable("apiserver is restarting"))
	_, err := c.backend(policy(t, "*=1")).Recover(context.Background(), podKillFault("", "", nil))
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "get pod-kill marker configmap shop/"+faultID)
}

// TestPermissionsAreDocumented keeps the package documentation's RBAC
// table (what operators and the deploy/rbac.yaml check read) identical to
// Permissions (what every test checks the requests against).
func TestPermissionsAreDocumented(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var rows []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "//\tapiGroup"):
			in = true
		case in && strings.HasPrefix(line, "//\t"):
			rows = append(rows, strings.TrimPrefix(line, "//\t"))
		case in:
			in = false
		}
	}
	var want []string
	for _, p := range gdk8s.Permissions {
		want = append(want, p.String())
	}
	assert.Equal(t, want, rows)
}
