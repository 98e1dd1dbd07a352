package chaosmesh_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
)

var netKind = chaosmesh.Kinds()[0]

func TestInjectCreatesObjectIdempotently(t *testing.T) {
	c := newCluster(t, true)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := c.backend(chaosmesh.WithClock(func() time.Time { return now }), chaosmesh.WithTTLMargin(time.Minute))
	c.stampCreation(func() time.Time { return now })
	ctx := context.Background()
	f := delayFault()

	inj, err := b.Inject(ctx, f)
	require.NoError(t, err)
	wantExpires := now.Add(3 * time.Minute) // 2m duration + 1m margin
	assert.Equal(t, chaos.Injected{
		FaultID: faultID, Backend: "chaos-mesh", Object: "NetworkChaos shop/" + faultID,
		Expires: wantExpires, Since: now, WorkflowID: f.WorkflowID, Action: "network-delay", Namespace: ns,
		Targets: []string{"1 of 3 pods in shop (mode one): checkout-a, checkout-b, checkout-c"},
	}, inj)

	objs := c.objects(t, netKind)
	require.Len(t, objs, 1)
	o := objs[0]
	assert.Equal(t, "NetworkChaos", o.GetKind())
	assert.Equal(t, map[string]string{kubetarget.LabelManagedBy: "gameday", kubetarget.LabelFaultID: faultID}, o.GetLabels())
	assert.Equal(t, map[string]string{
		kubetarget.AnnotationWorkflowID: f.WorkflowID, kubetarget.AnnotationFault: "slow-db",
		kubetarget.AnnotationAction: "network-delay", kubetarget.AnnotationExpires: "2026-03-01T12:03:00Z",
	}, o.GetAnnotations())
	spec := o.Object["spec"].(map[string]any)
	assert.Equal(t, "delay", spec["action"])
	assert.Equal(t, "one", spec["mode"])
	assert.Equal(t, "2m0s", spec["duration"])
	assert.Equal(t, map[string]any{"namespaces": []any{ns}, "labelSelectors": map[string]any{"app": "checkout"}}, spec["selector"])
	assert.Equal(t, map[string]any{"latency": "100ms", "jitter": "10ms", "correlation": "0"}, spec["delay"])

	creates := c.creates()
	require.Len(t, creates, 1)
	assert.Equal(t, metav1.CreateOptions{FieldValidation: "Strict"}, creates[0].CreateOptions, "create must ask for strict field validation")

	// A retry (later clock) finds the object instead of creating another.
	now = now.Add(time.Minute)
	again, err := b.Inject(ctx, f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, inj.Object, again.Object)
	assert.Equal(t, inj.Expires, again.Expires, "the existing object's deadline is reported, not a new one")
	assert.True(t, inj.Since.Equal(again.Since), "the object's creation (%s), not the retry's time: got %s", inj.Since, again.Since)
	assert.Len(t, c.objects(t, netKind), 1)
}

// A retry that meets the object only at create (AlreadyExists: its first
// look failed, or a concurrent attempt created it meanwhile) also reports
// when the object was created.
func TestInjectAdoptingAtCreateReportsTheCreationTime(t *testing.T) {
	c := newCluster(t, true)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := created
	b := c.backend(chaosmesh.WithClock(func() time.Time { return now }))
	c.stampCreation(func() time.Time { return now })
	ctx := context.Background()
	f := delayFault()
	_, err := b.Inject(ctx, f)
	require.NoError(t, err)

	now = created.Add(90 * time.Second)
	var gets atomic.Int64
	c.dyn.PrependReactor("get", "networkchaos", func(k8stesting.Action) (bool, runtime.Object, error) {
		if gets.Add(1) == 1 {
			return true, nil, apierrors.NewServiceUnavailable("etcd leader changed")
		}
		return false, nil, nil
	})
	again, err := b.Inject(ctx, f)
	require.NoError(t, err)
	require.EqualValues(t, 2, gets.Load(), "the first look failed, the second came after AlreadyExists")
	assert.True(t, again.Existing)
	assert.True(t, created.Equal(again.Since), "want the creation time %s, got %s", created, again.Since)
}

