package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// Keys of the pod-kill marker ConfigMap's data: JSON or plain text, so that
// `kubectl get configmap -o yaml` tells a human what gameday killed.
const (
	keyVictims      = kubetarget.MarkerKeyVictims // JSON [{"name","uid","owner"}]
	keyOwners       = "owners"                    // JSON ["deployment/order"]: what recover waits for
	keyKilledAt     = "killed-at"                 // RFC 3339 with nanoseconds
	keyReadyTimeout = "ready-timeout"             // Go duration
)

// Owner kinds recover knows how to wait for, as recorded ("deployment/x").
// Anything else (DaemonSet, Job, an operator's CRD) is recorded for the
// report but not waited for: its readiness needs other verbs or cannot be
// read generically.
var waitableKinds = map[string]bool{"deployment": true, "statefulset": true, "replicaset": true}

func waitable(owner string) bool {
	kind, _, _ := strings.Cut(owner, "/")
	return waitableKinds[kind]
}

// victim is one pod a pod-kill deletes (kubetarget.Victim: the census of the
// cumulative blast radius reads markers of both back-ends' faults).
type victim = kubetarget.Victim

// marker is what a pod-kill records in the cluster before deleting
// anything: a retried inject kills the same pods and no others, and recover
// (possibly from a sweep that knows only the fault id and namespace) knows
// what to wait for and since when.
type marker struct {
	victims      []victim
	owners       []string // distinct waitable owners, sorted
	killedAt     time.Time
	readyTimeout time.Duration
}

// expires is when recover stops waiting for the owners: ready_timeout
// after the kill.
func (m marker) expires() time.Time { return m.killedAt.Add(m.readyTimeout) }

// sweepAfter is the expiry a sweep sees: the workflow recovers only after
// holding the fault, so the hold comes first; a sweep must not take the
// marker (and the recovery measurement) from a run that is still holding.
func (m marker) sweepAfter(hold time.Duration) time.Time {
	return m.killedAt.Add(hold + m.readyTimeout)
}

func (m marker) targets() []string {
	out := make([]string, len(m.victims))
	for i, v := range m.victims {
		out[i] = "pod/" + v.Name
	}
	return out
}

func (m marker) configMap(f chaos.Fault, ns string) *corev1.ConfigMap {
	owners := m.owners
	if owners == nil {
		owners = []string{}
	}
	// Marshalling slices of strings cannot fail.
	victims, _ := json.Marshal(m.victims)
	ownersJSON, _ := json.Marshal(owners)
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        f.ID,
			Namespace:   ns,
			Labels:      ourLabels(f),
			Annotations: kubetarget.Annotations(f, m.sweepAfter(f.Duration)),
		},
		Data: map[string]string{
			keyVictims:      string(victims),
			keyOwners:       string(ownersJSON),
			keyKilledAt:     m.killedAt.UTC().Format(time.RFC3339Nano),
			keyReadyTimeout: m.readyTimeout.String(),
		},
	}
}

func decodeMarker(cm *corev1.ConfigMap) (marker, error) {
	var m marker
	bad := func(key string, err error) error {
		return fmt.Errorf("pod-kill marker configmap %s/%s: data %q: %w", cm.Namespace, cm.Name, key, err)
	}
	if err := json.Unmarshal([]byte(cm.Data[keyVictims]), &m.victims); err != nil {
		return m, bad(keyVictims, err)
	}
	if err := json.Unmarshal([]byte(cm.Data[keyOwners]), &m.owners); err != nil {
		return m, bad(keyOwners, err)
	}
	var err error
	if m.killedAt, err = time.Parse(time.RFC3339Nano, cm.Data[keyKilledAt]); err != nil {
		return m, bad(keyKilledAt, err)
	}
	if m.readyTimeout, err = time.ParseDuration(cm.Data[keyReadyTimeout]); err != nil || m.readyTimeout <= 0 {
		return m, bad(keyReadyTimeout, fmt.Errorf("want a positive duration, got %q", cm.Data[keyReadyTimeout]))
	}
	// A marker written before ready_timeout had a maximum (or by hand) must
	// not hold recover longer than a new fault could.
	m.readyTimeout = min(m.readyTimeout, MaxReadyTimeout)
	return m, nil
}

