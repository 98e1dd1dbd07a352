package checklist

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gameday/gameday/signoff"
)

// EvaluateGate scores a release against its checklist from the signers'
// verdicts and, for evidence-verified items, the run's evidence. (It is not
// called Evaluate because that name is the weight rule's, see weights.go.)
// The result has one ItemResult per item in checklist order.
//
// Which sign counts for an item: signs by the item's owner take precedence
// over anyone else's (the owner is accountable for it), and among those the
// latest wins, so a re-sign after a fix replaces the earlier verdict. Signs
// for ids not in the checklist are ignored, and so are signs for an
// evidence-verified item: its verdict is its evidence, which counts like a
// signed one (every check of the item must pass; a check without a result
// fails). An evidence-verified item with no result at all is pending: the
// gate is provisional, and not passed, until the run's evidence is in.
//
// The release passes when nothing is pending, no strong-blocking item
// failed or is unsigned and Score >= Threshold. An unsigned strong-blocking
// item blocks: nobody vouched for it. Score is 100 * weight passed / total
// weight, so weights need not add up to 100. A checklist not run through
// Validate gets the default threshold when it has none.
func EvaluateGate(cl Checklist, signs []Sign, evidence ...CheckResult) Gate {
	g := Gate{Checklist: cl.Metadata.Name, Threshold: cl.Spec.Threshold}
	if g.Threshold == 0 {
		g.Threshold = DefaultThreshold
	}
	var total, passed float64
	var blockingUnsigned []string
	for _, it := range cl.Spec.Items {
		r := ItemResult{Item: it}
		switch {
		case it.Verified():
			judge(&r, evidence)
		default:
			if s, ok := signFor(it, signs); ok {
				r.Signed, r.Pass, r.Evidence, r.User, r.At = true, s.Pass, s.Evidence, s.User, s.At
			}
		}
		total += it.Weight
		if r.Pass {
			passed += it.Weight
		}
		switch {
		case r.Pending:
			g.Pending = append(g.Pending, it.ID)
		case !r.Decided():
			g.Unsigned = append(g.Unsigned, it.ID)
			if it.StrongBlocking {
				g.BlockingFailed = append(g.BlockingFailed, it.ID)
				blockingUnsigned = append(blockingUnsigned, it.ID)
			}
		case !r.Pass && it.StrongBlocking:
			g.BlockingFailed = append(g.BlockingFailed, it.ID)
		}
		g.Items = append(g.Items, r)
	}
	if total > 0 {
		// Rounded to drop float noise, so 0.1+0.2 of 0.3 scores 100, not
		// 99.99999999999999 and a spurious failure.
		g.Score = math.Round(100*passed/total*1e9) / 1e9
	}
	g.Passed = len(cl.Spec.Items) > 0 && len(g.Pending) == 0 && len(g.BlockingFailed) == 0 && g.Score >= g.Threshold
	if !g.Passed {
		g.Reason = reason(g, blockingUnsigned)
	}
	return g
}

// judge decides an evidence-verified item from the results of its checks,
// in the item's order; a check without a result fails with that said.
func judge(r *ItemResult, evidence []CheckResult) {
	var mine []CheckResult
	for _, e := range evidence {
		if e.Item == r.ID {
			mine = append(mine, e)
		}
	}
	if len(mine) == 0 {
		r.Pending = true
		return
	}
	r.Verified, r.Pass = true, true
	for _, c := range r.VerifiedBy {
		i := slices.IndexFunc(mine, func(e CheckResult) bool { return e.Check == c.Name })
		res := Failed(r.ID, c, "no evidence was computed for this check")
		if i >= 0 {
			res = mine[i]
		}
		r.Checks = append(r.Checks, res)
		r.Pass = r.Pass && res.Pass
	}
}

// Failing lists the failed checks of an evidence-verified item, for
// reasons: "fallback-ratio = 0 (want > 0; ...)".
func (r ItemResult) Failing() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c.String())
		}
	}
	return out
}

// Summary is the gate in one line: "passed, score 100%", "provisional:
// awaiting evidence for cb-fallback", "FAILED: <reason>".
func (g Gate) Summary() string {
	switch {
	case g.Passed:
		return fmt.Sprintf("passed, score %s%% (threshold %s%%)", pct(g.Score), pct(g.Threshold))
	case len(g.Pending) > 0:
		return "provisional: " + g.Reason
	}
	return "FAILED: " + g.Reason
}