func TestInjectRefusesForeignObject(t *testing.T) {
	c := newCluster(t, true)
	foreign := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos",
		"metadata": map[string]any{"name": faultID, "namespace": ns, "labels": map[string]any{"team": "sre"}},
		"spec":     map[string]any{"action": "loss"},
	}}
	require.NoError(t, c.dyn.Tracker().Create(netGVR, foreign, ns))
	b := c.backend()

	_, err := b.Inject(context.Background(), delayFault())
	permanent(t, err)
	assert.Contains(t, err.Error(), "NetworkChaos shop/"+faultID+" already exists and is not this fault's")
	assert.Contains(t, err.Error(), "gameday.io/fault-id="+faultID)

	// Recover leaves it alone.
	rec, err := b.Recover(context.Background(), delayFault())
	require.NoError(t, err)
	assert.True(t, rec.AlreadyGone)
	assert.False(t, rec.Removed)
	assert.Contains(t, rec.Detail, "not this fault's")
	objs := c.objects(t, netKind)
	require.Len(t, objs, 1)
	assert.Equal(t, "sre", objs[0].GetLabels()["team"])
}

func TestRecoverDeletesThenAlreadyGone(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithPollInterval(time.Millisecond))
	ctx := context.Background()
	f := delayFault()
	_, err := b.Inject(ctx, f)
	require.NoError(t, err)

	var progress []string
	pctx := chaos.WithProgress(ctx, func(d string) { progress = append(progress, d) })
	rec, err := b.Recover(pctx, f)
	require.NoError(t, err)
	assert.True(t, rec.Removed)
	assert.False(t, rec.AlreadyGone)
	assert.Contains(t, rec.Detail, "deleted NetworkChaos shop/"+faultID)
	assert.Empty(t, c.objects(t, netKind))

	rec, err = b.Recover(ctx, f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, AlreadyGone: true}, rec)
}

// finalizing makes deletes of networkchaos set a deletionTimestamp and keep
// the object with Chaos Mesh's finalizer, as the API server does while the
// controller is undoing the fault. After release() gets, the object goes.
func finalizing(c cluster, releaseAfterGets int64) *atomic.Int64 {
	var gets atomic.Int64
	tracker := c.dyn.Tracker()
	c.dyn.PrependReactor("delete", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		da := a.(k8stesting.DeleteAction)
		obj, err := tracker.Get(netGVR, da.GetNamespace(), da.GetName())
		if err != nil {
			return true, nil, err
		}
		u := obj.(*unstructured.Unstructured).DeepCopy()
		ts := metav1.NewTime(time.Now().Add(-5 * time.Minute))
		u.SetDeletionTimestamp(&ts)
		u.SetFinalizers([]string{"chaos-mesh/records"})
		return true, nil, tracker.Update(netGVR, u, da.GetNamespace())
	})
	c.dyn.PrependReactor("get", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := gets.Add(1)
		if releaseAfterGets > 0 && n > releaseAfterGets {
			ga := a.(k8stesting.GetAction)
			_ = tracker.Delete(netGVR, ga.GetNamespace(), ga.GetName())
		}
		return false, nil, nil // fall through to the tracker
	})
	return &gets
}

func TestRecoverWaitsForFinalizers(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithPollInterval(5 * time.Millisecond))
	f := delayFault()
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	gets := finalizing(c, 4) // the initial get, then three polls see it

	var progress []string
	ctx := chaos.WithProgress(context.Background(), func(d string) { progress = append(progress, d) })
	rec, err := b.Recover(ctx, f)
	require.NoError(t, err)
	assert.True(t, rec.Removed)
	assert.GreaterOrEqual(t, gets.Load(), int64(5))
	require.NotEmpty(t, progress)
	assert.Contains(t, progress[0], "waiting for NetworkChaos shop/"+faultID+" to be deleted (finalizers: chaos-mesh/records)")
	assert.Empty(t, c.objects(t, netKind))
}

