// Package kubetarget is what the Kubernetes-based back-ends (kubernetes,
// chaosmesh) share: loading a kubeconfig the way kubectl does, the labels and
// annotations that tie everything gameday touches to its workflow and fault,
// pod selection under the safety policy, and API error classification.
package kubetarget

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// Labels and annotations on every object gameday creates or changes (and on
// the marker of every deletion), so a sweep can find them and a human can
// see which run did what. Workflow ids are not always valid label values,
// so the workflow id is an annotation and the fault id (a short hash, a
// valid label value) is the label selectors use.
const (
	LabelManagedBy       = "app.kubernetes.io/managed-by"
	ManagedBy            = "gameday"
	LabelFaultID         = "gameday.io/fault-id"
	AnnotationWorkflowID = "gameday.io/workflow-id"
	AnnotationFault      = "gameday.io/fault" // the scenario's fault step name
	AnnotationAction     = "gameday.io/action"
	AnnotationExpires    = "gameday.io/expires" // RFC 3339; a sweep removes the fault after it
	// AnnotationTemporalNamespace names the Temporal namespace of the
	// workflow: a sweep of another installation leaves the fault alone.
	AnnotationTemporalNamespace = "gameday.io/temporal-namespace"
)

// ManagedSelector selects everything gameday created.
var ManagedSelector = LabelManagedBy + "=" + ManagedBy

// Labels are the labels for objects created for fault f.
func Labels(f chaos.Fault) map[string]string {
	return map[string]string{LabelManagedBy: ManagedBy, LabelFaultID: f.ID}
}

// Annotations are the annotations for objects created for fault f.
func Annotations(f chaos.Fault, expires time.Time) map[string]string {
	a := map[string]string{
		AnnotationWorkflowID: f.WorkflowID,
		AnnotationFault:      f.Name,
		AnnotationAction:     f.Action,
	}
	if !expires.IsZero() {
		a[AnnotationExpires] = expires.UTC().Format(time.RFC3339)
	}
	if f.TemporalNamespace != "" {
		a[AnnotationTemporalNamespace] = f.TemporalNamespace
	}
	return a
}

// InjectedFrom reads back what Labels and Annotations wrote, for List.
func InjectedFrom(backend, object string, m metav1.Object) chaos.Injected {
	a := m.GetAnnotations()
	inj := chaos.Injected{
		FaultID:           m.GetLabels()[LabelFaultID],
		Backend:           backend,
		Object:            object,
		WorkflowID:        a[AnnotationWorkflowID],
		TemporalNamespace: a[AnnotationTemporalNamespace],
		Action:            a[AnnotationAction],
		Namespace:         m.GetNamespace(),
	}
	if t, err := time.Parse(time.RFC3339, a[AnnotationExpires]); err == nil {
		inj.Expires = t
	}
	return inj
}

// Selection is what a fault's target resolves to.
type Selection struct {
	Namespace string
	Matched   []corev1.Pod // every live pod the selector matches, sorted by name
	Hit       int          // how many of them the mode can hit (checked against the radius)
}

// Describe renders the selection for define and dry runs.
func (s Selection) Describe(mode, value string) string {
	names := make([]string, len(s.Matched))
	for i, p := range s.Matched {
		names[i] = p.Name
	}
	m := chaos.ModeString(mode, value)
	return fmt.Sprintf("%d of %d pods in %s (mode %s): %s", s.Hit, len(s.Matched), s.Namespace, m, strings.Join(names, ", "))
}

