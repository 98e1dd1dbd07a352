package kubetarget

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/safety"
)

// What the census reads of the other back-ends' objects. Both Kubernetes
// back-ends must see each other's faults (a pod-kill must count the pods a
// PodChaos is killing, and the other way round), so the little each needs
// of the other lives here rather than in either back-end.
const (
	// ChaosMeshGroup and ChaosMeshVersion are Chaos Mesh's API.
	ChaosMeshGroup   = "chaos-mesh.org"
	ChaosMeshVersion = "v1alpha1"
	// MarkerKeyVictims is the data key of a pod-kill marker ConfigMap
	// that lists its victims (JSON []Victim).
	MarkerKeyVictims = "victims"
)

// ChaosMeshResources are the Chaos Mesh resources gameday creates; every
// one of them selects pods (spec.selector). chaosmesh.Kinds must list the
// same (a test there keeps them in step).
var ChaosMeshResources = []string{"dnschaos", "httpchaos", "iochaos", "networkchaos", "podchaos", "stresschaos", "timechaos"}

// Victim is one pod a pod-kill deletes, as its marker records it. The UID
// pins the pod: a StatefulSet recreates its pods under the same name.
type Victim struct {
	Name  string    `json:"name"`
	UID   types.UID `json:"uid"`
	Owner string    `json:"owner,omitempty"` // OwnerOf; "" when nothing recreates it
}

// Sources is what a back-end can look at for a census.
type Sources struct {
	CS kubernetes.Interface
	// Dyn lists Chaos Mesh objects; nil leaves them out (a back-end built
	// without a dynamic client).
	Dyn dynamic.Interface
	// Namespaces are where gameday's markers and Chaos Mesh objects can be:
	// the policy's allow-list (gameday writes nowhere else).
	Namespaces []string
}

// Census is one snapshot for the cumulative blast radius
// (safety.CheckCumulative): the live pods of the namespaces a fault
// touches, their owners and the owners' desired replicas, and which pods
// the live gameday faults other than the one checked disrupt. Taking it
// costs a fixed number of requests whatever the number of pods: per
// namespace one list of pods, of markers and of each Chaos Mesh kind, one
// list of nodes, and one get per distinct owner.
type Census struct {
	pods      []corev1.Pod
	owner     map[string]string // "ns/pod" -> OwnerOf
	desired   map[string]int    // "ns/owner" -> spec.replicas
	disrupted map[string]*safety.Disruption
	gone      []safety.GoneVictim
	// picks are Chaos Mesh objects that hit only some of what they
	// select (mode one, fixed, percentages): which ones is Chaos Mesh's
	// choice, so State assumes the worst (see pick).
	picks []pick
}

// pick is a Chaos Mesh object that disrupts n of pods.
type pick struct {
	d    safety.Disruption
	pods []*corev1.Pod
	n    int
}

func podKey(ns, name string) string { return ns + "/" + name }

