package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	"github.com/gameday/gameday/safety"
)

func TestPodKillResolveNamesThePodsWithoutTouchingThem(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)

	lines, err := b.Resolve(context.Background(), f)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	assert.Regexp(t, `^pod-kill: would delete 1 of 3 pods in shop \(mode one\): order-7d9-[abc]$`, lines[0])

	again, err := b.Resolve(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, lines, again, "seeded by the fault id: the same pod every time")
	assert.Len(t, c.podNames(shop), 3, "resolve deletes nothing")
	assert.Empty(t, c.configMaps(shop), "resolve writes no marker")
	assert.Zero(t, c.requests("delete", "pods")+c.requests("create", "configmaps"))
}

func TestPodKillModes(t *testing.T) {
	cases := []struct {
		mode, value string
		min, max    int // victims of 10
	}{
		{"", "", 1, 1},
		{chaos.ModeOne, "", 1, 1},
		{chaos.ModeAll, "", 10, 10},
		{chaos.ModeFixed, "3", 3, 3},
		{chaos.ModeFixed, "25", 10, 10},
		{chaos.ModeFixedPercent, "30", 3, 3},
		{chaos.ModeFixedPercent, "5%", 1, 1},
		{chaos.ModeRandomMaxPercent, "50", 1, 5},
	}
	for _, tc := range cases {
		t.Run(tc.mode+"_"+tc.value, func(t *testing.T) {
			c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(10, true))...)
			b := c.backend(policy(t, "*=100%"))
			f := podKillFault(tc.mode, tc.value, nil)

			lines, err := b.Resolve(context.Background(), f)
			require.NoError(t, err)
			inj, err := b.Inject(context.Background(), f)
			require.NoError(t, err)

			killed := len(inj.Targets)
			assert.GreaterOrEqual(t, killed, tc.min)
			assert.LessOrEqual(t, killed, tc.max)
			assert.Len(t, c.podNames(shop), 10-killed, "exactly the reported victims are deleted")
			assert.Equal(t, killed, c.requests("delete", "pods"))

			// Resolve (define, --dry-run) named the same pods inject killed.
			var names []string
			for _, tg := range inj.Targets {
				name := strings.TrimPrefix(tg, "pod/")
				names = append(names, name)
				_, alive := c.pod(shop, name)
				assert.False(t, alive, "%s reported killed but still there", name)
			}
			assert.True(t, strings.HasSuffix(lines[0], ": "+strings.Join(names, ", ")), "resolve %q vs inject %v", lines[0], names)
		})
	}
}

func TestPodKillRandomMaxPercentVariesWithTheFaultButNotWithRetries(t *testing.T) {
	counts := map[int]bool{}
	for step := 0; step < 20; step++ {
		c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(10, true))...)
		b := c.backend(policy(t, "*=100%"))
		f := podKillFault(chaos.ModeRandomMaxPercent, "60", nil)
		f.ID = chaos.FaultID(wfID, step)
		first, err := b.Resolve(context.Background(), f)
		require.NoError(t, err)
		second, err := b.Resolve(context.Background(), f)
		require.NoError(t, err)
		require.Equal(t, first, second)
		var n int
		_, err = fmt.Sscanf(first[0], "pod-kill: would delete %d of", &n)
		require.NoError(t, err)
		require.True(t, n >= 1 && n <= 6, "random-max-percent 60 of 10 hits 1..6, got %d", n)
		counts[n] = true
	}
	assert.Greater(t, len(counts), 1, "the count is drawn, not always the maximum")
}

func TestPodKillRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("namespace not allowed", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(3, true))...)
		p := policy(t, "*=50%")
		p.Namespaces = []string{"payments"}
		_, err := c.backend(p).Inject(ctx, podKillFault("", "", nil))
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		var r *safety.Refusal
		require.ErrorAs(t, err, &r)
		assert.Equal(t, "namespace", r.Rule)
		assert.Contains(t, err.Error(), `namespace "shop" is not in the worker's allow-list (GAMEDAY_NAMESPACES=payments)`)
		assert.Len(t, c.podNames(shop), 3)
		assert.Empty(t, c.cs.Actions(), "nothing is read in a namespace the policy does not allow")
	})
	t.Run("opt-in label missing names the pods", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(2, false))...)
		_, err := c.backend(policy(t, "*=50%")).Inject(ctx, podKillFault("", "", nil))
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), "refused by safety rule opt-in: pod/order-7d9-a, pod/order-7d9-b lack the label gameday.io/chaos=enabled")
		assert.Len(t, c.podNames(shop), 2)
		assert.Empty(t, c.configMaps(shop))
	})
	t.Run("opt-in on the namespace is enough", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(2, false))...)
		inj, err := c.backend(policy(t, "*=50%")).Inject(ctx, podKillFault("", "", nil))
		require.NoError(t, err)
		assert.Len(t, inj.Targets, 1)
		assert.Len(t, c.podNames(shop), 1)
	})
	t.Run("blast radius exceeded", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
		f := podKillFault(chaos.ModeFixed, "2", nil)
		f.Environment = "prod"
		_, err := c.backend(policy(t, "prod=1,*=100%")).Inject(ctx, f)
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), `the fault can hit 2 of 3 targets; the limit for environment "prod" is 1`)
		assert.Len(t, c.podNames(shop), 3)
		assert.Empty(t, c.configMaps(shop))
	})
	t.Run("empty selector", func(t *testing.T) {
		c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(3, true))...)
		f := podKillFault("", "", nil)
		f.Target.Selector = nil
		for _, call := range []func() error{
			func() error { _, err := c.backend(policy(t, "*=100%")).Resolve(ctx, f); return err },
			func() error { _, err := c.backend(policy(t, "*=100%")).Inject(ctx, f); return err },
		} {
			err := call()
			require.Error(t, err)
			assert.True(t, errkind.IsPermanent(err))
			var fe *errkind.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "selector", fe.Field)
			assert.Contains(t, err.Error(), "would match every pod")
		}
		assert.Len(t, c.podNames(shop), 3)
	})
	t.Run("no matching pods", func(t *testing.T) {
		c := newCluster(t, namespace(shop, true))
		_, err := c.backend(policy(t, "*=100%")).Inject(ctx, podKillFault("", "", nil))
		require.Error(t, err)
		assert.True(t, errkind.IsPermanent(err))
		assert.Contains(t, err.Error(), "no live pods match app=order in namespace shop")
		assert.Empty(t, c.configMaps(shop))
	})
}

func TestPodKillWritesTheMarkerBeforeKilling(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	// The marker must already exist when the first pod is deleted.
	c.cs.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		_, ok := c.configMap(shop, faultID)
		assert.True(t, ok, "pod deleted before the marker was written")
		return false, nil, nil
	})
	f := podKillFault("", "", map[string]any{"grace_period": "0s", "ready_timeout": "2m"})

	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	require.Len(t, inj.Targets, 1)
	victim := strings.TrimPrefix(inj.Targets[0], "pod/")
	assert.Equal(t, chaos.Injected{
		FaultID: faultID, Backend: "kubernetes", Object: "configmap/" + faultID, Namespace: shop,
		Expires: t0.Add(2 * time.Minute), Since: t0, Targets: []string{"pod/" + victim},
	}, inj)

	cm, ok := c.configMap(shop, faultID)
	require.True(t, ok)
	assert.Equal(t, map[string]string{
		"app.kubernetes.io/managed-by": "gameday", "gameday.io/fault-id": faultID, "gameday.io/backend": "kubernetes",
	}, cm.Labels)
	assert.Equal(t, map[string]string{
		"gameday.io/workflow-id": wfID, "gameday.io/fault": "kill an order pod", "gameday.io/action": "pod-kill",
		"gameday.io/expires": "2026-11-25T10:02:00Z",
	}, cm.Annotations)
	assert.JSONEq(t, `[{"name":"`+victim+`","uid":"uid-`+victim+`","owner":"deployment/order"}]`, cm.Data["victims"])
	assert.JSONEq(t, `["deployment/order"]`, cm.Data["owners"], "ReplicaSet resolved to its Deployment")
	assert.Equal(t, "2026-11-25T10:00:00Z", cm.Data["killed-at"])
	assert.Equal(t, "2m0s", cm.Data["ready-timeout"])

	// grace_period reached the API.
	for _, a := range c.cs.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource().Resource == "pods" {
			require.NotNil(t, d.GetDeleteOptions().GracePeriodSeconds)
			assert.EqualValues(t, 0, *d.GetDeleteOptions().GracePeriodSeconds)
		}
	}
}