// The wait ends when the object goes, not on the next poll: with a poll
// of an hour, the watch alone wakes it, and the removal time it reports is
// when the object went.
func TestRecoverWatchesTheObjectGo(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithPollInterval(time.Hour), chaosmesh.WithDeleteWait(2*time.Hour))
	f := delayFault()
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	finalizing(c, 0)
	var gone atomic.Int64 // unix nanos when the "controller" removed it
	deleted := make(chan struct{})
	ctx := chaos.WithProgress(context.Background(), func(string) {
		select {
		case <-deleted:
		default:
			close(deleted)
			go func() {
				time.Sleep(70 * time.Millisecond)
				gone.Store(time.Now().UnixNano())
				_ = c.dyn.Tracker().Delete(netGVR, ns, faultID)
			}()
		}
	})
	start := time.Now()
	done := make(chan chaos.Recovered, 1)
	go func() {
		rec, err := b.Recover(ctx, f)
		assert.NoError(t, err)
		done <- rec
	}()
	var rec chaos.Recovered
	select {
	case rec = <-done:
	case <-time.After(time.Minute):
		t.Fatal("recover waited for its hour-long poll: the object's removal did not wake it")
	}
	returned := time.Since(start)
	assert.True(t, rec.Removed)
	m := regexp.MustCompile(`finished removing it after (\S+)$`).FindStringSubmatch(rec.Detail)
	require.NotNil(t, m, rec.Detail)
	took, err := time.ParseDuration(m[1])
	require.NoError(t, err)
	removedAfter := time.Duration(gone.Load() - start.UnixNano())
	assert.GreaterOrEqual(t, took, 70*time.Millisecond, "the object went 70 ms after the delete at the earliest")
	assert.LessOrEqual(t, took, returned+time.Millisecond, "reported %s (rounded to the ms), returned after %s", took, returned)
	t.Logf("removed %s after the delete, reported %s", removedAfter, took)
	assert.Empty(t, c.objects(t, netKind))
	watched := false
	for _, a := range c.dyn.Actions() {
		watched = watched || (a.GetVerb() == "watch" && a.GetResource().Resource == "networkchaos")
	}
	assert.True(t, watched, "the wait watches the object")
}

func TestRecoverReportsStuckFinalizer(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithPollInterval(10 * time.Millisecond))
	f := delayFault()
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	finalizing(c, 0) // never released: the controller is gone

	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Recover(ctx, f)
	took := time.Since(start)
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err), "a stuck deletion is worth retrying: %v", err)
	assert.GreaterOrEqual(t, took, 400*time.Millisecond, "recover should use most of its time budget")
	assert.NoError(t, ctx.Err(), "returned with margin before the deadline")
	msg := err.Error()
	// deletionTimestamp has whole seconds: about five minutes ago.
	assert.Regexp(t, `still present 5m[0-2]s after deletion was requested`, msg)
	for _, want := range []string{
		"NetworkChaos shop/" + faultID + " is stuck deleting",
		"finalizers [chaos-mesh/records]",
		"chaos-controller-manager running",
		"kubectl -n shop patch networkchaos.chaos-mesh.org " + faultID + ` --type merge -p '{"metadata":{"finalizers":null}}'`,
	} {
		assert.Contains(t, msg, want)
	}

	// An inject retried meanwhile does not report the dying object as injected.
	_, err = b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "is being deleted")
	assert.Contains(t, err.Error(), "chaos-mesh/records")

	// Without a ctx deadline the wait is bounded by WithDeleteWait.
	b = c.backend(chaosmesh.WithPollInterval(10*time.Millisecond), chaosmesh.WithDeleteWait(100*time.Millisecond))
	start = time.Now()
	_, err = b.Recover(context.Background(), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stuck deleting")
	assert.Less(t, time.Since(start), 2*time.Second)
}

// A recover cancelled while it waits for the finalizers ends at once with
// the context's error (errors.Is holds) and what it was waiting for.
func TestRecoverWaitEndsWhenTheContextIsCancelled(t *testing.T) {
	c := newCluster(t, true)
	// Only ctx can end the wait: the next poll and the wait's bound are far.
	b := c.backend(chaosmesh.WithPollInterval(time.Minute), chaosmesh.WithDeleteWait(time.Hour))
	f := delayFault()
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	finalizing(c, 0)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var progress []string
	ctx = chaos.WithProgress(ctx, func(d string) { progress = append(progress, d); cancel() })
	done := make(chan error, 1)
	go func() { _, err := b.Recover(ctx, f); done <- err }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("recover did not end when its context was cancelled")
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "finalizers [chaos-mesh/records]")
	require.Len(t, progress, 1)
	assert.Contains(t, progress[0], "waiting for NetworkChaos shop/"+faultID+" to be deleted")
}