// TakeCensus reads the pods of namespaces and every live gameday fault
// except self's (a fault's own marker, cordon or object is what it does,
// not something already done to it: a retried inject must not refuse
// itself).
func TakeCensus(ctx context.Context, src Sources, namespaces []string, self string) (*Census, error) {
	c := &Census{owner: map[string]string{}, desired: map[string]int{}, disrupted: map[string]*safety.Disruption{}}
	checked := map[string]bool{}
	byKey := map[string]*corev1.Pod{}
	for _, ns := range namespaces {
		if checked[ns] {
			continue
		}
		checked[ns] = true
		list, err := src.CS.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, APIError("list pods in namespace "+ns+" (cumulative blast radius)", err)
		}
		for _, p := range list.Items {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				c.pods = append(c.pods, p)
			}
		}
	}
	rsCache := map[string]string{}
	for i := range c.pods {
		p := &c.pods[i]
		byKey[podKey(p.Namespace, p.Name)] = p
		o, err := OwnerOf(ctx, src.CS, *p, rsCache)
		if err != nil {
			return nil, err
		}
		c.owner[podKey(p.Namespace, p.Name)] = o
		if _, seen := c.desired[podKey(p.Namespace, o)]; !seen {
			if err := c.readDesired(ctx, src.CS, p.Namespace, o); err != nil {
				return nil, err
			}
		}
	}
	mark := func(p *corev1.Pod, d safety.Disruption) {
		if k := podKey(p.Namespace, p.Name); c.disrupted[k] == nil {
			c.disrupted[k] = &d
		}
	}
	// pod-kill markers: victims still there are being killed; those gone
	// are missing replicas (what safety needs for owners of unknown size).
	for _, ns := range src.Namespaces {
		cms, err := src.CS.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: ManagedSelector})
		if err != nil {
			return nil, APIError("list gameday markers (configmaps) in namespace "+ns+" (cumulative blast radius)", err)
		}
		for i := range cms.Items {
			cm := &cms.Items[i]
			id := cm.Labels[LabelFaultID]
			raw, ok := cm.Data[MarkerKeyVictims]
			if id == "" || id == self || !ok {
				continue
			}
			var vs []Victim
			if err := json.Unmarshal([]byte(raw), &vs); err != nil {
				// Unreadable: what it killed is unknown, so nothing in it can
				// be trusted as safe. Refusing says which object to look at.
				return nil, errkind.Permanent(fmt.Errorf("pod-kill marker configmap %s/%s: data %q does not decode (%v): cannot tell which pods it disrupts", ns, cm.Name, MarkerKeyVictims, err))
			}
			d := safety.Disruption{Fault: id, Workflow: cm.Annotations[AnnotationWorkflowID]}
			for _, v := range vs {
				if p := byKey[podKey(ns, v.Name)]; p != nil && (v.UID == "" || p.UID == v.UID) {
					d.How = "being killed by"
					mark(p, d)
				} else if checked[ns] {
					d.How = "killed by"
					c.gone = append(c.gone, safety.GoneVictim{Namespace: ns, Owner: v.Owner, By: d})
				}
			}
		}
	}
	// Nodes gameday cordoned: their pods are about to be evicted, or are
	// on a node taken out of service.
	nodes, err := src.CS.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: ManagedSelector})
	if err != nil {
		return nil, APIError("list nodes cordoned by gameday (cumulative blast radius)", err)
	}
	for _, n := range nodes.Items {
		id := n.Labels[LabelFaultID]
		if id == "" || id == self || !n.Spec.Unschedulable {
			continue
		}
		d := safety.Disruption{How: "on node " + n.Name + " cordoned by", Fault: id, Workflow: n.Annotations[AnnotationWorkflowID]}
		for i := range c.pods {
			if c.pods[i].Spec.NodeName == n.Name {
				mark(&c.pods[i], d)
			}
		}
	}
	if src.Dyn != nil {
		if err := c.chaosObjects(ctx, src, self, mark); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readDesired records spec.replicas of owner o when it has one.
func (c *Census) readDesired(ctx context.Context, cs kubernetes.Interface, ns, o string) error {
	kind, name, _ := strings.Cut(o, "/")
	var (
		r   *int32
		err error
	)
	apps := cs.AppsV1()
	switch kind {
	case "deployment":
		var d *appsv1.Deployment
		if d, err = apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			r = d.Spec.Replicas
		}
	case "statefulset":
		var s *appsv1.StatefulSet
		if s, err = apps.StatefulSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			r = s.Spec.Replicas
		}
	case "replicaset":
		var s *appsv1.ReplicaSet
		if s, err = apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			r = s.Spec.Replicas
		}
	default:
		return nil // no size gameday can read: safety counts its pods
	}
	switch {
	case apierrors.IsNotFound(err):
		return nil // being deleted with its pods: counted by its pods
	case err != nil:
		return APIError(fmt.Sprintf("get %s in namespace %s (cumulative blast radius)", o, ns), err)
	}
	n := 1 // the API's default
	if r != nil {
		n = int(*r)
	}
	c.desired[podKey(ns, o)] = n
	return nil
}