func TestPodKillRetryAfterSuccessKillsNothingNew(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	first, err := b.Inject(context.Background(), f)
	require.NoError(t, err)

	// The ReplicaSet replaced the victim; later the activity is retried.
	c.add(replacement("order-7d9-x", t0.Add(3*time.Second)))
	c.clock.Set(t0.Add(time.Minute))
	deletes := c.requests("delete", "pods")

	again, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.Targets, again.Targets)
	assert.Equal(t, first.Expires, again.Expires, "the recorded kill time, not the retry's")
	assert.True(t, t0.Equal(again.Since), "Since is the recorded kill time %s, not the retry's: got %s", t0, again.Since)
	assert.Equal(t, first.Object, again.Object)
	assert.Len(t, c.podNames(shop), 3, "no new victim: the replacement and the others live")
	assert.Equal(t, deletes+1, c.requests("delete", "pods"), "only the recorded victim is asked for again (it is gone)")
}

func TestPodKillRetryAfterCrashDeletesOnlyTheRemainingRecordedVictims(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(4, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault(chaos.ModeFixed, "2", nil)

	lines, err := b.Resolve(context.Background(), f)
	require.NoError(t, err)
	victims := strings.Split(lines[0][strings.LastIndex(lines[0], ": ")+2:], ", ")
	require.Len(t, victims, 2)

	// The second delete fails (the worker "crashes" mid-way).
	c.failNext("delete", "pods", victims[1], apierrors.NewInternalError(errors.New("etcd leader changed")))
	_, err = b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err), "a 500 is retried: %v", err)
	_, alive0 := c.pod(shop, victims[0])
	_, alive1 := c.pod(shop, victims[1])
	require.False(t, alive0)
	require.True(t, alive1)
	_, ok := c.configMap(shop, faultID)
	require.True(t, ok, "the marker survives the crash")

	// Meanwhile the controller replaced the first victim, so a fresh pick
	// would find 4 pods again and could choose other ones.
	c.add(replacement("order-7d9-y", t0.Add(2*time.Second)))
	c.clock.Set(t0.Add(30 * time.Second))

	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, inj.Existing)
	assert.True(t, t0.Equal(inj.Since), "the kill began at %s (first victim), not at the retry: got %s", t0, inj.Since)
	assert.Equal(t, []string{"pod/" + victims[0], "pod/" + victims[1]}, inj.Targets)
	_, alive1 = c.pod(shop, victims[1])
	assert.False(t, alive1, "the remaining recorded victim is killed")
	assert.Len(t, c.podNames(shop), 3, "4 - 2 victims + 1 replacement: nothing else killed")
}

