package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gameday/gameday/chaos/kubetarget"
)

// DefaultReapGrace is how long past its gameday.io/expires a fault is left
// alone before Reap removes it: the grace a sweep gives a workflow that is
// still running, time for the workflow to recover the fault itself.
const DefaultReapGrace = 5 * time.Minute

// ReapPermissions is every API verb Reap uses, a subset of Permissions:
// all that a job that only reaps (deploy/reap-cronjob.yaml) needs. Nodes
// are cluster-scoped; configmaps are only used in the allowed namespaces.
var ReapPermissions = []kubetarget.Permission{
	{Group: "", Resource: "configmaps", Verbs: []string{"delete", "list"}},
	{Group: "", Resource: "nodes", Verbs: []string{"get", "list", "patch"}},
}

// Reaped is one object Reap removed.
type Reaped struct {
	FaultID    string
	WorkflowID string
	// Object is "node/<name>" (uncordoned) or "configmap/<namespace>/<name>"
	// (a pod-kill marker, deleted).
	Object  string
	Expires time.Time     // the object's gameday.io/expires
	Late    time.Duration // how long past Expires it was removed (at least the grace)
}

// ReapResult is what one Reap pass did and saw.
type ReapResult struct {
	Removed []Reaped
	// Waiting counts the gameday objects not due yet (expiry + grace still
	// ahead); NextDue is when the first of them becomes due (zero if none).
	Waiting int
	NextDue time.Time
	// Skipped names the gameday objects left alone, and why.
	Skipped []string
}

// due decides one object: true when its expiry plus grace is at or before
// now. An object without a readable expiry is skipped (nothing says how
// long it was meant to last; a sweep, which knows its workflow, or a human
// decides).
func (r *ReapResult) due(object string, expires, now time.Time, grace time.Duration) bool {
	if expires.IsZero() {
		r.Skipped = append(r.Skipped, fmt.Sprintf("%s: no readable %s annotation: left alone", object, kubetarget.AnnotationExpires))
		return false
	}
	at := expires.Add(grace)
	if now.Before(at) {
		r.Waiting++
		if r.NextDue.IsZero() || at.Before(r.NextDue) {
			r.NextDue = at
		}
		return false
	}
	return true
}

// Reap enforces the expiry of this back-end's faults with nothing but the
// cluster (no workflow engine, no worker): every node gameday cordoned whose
// gameday.io/expires plus grace is at or before now is uncordoned with
// gameday's labels and annotations removed, the same patch node-notready's
// recover sends; every pod-kill marker ConfigMap (in the namespaces the
// policy allows, the only ones markers are written to) past its expiry plus
// grace is deleted, which is all a pod-kill's recover has left to do by then
// (its wait for the owners gives up at the marker's expiry).
//
// Only objects carrying this back-end's labels are looked at. A node is
// uncordoned with its resourceVersion as a precondition: if it changed
// since it was listed (recovered by the workflow and cordoned again by
// someone else, say) it is read again and left alone unless it is still
// the same fault's. A marker is deleted with its UID as a precondition, and
// one that does not decode is kept (it is the only record of what was
// killed), as recover keeps it.
//
// Reap keeps going past a failed removal or listing and returns all errors
// joined; a cancelled ctx ends it at once. It is what `gameday reap --kube`
// runs.
func (b *Backend) Reap(ctx context.Context, now time.Time, grace time.Duration) (ReapResult, error) {
	grace = max(grace, 0)
	var out ReapResult
	errNodes := b.reapNodes(ctx, now, grace, &out)
	if err := ctx.Err(); err != nil {
		return out, errors.Join(errNodes, err)
	}
	return out, errors.Join(errNodes, b.reapMarkers(ctx, now, grace, &out))
}

