package safety

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The cumulative blast radius. CheckRadius judges one fault alone (what its
// mode can hit of what its selector matches); that lets faults add up: two
// pod-kill steps at fixed-percent 50 each pass, and the second one counts
// the first one's Pending replacements as targets. CheckCumulative judges
// the state the fault would leave behind, owner by owner, counting what
// is already unavailable whoever made it so (a rollout, a crash, another
// fault of this run or of any other run).
//
// The formula, per owner (Deployment, StatefulSet, ReplicaSet, or another
// controller; bare pods of a namespace form one group):
//
//	D         = the owner's desired replicas (spec.replicas); for an owner
//	            whose size cannot be read, its live pods plus the victims of
//	            live pod-kills that are gone
//	available = its pods that are Ready, not terminating and not disrupted
//	            by a live gameday fault other than the one being checked
//	            (named in a pod-kill marker, on a node gameday cordoned,
//	            selected by a gameday Chaos Mesh object)
//	H         = the available pods this fault would take away
//	after     = D - (available - H), at least 0
//
// The fault is refused when it hits at least one Ready pod (available, or
// Ready but disrupted by another fault: it still serves) and after exceeds
// the environment's limit applied to D: after*100/D > percent, or
// after > count. So the share of an owner's replicas that are unavailable
// while the fault is in place never exceeds the limit, however many faults
// and runs contribute, and a fault never piles onto an owner already over
// it. A fault that hits no Ready pod (only Pending or terminating ones, or
// a retried inject whose victims are already gone) takes nothing away and
// is never refused by this rule.

// Disruption names a live gameday fault that makes a pod unavailable.
type Disruption struct {
	How      string // "killed by", "being killed by", "on a node cordoned by", "selected by NetworkChaos"
	Fault    string // fault id
	Workflow string // workflow id, when recorded
}

func (d Disruption) String() string {
	s := d.How + " " + d.Fault
	if d.Workflow != "" {
		s += " of workflow " + d.Workflow
	}
	return s
}

// PodState is one live (not finished) pod as the cumulative rule sees it.
type PodState struct {
	Namespace, Name string
	// Owner is "deployment/order", "statefulset/db", "replicaset/x",
	// "daemonset/x"...; "" when nothing controls the pod.
	Owner       string
	Ready       bool // the Ready condition is True
	Terminating bool // deletionTimestamp set
	// DisruptedBy is the live gameday fault (other than the one checked)
	// that already disrupts the pod, nil when none does.
	DisruptedBy *Disruption
	// Hit: the fault being checked would take this pod away.
	Hit bool
}

func (s PodState) available() bool { return s.Ready && !s.Terminating && s.DisruptedBy == nil }

// GoneVictim is a victim of a live pod-kill (of another fault) that no
// longer exists: for an owner gameday knows the size of, it is one of the
// missing replicas; for one it does not (bare pods above all, which nothing
// recreates), it still counts in the group, as unavailable.
type GoneVictim struct {
	Namespace, Owner string
	By               Disruption
}

// Census is what one cumulative check looks at: the pods of the namespaces
// the fault touches, the desired replicas of their owners and the victims
// of live pod-kills that are gone.
type Census struct {
	Pods []PodState
	// Desired is spec.replicas by "namespace/owner", for the owners that
	// exist and have a size (deployments, statefulsets, replicasets).
	Desired map[string]int
	Gone    []GoneVictim
}

// ownerGroup is one owner's tally.
type ownerGroup struct {
	ns, owner            string
	desired              int
	sized                bool
	available, hit       int // hit: of the available pods
	hitReady             int // hits on Ready pods, disrupted or not
	terminating, unready int
	by                   map[Disruption]int // disrupted (live) or killed (gone), by fault
	order                []Disruption       // first seen first, for a stable message
}

func (g *ownerGroup) disrupted(d Disruption) {
	if g.by[d] == 0 {
		g.order = append(g.order, d)
	}
	g.by[d]++
}

func (g *ownerGroup) name() string {
	if g.owner == "" {
		return "the pods without a controller in namespace " + g.ns
	}
	return g.owner + " (namespace " + g.ns + ")"
}

// CheckCumulative refuses the fault when, owner by owner, the replicas
// unavailable while it is in place (already unavailable, for whatever
// reason, plus those it takes away) would exceed the environment's limit
// (see the formula above). verb says what the fault does to a pod, for
// the message ("killing", "evicting"). Like CheckRadius, a scenario without
// an environment label, or with one the policy does not list, must pass
// every limit.
func (p Policy) CheckCumulative(env, verb string, c Census) error {
	groups := map[string]*ownerGroup{}
	group := func(ns, owner string) *ownerGroup {
		k := ns + "/" + owner
		g := groups[k]
		if g == nil {
			g = &ownerGroup{ns: ns, owner: owner, by: map[Disruption]int{}}
			g.desired, g.sized = c.Desired[k]
			groups[k] = g
		}
		return g
	}
	for _, s := range c.Pods {
		g := group(s.Namespace, s.Owner)
		if !g.sized {
			g.desired++
		}
		if s.Hit && s.Ready && !s.Terminating {
			g.hitReady++
		}
		switch {
		case s.available():
			g.available++
			if s.Hit {
				g.hit++
			}
		case s.DisruptedBy != nil:
			g.disrupted(*s.DisruptedBy)
		case s.Terminating:
			g.terminating++
		default:
			g.unready++
		}
	}
	for _, v := range c.Gone {
		g := group(v.Namespace, v.Owner)
		if !g.sized {
			g.desired++
		}
		g.disrupted(v.By)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		g := groups[k]
		if g.hitReady == 0 || g.desired <= 0 {
			continue
		}
		after := max(0, g.desired-(g.available-g.hit))
		for _, l := range p.limitsFor(env) {
			if !l.limit.exceeded(after, g.desired) {
				continue
			}
			more := fmt.Sprintf("%d more", g.hit)
			if g.hit == 0 {
				// Only pods another fault already disrupts, still serving.
				more = fmt.Sprintf("%d of the already disrupted ones", g.hitReady)
			}
			return &Refusal{Rule: "cumulative-blast-radius", Msg: fmt.Sprintf(
				"%s; %s %s would make %d of %d unavailable (%.0f%%), over the limit of %s for %s (%s). "+
					"Wait until %s is fully Ready again and the other faults have ended, or hit fewer pods (spec.target mode/value)",
				g.already(), verb, more, after, g.desired, float64(after)*100/float64(g.desired), l.limit, l.name, EnvMaxRadius, g.owner0())}
		}
	}
	return nil
}

func (g *ownerGroup) owner0() string {
	if g.owner == "" {
		return "every pod"
	}
	return g.owner
}

// already renders what is unavailable now, e.g. "2 of 4 pods of
// deployment/order (namespace shop) already unavailable (1 not Ready, 1
// killed by gd-x-f0 of workflow W)". The causes are clipped to the count:
// a killed pod's Pending replacement is one missing replica, not two.
func (g *ownerGroup) already() string {
	unavailable := max(0, g.desired-g.available)
	left := unavailable
	var causes []string
	add := func(n int, what string) {
		if n = min(n, left); n > 0 {
			causes = append(causes, strconv.Itoa(n)+" "+what)
			left -= n
		}
	}
	for _, d := range g.order {
		add(g.by[d], d.String())
	}
	add(g.terminating, "terminating")
	add(g.unready, "not Ready")
	add(left, "missing")
	s := fmt.Sprintf("%d of %d pods of %s already unavailable", unavailable, g.desired, g.name())
	if len(causes) > 0 {
		s += " (" + strings.Join(causes, ", ") + ")"
	}
	return s
}

type namedLimit struct {
	limit Limit
	name  string
}

// limitsFor is the limit of env, or every limit when env is empty or not
// listed (the strictest applies), as CheckRadius decides.
func (p Policy) limitsFor(env string) []namedLimit {
	if l, listed := p.MaxRadius[env]; env != "" && listed {
		return []namedLimit{{l, "environment " + strconv.Quote(env)}}
	}
	name := "environment " + strconv.Quote(env) + ", which the policy does not list,"
	if env == "" {
		name = "a scenario without an environment label"
	}
	limits := p.MaxRadius
	if len(limits) == 0 {
		l, _ := ParseLimit(DefaultMaxRadius)
		limits = map[string]Limit{AnyEnvironment: l}
	}
	var out []namedLimit
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		out = append(out, namedLimit{limits[k], fmt.Sprintf("%s (every limit applies; %s=%s)", name, k, limits[k])})
	}
	return out
}

// exceeded reports whether n of total is over the limit.
func (l Limit) exceeded(n, total int) bool {
	switch {
	case l.Count > 0:
		return n > l.Count
	case l.Percent > 0 && total > 0:
		return float64(n)*100/float64(total) > l.Percent+1e-9
	}
	return false
}