func TestPodKillRetryNeverKillsAReplacementWithTheSameName(t *testing.T) {
	// StatefulSet pods come back under the same name with a new UID.
	c := newCluster(t, withObjs(objs(namespace(shop, true)), statefulSet("db", 2))...)
	b := c.backend(policy(t, "*=100%"))
	f := podKillFault(chaos.ModeAll, "", nil)
	f.Target.Selector = map[string]string{"app": "db"}

	// The worker "crashes" after writing the marker, before any kill.
	c.failNext("delete", "pods", "db-0", apierrors.NewServiceUnavailable("apiserver shutting down"))
	_, err := b.Inject(context.Background(), f)
	require.Error(t, err)
	assert.Len(t, c.podNames(shop), 2)
	cm, ok := c.configMap(shop, faultID)
	require.True(t, ok)
	assert.JSONEq(t, `["statefulset/db"]`, cm.Data["owners"])

	// db-0 died meanwhile (not by us) and was recreated: same name, new UID.
	c.remove(podsGVR, shop, "db-0")
	reborn := statefulPod("db", 0)
	reborn.UID = "uid-db-0-reborn"
	c.add(reborn)

	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, inj.Existing)
	p, alive := c.pod(shop, "db-0")
	require.True(t, alive, "the replacement db-0 is not a recorded victim")
	assert.EqualValues(t, "uid-db-0-reborn", p.UID)
	_, alive = c.pod(shop, "db-1")
	assert.False(t, alive)
}

func TestPodKillRefusesAForeignConfigMapWithTheMarkerName(t *testing.T) {
	for name, labels := range map[string]map[string]string{
		"unlabelled": nil,
		// Same fault id, but written by the other Kubernetes back-end.
		"another back-end's": {"app.kubernetes.io/managed-by": "gameday", "gameday.io/fault-id": faultID},
	} {
		t.Run(name, func(t *testing.T) {
			foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: faultID, Namespace: shop, Labels: labels}}
			c := newCluster(t, withObjs(objs(namespace(shop, false), foreign), orderApp(3, true))...)
			b := c.backend(policy(t, "*=50%"))
			_, err := b.Inject(context.Background(), podKillFault("", "", nil))
			require.Error(t, err)
			assert.True(t, errkind.IsPermanent(err))
			assert.Contains(t, err.Error(), "not created by gameday")
			assert.Len(t, c.podNames(shop), 3)

			rec, err := b.Recover(context.Background(), podKillFault("", "", nil))
			require.NoError(t, err)
			assert.True(t, rec.AlreadyGone)
			_, ok := c.configMap(shop, faultID)
			assert.True(t, ok, "recover leaves a configmap that is not ours alone")
		})
	}
}

func TestPodKillRetryWhenNothingMatchesAnyMore(t *testing.T) {
	// mode all killed every pod and none is back yet: the retry must not
	// re-select (it would find no pods and fail), it reports the kill.
	c := newCluster(t, withObjs(objs(namespace(shop, true)), orderApp(2, true))...)
	b := c.backend(policy(t, "*=100%"))
	f := podKillFault(chaos.ModeAll, "", nil)
	first, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	require.Empty(t, c.podNames(shop))

	again, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.Targets, again.Targets)
}

func TestPodKillRecoverWithoutMarkerIsAlreadyGone(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	rec, err := c.backend(policy(t, "*=50%")).Recover(context.Background(), podKillFault("", "", nil))
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, AlreadyGone: true}, rec)
	assert.Zero(t, c.requests("delete", "configmaps"))
}

func TestPodKillRecoverWaitsUntilTheDeploymentIsReady(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.setDeploymentReady("order", 2) // the controller noticed the kill

	var mu sync.Mutex
	var progress []string
	polled := make(chan struct{}, 100)
	ctx := chaos.WithProgress(context.Background(), func(d string) {
		mu.Lock()
		progress = append(progress, d)
		mu.Unlock()
		polled <- struct{}{}
	})
	type result struct {
		rec chaos.Recovered
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec, err := b.Recover(ctx, f)
		done <- result{rec, err}
	}()

	// Let recover poll a few times; it must not return while order is 2/3.
	for i := 0; i < 3; i++ {
		select {
		case <-polled:
		case r := <-done:
			t.Fatalf("recover returned before the deployment was Ready: %+v %v", r.rec, r.err)
		case <-time.After(5 * time.Second):
			t.Fatal("recover does not poll")
		}
	}
	_, ok := c.configMap(shop, faultID)
	assert.True(t, ok, "marker kept while waiting")

	// The controller brings a replacement up 4.1s after the kill.
	c.clock.Set(t0.Add(4100 * time.Millisecond))
	c.add(replacement("order-7d9-x", t0.Add(4100*time.Millisecond)))
	c.setDeploymentReady("order", 3)

	var r result
	select {
	case r = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("recover did not notice the deployment is Ready")
	}
	require.NoError(t, r.err)
	assert.Equal(t, chaos.Recovered{
		FaultID: faultID, Removed: true, RecoveryTime: 4100 * time.Millisecond,
		Detail: "deployment/order 3/3 Ready within 4.1s of the kill",
	}, r.rec)
	mu.Lock()
	assert.Contains(t, progress, "deployment/order 2/3 ready", "heartbeats say what recover waits for")
	mu.Unlock()
	_, ok = c.configMap(shop, faultID)
	assert.False(t, ok, "marker deleted once recovered")

	again, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.True(t, again.AlreadyGone, "recover is idempotent")
}

