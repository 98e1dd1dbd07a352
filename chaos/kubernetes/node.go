package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// AnnotationNodes lists, on every node a node-notready fault cordons, all
// the nodes that fault cordons (comma-separated). A worker crashing
// half-way leaves the list behind, so the retried inject finishes the same
// set instead of picking again among pods that may have moved.
const AnnotationNodes = "gameday.io/nodes"

// AnnotationCordonedAt records, on every node a node-notready fault
// cordons, when the fault first cordoned (RFC 3339 with nanoseconds; the
// same on every node of the fault, including those a retry cordons). A
// retried inject reports it as Injected.Since, so the hold ends when the
// first attempt's does.
const AnnotationCordonedAt = "gameday.io/cordoned-at"

// nodeTarget is a node the fault will cordon.
type nodeTarget struct {
	node    *corev1.Node
	matched int // how many of the matched pods it hosts
}

// planNodes resolves node-notready's target: the nodes hosting the pods the
// selector matches are the candidates, and the blast-radius mode picks
// among them (seeded by the fault id, like pods).
func (b *Backend) planNodes(ctx context.Context, f chaos.Fault, evict bool) ([]nodeTarget, error) {
	// Only SelectPods' namespace and opt-in checks apply to the pods: the
	// mode and the radius limit of this action count nodes, not pods (two
	// replicas on one node are one node), so the pod-level radius check is
	// neutralised here and the real one is done on nodes below.
	podsOnly := f
	podsOnly.Target.Mode, podsOnly.Target.Value, podsOnly.Environment = chaos.ModeAll, "", ""
	p := b.policy
	p.MaxRadius = map[string]safety.Limit{safety.AnyEnvironment: {Percent: 100}}
	sel, err := kubetarget.SelectPods(ctx, b.cs, p, podsOnly)
	if err != nil {
		return nil, err
	}
	hosts := map[string]int{}
	for _, pod := range sel.Matched {
		if pod.Spec.NodeName != "" {
			hosts[pod.Spec.NodeName]++
		}
	}
	if len(hosts) == 0 {
		return nil, errkind.Permanent(fmt.Errorf("none of the %d pods the target matches in %s is scheduled on a node yet: no node to cordon", len(sel.Matched), sel.Namespace))
	}
	names := slices.Sorted(maps.Keys(hosts))
	t := f.Target
	most, err := chaos.ModeCount(t.Mode, t.Value, len(names))
	if err != nil {
		return nil, errkind.Permanent(err)
	}
	if err := b.policy.CheckRadius(f.Environment, most, len(names)); err != nil {
		return nil, errkind.Permanent(fmt.Errorf("nodes hosting the matched pods (%s): %w", strings.Join(names, ", "), err))
	}
	n, err := hitCount(t.Mode, t.Value, len(names), f.ID)
	if err != nil {
		return nil, errkind.Permanent(err)
	}
	chosen := chooseNames(names, n, f.ID)
	var out []nodeTarget
	for _, name := range chosen {
		node, err := b.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, kubetarget.APIError("get node "+name, err)
		}
		if err := cordonable(node, f.ID); err != nil {
			return nil, err
		}
		out = append(out, nodeTarget{node: node, matched: hosts[name]})
	}
	// After cordonable: a node someone else cordoned is refused for that
	// reason first, whatever the evictions would do.
	if evict {
		if err := b.checkEvict(ctx, f, chosen); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// chooseNames is kubetarget.Choose for names: the same seeded pick, so define and
// the inject of one fault name the same nodes.
func chooseNames(names []string, n int, seed string) []string {
	pods := make([]corev1.Pod, len(names))
	for i, name := range names {
		pods[i].Name = name
	}
	chosen := kubetarget.Choose(pods, n, seed)
	out := make([]string, len(chosen))
	for i, p := range chosen {
		out[i] = p.Name
	}
	return out
}

// cordonable refuses a node gameday must not take over. A node cordoned by
// someone else is the important case: recover uncordons, which would undo
// their maintenance.
func cordonable(n *corev1.Node, id string) error {
	if ours(n, id) {
		return nil
	}
	if other := n.Labels[kubetarget.LabelFaultID]; other != "" {
		return errkind.Permanent(fmt.Errorf("node %s is already cordoned by gameday fault %s (workflow %s)", n.Name, other, n.Annotations[kubetarget.AnnotationWorkflowID]))
	}
	if n.Spec.Unschedulable {
		return errkind.Permanent(fmt.Errorf("node %s is already cordoned, not by gameday: recover would uncordon it and undo someone else's work; uncordon it first or target pods on other nodes", n.Name))
	}
	if v, ok := n.Labels[kubetarget.LabelManagedBy]; ok && v != kubetarget.ManagedBy {
		return errkind.Permanent(fmt.Errorf("node %s carries the label %s=%s, which gameday would have to overwrite (and then delete) to track the fault", n.Name, kubetarget.LabelManagedBy, v))
	}
	return nil
}

func (b *Backend) resolveNodeNotReady(ctx context.Context, f chaos.Fault) ([]string, error) {
	params, err := parseNodeNotReady(f.Params)
	if err != nil {
		return nil, errkind.Permanent(err)
	}
	if err := checkTarget(f); err != nil {
		return nil, err
	}
	targets, err := b.planNodes(ctx, f, params.evict)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range targets {
		line := fmt.Sprintf("node-notready: would cordon node %s (hosts %s)", t.node.Name, plural(t.matched, "matched pod"))
		if params.evict {
			evict, spared, err := b.nodePods(ctx, t.node.Name)
			if err != nil {
				return nil, err
			}
			names := make([]string, len(evict))
			for i, p := range evict {
				names[i] = p.Namespace + "/" + p.Name
			}
			line += fmt.Sprintf(", then evict %s", plural(len(evict), "pod"))
			if len(names) > 0 {
				line += ": " + strings.Join(names, ", ")
			}
			if spared > 0 {
				line += fmt.Sprintf(" (%s not opted in left alone)", plural(spared, "pod"))
			}
		}
		out = append(out, line)
	}
	return out, nil
}

// injectNodeNotReady cordons the chosen nodes, labelled with the fault id,
// then (evict: true) evicts their pods. Every node is cordoned before any
// eviction, so that pods cannot move onto another chosen node, and so that
// a retry never has to re-resolve once pods started moving.
func (b *Backend) injectNodeNotReady(ctx context.Context, f chaos.Fault) (chaos.Injected, error) {
	params, err := parseNodeNotReady(f.Params)
	if err != nil {
		return chaos.Injected{}, errkind.Permanent(err)
	}
	if err := checkTarget(f); err != nil {
		return chaos.Injected{}, err
	}
	existing, err := b.faultNodes(ctx, f.ID)
	if err != nil {
		return chaos.Injected{}, err
	}
	var names []string
	var expires, since time.Time
	if len(existing) > 0 {
		// A retried inject: finish the recorded set, pick nothing new.
		names, expires, since = planned(existing)
		if since.IsZero() && !expires.IsZero() {
			// Cordoned by a version that did not record the time: the
			// expiry was inject time + duration + margin.
			since = expires.Add(-f.Duration - b.ttlMargin)
		}
		have := map[string]bool{}
		for _, n := range existing {
			have[n.Name] = true
		}
		for _, name := range names {
			if have[name] {
				continue
			}
			node, err := b.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue // removed from the cluster since: nothing to cordon
			}
			if err != nil {
				return chaos.Injected{}, kubetarget.APIError("get node "+name, err)
			}
			if err := cordonable(node, f.ID); err != nil {
				return chaos.Injected{}, err
			}
			if err := b.cordon(ctx, f, node, names, expires, since); err != nil {
				return chaos.Injected{}, err
			}
		}
	} else {
		targets, err := b.planNodes(ctx, f, params.evict)
		if err != nil {
			return chaos.Injected{}, err
		}
		for _, t := range targets {
			names = append(names, t.node.Name)
		}
		// Whole seconds, rounded up: the annotation holds seconds, so the
		// first report and a retry's (read back from it) agree, and rounding
		// never shortens the fault.
		since = b.now().UTC()
		expires = since.Add(f.Duration + b.ttlMargin)
		if t := expires.Truncate(time.Second); !t.Equal(expires) {
			expires = t.Add(time.Second)
		}
		for _, t := range targets {
			if err := b.cordon(ctx, f, t.node, names, expires, since); err != nil {
				return chaos.Injected{}, err
			}
		}
	}
	if params.evict {
		// Judged again now that the cordons are in place, with this fault's
		// own cordons left out of the census so it never counts against
		// itself. A retry evicts what is still on the nodes (a budget may
		// have held pods back while others struck). A fresh inject was
		// judged before cordoning, but a concurrent fault (a pod-kill of
		// another run) may have struck since: the cordons are this fault's
		// marker, as pod-kill's ConfigMap is its, so of two faults checking
		// at once the later one sees the other. Refused: undo the cordons.
		if err := b.checkEvict(ctx, f, names); err != nil {
			if len(existing) == 0 {
				if _, uerr := b.recoverNodeNotReady(context.WithoutCancel(ctx), f); uerr != nil {
					return chaos.Injected{}, errors.Join(err, fmt.Errorf("and undoing the cordons failed (recover will retry): %w", uerr))
				}
			}
			return chaos.Injected{}, err
		}
		for _, name := range names {
			if err := b.evict(ctx, name, params.grace); err != nil {
				return chaos.Injected{}, err
			}
		}
	}
	targets := make([]string, len(names))
	for i, n := range names {
		targets[i] = "node/" + n
	}
	return chaos.Injected{
		FaultID:  f.ID,
		Backend:  BackendName,
		Object:   targets[0],
		Expires:  expires,
		Since:    since,
		Existing: len(existing) > 0,
		Targets:  targets,
	}, nil
}