func (b *Backend) reapNodes(ctx context.Context, now time.Time, grace time.Duration, out *ReapResult) error {
	list, err := b.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: ownSelector})
	if err != nil {
		return kubetarget.APIError("list nodes cordoned by gameday", err)
	}
	nodes := list.Items
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	var errs []error
	for i := range nodes {
		n := &nodes[i]
		id := n.Labels[kubetarget.LabelFaultID]
		if id == "" || !ours(n, id) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := b.reapNode(ctx, n, id, now, grace, out); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reapConflictRetries bounds how often a node that keeps changing under
// the reaper (a busy kubelet updating its metadata) is read again.
const reapConflictRetries = 3

func (b *Backend) reapNode(ctx context.Context, n *corev1.Node, id string, now time.Time, grace time.Duration, out *ReapResult) error {
	for attempt := 0; ; attempt++ {
		inj := kubetarget.InjectedFrom(BackendName, "node/"+n.Name, n)
		if !out.due("node/"+n.Name, inj.Expires, now, grace) {
			return nil
		}
		_, err := b.cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, uncordonPatch(n.ResourceVersion), metav1.PatchOptions{})
		switch {
		case err == nil:
			out.Removed = append(out.Removed, Reaped{FaultID: id, WorkflowID: inj.WorkflowID, Object: "node/" + n.Name,
				Expires: inj.Expires, Late: now.Sub(inj.Expires)})
			return nil
		case apierrors.IsNotFound(err):
			return nil // the node left the cluster: nothing to uncordon
		case apierrors.IsConflict(err) && attempt < reapConflictRetries:
			fresh, err := b.cs.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return kubetarget.APIError("get node "+n.Name, err)
			}
			if !ours(fresh, id) {
				out.Skipped = append(out.Skipped, fmt.Sprintf("node/%s: changed since it was listed and is no longer cordoned by gameday fault %s: left alone", n.Name, id))
				return nil
			}
			n = fresh
		default:
			return kubetarget.APIError(fmt.Sprintf("uncordon expired node %s (gameday fault %s)", n.Name, id), err)
		}
	}
}

func (b *Backend) reapMarkers(ctx context.Context, now time.Time, grace time.Duration, out *ReapResult) error {
	var errs []error
	for _, ns := range b.policy.Namespaces {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		cms := b.cs.CoreV1().ConfigMaps(ns)
		list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: ownSelector})
		if err != nil {
			errs = append(errs, kubetarget.APIError("list gameday markers (configmaps) in namespace "+ns, err))
			continue
		}
		items := list.Items
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for i := range items {
			cm := &items[i]
			id := cm.Labels[kubetarget.LabelFaultID]
			if id == "" || !ours(cm, id) {
				continue
			}
			object := "configmap/" + ns + "/" + cm.Name
			m, err := decodeMarker(cm)
			if err != nil {
				out.Skipped = append(out.Skipped, fmt.Sprintf("%s: %v: kept for a human (the only record of what was killed)", object, err))
				continue
			}
			inj := kubetarget.InjectedFrom(BackendName, object, cm)
			if inj.Expires.IsZero() {
				inj.Expires = m.expires() // as List: the marker's own deadline if the annotation is missing
			}
			if !out.due(object, inj.Expires, now, grace) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return errors.Join(append(errs, err)...)
			}
			opts := metav1.DeleteOptions{}
			if cm.UID != "" {
				uid := cm.UID
				opts.Preconditions = &metav1.Preconditions{UID: &uid}
			}
			switch err := cms.Delete(ctx, cm.Name, opts); {
			case err == nil:
				out.Removed = append(out.Removed, Reaped{FaultID: id, WorkflowID: inj.WorkflowID, Object: object,
					Expires: inj.Expires, Late: now.Sub(inj.Expires)})
			case apierrors.IsNotFound(err):
				// recovered concurrently
			case apierrors.IsConflict(err):
				out.Skipped = append(out.Skipped, object+": replaced since it was listed: left alone")
			default:
				errs = append(errs, kubetarget.APIError("delete expired pod-kill marker "+object, err))
			}
		}
	}
	return errors.Join(errs...)
}