// Recover watches the owner: with a poll of an hour, the Deployment
// turning Ready wakes it, so the recovery time is that moment.
func TestPodKillRecoverWatchesTheOwner(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"), gdk8s.WithPollInterval(time.Hour))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.setDeploymentReady("order", 2)
	waiting := make(chan struct{}, 100)
	ctx := chaos.WithProgress(context.Background(), func(string) { waiting <- struct{}{} })
	done := make(chan chaos.Recovered, 1)
	go func() {
		rec, err := b.Recover(ctx, f)
		assert.NoError(t, err)
		done <- rec
	}()
	select {
	case <-waiting:
	case <-time.After(time.Minute):
		t.Fatal("recover does not wait")
	}
	c.clock.Set(t0.Add(4100 * time.Millisecond))
	c.add(replacement("order-7d9-x", t0.Add(4100*time.Millisecond)))
	c.setDeploymentReady("order", 3)
	select {
	case rec := <-done:
		assert.Equal(t, 4100*time.Millisecond, rec.RecoveryTime)
	case <-time.After(time.Minute):
		t.Fatal("recover waited for its hour-long poll: the Deployment turning Ready did not wake it")
	}
	assert.Positive(t, c.requests("watch", "deployments"))
}

func TestPodKillRecoverDoesNotTrustAStaleOwnerStatus(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", map[string]any{"ready_timeout": "1m"})
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)

	// The Deployment controller has not caught up: its status still says
	// 3/3, but only two pods live. The ready timeout has passed.
	c.clock.Set(t0.Add(61 * time.Second))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, Removed: true,
		Detail: "deployment/order NOT Ready 1m0s after the kill (2/3 ready)"}, rec)
}

func TestPodKillRecoverDoesNotCountATerminatingVictim(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	// Graceful deletion, as on a real cluster: the victim stays, terminating,
	// its Ready condition still True until the kubelet stops it.
	c.cs.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteAction)
		obj, err := c.cs.Tracker().Get(podsGVR, d.GetNamespace(), d.GetName())
		if err != nil {
			return true, nil, err
		}
		p := obj.(*corev1.Pod).DeepCopy()
		now := metav1.NewTime(c.clock.Now())
		p.DeletionTimestamp = &now
		return true, nil, c.cs.Tracker().Update(podsGVR, p, d.GetNamespace())
	})
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", map[string]any{"ready_timeout": "30s"})
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	require.Len(t, c.podNames(shop), 3, "the victim is terminating, not gone")

	c.clock.Set(t0.Add(31 * time.Second))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, "deployment/order NOT Ready 30s after the kill (2/3 ready)", rec.Detail)
}

func TestPodKillRecoverAfterAnInjectThatNeverKilled(t *testing.T) {
	// The marker was written, then the delete was refused: nothing died, and
	// recover must not wait for a recovery that is not needed.
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	forbid(c, "delete", "pods")
	_, err := b.Inject(context.Background(), f)
	require.Error(t, err)
	require.Len(t, c.podNames(shop), 3)

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, Removed: true, Detail: "deployment/order 3/3 Ready within 0s of the kill"}, rec)
}