// planned reads back the node set, deadline and cordon time a previous
// attempt recorded (the earliest of each, should nodes disagree; a zero
// time when none records it).
func planned(nodes []corev1.Node) ([]string, time.Time, time.Time) {
	set := map[string]bool{}
	var expires, since time.Time
	for i := range nodes {
		if t, err := time.Parse(time.RFC3339Nano, nodes[i].Annotations[AnnotationCordonedAt]); err == nil && (since.IsZero() || t.Before(since)) {
			since = t
		}
		set[nodes[i].Name] = true
		for _, n := range strings.Split(nodes[i].Annotations[AnnotationNodes], ",") {
			if n = strings.TrimSpace(n); n != "" {
				set[n] = true
			}
		}
		if e := kubetarget.InjectedFrom(BackendName, "", &nodes[i]).Expires; expires.IsZero() || (!e.IsZero() && e.Before(expires)) {
			expires = e
		}
	}
	return slices.Sorted(maps.Keys(set)), expires, since
}

// faultNodes lists the nodes this back-end labelled for fault id.
func (b *Backend) faultNodes(ctx context.Context, id string) ([]corev1.Node, error) {
	list, err := b.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: faultSelector(id)})
	if err != nil {
		return nil, kubetarget.APIError("list nodes cordoned by gameday fault "+id, err)
	}
	var out []corev1.Node
	for _, n := range list.Items {
		if ours(&n, id) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// cordon marks the node unschedulable and labels it with the fault, in one
// merge patch (patch, not update: only the fields gameday owns are sent, so
// concurrent changes by the kubelet or node controller are not overwritten).
// The resourceVersion makes the patch fail with a conflict, retried, if the
// node changed since it was checked: someone may have cordoned it meanwhile.
func (b *Backend) cordon(ctx context.Context, f chaos.Fault, node *corev1.Node, planned []string, expires, since time.Time) error {
	if ours(node, f.ID) && node.Spec.Unschedulable {
		return nil
	}
	ann := kubetarget.Annotations(f, expires)
	ann[AnnotationNodes] = strings.Join(planned, ",")
	if !since.IsZero() {
		ann[AnnotationCordonedAt] = since.UTC().Format(time.RFC3339Nano)
	}
	meta := map[string]any{"labels": ourLabels(f), "annotations": ann}
	if node.ResourceVersion != "" {
		meta["resourceVersion"] = node.ResourceVersion
	}
	patch, _ := json.Marshal(map[string]any{"metadata": meta, "spec": map[string]any{"unschedulable": true}})
	if _, err := b.cs.CoreV1().Nodes().Patch(ctx, node.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return kubetarget.APIError("cordon node "+node.Name, err)
	}
	return nil
}

// uncordonPatch is the merge patch that undoes cordon: schedulable again,
// gameday's labels and annotations removed (null deletes a key in a merge
// patch). With a resourceVersion the API server refuses it (409 Conflict)
// if the node changed since it was read. Recover and Reap both send it.
func uncordonPatch(resourceVersion string) []byte {
	labels := map[string]any{kubetarget.LabelManagedBy: nil, kubetarget.LabelFaultID: nil, LabelBackend: nil}
	ann := map[string]any{
		kubetarget.AnnotationWorkflowID: nil, kubetarget.AnnotationFault: nil, kubetarget.AnnotationAction: nil,
		kubetarget.AnnotationExpires: nil, AnnotationNodes: nil, AnnotationCordonedAt: nil,
		kubetarget.AnnotationTemporalNamespace: nil,
	}
	meta := map[string]any{"labels": labels, "annotations": ann}
	if resourceVersion != "" {
		meta["resourceVersion"] = resourceVersion
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": meta,
		"spec":     map[string]any{"unschedulable": nil},
	})
	return patch
}

