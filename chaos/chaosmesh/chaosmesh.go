package chaosmesh

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// Defaults for the options.
const (
	// DefaultTTLMargin is added to a fault's duration for the expires
	// annotation: after it a sweep may delete the object. Chaos Mesh itself
	// ends the fault at spec.duration; the margin gives the workflow's own
	// recover time to run first.
	DefaultTTLMargin = 30 * time.Second
	// DefaultPollInterval is how often Recover checks whether the deleted
	// object is gone besides what the watch of the object reports (a
	// safety net: the watch wakes it the moment the object goes).
	DefaultPollInterval = time.Second
	// DefaultDeleteWait bounds Recover's wait for the finalizers when ctx
	// has no deadline.
	DefaultDeleteWait = 2 * time.Minute
)

// Backend implements chaos.Backend with Chaos Mesh objects.
type Backend struct {
	dyn     dynamic.Interface
	cs      kubernetes.Interface
	policy  safety.Policy
	margin  time.Duration
	now     func() time.Time
	dryRun  bool
	poll    time.Duration
	waitMax time.Duration
}

var _ chaos.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend)

// WithTTLMargin sets how long after the fault's duration the object is
// marked as expired (default DefaultTTLMargin).
func WithTTLMargin(d time.Duration) Option { return func(b *Backend) { b.margin = d } }

// WithClock replaces time.Now for the expires annotation, for tests.
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.now = now } }

// WithServerDryRun turns Resolve's server-side dry-run create on or off
// (default on). The dry run is how define learns, before anything is
// injected, that the API server (the CRD's schema, with strict field
// validation) and Chaos Mesh's admission webhook accept the object, with
// the offending field named. Turn it off only where the server does not
// implement dry run: the client-go fake dynamic client ignores
// CreateOptions.DryRun and would really create the object, so unit tests
// use WithServerDryRun(false) (or a reactor that answers dry runs).
func WithServerDryRun(on bool) Option { return func(b *Backend) { b.dryRun = on } }

// WithPollInterval sets how often Recover checks that a deleted object is
// gone (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(b *Backend) { b.poll = d } }

// WithDeleteWait bounds Recover's wait for finalizers when ctx has no
// deadline (default DefaultDeleteWait). With a deadline, Recover stops
// polling a little before it.
func WithDeleteWait(d time.Duration) Option { return func(b *Backend) { b.waitMax = d } }