func TestListAndRecoverFromSweep(t *testing.T) {
	c := newCluster(t, true)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b := c.backend(chaosmesh.WithClock(func() time.Time { return now }), chaosmesh.WithPollInterval(time.Millisecond))
	ctx := context.Background()

	f1 := delayFault()
	f2 := delayFault()
	f2.ID, f2.Step, f2.Name, f2.Action = "gd-0123456789ab-f1", 1, "burn", chaosmesh.ActionStressCPU
	f2.Params = map[string]any{"stressors": map[string]any{"cpu": map[string]any{"workers": 2}}}
	// Not checkout: a second mode-one fault there could make 2 of its 3
	// pods unavailable at once (the cumulative radius refuses it).
	f2.Target.Selector = map[string]string{"app": "db"}
	for _, f := range []chaos.Fault{f1, f2} {
		_, err := b.Inject(ctx, f)
		require.NoError(t, err)
	}
	// Someone else's object in an allowed namespace is not listed.
	other := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "chaos-mesh.org/v1alpha1", "kind": "NetworkChaos",
		"metadata": map[string]any{"name": "manual", "namespace": ns},
	}}
	require.NoError(t, c.dyn.Tracker().Create(netGVR, other, ns))

	list, err := b.List(ctx)
	require.NoError(t, err)
	expires := now.Add(2*time.Minute + chaosmesh.DefaultTTLMargin)
	assert.Equal(t, []chaos.Injected{
		{FaultID: f1.ID, Backend: "chaos-mesh", Object: "NetworkChaos shop/" + f1.ID, Expires: expires, WorkflowID: f1.WorkflowID, Action: "network-delay", Namespace: ns},
		{FaultID: f2.ID, Backend: "chaos-mesh", Object: "StressChaos shop/" + f2.ID, Expires: expires, WorkflowID: f2.WorkflowID, Action: "stress-cpu", Namespace: ns},
	}, list)

	// What a sweep rebuilds from an Injected: no selector, no params.
	for _, inj := range list {
		f := chaos.Fault{ID: inj.FaultID, WorkflowID: inj.WorkflowID, Backend: inj.Backend, Action: inj.Action, Target: chaos.Target{Namespace: inj.Namespace}}
		rec, err := b.Recover(ctx, f)
		require.NoError(t, err, inj.Object)
		assert.True(t, rec.Removed, inj.Object)
	}
	list, err = b.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.Len(t, c.objects(t, netKind), 1, "the manual object stays")

	// Every kind is listed in every allowed namespace.
	lists := map[string]bool{}
	for _, a := range c.dyn.Actions() {
		if a.GetVerb() == "list" {
			lists[a.GetResource().Resource+"/"+a.GetNamespace()] = true
			assert.Equal(t, kubetarget.ManagedSelector, a.(k8stesting.ListAction).GetListRestrictions().Labels.String())
		}
	}
	for _, r := range chaosmesh.Resources() {
		assert.True(t, lists[r+"/shop"] && lists[r+"/other"], r)
	}
}

// notInstalled makes every chaos-mesh.org request fail as the API server
// does for a resource it does not serve.
func notInstalled(c cluster) {
	c.dyn.PrependReactor("*", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		gr := schema.GroupResource{Group: a.GetResource().Group, Resource: a.GetResource().Resource}
		return true, nil, apierrors.NewGenericServerResponse(http.StatusNotFound, strings.ToUpper(a.GetVerb()), gr, "", "", 0, true)
	})
}