func signFor(it Item, signs []Sign) (Sign, bool) {
	var best Sign
	found, bestOwner := false, false
	for _, s := range signs {
		if s.ItemID != it.ID {
			continue
		}
		owner := s.Role == it.Owner
		switch {
		case !found, owner && !bestOwner, owner == bestOwner && !s.At.Before(best.At):
			best, found, bestOwner = s, true, owner
		}
	}
	return best, found
}

// reason says why the gate did not pass, in the order a release manager
// acts on: blockers first, then the score.
func reason(g Gate, blockingUnsigned []string) string {
	if len(g.Items) == 0 {
		return "checklist has no items"
	}
	var parts []string
	if len(g.Pending) > 0 {
		parts = append(parts, fmt.Sprintf("awaiting evidence for %s (judged after the run)", strings.Join(g.Pending, ", ")))
	}
	var failed []string
	for _, id := range g.BlockingFailed {
		if !slices.Contains(blockingUnsigned, id) {
			failed = append(failed, id)
		}
	}
	if len(failed) > 0 {
		parts = append(parts, fmt.Sprintf("strong-blocking %s %s failed", plural(len(failed), "item"), strings.Join(failed, ", ")))
	}
	// What the evidence of a failed evidence-verified item measured: the
	// release manager should not have to dig for the number.
	for _, it := range g.Items {
		if it.Verified && !it.Pass {
			parts = append(parts, "evidence for "+it.ID+": "+strings.Join(it.Failing(), "; "))
		}
	}
	if len(blockingUnsigned) > 0 {
		parts = append(parts, fmt.Sprintf("strong-blocking %s %s not signed", plural(len(blockingUnsigned), "item"), strings.Join(blockingUnsigned, ", ")))
	}
	// While evidence is pending the score is not final: pending items
	// count as failed in it, which would read as a verdict.
	if g.Score < g.Threshold && len(g.Pending) == 0 {
		s := fmt.Sprintf("score %s%% < %s%%", PctApart(g.Score, g.Threshold), pct(g.Threshold))
		var open []string
		for _, id := range g.Unsigned {
			if !slices.Contains(blockingUnsigned, id) {
				open = append(open, id)
			}
		}
		if len(open) > 0 {
			s += " (unsigned items count as failed: " + strings.Join(open, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// pct renders a percentage with at most one decimal: 62.5, 80, 66.7.
func pct(x float64) string { return pctDigits(x, 1) }

func pctDigits(x float64, decimals int) string {
	p := math.Pow(10, float64(decimals))
	return strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64)
}

// PctApart is pct of a score, with as many more decimals as it takes not
// to read as the threshold it is not: 66.67 against 66.7, not "66.7 <
// 66.7".
func PctApart(score, threshold float64) string {
	s := pct(score)
	for d := 2; score != threshold && d <= 9 && s == pct(threshold); d++ {
		s = pctDigits(score, d)
	}
	return s
}

// ItemsFor lists the items a role signs, in checklist order: what the
// sign-off request shows each lead. Evidence-verified items are nobody's to
// sign, so a checklist of evidence alone needs no sign-off gate.
func ItemsFor(cl Checklist, role string) []Item {
	var out []Item
	for _, it := range cl.Spec.Items {
		if it.Owner == role && !it.Verified() {
			out = append(out, it)
		}
	}
	return out
}

// SigningRoles are the roles with items to sign, in signoff.Roles order:
// the sign-off gate of a scenario that names the checklist and no roles of
// its own (none for a checklist of evidence alone).
func SigningRoles(cl Checklist) []string {
	var out []string
	for _, r := range signoff.Roles {
		if len(ItemsFor(cl, r)) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// MarkAlerted flags the items whose fault class is in faultClasses (the
// classes whose faults breached a guard in this run), so the weight rule
// counts the run as an alert for them. It only sets flags, never clears
// them, so calling it once per breached class accumulates. A nil gate is a
// no-op.
func MarkAlerted(g *Gate, faultClasses []string) {
	if g == nil {
		return
	}
	for i := range g.Items {
		if fc := g.Items[i].FaultClass; fc != "" && slices.Contains(faultClasses, fc) {
			g.Items[i].Alerted = true
		}
	}
}

// Apply returns a copy of cl with the learned weights and strong-blocking
// flags of states (see weights.go), so the gate scores a release with what
// the rule has learned rather than the file's starting values. Items
// without a state keep the file's values.
func Apply(cl Checklist, states []ItemState) Checklist {
	items := slices.Clone(cl.Spec.Items)
	for i := range items {
		for _, s := range states {
			if s.ItemID == items[i].ID {
				items[i].Weight, items[i].StrongBlocking = s.Weight, s.StrongBlocking
				break
			}
		}
	}
	cl.Spec.Items = items
	return cl
}