// uncordon undoes cordon (uncordonPatch).
func (b *Backend) uncordon(ctx context.Context, name string) error {
	_, err := b.cs.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, uncordonPatch(""), metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil // the node left the cluster: nothing to uncordon
	case err != nil:
		return kubetarget.APIError("uncordon node "+name, err)
	}
	return nil
}

// recoverNodeNotReady uncordons every node labelled with the fault id. It
// needs nothing but the id, so a sweep can run it. Evicted pods are not
// brought back: their controllers already rescheduled them.
func (b *Backend) recoverNodeNotReady(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	nodes, err := b.faultNodes(ctx, f.ID)
	if err != nil {
		return chaos.Recovered{}, err
	}
	if len(nodes) == 0 {
		return chaos.Recovered{FaultID: f.ID, AlreadyGone: true}, nil
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		// Each patch honours ctx with a real client; checking here too
		// makes a cancelled recover stop between nodes whatever the client.
		if err := ctx.Err(); err != nil {
			return chaos.Recovered{}, fmt.Errorf("node-notready %s: uncordoning %s: %w", f.ID, n.Name, err)
		}
		chaos.Progress(ctx, "uncordoning node "+n.Name)
		if err := b.uncordon(ctx, n.Name); err != nil {
			return chaos.Recovered{}, err
		}
		names[i] = n.Name
	}
	return chaos.Recovered{FaultID: f.ID, Removed: true, Detail: "uncordoned node " + strings.Join(names, ", ")}, nil
}

