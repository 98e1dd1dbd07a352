package checklist

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/sli"
)

// Evidence-verified items (Item.VerifiedBy): instead of a person signing
// "pass" with a link, the run's own measurements decide. Each check is a
// PromQL query (or a guard of the scenario) judged over a window of the
// run, after the run: the verdict needs the whole observe window, and
// verify's end for WindowRun. Nobody signs such an item: a signature would
// be given at the gate, before the data exists, and a person waving it
// through is exactly what the evidence replaces.
const (
	// WindowObserve: from the first fault taking effect to the end of the
	// hold (or to the breach or abort that ended it).
	WindowObserve = "observe"
	// WindowRun: from the first fault taking effect to the end of verify,
	// recovery included.
	WindowRun = "run"

	// ReduceWorst: every sample must hold; the value is the worst one (max
	// for < and <=, min for > and >=, the first failing one for == and !=).
	ReduceWorst = "worst"
	ReduceMax   = "max"
	ReduceMin   = "min"
	ReduceAvg   = "avg"
	// ReduceLast: the value at the window's end, one instant query; with
	// $window in the query it is e.g. the increase over the whole window.
	ReduceLast = "last"

	NoDataFail   = "fail"
	NoDataIgnore = "ignore"

	// WindowVar in a query is replaced by the window's length in whole
	// seconds (at least 1s), e.g. increase(x[$window]).
	WindowVar = "$window"
)

// Windows, Reductions and NoData list the valid values, for the loader.
var (
	Windows    = []string{WindowObserve, WindowRun}
	Reductions = []string{ReduceWorst, ReduceMax, ReduceMin, ReduceAvg, ReduceLast}
	NoData     = []string{NoDataFail, NoDataIgnore}
)

// HasEvidence reports whether any item of cl is evidence-verified.
func HasEvidence(cl Checklist) bool {
	return slices.ContainsFunc(cl.Spec.Items, Item.Verified)
}

// ResolveEvidence returns a copy of cl whose guard references carry the
// guard's query, op, threshold and no-data policy, taken from guards (the
// scenario's spec.guards first, then its steady_state.guards: a name found
// in both is the observed guard). A reference to a guard that is not there
// is an error naming the item, the check and the guards there are: the
// scenario and the checklist meet when a run is prepared, and that is where
// a typo must stop it.
func ResolveEvidence(cl Checklist, guards []sli.Guard) (Checklist, error) {
	items := slices.Clone(cl.Spec.Items)
	var errs []string
	for i := range items {
		if !items[i].Verified() {
			continue
		}
		checks := slices.Clone(items[i].VerifiedBy)
		for j := range checks {
			c := &checks[j]
			if c.Guard == "" {
				continue
			}
			k := slices.IndexFunc(guards, func(g sli.Guard) bool { return g.Name == c.Guard })
			if k < 0 {
				errs = append(errs, fmt.Sprintf("spec.items[%d].verified_by[%d].guard: item %s names guard %q, which the scenario does not have (its guards: %s)",
					i, j, items[i].ID, c.Guard, guardNames(guards)))
				continue
			}
			g := guards[k]
			if g.IsProbe() {
				errs = append(errs, fmt.Sprintf("spec.items[%d].verified_by[%d].guard: item %s names guard %q, a %s probe: Prometheus keeps no series of it to judge (write a query check instead)",
					i, j, items[i].ID, c.Guard, g.Kind))
				continue
			}
			th := g.Threshold
			c.Query, c.Op, c.Threshold = g.Query, g.Op, &th
			c.OnNoData = NoDataFail
			if g.OnNoData == sli.OnNoDataIgnore {
				c.OnNoData = NoDataIgnore
			}
			if c.Name == "" {
				c.Name = g.Name
			}
		}
		items[i].VerifiedBy = checks
	}
	cl.Spec.Items = items
	if len(errs) > 0 {
		return cl, fmt.Errorf("checklist %s: %s", cl.Metadata.Name, strings.Join(errs, "; "))
	}
	return cl, nil
}