// chaosObjects marks the pods every live gameday Chaos Mesh object
// disrupts: all it selects for mode all, else as many as its mode hits,
// assumed to be the worst ones for the check (which pods Chaos Mesh picked
// is not reliably readable; see resolvePicks).
func (c *Census) chaosObjects(ctx context.Context, src Sources, self string, mark func(*corev1.Pod, safety.Disruption)) error {
	for _, res := range ChaosMeshResources {
		gvr := schema.GroupVersionResource{Group: ChaosMeshGroup, Version: ChaosMeshVersion, Resource: res}
	namespaces:
		for _, ns := range src.Namespaces {
			l, err := src.Dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: ManagedSelector})
			switch {
			case apierrors.IsNotFound(err):
				break namespaces // no such CRD: Chaos Mesh (or this kind) is not installed
			case err != nil:
				return APIError(fmt.Sprintf("list %s in namespace %s (cumulative blast radius)", res, ns), err)
			}
			for i := range l.Items {
				o := &l.Items[i]
				id := o.GetLabels()[LabelFaultID]
				if id == "" || id == self {
					continue
				}
				kind := o.GetKind()
				if kind == "" {
					kind = res
				}
				d := safety.Disruption{How: "selected by " + kind, Fault: id, Workflow: o.GetAnnotations()[AnnotationWorkflowID]}
				spec := nested(o.Object, "spec")
				sels := []map[string]any{spec}
				// A NetworkChaos with direction from or both injects into
				// its peers (spec.target) too.
				if dir, _ := spec["direction"].(string); dir == "from" || dir == "both" {
					if t := nested(o.Object, "spec", "target"); t != nil {
						sels = append(sels, t)
					}
				}
				for _, s := range sels {
					sel, _ := s["selector"].(map[string]any)
					if sel == nil {
						continue
					}
					var pods []*corev1.Pod
					c.markSelected(o, sel, func(p *corev1.Pod) { pods = append(pods, p) })
					mode, _ := s["mode"].(string)
					value, _ := s["value"].(string)
					c.addPick(d, pods, mode, value, mark)
				}
			}
		}
	}
	return nil
}

// addPick records that d disrupts, by its mode, some of pods: all of them
// for mode all (or a mode gameday cannot read), else a pick for State.
func (c *Census) addPick(d safety.Disruption, pods []*corev1.Pod, mode, value string, mark func(*corev1.Pod, safety.Disruption)) {
	n, err := chaos.ModeCount(mode, value, len(pods))
	if err != nil || n >= len(pods) {
		for _, p := range pods {
			mark(p, d)
		}
		return
	}
	c.picks = append(c.picks, pick{d: d, pods: pods, n: n})
}

// resolvePicks decides, for each pick, which pods it is assumed to
// disrupt: the worst for the check, owner by owner (Chaos Mesh may have put
// all n in any one owner), so n per owner, taken first from the pods that
// are available and not hit by the fault checked (each of those is one
// more unavailable replica), then from the others not yet disrupted.
// Whatever Chaos Mesh really picked, the check then sees at least as many
// unavailable replicas per owner as there are.
func (c *Census) resolvePicks(hit func(*corev1.Pod) bool) map[string]*safety.Disruption {
	out := make(map[string]*safety.Disruption, len(c.disrupted))
	for k, v := range c.disrupted {
		out[k] = v
	}
	for _, pk := range c.picks {
		byOwner := map[string][]*corev1.Pod{}
		for _, p := range pk.pods {
			if out[podKey(p.Namespace, p.Name)] == nil {
				o := podKey(p.Namespace, c.owner[podKey(p.Namespace, p.Name)])
				byOwner[o] = append(byOwner[o], p)
			}
		}
		for _, pods := range byOwner {
			rank := func(p *corev1.Pod) int {
				switch {
				case PodReady(p) && p.DeletionTimestamp == nil && !hit(p):
					return 0
				case !hit(p):
					return 1
				}
				return 2
			}
			sort.SliceStable(pods, func(i, j int) bool { return rank(pods[i]) < rank(pods[j]) })
			d := pk.d
			for _, p := range pods[:min(pk.n, len(pods))] {
				out[podKey(p.Namespace, p.Name)] = &d
			}
		}
	}
	return out
}

// markSelected calls f on the census pods a Chaos Mesh selector
// (namespaces, labelSelectors: all gameday writes) matches.
func (c *Census) markSelected(o *unstructured.Unstructured, sel map[string]any, f func(*corev1.Pod)) {
	namespaces := map[string]bool{}
	if l, ok := sel["namespaces"].([]any); ok {
		for _, n := range l {
			if s, ok := n.(string); ok {
				namespaces[s] = true
			}
		}
	}
	if len(namespaces) == 0 {
		namespaces[o.GetNamespace()] = true
	}
	set := labels.Set{}
	if m, ok := sel["labelSelectors"].(map[string]any); ok {
		for k, v := range m {
			s, _ := v.(string)
			set[k] = s
		}
	}
	ls := labels.SelectorFromSet(set)
	for i := range c.pods {
		p := &c.pods[i]
		if namespaces[p.Namespace] && ls.Matches(labels.Set(p.Labels)) {
			f(p)
		}
	}
}

func nested(obj map[string]any, path ...string) map[string]any {
	cur := obj
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}