func TestPodKillRecoverReportsReadyTimeoutExceeded(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil) // default ready_timeout: 5m
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.setDeploymentReady("order", 1)

	c.clock.Set(t0.Add(5*time.Minute + time.Second))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, Removed: true,
		Detail: "deployment/order NOT Ready 5m0s after the kill (1/3 ready)"}, rec)
	assert.Zero(t, rec.RecoveryTime, "not recovered: no recovery time")
	_, ok := c.configMap(shop, faultID)
	assert.False(t, ok, "given up: the marker is removed, verify judges the service")
}

func TestPodKillRecoverLateUsesThePodsReadyTime(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.add(replacement("order-7d9-x", t0.Add(3*time.Second)))

	// Recover runs two minutes after the kill (after the fault's duration);
	// the service had healed 3s after the kill.
	c.clock.Set(t0.Add(2 * time.Minute))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	// Ready timestamps have whole-second resolution: reported as an
	// upper bound.
	assert.Equal(t, 4*time.Second, rec.RecoveryTime)
	assert.Equal(t, "deployment/order 3/3 Ready within 4s of the kill", rec.Detail)
}

func TestPodKillRecoverStopsBeforeTheActivityDeadline(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"), gdk8s.WithDeadlineMargin(200*time.Millisecond), gdk8s.WithPollInterval(10*time.Millisecond))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.setDeploymentReady("order", 2)
	c.clock.Set(t0.Add(12 * time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	_, err = b.Recover(ctx, f)
	require.Error(t, err)
	assert.NoError(t, ctx.Err(), "returned before the deadline, not cut off by it")
	assert.False(t, errkind.IsPermanent(err), "retried: the next attempt keeps waiting")
	assert.Contains(t, err.Error(), "still waiting for deployment/order 2/3 ready, 12s after the kill")
	_, ok := c.configMap(shop, faultID)
	assert.True(t, ok, "the marker (and its kill time) stays for the retry")

	// The retry, once the service is back, measures from the recorded kill.
	c.add(replacement("order-7d9-x", t0.Add(15*time.Second)))
	c.setDeploymentReady("order", 3)
	c.clock.Set(t0.Add(20 * time.Second))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, 16*time.Second, rec.RecoveryTime, "Ready at 15s, whole-second resolution: within 16s")
}

func TestPodKillRecoverOfAPodWithoutOwner(t *testing.T) {
	debug := readyPod("debug", map[string]string{"app": "order", optKey: optVal}, "kwok-node-1", t0.Add(-time.Hour))
	c := newCluster(t, namespace(shop, false), debug)
	b := c.backend(policy(t, "*=100%"))
	f := podKillFault("", "", nil)
	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, []string{"pod/debug"}, inj.Targets)

	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, chaos.Recovered{FaultID: faultID, Removed: true,
		Detail: "pod/debug had no owner: nothing recreates it, nothing to wait for"}, rec)
	_, ok := c.configMap(shop, faultID)
	assert.False(t, ok)
}

func TestPodKillRecoverNeedsTheNamespace(t *testing.T) {
	c := newCluster(t)
	f := podKillFault("", "", nil)
	f.Target.Namespace = ""
	_, err := c.backend(policy(t, "*=50%")).Recover(context.Background(), f)
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "no target namespace")
}

func TestPodKillCorruptMarkerIsPermanentAndKept(t *testing.T) {
	c := newCluster(t, namespace(shop, false))
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: faultID, Namespace: shop, Labels: map[string]string{
			"app.kubernetes.io/managed-by": "gameday", "gameday.io/fault-id": faultID, "gameday.io/backend": "kubernetes"}},
		Data: map[string]string{"victims": "[]", "owners": "[]", "killed-at": "yesterday", "ready-timeout": "5m"},
	}
	c.add(cm)
	_, err := b.Recover(context.Background(), f)
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), `data "killed-at"`)
	_, ok := c.configMap(shop, faultID)
	assert.True(t, ok)
}