// New returns the back-end. dyn creates the Chaos Mesh objects; cs resolves
// pods for the safety policy p. It does not contact the cluster.
func New(dyn dynamic.Interface, cs kubernetes.Interface, p safety.Policy, opts ...Option) *Backend {
	b := &Backend{
		dyn:     dyn,
		cs:      cs,
		policy:  p,
		margin:  DefaultTTLMargin,
		now:     time.Now,
		dryRun:  true,
		poll:    DefaultPollInterval,
		waitMax: DefaultDeleteWait,
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Name implements chaos.Backend.
func (b *Backend) Name() string { return BackendName }

// objectName is how faults are named in Injected.Object and messages:
// "NetworkChaos shop/gd-xxx-f0".
func objectName(k Kind, ns, name string) string { return fmt.Sprintf("%s %s/%s", k.Kind, ns, name) }

// plan is a checked fault: the object to create and what it hits.
type plan struct {
	obj *unstructured.Unstructured
	a   *actionDef
	sel kubetarget.Selection
}

func (p plan) name() string { return objectName(p.a.kind, p.obj.GetNamespace(), p.obj.GetName()) }

func (p plan) describe(f chaos.Fault) string {
	return fmt.Sprintf("%s %s on %s", p.name(), p.a.summary(p.obj.Object["spec"].(map[string]any)), p.sel.Describe(f.Target.Mode, f.Target.Value))
}

// prepare validates the fault, builds its object and resolves its pods
// under the safety policy. Every error is permanent.
func (b *Backend) prepare(ctx context.Context, f chaos.Fault) (plan, error) {
	obj, a, err := build(f, b.now().Add(f.Duration+b.margin))
	if err != nil {
		return plan{}, errkind.Permanent(fmt.Errorf("%s fault %s: %w", BackendName, f.ID, err))
	}
	if err := b.checkPeer(ctx, f, obj); err != nil {
		return plan{}, err
	}
	sel, err := kubetarget.SelectPods(ctx, b.cs, b.policy, f)
	if err != nil {
		return plan{}, err
	}
	// The cumulative blast radius: what is already unavailable (not Ready,
	// or disrupted by any live gameday fault but this one) counts, owner by
	// owner. Chaos Mesh picks the pods itself, so the fault is judged by the
	// worst it can do to each owner (its mode's count, taken from the
	// owner's available pods). Inject runs this again right before
	// creating the object: define of a later step runs before the earlier
	// steps are injected.
	src := kubetarget.Sources{CS: b.cs, Dyn: b.dyn, Namespaces: b.policy.Namespaces}
	if err := kubetarget.CheckCumulative(ctx, src, b.policy, f, []string{sel.Namespace}, "putting a "+a.kind.Kind+" on", func(c *kubetarget.Census) safety.Census {
		return c.WorstCase(sel.Matched, sel.Hit)
	}); err != nil {
		return plan{}, err
	}
	return plan{obj: obj, a: a, sel: sel}, nil
}

// checkPeer applies the safety rules to a NetworkChaos peer
// (spec.target). The peer selector may only use namespaces and
// labelSelectors (other selectors, like pods or nodes, would escape the
// checks), labelSelectors must not be empty, and every namespace must be
// allowed. With direction from or both Chaos Mesh injects into the peer
// pods too, so they must also be opted in and fit the blast radius, counted
// with the peer's own mode.
func (b *Backend) checkPeer(ctx context.Context, f chaos.Fault, obj *unstructured.Unstructured) error {
	spec, _ := obj.Object["spec"].(map[string]any)
	peer, ok := spec["target"].(map[string]any)
	if !ok {
		return nil
	}
	sel, _ := peer["selector"].(map[string]any)
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		if k != "namespaces" && k != "labelSelectors" {
			return errkind.Permanent(&errkind.FieldError{Field: "params.target.selector." + k,
				Msg: "a network peer is selected with namespaces and labelSelectors only, so gameday's safety rules can check it"})
		}
	}
	labels := map[string]string{}
	ls, _ := sel["labelSelectors"].(map[string]any)
	for k, v := range ls {
		s, _ := v.(string)
		labels[k] = s
	}
	if len(labels) == 0 {
		return errkind.Permanent(&errkind.FieldError{Field: "params.target.selector.labelSelectors",
			Msg: "required: refusing a network peer that matches every pod of its namespaces"})
	}
	namespaces := strList(spec, "target.selector.namespaces")
	if len(namespaces) == 0 {
		namespaces = []string{obj.GetNamespace()}
	}
	for _, ns := range namespaces {
		if err := b.policy.CheckNamespace(ns); err != nil {
			return errkind.Permanent(fmt.Errorf("params.target.selector.namespaces: %w", err))
		}
	}
	if dir, _ := spec["direction"].(string); dir != "from" && dir != "both" {
		return nil // "to" (the default) changes only the target pods' egress
	}
	mode, _ := peer["mode"].(string)
	value, _ := peer["value"].(string)
	for _, ns := range namespaces {
		pf := f
		pf.Target = chaos.Target{Backend: f.Target.Backend, Namespace: ns, Selector: labels, Mode: mode, Value: value}
		if _, err := kubetarget.SelectPods(ctx, b.cs, b.policy, pf); err != nil {
			return fmt.Errorf("network peer (params.target, direction %s): %w", spec["direction"], err)
		}
	}
	return nil
}

// Resolve implements chaos.Backend: it names the object, what it does and
// the pods it can hit, and (unless disabled, see WithServerDryRun) has the
// API server validate the object with a dry-run create, so a field Chaos
// Mesh does not know is refused in define, naming the field.
func (b *Backend) Resolve(ctx context.Context, f chaos.Fault) ([]string, error) {
	p, err := b.prepare(ctx, f)
	if err != nil {
		return nil, err
	}
	desc := p.describe(f)
	if !b.dryRun {
		return []string{desc}, nil
	}
	_, err = b.client(p.a.kind, p.obj.GetNamespace()).Create(ctx, p.obj, metav1.CreateOptions{
		DryRun:          []string{metav1.DryRunAll},
		FieldValidation: metav1.FieldValidationStrict,
	})
	switch {
	case err == nil:
	case apierrors.IsAlreadyExists(err):
		// Validation passes before the name is checked: the spec is
		// accepted, and an object of that name exists. Is it ours?
		existing, gerr := b.client(p.a.kind, p.obj.GetNamespace()).Get(ctx, p.obj.GetName(), metav1.GetOptions{})
		if gerr != nil {
			return nil, b.apiErr(p.a.kind, "get "+p.name(), gerr)
		}
		if !ours(existing, f.ID) {
			return nil, foreign(p.name(), existing)
		}
		desc += " (already injected)"
	default:
		return nil, b.apiErr(p.a.kind, "dry-run create "+p.name(), err)
	}
	return []string{desc}, nil
}

// Inject implements chaos.Backend. It is idempotent by fault id: the object
// is named after it, and an object of that name carrying the fault's label
// is reported with Existing set and Since its creationTimestamp (when the
// first attempt created it; a new object's Since is now). An object of that
// name that is not the fault's is left alone and refused.
func (b *Backend) Inject(ctx context.Context, f chaos.Fault) (chaos.Injected, error) {
	// A retried inject whose object already exists adopts it before any
	// safety check: the fault may itself have changed what the checks see
	// (a PodChaos that killed pods leaves fewer live pods), and refusing now
	// would fail a run whose fault is in place. The checks ran before the
	// object was created.
	if inj, ok := b.existing(ctx, f); ok {
		return inj, nil
	}
	p, err := b.prepare(ctx, f)
	if err != nil {
		return chaos.Injected{}, err
	}
	c := b.client(p.a.kind, p.obj.GetNamespace())
	created, err := c.Create(ctx, p.obj, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	existing := false
	since := b.now()
	switch {
	case err == nil:
	case apierrors.IsAlreadyExists(err):
		got, gerr := c.Get(ctx, p.obj.GetName(), metav1.GetOptions{})
		if gerr != nil {
			if apierrors.IsNotFound(gerr) && !missingResource(gerr) {
				// Deleted between our create and get (a concurrent
				// recover): retrying creates it again if still wanted.
				return chaos.Injected{}, fmt.Errorf("%s: existed at create but was deleted before it could be read; retry", p.name())
			}
			return chaos.Injected{}, b.apiErr(p.a.kind, "get "+p.name(), gerr)
		}
		if !ours(got, f.ID) {
			return chaos.Injected{}, foreign(p.name(), got)
		}
		if ts := got.GetDeletionTimestamp(); ts != nil {
			// A recover of this fault is under way: reporting it as
			// injected would be a lie; once it is gone a retry creates it.
			return chaos.Injected{}, fmt.Errorf("%s is being deleted (since %s, finalizers: %s); retry once it is gone",
				p.name(), ts.UTC().Format(time.RFC3339), finalizerList(got.GetFinalizers()))
		}
		created, existing, since = got, true, got.GetCreationTimestamp().Time
	default:
		return chaos.Injected{}, b.apiErr(p.a.kind, "create "+p.name(), err)
	}
	inj := kubetarget.InjectedFrom(BackendName, p.name(), created)
	inj.Existing = existing
	inj.Since = since
	inj.Targets = []string{p.sel.Describe(f.Target.Mode, f.Target.Value)}
	return inj, nil
}

// existing finds this fault's live object, if any. Any doubt (unknown
// action, an API error, a foreign or deleting object) answers false, and
// Inject takes its normal path, which reports the problem.
func (b *Backend) existing(ctx context.Context, f chaos.Fault) (chaos.Injected, bool) {
	a, err := lookupAction(f.Action)
	if err != nil || checkName(f.ID) != nil || b.policy.CheckNamespace(f.Target.Namespace) != nil {
		return chaos.Injected{}, false // nothing is read in a namespace the policy does not allow
	}
	got, err := b.client(a.kind, f.Target.Namespace).Get(ctx, f.ID, metav1.GetOptions{})
	if err != nil || !ours(got, f.ID) || got.GetDeletionTimestamp() != nil {
		return chaos.Injected{}, false
	}
	inj := kubetarget.InjectedFrom(BackendName, objectName(a.kind, got.GetNamespace(), got.GetName()), got)
	inj.Existing = true
	// The fault took effect when the object was created (by the first
	// attempt), not now: the hold ends at the fault's own end.
	inj.Since = got.GetCreationTimestamp().Time
	return inj, true
}

// ours reports whether obj carries fault id's label (and gameday's).
func ours(obj *unstructured.Unstructured, id string) bool {
	l := obj.GetLabels()
	return l[kubetarget.LabelFaultID] == id && l[kubetarget.LabelManagedBy] == kubetarget.ManagedBy
}

func foreign(name string, obj *unstructured.Unstructured) error {
	return errkind.Permanent(fmt.Errorf("%s already exists and is not this fault's (no %s=%s label; labels: %v): gameday will not adopt or replace it; delete or rename it if it is stale",
		name, kubetarget.LabelFaultID, obj.GetName(), obj.GetLabels()))
}

// Recover implements chaos.Backend: it deletes the fault's object and waits
// until it is gone, i.e. until Chaos Mesh's controller has undone the fault
// and removed its finalizers. It needs only the fault's id, action and
// target namespace, so it works from a fault a sweep rebuilt from List. An
// object of that name that is not the fault's is left alone. If the object
// is still there when the wait ends (bounded by ctx's deadline, with a
// margin, or WithDeleteWait), the error is transient and says what blocks
// it and what to do.
func (b *Backend) Recover(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	out := chaos.Recovered{FaultID: f.ID}
	a, err := lookupAction(f.Action)
	if err != nil {
		return out, errkind.Permanent(fmt.Errorf("recover %s: %w", f.ID, err))
	}
	if err := checkName(f.ID); err != nil {
		return out, errkind.Permanent(err)
	}
	ns := f.Target.Namespace
	if ns == "" {
		return out, errkind.Permanent(fmt.Errorf("recover %s: the fault names no namespace (target.namespace)", f.ID))
	}
	k := a.kind
	name := objectName(k, ns, f.ID)
	c := b.client(k, ns)

	got, err := c.Get(ctx, f.ID, metav1.GetOptions{})
	switch {
	case err == nil:
	case apierrors.IsNotFound(err) && !missingResource(err):
		out.AlreadyGone = true
		return out, nil
	default:
		return out, b.apiErr(k, "get "+name, err)
	}
	if !ours(got, f.ID) {
		out.AlreadyGone = true
		out.Detail = fmt.Sprintf("%s exists but is not this fault's (no %s=%s label): left alone", name, kubetarget.LabelFaultID, f.ID)
		return out, nil
	}
	start := time.Now()
	if got.GetDeletionTimestamp() == nil {
		uid := got.GetUID()
		opts := metav1.DeleteOptions{}
		if uid != "" {
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
		}
		err := c.Delete(ctx, f.ID, opts)
		switch {
		case err == nil:
		case apierrors.IsNotFound(err) && !missingResource(err):
			out.AlreadyGone = true
			return out, nil
		case apierrors.IsConflict(err):
			// The UID changed: the object was replaced since the get.
			return out, fmt.Errorf("delete %s: replaced while recovering; retry: %w", name, err)
		default:
			return out, b.apiErr(k, "delete "+name, err)
		}
	}
	out.Removed = true
	waited, err := b.waitGone(ctx, k, ns, f.ID, start)
	if err != nil {
		return out, err
	}
	out.Detail = fmt.Sprintf("deleted %s; Chaos Mesh finished removing it after %s", name, waited.Round(time.Millisecond))
	return out, nil
}

// waitGone waits until the object is NotFound, reporting progress, and
// gives up a margin before ctx's deadline (or after waitMax) with an error
// that says what blocks the deletion. It watches the object, so the time
// it reports is when the API server removed it (not the next poll's); the
// poll is a safety net, FinePoll when the watch cannot be opened.
func (b *Backend) waitGone(ctx context.Context, k Kind, ns, id string, start time.Time) (time.Duration, error) {
	name := objectName(k, ns, id)
	deadline := start.Add(b.waitMax)
	if d, ok := ctx.Deadline(); ok {
		remaining := time.Until(d)
		// Leave time to return and report before the activity times out.
		margin := min(5*time.Second, remaining/4)
		deadline = d.Add(-margin)
	}
	c := b.client(k, ns)
	changes := kubetarget.WatchChanges(ctx, func(ctx context.Context) (watch.Interface, error) {
		return c.Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", id).String()})
	})
	defer changes.Stop()
	for {
		got, err := c.Get(ctx, id, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) && !missingResource(err):
			return time.Since(start), nil
		case err != nil:
			if ctx.Err() != nil {
				return 0, fmt.Errorf("waiting for %s to be deleted: %w", name, ctx.Err())
			}
			return 0, b.apiErr(k, "get "+name, err)
		}
		fin := got.GetFinalizers()
		chaos.Progress(ctx, fmt.Sprintf("waiting for %s to be deleted (finalizers: %s)", name, finalizerList(fin)))
		left := time.Until(deadline)
		if left <= 0 {
			return 0, stuck(k, ns, id, got, time.Since(start))
		}
		if err := changes.Wait(ctx, min(b.poll, left)); err != nil {
			// Both wrapped: errors.Is(err, context.Canceled) holds, and the
			// message still says what the deletion was waiting for.
			return 0, fmt.Errorf("%w (%w)", stuck(k, ns, id, got, time.Since(start)), err)
		}
	}
}

func finalizerList(f []string) string {
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ", ")
}