// RefuseProbeEvidence is the error for evidence naming a probe guard (kind
// http or tcp), nil when there is none. A probe's answers are the run's
// own, not a Prometheus series a window of the run could be read back from
// after it: such a check would fail every run with Prometheus refusing its
// empty query. The scenario loader and a run's Prepare call it next to
// ResolveEvidence (which the workflow calls too, unchanged, so recorded
// runs replay as they ran).
func RefuseProbeEvidence(cl Checklist, guards []sli.Guard) error {
	var errs []string
	for i, it := range cl.Spec.Items {
		for j, c := range it.VerifiedBy {
			k := slices.IndexFunc(guards, func(g sli.Guard) bool { return g.Name == c.Guard })
			if c.Guard == "" || k < 0 || !guards[k].IsProbe() {
				continue
			}
			errs = append(errs, fmt.Sprintf("spec.items[%d].verified_by[%d].guard: item %s names guard %q, a probe (kind %s): its answers are not a Prometheus series the evidence could read after the run (name a prometheus guard, or give a query)",
				i, j, it.ID, c.Guard, guards[k].GuardKind()))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("checklist %s: %s", cl.Metadata.Name, strings.Join(errs, "; "))
	}
	return nil
}

func guardNames(guards []sli.Guard) string {
	var out []string
	for _, g := range guards {
		if !slices.Contains(out, g.Name) {
			out = append(out, g.Name)
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// Span is the window a check judges in a run's timeline; WindowOf says it
// in words. Within keeps the window's first Within (a hold shorter than
// Within is judged whole: no fault was held past it). A window that would end before it starts (a run stopped at
// once) is the single instant it starts at.
func (c Check) Span(t Timeline) (from, to time.Time) {
	from, to = t.FaultAt, t.HoldEnd
	if c.Window == WindowRun {
		to = t.RunEnd
	}
	if w := c.Within.D(); w > 0 && from.Add(w).Before(to) {
		to = from.Add(w) // the first Within of the window, never past it
	}
	if to.Before(from) {
		to = from
	}
	return from, to
}

// WindowOf describes the check's window: "observe", "first 3s of run".
func (c Check) WindowOf() string {
	w := c.Window
	if w == "" {
		w = WindowObserve
	}
	if c.Within > 0 {
		return "first " + c.Within.String() + " of " + w
	}
	return w
}

// QueryFor is the query as sent for a window of length span: $window
// replaced by the span in whole seconds, rounded up, at least 1s.
func (c Check) QueryFor(span time.Duration) string {
	secs := max(int64(math.Ceil(span.Seconds())), 1)
	return strings.ReplaceAll(c.Query, WindowVar, strconv.FormatInt(secs, 10)+"s")
}

// Step is the resolution of a range query over span: one sample a second,
// at most about 300 samples however long the window.
func Step(span time.Duration) time.Duration {
	return max(time.Second, span/300)
}

// Judge reduces a check's samples (from a range query, or the one sample
// of ReduceLast) to its value and verdict. No sample at all, a NaN kept by
// NoDataFail, and a value that does not satisfy Op are all failures: there
// is no reading of missing evidence that passes.
func Judge(c Check, pts []sli.Point) CheckResult {
	r := CheckResult{Check: c.Name, Guard: c.Guard, Op: c.Op, Reduce: c.reduce(), Window: c.WindowOf()}
	if c.Threshold != nil {
		r.Threshold = *c.Threshold
	}
	if c.OnNoData == NoDataIgnore {
		pts = slices.DeleteFunc(slices.Clone(pts), func(p sli.Point) bool { return math.IsNaN(p.Value) })
	}
	r.Samples = len(pts)
	if len(pts) == 0 {
		r.NoData, r.Value = true, sli.Float(math.NaN())
		return r
	}
	v, at := reduce(r.Reduce, c.Op, r.Threshold, pts)
	r.Value, r.At = sli.Float(v), at
	r.Pass = sli.Healthy(c.Op, v, r.Threshold)
	return r
}

func (c Check) reduce() string {
	if c.Reduce == "" {
		return ReduceWorst
	}
	return c.Reduce
}

// reduce computes one value from the samples. A NaN sample makes the value
// NaN (with its time): nothing measured at some point is not a number that
// any reduction may average or compare away.
func reduce(how string, op sli.Op, threshold float64, pts []sli.Point) (float64, time.Time) {
	if i := slices.IndexFunc(pts, func(p sli.Point) bool { return math.IsNaN(p.Value) }); i >= 0 {
		return math.NaN(), pts[i].At
	}
	last := pts[len(pts)-1]
	pick := func(better func(a, b float64) bool) (float64, time.Time) {
		best := pts[0]
		for _, p := range pts[1:] {
			if better(p.Value, best.Value) {
				best = p
			}
		}
		return best.Value, best.At
	}
	greater := func(a, b float64) bool { return a > b }
	less := func(a, b float64) bool { return a < b }
	switch how {
	case ReduceLast:
		return last.Value, last.At
	case ReduceMax:
		return pick(greater)
	case ReduceMin:
		return pick(less)
	case ReduceAvg:
		sum := 0.0
		for _, p := range pts {
			sum += p.Value
		}
		return sum / float64(len(pts)), last.At
	}
	switch op { // ReduceWorst
	case sli.OpLT, sli.OpLE:
		return pick(greater)
	case sli.OpGT, sli.OpGE:
		return pick(less)
	}
	for _, p := range pts {
		if !sli.Healthy(op, p.Value, threshold) {
			return p.Value, p.At
		}
	}
	return last.Value, last.At
}

// Failed is the result of a check that could not be judged, with why.
func Failed(item string, c Check, why string) CheckResult {
	r := CheckResult{Item: item, Check: c.Name, Guard: c.Guard, Query: c.Query, Op: c.Op, Reduce: c.reduce(), Window: c.WindowOf(),
		Value: sli.Float(math.NaN()), NoData: true, Error: why}
	if c.Threshold != nil {
		r.Threshold = *c.Threshold
	}
	return r
}

// FailAll fails every check of every evidence-verified item of cl with the
// same reason: nothing was injected, or the evidence activity gave up.
func FailAll(cl Checklist, why string) []CheckResult {
	var out []CheckResult
	for _, it := range cl.Spec.Items {
		for _, c := range it.VerifiedBy {
			out = append(out, Failed(it.ID, c, why))
		}
	}
	return out
}

// Reading is the value for people: "0.05", "NaN", "no data", or the error.
func (r CheckResult) Reading() string {
	if r.Error != "" {
		return "not computed: " + r.Error
	}
	return sli.Describe(r.Value, r.NoData)
}

// String says what was measured and what it needed: "fallback-ratio =
// 0.05 (want > 0; last over observe): pass".
func (r CheckResult) String() string {
	verdict := "FAIL"
	if r.Pass {
		verdict = "pass"
	}
	return fmt.Sprintf("%s = %s (want %s %g; %s over %s): %s", r.Check, r.Reading(), r.Op, r.Threshold, r.Reduce, r.Window, verdict)
}
