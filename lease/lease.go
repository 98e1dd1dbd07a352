// Package lease holds the target-lease rules: which runs may act on the same
// targets at the same time. A run holds a lease per target (a back-end's
// resource domain + namespace + selector, or a proxy) from right before its
// first inject until its cleanup is over; a second run whose target
// overlaps is refused, naming the holder, unless both scenarios allow
// overlapping. Pure: no Temporal import. The lease entity workflow keeps a
// Table; activities and tests use the same Table rules.
package lease

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
)

// Key is what a lease is taken on.
type Key struct {
	// Domain is the resource domain the back-end acts on: back-ends that
	// act on the same things share one (kubernetes and chaos-mesh both act
	// on the pods of a namespace). See Domain.
	Domain    string            `json:"domain"`
	Namespace string            `json:"namespace,omitempty"`
	Selector  map[string]string `json:"selector,omitempty"`
}

// String is "domain namespace/k=v,k=v" with the selector sorted.
func (k Key) String() string {
	var b strings.Builder
	b.WriteString(k.Domain)
	b.WriteByte(' ')
	if k.Namespace != "" {
		b.WriteString(k.Namespace + "/")
	}
	if len(k.Selector) == 0 {
		b.WriteString("*")
	}
	for i, n := range slices.Sorted(maps.Keys(k.Selector)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n + "=" + k.Selector[n])
	}
	return b.String()
}

// Holder is the run holding a lease.
type Holder struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Scenario   string `json:"scenario,omitempty"`
}

func (h Holder) String() string {
	s := "workflow " + h.WorkflowID
	if h.RunID != "" {
		s += " (run " + h.RunID + ")"
	}
	if h.Scenario != "" {
		s += ", scenario " + h.Scenario
	}
	return s
}

// Lease is one target held by one run.
type Lease struct {
	Key Key `json:"key"`
	// Targets are the names of what the run's faults may touch there (as
	// the back-end resolves them, e.g. "pod shop/order-7f9c"), when the
	// back-end can name them (chaos.Scoper): two different selectors that
	// match a common pod overlap.
	Targets  []string `json:"targets,omitempty"`
	Holder   Holder   `json:"holder"`
	FaultIDs []string `json:"fault_ids,omitempty"`
	// AllowOverlap: the holder's scenario says it may share its targets
	// with another run that says so too (spec.overlap: allow).
	AllowOverlap bool      `json:"allow_overlap,omitempty"`
	Since        time.Time `json:"since,omitzero"`
}

// Domains of the built-in back-ends; a back-end not listed here is a domain
// of its own (its name).
var domains = map[string]string{
	"kubernetes": "kubernetes-pods",
	"chaos-mesh": "kubernetes-pods",
}

// Domain is the resource domain of a back-end: the back-ends that act on
// the same kind of resource share it, so their leases are compared.
func Domain(backend string) string {
	if d, ok := domains[backend]; ok {
		return d
	}
	return backend
}

// ForFaults is the lease request of a run: one lease per distinct key of
// its faults (a back-end's domain + the fault's namespace and selector),
// each with the fault ids acting there. targets are the names the back-ends
// resolved per fault (same order as faults; may be nil).
func ForFaults(h Holder, faults []chaos.Fault, targets [][]string, allowOverlap bool) []Lease {
	var out []Lease
	for i, f := range faults {
		k := Key{Domain: Domain(f.Backend), Namespace: f.Target.Namespace, Selector: maps.Clone(f.Target.Selector)}
		j := slices.IndexFunc(out, func(l Lease) bool { return sameKey(l.Key, k) })
		if j < 0 {
			out = append(out, Lease{Key: k, Holder: h, AllowOverlap: allowOverlap})
			j = len(out) - 1
		}
		out[j].FaultIDs = append(out[j].FaultIDs, f.ID)
		if i < len(targets) {
			for _, t := range targets[i] {
				if !slices.Contains(out[j].Targets, t) {
					out[j].Targets = append(out[j].Targets, t)
				}
			}
		}
	}
	for i := range out {
		slices.Sort(out[i].Targets)
	}
	return out
}

func sameKey(a, b Key) bool {
	return a.Domain == b.Domain && a.Namespace == b.Namespace && maps.Equal(a.Selector, b.Selector)
}

