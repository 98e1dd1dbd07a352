package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

const (
	// DefaultPollInterval is how often recover of a pod-kill looks at the
	// owners while waiting for them to be Ready besides what its watch of
	// them reports (a safety net).
	DefaultPollInterval = 500 * time.Millisecond
	// DefaultDeadlineMargin is how long before the context's deadline a
	// waiting recover stops and returns a retryable error, so the activity
	// reports back itself instead of being timed out mid-call (a timed-out
	// attempt tells the operator nothing about what it was waiting for).
	DefaultDeadlineMargin = 5 * time.Second
	// DefaultTTLMargin is added to a node-notready fault's duration to get
	// its gameday.io/expires annotation: time for the workflow to uncordon
	// the node itself (the normal path) before a sweep steps in.
	DefaultTTLMargin = time.Minute
)

// LabelBackend is set, next to kubetarget.Labels, on everything this back-end
// creates or changes. The managed-by label alone is shared with the other
// Kubernetes back-end; without this one, List could claim (and a sweep
// recover through the wrong back-end) another back-end's objects.
const LabelBackend = "gameday.io/backend"

// ownSelector selects every object this back-end created or changed.
var ownSelector = kubetarget.ManagedSelector + "," + LabelBackend + "=" + BackendName

// faultSelector selects the objects of one fault.
func faultSelector(id string) string { return ownSelector + "," + kubetarget.LabelFaultID + "=" + id }

// ourLabels are the labels for objects of fault f.
func ourLabels(f chaos.Fault) map[string]string {
	l := kubetarget.Labels(f)
	l[LabelBackend] = BackendName
	return l
}

// ours reports whether o was labelled by this back-end for fault id: the
// only objects it may change back or delete.
func ours(o metav1.Object, id string) bool {
	l := o.GetLabels()
	return l[kubetarget.LabelManagedBy] == kubetarget.ManagedBy && l[LabelBackend] == BackendName && l[kubetarget.LabelFaultID] == id
}

// Backend implements chaos.Backend against one cluster.
type Backend struct {
	cs        kubernetes.Interface
	dyn       dynamic.Interface // Chaos Mesh objects, for the cumulative blast radius; nil: not counted
	policy    safety.Policy
	now       func() time.Time
	poll      time.Duration
	margin    time.Duration
	ttlMargin time.Duration
}

var _ chaos.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*Backend)

// WithClock replaces time.Now (kill time, recovery time, expiry), for tests.
func WithClock(now func() time.Time) Option { return func(b *Backend) { b.now = now } }

// WithPollInterval sets how often a waiting recover polls the owners
// (default DefaultPollInterval).
func WithPollInterval(d time.Duration) Option { return func(b *Backend) { b.poll = d } }

// WithDeadlineMargin sets how long before the context deadline a waiting
// recover gives up its attempt (default DefaultDeadlineMargin).
func WithDeadlineMargin(d time.Duration) Option { return func(b *Backend) { b.margin = d } }

// WithDynamic gives the back-end a dynamic client, through which the
// cumulative blast radius counts the pods live gameday Chaos Mesh objects
// disrupt. Without it only pod-kills and cordons are counted.
func WithDynamic(dyn dynamic.Interface) Option { return func(b *Backend) { b.dyn = dyn } }

// sources is what the cumulative blast radius looks at.
func (b *Backend) sources() kubetarget.Sources {
	return kubetarget.Sources{CS: b.cs, Dyn: b.dyn, Namespaces: b.policy.Namespaces}
}

// New returns a Backend acting through cs under the safety policy p. It
// does not contact the cluster.
func New(cs kubernetes.Interface, p safety.Policy, opts ...Option) *Backend {
	b := &Backend{
		cs:        cs,
		policy:    p,
		now:       time.Now,
		poll:      DefaultPollInterval,
		margin:    DefaultDeadlineMargin,
		ttlMargin: DefaultTTLMargin,
	}
	for _, o := range opts {
		o(b)
	}
	if b.poll <= 0 {
		b.poll = DefaultPollInterval // a zero interval would spin on the API server
	}
	return b
}

// Name implements chaos.Backend.
func (b *Backend) Name() string { return BackendName }

// Resolve implements chaos.Backend: it names exactly the pods or nodes the
// fault would hit (the same ones Inject picks, as long as the pods do not
// change), applying every safety check, without changing anything.
func (b *Backend) Resolve(ctx context.Context, f chaos.Fault) ([]string, error) {
	switch f.Action {
	case ActionPodKill:
		return b.resolvePodKill(ctx, f)
	case ActionNodeNotReady:
		return b.resolveNodeNotReady(ctx, f)
	}
	return nil, unknownAction(f.Action)
}