func TestMissingCRDIsClearAndPermanent(t *testing.T) {
	c := newCluster(t, true)
	notInstalled(c)
	b := c.backend()
	ctx := context.Background()
	f := delayFault()
	const want = "Chaos Mesh is not installed in the cluster (no networkchaos.chaos-mesh.org CRD)"

	_, err := b.Inject(ctx, f)
	permanent(t, err)
	assert.ErrorIs(t, err, chaosmesh.ErrNotInstalled)
	assert.Contains(t, err.Error(), want)

	_, err = c.backend(chaosmesh.WithServerDryRun(true)).Resolve(ctx, f)
	permanent(t, err)
	assert.Contains(t, err.Error(), want)

	_, err = b.Recover(ctx, f)
	permanent(t, err)
	assert.Contains(t, err.Error(), want, "a missing CRD is not an already-gone object")

	_, err = b.List(ctx)
	permanent(t, err)
	assert.Contains(t, err.Error(), want)

	// A 404 for an object is not a missing CRD.
	c2 := newCluster(t, true)
	rec, err := c2.backend().Recover(ctx, f)
	require.NoError(t, err)
	assert.True(t, rec.AlreadyGone)
}

func TestResolveServerDryRun(t *testing.T) {
	c := newCluster(t, true)
	var dryRuns []metav1.CreateOptions
	// The fake ignores DryRun; this reactor answers dry runs as a server
	// would, validating and storing nothing.
	c.dyn.PrependReactor("create", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca := a.(k8stesting.CreateActionImpl)
		if len(ca.CreateOptions.DryRun) == 0 {
			return false, nil, nil
		}
		dryRuns = append(dryRuns, ca.CreateOptions)
		u := ca.GetObject().(*unstructured.Unstructured)
		if _, bad := u.Object["spec"].(map[string]any)["delay"].(map[string]any)["reorder"]; bad {
			return true, nil, apierrors.NewBadRequest(`NetworkChaos in version "v1alpha1" cannot be handled as a NetworkChaos: strict decoding error: unknown field "spec.delay.reorder.gapp"`)
		}
		return true, u, nil
	})
	b := c.backend(chaosmesh.WithServerDryRun(true))
	ctx := context.Background()
	f := delayFault()

	res, err := b.Resolve(ctx, f)
	require.NoError(t, err)
	assert.Equal(t, []string{"NetworkChaos shop/" + faultID + " delay 100ms jitter 10ms correlation 0 on 1 of 3 pods in shop (mode one): checkout-a, checkout-b, checkout-c"}, res)
	assert.Equal(t, []metav1.CreateOptions{{DryRun: []string{"All"}, FieldValidation: "Strict"}}, dryRuns)
	assert.Empty(t, c.objects(t, netKind), "a dry run creates nothing")

	f.Params = map[string]any{"delay": map[string]any{"latency": "1ms", "reorder": map[string]any{"reorder": "1", "gap": 1}}}
	_, err = b.Resolve(ctx, f)
	permanent(t, err)
	assert.Contains(t, err.Error(), `unknown field "spec.delay.reorder.gapp"`)
	assert.Contains(t, err.Error(), "dry-run create NetworkChaos shop/"+faultID)

	// Once injected, a dry run meets the existing object: still fine.
	f = delayFault()
	_, err = b.Inject(ctx, f)
	require.NoError(t, err)
	c.dyn.PrependReactor("create", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Group: "chaos-mesh.org", Resource: "networkchaos"}, faultID)
	})
	res, err = b.Resolve(ctx, f)
	require.NoError(t, err)
	assert.Contains(t, res[0], "(already injected)")
}

func TestWebhookDenialIsNotReportedAsRBAC(t *testing.T) {
	c := newCluster(t, true)
	c.dyn.PrependReactor("create", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "chaos-mesh.org", Resource: "networkchaos"}, faultID,
			errors.New(`admission webhook "vnetworkchaos.kb.io" denied the request: spec.delay.latency: Invalid value: "x": parse latency field error`))
	})
	_, err := c.backend().Inject(context.Background(), delayFault())
	permanent(t, err)
	assert.Contains(t, err.Error(), "rejected by Chaos Mesh's admission webhook")
	assert.NotContains(t, err.Error(), "RBAC")

	c = newCluster(t, true)
	c.dyn.PrependReactor("create", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "chaos-mesh.org", Resource: "networkchaos"}, faultID, errors.New(`User "system:serviceaccount:gameday:worker" cannot create resource`))
	})
	_, err = c.backend().Inject(context.Background(), delayFault())
	permanent(t, err)
	assert.Contains(t, err.Error(), "RBAC")
}