// planPodKill resolves the target under the safety policy and picks the
// victims, seeded by the fault id.
func (b *Backend) planPodKill(ctx context.Context, f chaos.Fault) (kubetarget.Selection, []corev1.Pod, error) {
	sel, err := kubetarget.SelectPods(ctx, b.cs, b.policy, f)
	if err != nil {
		return sel, nil, err
	}
	n, err := hitCount(f.Target.Mode, f.Target.Value, len(sel.Matched), f.ID)
	if err != nil {
		return sel, nil, errkind.Permanent(err)
	}
	return sel, kubetarget.Choose(sel.Matched, n, f.ID), nil
}

func (b *Backend) resolvePodKill(ctx context.Context, f chaos.Fault) ([]string, error) {
	if _, err := parsePodKill(f.Params); err != nil {
		return nil, errkind.Permanent(err)
	}
	if err := checkTarget(f); err != nil {
		return nil, err
	}
	sel, victims, err := b.planPodKill(ctx, f)
	if err != nil {
		return nil, err
	}
	vs := make([]victim, len(victims))
	for i, p := range victims {
		vs[i] = victim{Name: p.Name, UID: p.UID}
	}
	if err := b.checkKill(ctx, f, vs); err != nil {
		return nil, err
	}
	names := make([]string, len(victims))
	for i, p := range victims {
		names[i] = p.Name
	}
	return []string{fmt.Sprintf("pod-kill: would delete %d of %d pods in %s (mode %s): %s",
		len(victims), len(sel.Matched), sel.Namespace, chaos.ModeString(f.Target.Mode, f.Target.Value), strings.Join(names, ", "))}, nil
}

// injectPodKill records the victims in the marker, then deletes them. The
// marker comes first so that a worker crashing between the two leaves a
// record: the retry kills exactly the recorded pods (never a fresh pick,
// which would double the blast radius), and recover measures from the
// recorded kill time.
func (b *Backend) injectPodKill(ctx context.Context, f chaos.Fault) (chaos.Injected, error) {
	params, err := parsePodKill(f.Params)
	if err != nil {
		return chaos.Injected{}, errkind.Permanent(err)
	}
	if err := checkTarget(f); err != nil {
		return chaos.Injected{}, err
	}
	ns := f.Target.Namespace
	// Checked before reading the marker: nothing is read in, let alone
	// written to, a namespace the policy does not allow.
	if err := b.policy.CheckNamespace(ns); err != nil {
		return chaos.Injected{}, errkind.Permanent(err)
	}
	cms := b.cs.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, f.ID, metav1.GetOptions{})
	switch {
	case err == nil:
		return b.resumePodKill(ctx, f, params, cm)
	case !apierrors.IsNotFound(err):
		return chaos.Injected{}, kubetarget.APIError(fmt.Sprintf("get pod-kill marker configmap %s/%s", ns, f.ID), err)
	}

	_, pods, err := b.planPodKill(ctx, f)
	if err != nil {
		return chaos.Injected{}, err
	}
	// Owners are resolved before the kill: afterwards a ReplicaSet-owned
	// victim may be gone, and with it the way to its Deployment.
	m := marker{readyTimeout: params.readyTimeout}
	seen := map[string]bool{}
	for _, p := range pods {
		owner, err := b.ownerOf(ctx, p)
		if err != nil {
			return chaos.Injected{}, err
		}
		m.victims = append(m.victims, victim{Name: p.Name, UID: p.UID, Owner: owner})
		if waitable(owner) && !seen[owner] {
			seen[owner] = true
			m.owners = append(m.owners, owner)
		}
	}
	sort.Strings(m.owners)
	m.killedAt = b.now()

	_, err = cms.Create(ctx, m.configMap(f, ns), metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		// A concurrent attempt of the same fault won: converge on its record.
		cm, err := cms.Get(ctx, f.ID, metav1.GetOptions{})
		if err != nil {
			return chaos.Injected{}, kubetarget.APIError(fmt.Sprintf("get pod-kill marker configmap %s/%s", ns, f.ID), err)
		}
		return b.resumePodKill(ctx, f, params, cm)
	case err != nil:
		return chaos.Injected{}, kubetarget.APIError(fmt.Sprintf("create pod-kill marker configmap %s/%s", ns, f.ID), err)
	}
	// The cumulative check comes after the marker exists, so that of two
	// faults injected at the same moment (two runs, or a PodChaos) at least
	// the later one's census sees the other: both may refuse, never both
	// kill past the limit. Define checked too, but define of a later step
	// runs before the earlier steps kill anything.
	if err := b.checkKill(ctx, f, m.victims); err != nil {
		// Nothing was killed: the marker goes, so nothing is left to recover.
		if derr := cms.Delete(ctx, f.ID, metav1.DeleteOptions{}); derr != nil && !apierrors.IsNotFound(derr) {
			return chaos.Injected{}, fmt.Errorf("%w (and deleting the unused marker configmap %s/%s failed: %v; recover removes it)", err, ns, f.ID, derr)
		}
		return chaos.Injected{}, err
	}
	if err := b.kill(ctx, ns, m.victims, params.grace); err != nil {
		return chaos.Injected{}, err
	}
	return podKillInjected(f, ns, m, false), nil
}