// checkEvict is the cumulative blast radius of evicting what nodePods would
// evict from nodes: every owner of those pods, in every allowed namespace,
// must stay within the limit (safety.CheckCumulative). Sharing a node with
// the target is how one Deployment's node-notready takes out all of
// another's replicas; this is what refuses it.
func (b *Backend) checkEvict(ctx context.Context, f chaos.Fault, nodes []string) error {
	hit := map[string]bool{}
	for _, n := range nodes {
		pods, _, err := b.nodePods(ctx, n)
		if err != nil {
			return err
		}
		for _, p := range pods {
			hit[p.Namespace+"/"+p.Name] = true
		}
	}
	if len(hit) == 0 {
		return nil
	}
	return kubetarget.CheckCumulative(ctx, b.sources(), b.policy, f, b.policy.Namespaces, "evicting", func(c *kubetarget.Census) safety.Census {
		return c.State(func(p *corev1.Pod) bool { return hit[p.Namespace+"/"+p.Name] })
	})
}

// nodePods splits the pods on a node into those an eviction would move and
// the number left alone because they did not opt in. Like kubectl drain it
// skips DaemonSet pods (the DaemonSet controller would put them straight
// back, and they tolerate the cordon), mirror pods (static pods: the API
// cannot delete them), and pods that are finished or terminating. Unlike
// drain it only ever looks at the namespaces the policy allows, and there
// only at pods that opted in (or whose namespace did): sharing a node with
// a chaos target does not make a workload a chaos target. Listing per
// allowed namespace also keeps the pod permissions namespaced.
func (b *Backend) nodePods(ctx context.Context, node string) ([]corev1.Pod, int, error) {
	onNode := fields.OneTermEqualSelector("spec.nodeName", node).String()
	var evict []corev1.Pod
	spared := 0
	for _, ns := range b.policy.Namespaces {
		list, err := b.cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: onNode})
		if err != nil {
			return nil, 0, kubetarget.APIError(fmt.Sprintf("list pods on node %s in namespace %s", node, ns), err)
		}
		var nsOptedIn *bool // read once, only if a pod lacks the label itself
		for _, p := range list.Items {
			// The field selector filters on the server; checking NodeName
			// again keeps this right where it is not applied (fake clients).
			if p.Spec.NodeName != node || p.DeletionTimestamp != nil ||
				p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			if _, mirror := p.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
				continue
			}
			if c := metav1.GetControllerOf(&p); c != nil && c.Kind == "DaemonSet" {
				continue
			}
			if !b.policy.OptedIn(p.Labels) {
				if nsOptedIn == nil {
					n, err := b.cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
					if err != nil {
						return nil, 0, kubetarget.APIError("get namespace "+ns, err)
					}
					in := b.policy.OptedIn(n.Labels)
					nsOptedIn = &in
				}
				if !*nsOptedIn {
					spared++
					continue
				}
			}
			evict = append(evict, p)
		}
	}
	sort.Slice(evict, func(i, j int) bool {
		if evict[i].Namespace != evict[j].Namespace {
			return evict[i].Namespace < evict[j].Namespace
		}
		return evict[i].Name < evict[j].Name
	})
	return evict, spared, nil
}