// Inject implements chaos.Backend. Idempotent by fault id: see the actions.
func (b *Backend) Inject(ctx context.Context, f chaos.Fault) (chaos.Injected, error) {
	if err := checkID(f.ID); err != nil {
		return chaos.Injected{}, err
	}
	switch f.Action {
	case ActionPodKill:
		return b.injectPodKill(ctx, f)
	case ActionNodeNotReady:
		return b.injectNodeNotReady(ctx, f)
	}
	return chaos.Injected{}, unknownAction(f.Action)
}

// Recover implements chaos.Backend. It needs only what a sweep can rebuild
// from List: ID, Action and (pod-kill) Target.Namespace; everything else is
// read back from the cluster.
func (b *Backend) Recover(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	if err := checkID(f.ID); err != nil {
		return chaos.Recovered{}, err
	}
	switch f.Action {
	case ActionPodKill:
		return b.recoverPodKill(ctx, f)
	case ActionNodeNotReady:
		return b.recoverNodeNotReady(ctx, f)
	}
	return chaos.Recovered{}, unknownAction(f.Action)
}

// List implements chaos.Backend: the pod-kill markers in every namespace the
// policy allows (the only ones this back-end ever writes to) and the nodes
// it cordoned, sorted by namespace and object. Each carries what a sweep
// needs to rebuild a fault Recover accepts.
func (b *Backend) List(ctx context.Context) ([]chaos.Injected, error) {
	var out []chaos.Injected
	for _, ns := range b.policy.Namespaces {
		cms, err := b.cs.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: ownSelector})
		if err != nil {
			return nil, kubetarget.APIError("list gameday markers (configmaps) in namespace "+ns, err)
		}
		for i := range cms.Items {
			cm := &cms.Items[i]
			inj := kubetarget.InjectedFrom(BackendName, "configmap/"+cm.Name, cm)
			if inj.FaultID == "" {
				continue
			}
			// A marker that does not decode is still listed: a sweep's
			// Recover then reports what is wrong with it.
			if m, err := decodeMarker(cm); err == nil {
				inj.Targets = m.targets()
				// The annotation (kill + hold + ready_timeout) is what a
				// sweep goes by; the marker's own deadline only if missing.
				if inj.Expires.IsZero() {
					inj.Expires = m.expires()
				}
			}
			out = append(out, inj)
		}
	}
	nodes, err := b.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: ownSelector})
	if err != nil {
		return nil, kubetarget.APIError("list nodes cordoned by gameday", err)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		inj := kubetarget.InjectedFrom(BackendName, "node/"+n.Name, n)
		if inj.FaultID == "" {
			continue
		}
		inj.Targets = []string{"node/" + n.Name}
		out = append(out, inj)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Object < out[j].Object
	})
	return out, nil
}

func unknownAction(a string) error {
	return errkind.Permanent(&errkind.FieldError{Field: "action", Msg: fmt.Sprintf("unknown kubernetes action %q (known: %s, %s)", a, ActionNodeNotReady, ActionPodKill)})
}

// checkID refuses a fault id that cannot name a ConfigMap and be a label
// value (a DNS-1123 label satisfies both). chaos.FaultID always does.
func checkID(id string) error {
	if id == "" {
		return errkind.Permanent(errors.New("fault has no id"))
	}
	if errs := validation.IsDNS1123Label(id); len(errs) > 0 {
		return errkind.Permanent(fmt.Errorf("fault id %q cannot name a Kubernetes object: %s", id, strings.Join(errs, "; ")))
	}
	return nil
}

// checkTarget validates the target a scenario supplies, as a permanent error.
func checkTarget(f chaos.Fault) error {
	if err := validateTarget(f.Target); err != nil {
		return errkind.Permanent(err)
	}
	return nil
}

// hitCount is how many of matched targets the mode hits. ModeCount is the
// most it can hit (what the blast radius is checked against); for
// random-max-percent the actual number is drawn from 1..that, seeded by the
// fault id so define and inject of one run agree.
func hitCount(mode, value string, matched int, seed string) (int, error) {
	n, err := chaos.ModeCount(mode, value, matched)
	if err != nil || mode != chaos.ModeRandomMaxPercent || n <= 1 {
		return n, err
	}
	h := fnv.New64a()
	h.Write([]byte("count:" + seed))
	return 1 + int(h.Sum64()%uint64(n)), nil
}

// podReady reports the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