// resumePodKill is a retried inject: the marker exists, so the kill
// happened or started. It deletes the recorded victims that are still there
// (same UID) and nothing else.
func (b *Backend) resumePodKill(ctx context.Context, f chaos.Fault, params podKill, cm *corev1.ConfigMap) (chaos.Injected, error) {
	if !ours(cm, f.ID) {
		return chaos.Injected{}, errkind.Permanent(fmt.Errorf("configmap %s/%s exists but was not created by gameday for fault %s: refusing to use or overwrite it", cm.Namespace, cm.Name, f.ID))
	}
	m, err := decodeMarker(cm)
	if err != nil {
		return chaos.Injected{}, errkind.Permanent(err)
	}
	// Checked again: the attempt that wrote the marker may have died
	// before its check, and others may have struck since. The census leaves
	// this fault's own marker out and counts only the victims still alive
	// as hit, so a retry whose kill is done (or half done) never counts
	// itself twice and is not refused by its own fault.
	if err := b.checkKill(ctx, f, m.victims); err != nil {
		return chaos.Injected{}, err
	}
	if err := b.kill(ctx, cm.Namespace, m.victims, params.grace); err != nil {
		return chaos.Injected{}, err
	}
	return podKillInjected(f, cm.Namespace, m, true), nil
}

// checkKill is the cumulative blast radius of killing vs (still alive,
// same UID) in the target namespace: see safety.CheckCumulative.
func (b *Backend) checkKill(ctx context.Context, f chaos.Fault, vs []victim) error {
	ns := f.Target.Namespace
	uids := map[string]types.UID{}
	for _, v := range vs {
		uids[v.Name] = v.UID
	}
	return kubetarget.CheckCumulative(ctx, b.sources(), b.policy, f, []string{ns}, "killing", func(c *kubetarget.Census) safety.Census {
		return c.State(func(p *corev1.Pod) bool {
			uid, ok := uids[p.Name]
			return ok && p.Namespace == ns && (uid == "" || uid == p.UID)
		})
	})
}

