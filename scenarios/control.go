package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/gameday/gameday/sli"
)

// MaxPauseTimeout bounds spec.pause_timeout (and a pause's own timeout):
// a run is not parked for days with its lease held.
const MaxPauseTimeout = 24 * time.Hour

// Bounds of the drift rule's fields.
const (
	// MaxBaselineRuns bounds baseline.runs: define reads each run's result.
	MaxBaselineRuns = 50
	// MaxDriftLimit bounds drift (percent): beyond it the threshold acts
	// long before the drift rule could.
	MaxDriftLimit = 1000.0
)

// control checks the fields that govern pausing a run: spec.pause_timeout
// and each guard's drift rule (baseline, drift). It applies the default
// drift limit, so the history records the limit that ran.
func (v *validator) control(sp *Spec) {
	if t := sp.PauseTimeout.D(); t != 0 && (t < time.Second || t > MaxPauseTimeout) {
		v.Add("spec.pause_timeout", "must be between 1s and %s, got %s", MaxPauseTimeout, sp.PauseTimeout)
	}
	for i := range sp.Guards {
		v.drift(fmt.Sprintf("spec.guards[%d]", i), &sp.Guards[i])
	}
	for i, g := range sp.SteadyState.Guards {
		if g.Baseline != nil || g.Drift != 0 {
			v.Add(fmt.Sprintf("spec.steady_state.guards[%d].baseline", i), "the drift rule applies while faults are held: declare baseline and drift on spec.guards")
		}
	}
}

func (v *validator) drift(p string, g *sli.Guard) {
	if g.IsProbe() && (g.Baseline != nil || g.Drift != 0) {
		// A probe's value is its latency, bounded by its own limit.
		v.Add(p+".baseline", "the drift rule is for prometheus guards; a %s probe has its latency limit", g.Kind)
		return
	}
	switch {
	case math.IsNaN(g.Drift) || math.IsInf(g.Drift, 0):
		v.Add(p+".drift", "must be a finite number (percent), got %v", g.Drift)
		return
	case g.Drift != 0 && g.Baseline == nil:
		v.Add(p+".drift", "needs a baseline to drift from: add baseline.query (e.g. avg_over_time(...[7d])) or baseline.runs")
		return
	case g.Drift < 0 || g.Drift > MaxDriftLimit:
		v.Add(p+".drift", "must be a percentage between 0 and %g (e.g. 15), got %g", MaxDriftLimit, g.Drift)
	}
	b := g.Baseline
	if b == nil {
		return
	}
	if g.Drift == 0 {
		g.Drift = sli.DefaultDriftLimit
	}
	switch {
	case b.Query != "" && b.Runs != 0:
		v.Add(p+".baseline", "give one of query or runs, not both")
	case b.Query == "" && b.Runs == 0:
		v.Add(p+".baseline", "needs query (PromQL over a long window, e.g. avg_over_time(...[7d])) or runs (the mean of the last N runs' values)")
	case b.Runs < 0 || b.Runs > MaxBaselineRuns:
		v.Add(p+".baseline.runs", "must be between 1 and %d, got %d", MaxBaselineRuns, b.Runs)
	case b.Query != "":
		if msg := baselineQueryProblem(b.Query); msg != "" {
			v.Add(p+".baseline.query", "%s", msg)
		}
	}
}

// aggregations are PromQL's aggregation operators; one written with a
// non-empty by/without list keeps series apart: "avg by (pod) (...)",
// "sum(...) without (le)".
const aggregations = `(sum|avg|min|max|count|group|stddev|stdvar|quantile|topk|bottomk|count_values|limitk|limit_ratio)`

var (
	groupedAggregation = regexp.MustCompile(`^` + aggregations + `\s*(by|without)\s*\(\s*[^)\s]`)
	aggregationCall    = regexp.MustCompile(`^` + aggregations + `\s*\(`)
	grouping           = regexp.MustCompile(`^(by|without)\s*\(\s*[^)\s]`)
)

// baselineQueryProblem is what is certainly wrong with a baseline query
// before Prometheus sees it: it must look back over a window (a range or a
// subquery, [7d]; without one it is the current value, not a baseline),
// its brackets must balance, and its outermost expression must not keep
// series apart (a by/without grouping): a baseline is one number. Whether
// it does come to one number is known only from Prometheus's answer:
// define refuses the run when it returns several series.
func baselineQueryProblem(q string) string {
	q = strings.TrimSpace(q)
	depth := map[rune]int{}
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	inString := rune(0)
	for _, r := range q {
		switch {
		case inString != 0:
			if r == inString {
				inString = 0
			}
		case r == '"' || r == '\'' || r == '`':
			inString = r
		case r == '(' || r == '[' || r == '{':
			depth[r]++
		case pairs[r] != 0:
			if depth[pairs[r]]--; depth[pairs[r]] < 0 {
				return fmt.Sprintf("unbalanced %q in %q", r, q)
			}
		}
	}
	for open, n := range depth {
		if n != 0 {
			return fmt.Sprintf("unbalanced %q in %q", open, q)
		}
	}
	if !strings.Contains(q, "[") {
		return fmt.Sprintf("%q looks at no window: a baseline aggregates a long one to one number, e.g. avg_over_time(<the guard's query>[7d]) (a subquery [7d:5m] for an expression)", q)
	}
	if groupedAggregation.MatchString(q) || topLevelGrouping(q) {
		return fmt.Sprintf("%q groups by labels at the top: a baseline must aggregate to one number (drop the by/without, or wrap it in avg(...))", q)
	}
	return ""
}

// topLevelGrouping reports "agg(...) by (x)": the grouping written after
// the outermost aggregation's argument list.
func topLevelGrouping(q string) bool {
	if !aggregationCall.MatchString(q) {
		return false
	}
	depth := 0
	for i := strings.IndexByte(q, '('); i < len(q); i++ {
		switch q[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return grouping.MatchString(strings.TrimSpace(q[i+1:]))
			}
		}
	}
	return false
}