func TestTransientAPIErrorsAreRetryable(t *testing.T) {
	c := newCluster(t, true)
	c.dyn.PrependReactor("create", "networkchaos", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("etcd leader changed")
	})
	_, err := c.backend().Inject(context.Background(), delayFault())
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err), "%v", err)
}

func TestSafetyRefusalsPropagate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		nsOptIn bool
		edit    func(*chaos.Fault)
		want    []string
	}{
		{"namespace not allowed", true, func(f *chaos.Fault) { f.Target.Namespace = "payments" }, []string{"safety rule namespace", `"payments"`, "GAMEDAY_NAMESPACES"}},
		{"no opt-in", false, func(f *chaos.Fault) {}, []string{"safety rule opt-in", "pod/checkout-a", "gameday.io/chaos=enabled"}},
		{"blast radius", true, func(f *chaos.Fault) { f.Target.Mode = chaos.ModeAll }, []string{"safety rule blast-radius", "3 of 3"}},
		{"prod radius", true, func(f *chaos.Fault) { f.Environment = "prod"; f.Target.Mode, f.Target.Value = chaos.ModeFixed, "2" }, []string{"blast-radius", `environment "prod"`}},
		{"no pods", true, func(f *chaos.Fault) { f.Target.Selector = map[string]string{"app": "ghost"} }, []string{"no live pods match app=ghost"}},
		{"peer namespace", true, func(f *chaos.Fault) {
			f.Action = chaosmesh.ActionNetworkPartition
			f.Params = map[string]any{"direction": "both", "target": map[string]any{"mode": "all", "selector": map[string]any{"namespaces": []any{"payments"}, "labelSelectors": map[string]any{"app": "db"}}}}
		}, []string{"params.target.selector.namespaces", "safety rule namespace", `"payments"`}},
		{"peer by pod name escapes the checks", true, func(f *chaos.Fault) {
			f.Action = chaosmesh.ActionNetworkPartition
			f.Params = map[string]any{"direction": "both", "target": map[string]any{"mode": "all", "selector": map[string]any{"pods": map[string]any{"kube-system": []any{"coredns-1"}}}}}
		}, []string{"params.target.selector.pods", "namespaces and labelSelectors only"}},
		{"peer matching everything", true, func(f *chaos.Fault) {
			f.Action = chaosmesh.ActionNetworkPartition
			f.Params = map[string]any{"direction": "both", "target": map[string]any{"mode": "one", "selector": map[string]any{}}}
		}, []string{"params.target.selector.labelSelectors", "every pod"}},
		{"peer not opted in", true, func(f *chaos.Fault) {
			f.Action = chaosmesh.ActionNetworkPartition
			f.Params = map[string]any{"direction": "from", "target": map[string]any{"mode": "one", "selector": map[string]any{"namespaces": []any{"other"}, "labelSelectors": map[string]any{"app": "db"}}}}
		}, []string{"network peer", "safety rule opt-in", "pod/db-x"}},
		{"peer blast radius", true, func(f *chaos.Fault) {
			f.Action = chaosmesh.ActionNetworkPartition
			f.Params = map[string]any{"direction": "both", "target": map[string]any{"mode": "all", "selector": map[string]any{"labelSelectors": map[string]any{"app": "db"}}}}
		}, []string{"network peer", "blast-radius", "2 of 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, tc.nsOptIn)
			b := c.backend()
			f := delayFault()
			tc.edit(&f)
			_, err := b.Resolve(ctx, f)
			permanent(t, err)
			_, err = b.Inject(ctx, f)
			permanent(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, a := range c.dyn.Actions() {
				assert.Equal(t, "get", a.GetVerb(), "nothing is created when safety refuses (only the retry check reads): %v", a)
				assert.NotEqual(t, "payments", a.GetNamespace(), "nothing is read in a namespace the policy does not allow")
			}
		})
	}
}

func TestInjectRefusesInvalidFaultPermanently(t *testing.T) {
	c := newCluster(t, true)
	f := delayFault()
	f.Params = map[string]any{"delay": map[string]any{"latency": "fast"}}
	_, err := c.backend().Inject(context.Background(), f)
	permanent(t, err)
	var fe *errkind.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "delay.latency", fe.Field)
	for _, a := range c.dyn.Actions() {
		assert.Equal(t, "get", a.GetVerb(), "an invalid fault creates nothing: %v", a)
	}

	f = delayFault()
	f.Target.Selector = nil
	_, err = c.backend().Inject(context.Background(), f)
	permanent(t, err)
	assert.Contains(t, err.Error(), "spec.target: selector")
}