// A sweep must not take the marker from a run still holding the fault: the
// expiry it sees is the kill plus the hold plus ready_timeout.
func TestPodKillExpiryCoversTheHold(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	f.Duration = 10 * time.Minute
	inj, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(15*time.Minute), inj.Expires, "10m hold + 5m ready_timeout")
	list, err := b.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, t0.Add(15*time.Minute), list[0].Expires)
}

// A marker recording a ready timeout above the maximum (written before
// there was one, or by hand) does not hold recover longer than the maximum.
func TestPodKillRecoverCapsARecordedReadyTimeout(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	cm, ok := c.configMap(shop, faultID)
	require.True(t, ok)
	cm = cm.DeepCopy()
	cm.Data["ready-timeout"] = "1000h0m0s"
	require.NoError(t, c.cs.Tracker().Update(configMapsGVR, cm, shop))
	c.setDeploymentReady("order", 2)

	c.clock.Set(t0.Add(gdk8s.MaxReadyTimeout + time.Second))
	rec, err := b.Recover(context.Background(), f)
	require.NoError(t, err)
	assert.Equal(t, "deployment/order NOT Ready 30m0s after the kill (2/3 ready)", rec.Detail)
	_, ok = c.configMap(shop, faultID)
	assert.False(t, ok, "given up at the maximum")
}

// A cancelled recover (the activity was cancelled, or its worker is
// shutting down) stops waiting at once, says what it waited for, and keeps
// the marker so that the next attempt resumes the wait.
func TestPodKillRecoverEndsWhenTheContextIsCancelled(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"), gdk8s.WithPollInterval(time.Hour)) // only ctx can end the sleep
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	c.setDeploymentReady("order", 2)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var progress []string
	ctx = chaos.WithProgress(ctx, func(d string) {
		progress = append(progress, d)
		cancel() // cancelled while it waits
	})
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
	assert.Contains(t, err.Error(), "waiting for deployment/order 2/3 ready")
	assert.Equal(t, []string{"deployment/order 2/3 ready"}, progress)
	_, ok := c.configMap(shop, faultID)
	assert.True(t, ok, "the marker stays for the next attempt")
}

// A paused run removes its pod-kill (its marker goes once the owner is
// Ready) and resumes under chaos.ResumedFaultID: a new marker and a new
// kill, where the first id would only find its marker and kill nothing.
func TestPodKillResumedIDKillsAgain(t *testing.T) {
	c := newCluster(t, withObjs(objs(namespace(shop, false)), orderApp(3, true))...)
	b := c.backend(policy(t, "*=50%"))
	f := podKillFault("", "", nil)
	_, err := b.Inject(context.Background(), f)
	require.NoError(t, err)
	// The pause: the ReplicaSet replaced the victim, recover dropped the marker.
	c.add(replacement("order-7d9-x", t0.Add(3*time.Second)))
	require.NoError(t, c.cs.CoreV1().ConfigMaps(shop).Delete(context.Background(), faultID, metav1.DeleteOptions{}))
	c.clock.Set(t0.Add(time.Minute))
	deletes := c.requests("delete", "pods")

	resumed := f
	resumed.ID = chaos.ResumedFaultID(f.ID, 1)
	inj, err := b.Inject(context.Background(), resumed)
	require.NoError(t, err)
	assert.False(t, inj.Existing)
	assert.Equal(t, "configmap/"+faultID+"-r1", inj.Object)
	_, ok := c.configMap(shop, faultID+"-r1")
	assert.True(t, ok, "the resumed kill has its own marker")
	assert.Equal(t, deletes+1, c.requests("delete", "pods"), "a pod was killed again")
	list, err := b.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, faultID+"-r1", list[0].FaultID)
	assert.Equal(t, wfID, list[0].WorkflowID, "a sweep finds its workflow")
}