// stuck is the transient error of an object that outlived Recover's wait.
func stuck(k Kind, ns, id string, obj *unstructured.Unstructured, waited time.Duration) error {
	since := waited
	if ts := obj.GetDeletionTimestamp(); ts != nil {
		if d := time.Since(ts.Time); d > since {
			since = d
		}
	}
	since = since.Truncate(time.Second)
	fin := obj.GetFinalizers()
	msg := fmt.Sprintf("%s is stuck deleting: still present %s after deletion was requested", objectName(k, ns, id), since)
	if len(fin) == 0 {
		return fmt.Errorf("%s (no finalizers left; the API server has not removed it yet); retrying", msg)
	}
	return fmt.Errorf("%s, held by finalizers [%s], which the Chaos Mesh controller removes once it has undone the fault. "+
		"Is chaos-controller-manager running (kubectl get pods -A -l app.kubernetes.io/component=controller-manager)? "+
		"If Chaos Mesh is gone for good, remove the finalizers by hand: kubectl -n %s patch %s %s --type merge -p '{\"metadata\":{\"finalizers\":null}}' "+
		"(that does not undo the fault in the pods: restart them). Recover will be retried",
		msg, strings.Join(fin, ", "), ns, k.CRD(), id)
}

// List implements chaos.Backend: every object gameday created (the
// managed-by label), of every kind this back-end knows, in every namespace
// the policy allows, sorted by Object. Each carries what a sweep needs to
// rebuild a fault for Recover: FaultID, WorkflowID, Action, Namespace,
// Expires.
func (b *Backend) List(ctx context.Context) ([]chaos.Injected, error) {
	var out []chaos.Injected
	for _, k := range Kinds() {
		for _, ns := range b.policy.Namespaces {
			l, err := b.client(k, ns).List(ctx, metav1.ListOptions{LabelSelector: kubetarget.ManagedSelector})
			if err != nil {
				return nil, b.apiErr(k, fmt.Sprintf("list %s in namespace %s", k.Resource, ns), err)
			}
			for i := range l.Items {
				it := &l.Items[i]
				out = append(out, kubetarget.InjectedFrom(BackendName, objectName(k, it.GetNamespace(), it.GetName()), it))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out, nil
}

func (b *Backend) client(k Kind, ns string) dynamic.ResourceInterface {
	return b.dyn.Resource(k.GVR()).Namespace(ns)
}

// ErrNotInstalled is wrapped (inside a permanent error) when the cluster
// has no Chaos Mesh CRD for a kind. Check with errors.Is.
var ErrNotInstalled = errors.New("Chaos Mesh is not installed in the cluster")

// missingResource tells "the resource type does not exist" (no CRD) from
// "the object does not exist": both are 404 NotFound, but only the first
// says the server could not find the requested resource.
func missingResource(err error) bool {
	if !apierrors.IsNotFound(err) {
		return false
	}
	if strings.Contains(err.Error(), "the server could not find the requested resource") {
		return true
	}
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		d := se.Status().Details
		return d == nil || d.Name == ""
	}
	return false
}

// admissionDenied matches a refusal by an admission webhook (Chaos Mesh
// validates its objects with one). The API server relays the webhook's
// status code, 403 for a controller-runtime denial, which is not an RBAC
// problem and must not be reported as one.
func admissionDenied(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "admission webhook") && strings.Contains(msg, "denied the request")
}

// apiErr classifies an API error for kind k: a missing CRD and a webhook
// denial are permanent with a message of their own, the rest as
// kubetarget.APIError does.
func (b *Backend) apiErr(k Kind, what string, err error) error {
	switch {
	case missingResource(err):
		return errkind.Permanent(fmt.Errorf("%w (no %s CRD): %s: %v; install Chaos Mesh (https://chaos-mesh.org/docs/) or point the worker at the cluster that has it",
			ErrNotInstalled, k.CRD(), what, err))
	case admissionDenied(err):
		return errkind.Permanent(fmt.Errorf("%s: rejected by Chaos Mesh's admission webhook: %w", what, err))
	}
	return kubetarget.APIError(what, err)
}