// SelectPods resolves the fault's target to pods under the safety policy:
// the namespace must be allowed, every matched pod (or the namespace) must
// carry the opt-in label, and what the mode can hit must fit the
// environment's blast radius. Terminating pods are not matched. Refusals
// are permanent errors.
func SelectPods(ctx context.Context, cs kubernetes.Interface, p safety.Policy, f chaos.Fault) (Selection, error) {
	t := f.Target
	sel := Selection{Namespace: t.Namespace}
	if err := p.CheckNamespace(t.Namespace); err != nil {
		return sel, errkind.Permanent(err)
	}
	if len(t.Selector) == 0 {
		return sel, errkind.Permanent(errors.New("spec.target.selector is empty: refusing to match every pod in the namespace"))
	}
	selector := labels.SelectorFromSet(t.Selector).String()
	list, err := cs.CoreV1().Pods(t.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return sel, APIError(fmt.Sprintf("list pods %s in namespace %s", selector, t.Namespace), err)
	}
	for _, pod := range list.Items {
		if pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			sel.Matched = append(sel.Matched, pod)
		}
	}
	sort.Slice(sel.Matched, func(i, j int) bool { return sel.Matched[i].Name < sel.Matched[j].Name })
	if len(sel.Matched) == 0 {
		return sel, errkind.Permanent(fmt.Errorf("no live pods match %s in namespace %s", selector, t.Namespace))
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, t.Namespace, metav1.GetOptions{})
	if err != nil {
		return sel, APIError("get namespace "+t.Namespace, err)
	}
	if !p.OptedIn(ns.Labels) {
		var missing []string
		for _, pod := range sel.Matched {
			if !p.OptedIn(pod.Labels) {
				missing = append(missing, "pod/"+pod.Name)
			}
		}
		if err := p.CheckOptIn(t.Namespace, missing); err != nil {
			return sel, errkind.Permanent(err)
		}
	}
	if sel.Hit, err = chaos.ModeCount(t.Mode, t.Value, len(sel.Matched)); err != nil {
		return sel, errkind.Permanent(err)
	}
	if err := p.CheckRadius(f.Environment, sel.Hit, len(sel.Matched)); err != nil {
		return sel, errkind.Permanent(err)
	}
	return sel, nil
}

// Choose picks n pods deterministically from the seed (the fault id), so
// define and inject of one run name the same pods as long as the pods have
// not changed. (A --dry-run is a run of its own, with another id: it shows
// the kind of pick, not necessarily the same pods.)
func Choose(pods []corev1.Pod, n int, seed string) []corev1.Pod {
	out := append([]corev1.Pod(nil), pods...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	h := fnv.New64a()
	h.Write([]byte(seed))
	r := rand.New(rand.NewPCG(h.Sum64(), 0x9e3779b97f4a7c15))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	if n < len(out) {
		out = out[:n]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// APIError classifies a Kubernetes API error. Forbidden, unauthorized,
// invalid and bad requests cannot be fixed by retrying and become permanent
// errors that say so plainly (for forbidden: which identity lacks which
// permission, so an operator fixes the Role); everything else (timeouts,
// conflicts, 5xx, an unreachable server) is transient.
func APIError(what string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case apierrors.IsForbidden(err):
		return errkind.Permanent(fmt.Errorf("%s: forbidden by the cluster's RBAC (check the worker's ServiceAccount against deploy/rbac.yaml): %w", what, err))
	case apierrors.IsUnauthorized(err):
		return errkind.Permanent(fmt.Errorf("%s: unauthorized: the worker's Kubernetes credentials were rejected: %w", what, err))
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsNotAcceptable(err), apierrors.IsUnsupportedMediaType(err):
		return errkind.Permanent(fmt.Errorf("%s: rejected by the API server: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ScopePods selects every pod the fault's target matches under the
// namespace and opt-in rules, whatever the mode would pick (the radius is
// Resolve's business), and names them "pod <namespace>/<name>", then
// their owners "owner <namespace>/<kind>/<name>" (see chaos.Scoper).
func ScopePods(ctx context.Context, cs kubernetes.Interface, p safety.Policy, f chaos.Fault) ([]string, []corev1.Pod, error) {
	all := f
	all.Target.Mode, all.Target.Value, all.Environment = chaos.ModeAll, "", ""
	p.MaxRadius = map[string]safety.Limit{safety.AnyEnvironment: {Percent: 100}}
	sel, err := SelectPods(ctx, cs, p, all)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(sel.Matched))
	for _, pod := range sel.Matched {
		names = append(names, "pod "+pod.Namespace+"/"+pod.Name)
	}
	// And their owners: pods come and go (a rollout, a kill's
	// replacements), so two runs whose selectors pick different pods of
	// one Deployment still share it.
	cache := map[string]string{}
	seen := map[string]bool{}
	for _, pod := range sel.Matched {
		o, err := OwnerOf(ctx, cs, pod, cache)
		if err != nil {
			return nil, nil, err
		}
		if n := "owner " + pod.Namespace + "/" + o; o != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, sel.Matched, nil
}