// evict evicts the node's pods through the Eviction API, which honours
// PodDisruptionBudgets. A budget refusing (429) is not a failure of the
// fault: the other pods are still evicted, and the error is retryable so
// the retried inject (finding its cordoned nodes) tries again, as kubectl
// drain does.
func (b *Backend) evict(ctx context.Context, node string, grace *int64) error {
	pods, _, err := b.nodePods(ctx, node)
	if err != nil {
		return err
	}
	var blocked []string
	for _, p := range pods {
		uid := p.UID
		ev := &policyv1.Eviction{
			ObjectMeta:    metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: grace, Preconditions: &metav1.Preconditions{UID: &uid}},
		}
		err := b.cs.CoreV1().Pods(p.Namespace).EvictV1(ctx, ev)
		switch {
		case err == nil, apierrors.IsNotFound(err), apierrors.IsConflict(err):
			// NotFound or a UID conflict: that pod is already gone.
		case apierrors.IsTooManyRequests(err):
			blocked = append(blocked, p.Namespace+"/"+p.Name)
		default:
			return kubetarget.APIError(fmt.Sprintf("evict pod %s/%s from node %s", p.Namespace, p.Name, node), err)
		}
	}
	if len(blocked) > 0 {
		return fmt.Errorf("node %s is cordoned, but a PodDisruptionBudget refused to evict %s; a retry evicts them once the budget allows", node, strings.Join(blocked, ", "))
	}
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