// podState is one pod as safety sees it.
func (c *Census) podState(p *corev1.Pod, disrupted map[string]*safety.Disruption) safety.PodState {
	return safety.PodState{
		Namespace: p.Namespace, Name: p.Name,
		Owner:       c.owner[podKey(p.Namespace, p.Name)],
		Ready:       PodReady(p),
		Terminating: p.DeletionTimestamp != nil,
		DisruptedBy: disrupted[podKey(p.Namespace, p.Name)],
	}
}

// State is the census for safety with the pods hit says the fault takes
// away marked as hit.
func (c *Census) State(hit func(p *corev1.Pod) bool) safety.Census {
	return c.state(hit, c.resolvePicks(hit))
}

func (c *Census) state(hit func(p *corev1.Pod) bool, disrupted map[string]*safety.Disruption) safety.Census {
	out := safety.Census{Desired: c.desired, Gone: c.gone}
	for i := range c.pods {
		s := c.podState(&c.pods[i], disrupted)
		s.Hit = hit(&c.pods[i])
		out.Pods = append(out.Pods, s)
	}
	return out
}

// WorstCase is the census for a fault that hits n of matched without
// gameday choosing which (Chaos Mesh picks): in each owner, as many of its
// available matched pods as n allows are marked hit, the worst that fault
// can do to that owner, and so are its matched Ready pods that another
// fault disrupts (see safety.CheckCumulative).
func (c *Census) WorstCase(matched []corev1.Pod, n int) safety.Census {
	inMatched := map[string]bool{}
	for _, p := range matched {
		inMatched[podKey(p.Namespace, p.Name)] = true
	}
	// The other objects' picks first, on no hit: they take the available
	// pods, and this fault takes what is left (the worst of both).
	disrupted := c.resolvePicks(func(*corev1.Pod) bool { return false })
	taken := map[string]int{}
	return c.state(func(p *corev1.Pod) bool {
		s := c.podState(p, disrupted)
		k := podKey(p.Namespace, s.Owner)
		if !inMatched[podKey(p.Namespace, p.Name)] || !s.Ready || s.Terminating {
			return false
		}
		if s.DisruptedBy != nil {
			// Takes nothing more away, but it still serves: marked so an
			// owner already over the limit is not piled onto.
			return true
		}
		if taken[k] >= n {
			return false
		}
		taken[k]++
		return true
	}, disrupted)
}

// PodReady reports the pod's Ready condition.
func PodReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// OwnerOf names what recreates the pod: its Deployment (through the
// ReplicaSet), StatefulSet or ReplicaSet as "kind/name"; other controllers
// by their lower-case kind; "" when nothing controls it. cache (may be nil)
// keeps the owner of each ReplicaSet, so a census gets each one once.
func OwnerOf(ctx context.Context, cs kubernetes.Interface, p corev1.Pod, cache map[string]string) (string, error) {
	ref := metav1.GetControllerOf(&p)
	if ref == nil {
		return "", nil
	}
	kind := strings.ToLower(ref.Kind)
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != appsv1.GroupName || kind != "replicaset" {
		return kind + "/" + ref.Name, nil
	}
	key := podKey(p.Namespace, ref.Name)
	if o, ok := cache[key]; ok {
		return o, nil
	}
	o := kind + "/" + ref.Name
	rs, err := cs.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		// Being garbage-collected with its pods.
	case err != nil:
		return "", APIError(fmt.Sprintf("get replicaset %s/%s (owner of pod %s)", p.Namespace, ref.Name, p.Name), err)
	default:
		if d := metav1.GetControllerOf(rs); d != nil && d.Kind == "Deployment" {
			if gv, err := schema.ParseGroupVersion(d.APIVersion); err == nil && gv.Group == appsv1.GroupName {
				o = "deployment/" + d.Name
			}
		}
	}
	if cache != nil {
		cache[key] = o
	}
	return o, nil
}

// CheckCumulative takes a census of namespaces and applies
// safety.CheckCumulative with the pods hit marks; a refusal is permanent.
func CheckCumulative(ctx context.Context, src Sources, p safety.Policy, f chaos.Fault, namespaces []string, verb string, hit func(c *Census) safety.Census) error {
	c, err := TakeCensus(ctx, src, namespaces, f.ID)
	if err != nil {
		return err
	}
	if err := p.CheckCumulative(f.Environment, verb, hit(c)); err != nil {
		return errkind.Permanent(err)
	}
	return nil
}