func TestRecoverNeedsOnlyIDActionNamespace(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend()
	_, err := b.Recover(context.Background(), chaos.Fault{ID: faultID, Action: "network-jam", Target: chaos.Target{Namespace: ns}})
	permanent(t, err)
	assert.Contains(t, err.Error(), "unknown chaos-mesh action")
	_, err = b.Recover(context.Background(), chaos.Fault{ID: faultID, Action: chaosmesh.ActionNetworkDelay})
	permanent(t, err)
	assert.Contains(t, err.Error(), "no namespace")
}

// With direction "to" (the default) Chaos Mesh only changes the target pods'
// egress, so the peer needs no opt-in; its namespace must still be allowed.
// A retried inject adopts its object even when the safety checks would now
// refuse (the fault itself changed what they see), so a run whose fault is
// in place does not fail.
func TestRetriedInjectAdoptsBeforeSafetyChecks(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend()
	ctx := context.Background()
	f := delayFault()
	first, err := b.Inject(ctx, f)
	require.NoError(t, err)
	require.NoError(t, c.cs.CoreV1().Pods(ns).Delete(ctx, "checkout-a", metav1.DeleteOptions{}))
	require.NoError(t, c.cs.CoreV1().Pods(ns).Delete(ctx, "checkout-b", metav1.DeleteOptions{}))
	again, err := b.Inject(ctx, f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.Object, again.Object)
	_, err = b.Resolve(ctx, f)
	assert.ErrorContains(t, err, "blast-radius", "a new fault would be refused: 1 of 1 pods")
}

func TestPeerOfDirectionToNeedsNoOptIn(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend()
	f := delayFault()
	f.Params = map[string]any{"delay": map[string]any{"latency": "10ms"}, "direction": "to",
		"target": map[string]any{"mode": "all", "selector": map[string]any{"namespaces": []any{"other"}, "labelSelectors": map[string]any{"app": "db"}}}}
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
}

func TestPermissionsMatchUse(t *testing.T) {
	c := newCluster(t, true)
	b := c.backend(chaosmesh.WithServerDryRun(true), chaosmesh.WithPollInterval(time.Millisecond))
	ctx := context.Background()
	c.dyn.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if len(a.(k8stesting.CreateActionImpl).CreateOptions.DryRun) > 0 {
			return true, a.(k8stesting.CreateActionImpl).GetObject(), nil
		}
		return false, nil, nil
	})
	for _, tc := range actionCases {
		f := delayFault()
		f.ID = "gd-0123456789ab-" + strings.ReplaceAll(tc.action, "-", "")
		f.Action, f.Params = tc.action, tc.params
		_, err := b.Resolve(ctx, f)
		require.NoError(t, err)
		_, err = b.Inject(ctx, f)
		require.NoError(t, err)
		_, err = b.Inject(ctx, f)
		require.NoError(t, err)
		_, err = b.Recover(ctx, f)
		require.NoError(t, err)
	}
	_, err := b.List(ctx)
	require.NoError(t, err)

	used := map[string]map[string]bool{}
	note := func(group, resource, verb string) {
		key := group + "/" + resource
		if used[key] == nil {
			used[key] = map[string]bool{}
		}
		used[key][verb] = true
	}
	for _, a := range c.dyn.Actions() {
		note(a.GetResource().Group, a.GetResource().Resource, a.GetVerb())
	}
	for _, a := range c.cs.Actions() {
		note(a.GetResource().Group, a.GetResource().Resource, a.GetVerb())
	}
	granted := map[string]map[string]bool{}
	for _, p := range chaosmesh.Permissions() {
		key := p.Group + "/" + p.Resource
		granted[key] = map[string]bool{}
		for _, v := range p.Verbs {
			granted[key][v] = true
		}
	}
	assert.Equal(t, granted, used, "Permissions() must list exactly what the back-end uses")
}