// kill deletes the victims. The UID precondition makes the delete a no-op
// on a replacement pod that reuses a victim's name.
func (b *Backend) kill(ctx context.Context, ns string, vs []victim, grace *int64) error {
	for _, v := range vs {
		uid := v.UID
		err := b.cs.CoreV1().Pods(ns).Delete(ctx, v.Name, metav1.DeleteOptions{
			GracePeriodSeconds: grace,
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		switch {
		case err == nil:
		case apierrors.IsNotFound(err):
			// Already gone: killed by an earlier attempt, or by someone else.
		case apierrors.IsConflict(err):
			// UID precondition failed: the pod under that name is a
			// replacement, not the victim.
		default:
			return kubetarget.APIError(fmt.Sprintf("delete pod %s/%s", ns, v.Name), err)
		}
	}
	return nil
}

func podKillInjected(f chaos.Fault, ns string, m marker, existing bool) chaos.Injected {
	return chaos.Injected{
		FaultID:   f.ID,
		Backend:   BackendName,
		Object:    "configmap/" + f.ID,
		Namespace: ns,
		Expires:   m.sweepAfter(f.Duration),
		Since:     m.killedAt, // the recorded kill, also for a retried inject
		Existing:  existing,
		Targets:   m.targets(),
	}
}

// ownerOf names what recreates the pod (kubetarget.OwnerOf).
func (b *Backend) ownerOf(ctx context.Context, p corev1.Pod) (string, error) {
	return kubetarget.OwnerOf(ctx, b.cs, p, nil)
}

// recoverPodKill waits until every recorded owner is Ready again (or the
// ready timeout since the kill has passed), reports it, then deletes the
// marker. Deleted pods cannot be undeleted: "recovering" a pod-kill means
// observing the system heal, and its Detail is the experiment's result.
func (b *Backend) recoverPodKill(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	ns := f.Target.Namespace
	if ns == "" {
		return chaos.Recovered{}, errkind.Permanent(fmt.Errorf("pod-kill %s: the fault names no target namespace: cannot find its marker", f.ID))
	}
	cms := b.cs.CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(ctx, f.ID, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return chaos.Recovered{FaultID: f.ID, AlreadyGone: true}, nil
	case err != nil:
		return chaos.Recovered{}, kubetarget.APIError(fmt.Sprintf("get pod-kill marker configmap %s/%s", ns, f.ID), err)
	case !ours(cm, f.ID):
		return chaos.Recovered{FaultID: f.ID, AlreadyGone: true,
			Detail: fmt.Sprintf("configmap %s/%s is not a gameday marker: left alone", ns, f.ID)}, nil
	}
	m, err := decodeMarker(cm)
	if err != nil {
		// Left in place for a human: deleting it would lose the only record
		// of what was killed.
		return chaos.Recovered{}, errkind.Permanent(err)
	}
	out, err := b.waitReady(ctx, f.ID, ns, m)
	if err != nil {
		return chaos.Recovered{}, err
	}
	if err := cms.Delete(ctx, f.ID, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return chaos.Recovered{}, kubetarget.APIError(fmt.Sprintf("delete pod-kill marker configmap %s/%s", ns, f.ID), err)
	}
	return out, nil
}

// ownerWatches opens a watch of each owner ("deployment/order") by name.
func (b *Backend) ownerWatches(ns string, owners []string) []kubetarget.OpenWatch {
	var out []kubetarget.OpenWatch
	for _, o := range owners {
		kind, name, _ := strings.Cut(o, "/")
		opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
		apps := b.cs.AppsV1()
		switch kind {
		case "deployment":
			out = append(out, func(ctx context.Context) (watch.Interface, error) { return apps.Deployments(ns).Watch(ctx, opts) })
		case "statefulset":
			out = append(out, func(ctx context.Context) (watch.Interface, error) { return apps.StatefulSets(ns).Watch(ctx, opts) })
		case "replicaset":
			out = append(out, func(ctx context.Context) (watch.Interface, error) { return apps.ReplicaSets(ns).Watch(ctx, opts) })
		}
	}
	return out
}

// ownerStatus is one owner's readiness at one look.
type ownerStatus struct {
	owner       string // "deployment/order"
	ready, want int32
	ok          bool      // fully Ready
	gone        bool      // the owner no longer exists: nothing to wait for
	lastReady   time.Time // latest Ready transition among the counted pods (zero if unknown)
}

func (s ownerStatus) String() string {
	if s.gone {
		return s.owner + " no longer exists"
	}
	return fmt.Sprintf("%s %d/%d ready", s.owner, s.ready, s.want)
}

// waitReady watches the owners until all are Ready or the ready timeout
// since the kill has passed. It never outlives ctx's deadline: shortly
// before it, it returns a retryable error and the retried recover picks up
// the wait; the kill time comes from the marker, so the measurement
// survives.
func (b *Backend) waitReady(ctx context.Context, id, ns string, m marker) (chaos.Recovered, error) {
	out := chaos.Recovered{FaultID: id, Removed: true}
	if len(m.owners) == 0 {
		out.Detail = strings.Join(m.unwatched(), "; ")
		return out, nil
	}
	giveUp := m.expires()
	readyAt := map[string]time.Time{} // since when each owner has been Ready, in this call
	// Watch the owners: their status changes the moment the controller
	// counts the replacements Ready, so the recovery time is that moment,
	// not the next poll's.
	changes := kubetarget.WatchChanges(ctx, b.ownerWatches(ns, m.owners)...)
	defer changes.Stop()
	for first := true; ; first = false {
		statuses := make([]ownerStatus, 0, len(m.owners))
		for _, o := range m.owners {
			s, err := b.ownerStatus(ctx, ns, o)
			if err != nil {
				return chaos.Recovered{}, err
			}
			statuses = append(statuses, s)
		}
		now := b.now()
		done := true
		for _, s := range statuses {
			switch {
			case s.gone:
			case !s.ok:
				delete(readyAt, s.owner)
				done = false
			case readyAt[s.owner].IsZero():
				readyAt[s.owner] = now
				// Already Ready at the first look (recover ran well after
				// the kill, or is a retry): the poll time would overstate
				// the recovery, the pods' own Ready transition does not.
				// The API server keeps that transition in whole seconds, so
				// the pods were Ready before lastReady+1s: report that
				// upper bound ("within"), never a misleading 0s.
				if first && !s.lastReady.IsZero() && s.lastReady.Before(now) {
					at := latest(s.lastReady.Truncate(time.Second).Add(time.Second), m.killedAt)
					if at.After(now) {
						at = now
					}
					readyAt[s.owner] = at
				}
			}
		}
		if done || !now.Before(giveUp) {
			out.Detail, out.RecoveryTime = m.report(statuses, readyAt, done)
			return out, nil
		}
		waiting := joinStatuses(statuses)
		chaos.Progress(ctx, waiting)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < b.margin+b.poll {
			return chaos.Recovered{}, fmt.Errorf("pod-kill %s: still waiting for %s, %s after the kill (gives up %s after it); stopping before the activity's deadline, a retry resumes the wait from the recorded kill time",
				id, waiting, roundDur(now.Sub(m.killedAt)), m.readyTimeout)
		}
		if err := changes.Wait(ctx, b.poll); err != nil {
			return chaos.Recovered{}, fmt.Errorf("pod-kill %s: waiting for %s: %w", id, waiting, err)
		}
	}
}

// report renders the outcome; the recovery time is set only when every
// owner that still exists is Ready.
func (m marker) report(statuses []ownerStatus, readyAt map[string]time.Time, done bool) (string, time.Duration) {
	var parts []string
	var last time.Time
	for _, s := range statuses {
		switch {
		case s.gone:
			parts = append(parts, s.owner+" no longer exists: not waited for")
		case s.ok:
			at := readyAt[s.owner]
			last = latest(last, at)
			parts = append(parts, fmt.Sprintf("%s %d/%d Ready within %s of the kill", s.owner, s.ready, s.want, roundDur(at.Sub(m.killedAt))))
		default:
			parts = append(parts, fmt.Sprintf("%s NOT Ready %s after the kill (%d/%d ready)", s.owner, m.readyTimeout, s.ready, s.want))
		}
	}
	parts = append(parts, m.unwatched()...)
	var rt time.Duration
	if done && !last.IsZero() {
		rt = last.Sub(m.killedAt)
	}
	return strings.Join(parts, "; "), rt
}

// unwatched explains the victims recover does not wait for.
func (m marker) unwatched() []string {
	var out []string
	for _, v := range m.victims {
		switch {
		case v.Owner == "":
			out = append(out, fmt.Sprintf("pod/%s had no owner: nothing recreates it, nothing to wait for", v.Name))
		case !waitable(v.Owner):
			out = append(out, fmt.Sprintf("pod/%s belongs to %s, which recover does not wait for", v.Name, v.Owner))
		}
	}
	return out
}

// ownerStatus reads one owner's readiness. The owner's status alone is not
// enough: right after the kill the controller may not have seen the
// deletion yet and still report every replica Ready, which would measure a
// recovery of 0s. So the live Ready pods are counted too: a killed pod is
// terminating (deletionTimestamp set by the delete itself) or gone, and
// does not count even while its Ready condition still says True.
func (b *Backend) ownerStatus(ctx context.Context, ns, owner string) (ownerStatus, error) {
	kind, name, _ := strings.Cut(owner, "/")
	s := ownerStatus{owner: owner}
	var (
		statusOK    bool
		statusReady int32
		selector    *metav1.LabelSelector
		err         error
	)
	apps := b.cs.AppsV1()
	switch kind {
	case "deployment":
		var d *appsv1.Deployment
		if d, err = apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			s.want, selector = replicas(d.Spec.Replicas), d.Spec.Selector
			st := d.Status
			statusReady = st.ReadyReplicas
			statusOK = st.ObservedGeneration >= d.Generation &&
				st.UpdatedReplicas == s.want && st.ReadyReplicas == s.want && st.AvailableReplicas == s.want
		}
	case "statefulset":
		var ss *appsv1.StatefulSet
		if ss, err = apps.StatefulSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			s.want, selector = replicas(ss.Spec.Replicas), ss.Spec.Selector
			statusReady = ss.Status.ReadyReplicas
			statusOK = statusReady == s.want
		}
	case "replicaset":
		var rs *appsv1.ReplicaSet
		if rs, err = apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			s.want, selector = replicas(rs.Spec.Replicas), rs.Spec.Selector
			statusReady = rs.Status.ReadyReplicas
			statusOK = statusReady == s.want
		}
	default:
		return s, errkind.Permanent(fmt.Errorf("cannot wait for %s: not a deployment, statefulset or replicaset", owner))
	}
	switch {
	case apierrors.IsNotFound(err):
		s.gone = true
		return s, nil
	case err != nil:
		return s, kubetarget.APIError(fmt.Sprintf("get %s in namespace %s", owner, ns), err)
	}
	podsReady, lastReady, err := b.readyPods(ctx, ns, owner, selector)
	if err != nil {
		return s, err
	}
	s.ready = min(statusReady, podsReady)
	s.ok = statusOK && podsReady >= s.want
	s.lastReady = lastReady
	return s, nil
}

// readyPods counts the live (not terminating), Ready pods the owner's
// selector matches, and when the last of them became Ready.
func (b *Backend) readyPods(ctx context.Context, ns, owner string, ls *metav1.LabelSelector) (int32, time.Time, error) {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return 0, time.Time{}, errkind.Permanent(fmt.Errorf("%s in namespace %s: invalid selector: %w", owner, ns, err))
	}
	list, err := b.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return 0, time.Time{}, kubetarget.APIError(fmt.Sprintf("list pods of %s in namespace %s", owner, ns), err)
	}
	var n int32
	var last time.Time
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil || !podReady(p) {
			continue
		}
		n++
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				last = latest(last, c.LastTransitionTime.Time)
			}
		}
	}
	return n, last, nil
}

// replicas is spec.replicas with the API's default of 1.
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func joinStatuses(ss []ownerStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// roundDur keeps durations readable in reports ("4.1s", not "4.100023s").
func roundDur(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