// subset: every label of a is in b with the same value, so whatever b
// selects, a selects too (an empty selector selects everything).
func subset(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Overlap says whether two leases are on overlapping targets, and what
// they share: same domain, and the same namespace with one selector a
// subset of the other (equal selectors included), or resolved targets in
// common.
func Overlap(a, b Lease) (bool, []string) {
	if a.Key.Domain != b.Key.Domain {
		return false, nil
	}
	var common []string
	for _, t := range a.Targets {
		if slices.Contains(b.Targets, t) && !slices.Contains(common, t) {
			common = append(common, t)
		}
	}
	slices.Sort(common)
	sameScope := a.Key.Namespace == b.Key.Namespace && (subset(a.Key.Selector, b.Key.Selector) || subset(b.Key.Selector, a.Key.Selector))
	if !sameScope && len(common) == 0 {
		return false, nil
	}
	what := []string{}
	if sameScope {
		if sameKey(a.Key, b.Key) {
			what = append(what, a.Key.String())
		} else {
			what = append(what, a.Key.String()+" overlaps "+b.Key.String())
		}
	}
	return true, append(what, common...)
}

// Conflict is a requested lease refused because another run holds an
// overlapping one.
type Conflict struct {
	Requested Lease    `json:"requested"`
	Held      Lease    `json:"held"`
	Overlap   []string `json:"overlap"`
}

func (c Conflict) String() string {
	return fmt.Sprintf("target %s is leased by %s since %s (overlap: %s)",
		c.Requested.Key, c.Held.Holder, c.Held.Since.UTC().Format(time.RFC3339), strings.Join(c.Overlap, "; "))
}

// ConflictError lists why a request was refused. Its message names every
// holder's workflow id.
type ConflictError struct {
	Conflicts []Conflict `json:"conflicts"`
}

func (e *ConflictError) Error() string {
	parts := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ") + "; wait for that run to end (or abort it), or set spec.overlap: allow in both scenarios if they may share the targets"
}

// Holders are the distinct workflow ids holding the conflicting leases.
func (e *ConflictError) Holders() []string {
	var out []string
	for _, c := range e.Conflicts {
		if !slices.Contains(out, c.Held.Holder.WorkflowID) {
			out = append(out, c.Held.Holder.WorkflowID)
		}
	}
	return out
}

// Table is the set of current leases.
type Table struct {
	Leases []Lease `json:"leases"`
}

// Conflicts lists the held leases that refuse req. A lease held under the
// same workflow id never conflicts: only one execution of a workflow id
// runs at a time, so it is this run's own (a retry) or a closed earlier
// run's, which this run takes over.
func (t Table) Conflicts(req []Lease) []Conflict {
	var out []Conflict
	for _, r := range req {
		for _, h := range t.Leases {
			if h.Holder.WorkflowID == r.Holder.WorkflowID {
				continue
			}
			ok, what := Overlap(r, h)
			if !ok || (r.AllowOverlap && h.AllowOverlap) {
				continue
			}
			out = append(out, Conflict{Requested: r, Held: h, Overlap: what})
		}
	}
	return out
}

// Check validates a request: one holder, a key per lease, no conflict.
func (t Table) Check(req []Lease) error {
	if len(req) == 0 {
		return fmt.Errorf("a lease request needs at least one lease")
	}
	h := req[0].Holder
	for _, r := range req {
		switch {
		case r.Holder.WorkflowID == "" || r.Holder.RunID == "":
			return fmt.Errorf("lease on %s has no holder workflow id and run id", r.Key)
		case r.Holder.WorkflowID != h.WorkflowID || r.Holder.RunID != h.RunID:
			return fmt.Errorf("one request, one holder: %s and %s", h, r.Holder)
		case r.Key.Domain == "":
			return fmt.Errorf("lease of %s has no domain", r.Holder)
		}
	}
	if c := t.Conflicts(req); len(c) > 0 {
		return &ConflictError{Conflicts: c}
	}
	return nil
}

// Acquire adds req (all or nothing) after Check, replacing whatever the
// same workflow id held; every lease gets since as its start, unless it
// held the same key already (a retried acquire keeps the first time).
func (t *Table) Acquire(req []Lease, since time.Time) ([]Lease, error) {
	if err := t.Check(req); err != nil {
		return nil, err
	}
	wid := req[0].Holder.WorkflowID
	var prev []Lease
	t.Leases = slices.DeleteFunc(t.Leases, func(l Lease) bool {
		if l.Holder.WorkflowID == wid {
			prev = append(prev, l)
			return true
		}
		return false
	})
	got := make([]Lease, len(req))
	for i, r := range req {
		r.Since = since
		for _, p := range prev {
			if p.Holder.RunID == r.Holder.RunID && sameKey(p.Key, r.Key) && !p.Since.IsZero() {
				r.Since = p.Since
			}
		}
		got[i] = r
	}
	t.Leases = append(t.Leases, got...)
	return got, nil
}

// Release removes the leases of one run (workflow id and run id: a late
// release of an earlier run never drops a newer run's lease) and returns
// them. Releasing nothing is fine.
func (t *Table) Release(workflowID, runID string) []Lease {
	var out []Lease
	t.Leases = slices.DeleteFunc(t.Leases, func(l Lease) bool {
		if l.Holder.WorkflowID == workflowID && l.Holder.RunID == runID {
			out = append(out, l)
			return true
		}
		return false
	})
	return out
}

// Runs lists the distinct holders, in lease order.
func (t Table) Runs() []Holder {
	var out []Holder
	for _, l := range t.Leases {
		if !slices.ContainsFunc(out, func(h Holder) bool { return h.WorkflowID == l.Holder.WorkflowID && h.RunID == l.Holder.RunID }) {
			out = append(out, l.Holder)
		}
	}
	return out
}
