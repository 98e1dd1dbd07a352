package checklist

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The weight rule of the seed's chapter 5 ("Checklist动态权重调整规则"): when
// a class of fault has not happened for 3 months and its item passed 6 times
// in a row, the item's weight goes down by 20; when an item triggered alerts
// in 3 releases, its weight goes up by 35 and it becomes strong-blocking.
// The seed's example: "distributed lock failure" went from 15% to 50%.
//
// Weights are percentage points and the changes are additive points (15 →
// 50 is +35 points, not +35%). A weight never drops below WeightFloor, so a
// quiet item still counts for something and can climb back, and never rises
// above WeightCap, the most one item can be worth on a 100-point scale (a
// Validate-d checklist file cannot hold more either). Nothing here reads the
// clock: now is always a parameter, so workflow code can call it.
const (
	QuietFor         = 3 // months without a fault
	QuietPasses      = 6 // consecutive passes
	QuietStep        = 20
	AlertingReleases = 3 // distinct releases with an alert
	AlertingStep     = 35
	WeightFloor      = 5
	WeightCap        = 100
)

// NewState starts tracking every item of cl at its file weight and
// blocking flag, with the quiet clock running from since.
func NewState(cl Checklist, since time.Time) []ItemState {
	out := make([]ItemState, 0, len(cl.Spec.Items))
	for _, it := range cl.Spec.Items {
		out = append(out, ItemState{ItemID: it.ID, Weight: it.Weight, StrongBlocking: it.StrongBlocking, Since: since})
	}
	return out
}

// Record folds one run's observations into the states and returns new
// states; the input is not modified. Per item: a clean pass extends the
// pass streak; a failure or an alert ends it. An alert also restarts the
// quiet clock (LastFault) and adds the release to AlertReleases once, so
// several alerting runs of one release count as one release. An alert with
// no release is not counted towards the release total (callers use the run
// id when there is no release ticket). Observations of unknown items are
// ignored.
func Record(states []ItemState, obs []Observation) []ItemState {
	out := cloneStates(states)
	for _, o := range obs {
		i := slices.IndexFunc(out, func(s ItemState) bool { return s.ItemID == o.ItemID })
		if i < 0 {
			continue
		}
		s := &out[i]
		if o.Pass && !o.Alerted {
			s.ConsecutivePasses++
			s.Passed++
		} else {
			s.ConsecutivePasses = 0
			s.Failed++
		}
		if o.Alerted {
			if o.At.After(s.LastFault) {
				s.LastFault = o.At
			}
			if o.Release != "" && !slices.Contains(s.AlertReleases, o.Release) {
				s.AlertReleases = append(s.AlertReleases, o.Release)
			}
		}
	}
	return out
}

// Evaluate applies the rule at now and returns the new states and the
// changes it made, in item order; the input is not modified. Per item:
//
//   - Alerting: alerts in at least AlertingReleases distinct releases →
//     weight +AlertingStep (capped at WeightCap), strong-blocking, and the
//     release list starts over so the next raise needs three new releases.
//     The pass streak and the quiet clock restart too, so a freshly raised
//     item is not cut on stale evidence.
//   - Quiet: no fault for QuietFor months (since the later of LastFault and
//     Since) and at least QuietPasses consecutive passes → weight
//     -QuietStep (floored at WeightFloor). The pass streak and the quiet
//     clock (Since = now) restart, so the next cut needs another 3 months
//     and 6 passes rather than firing on every evaluation.
//
// Alerting wins when both apply. A rule that would not move anything (a
// quiet item already at the floor, an alerting one already at the cap and
// strong-blocking) records no change, though an alerting one still spends
// its releases and restarts its counters. The quiet rule leaves the
// strong-blocking flag as it is: the seed only lowers the weight.
func Evaluate(states []ItemState, now time.Time) ([]ItemState, []Change) {
	out := cloneStates(states)
	var changes []Change
	for i := range out {
		s := &out[i]
		old := *s
		var rule, why string
		switch {
		case distinct(s.AlertReleases) >= AlertingReleases:
			why = "alerted in releases " + strings.Join(distinctList(s.AlertReleases), ", ")
			rule = RuleAlerting
			s.Weight = min(s.Weight+AlertingStep, max(s.Weight, WeightCap))
			s.StrongBlocking = true
			s.AlertReleases = nil
			// A freshly raised item must earn a cut from scratch.
			s.ConsecutivePasses, s.Since = 0, now
		case quiet(*s, now):
			quietSince := s.Since
			if s.LastFault.After(quietSince) {
				quietSince = s.LastFault
			}
			// A weight already below the floor (set so in the file) is
			// not raised by a rule that lowers weights.
			if w := max(s.Weight-QuietStep, min(s.Weight, WeightFloor)); w != s.Weight {
				why = fmt.Sprintf("passed %d times in a row, no fault since %s", s.ConsecutivePasses, quietSince.Format(time.DateOnly))
				rule = RuleQuiet
				s.Weight = w
				s.ConsecutivePasses = 0
				s.Since = now
			}
		}
		if rule == "" || s.Weight == old.Weight && s.StrongBlocking == old.StrongBlocking {
			continue
		}
		changes = append(changes, Change{
			ItemID: s.ItemID, OldWeight: old.Weight, NewWeight: s.Weight,
			OldBlocking: old.StrongBlocking, NewBlocking: s.StrongBlocking,
			Rule: rule, Reason: describe(why, old, *s), At: now,
		})
	}
	return out, changes
}

// quiet is the quiet rule's condition. "3 months" is calendar months
// (now.AddDate(0, -3, 0)), matching the seed's quarterly review.
func quiet(s ItemState, now time.Time) bool {
	if s.ConsecutivePasses < QuietPasses {
		return false
	}
	cutoff := now.AddDate(0, -QuietFor, 0)
	return !s.Since.After(cutoff) && !s.LastFault.After(cutoff)
}

// describe is the audit sentence: the evidence, then what it did.
func describe(why string, old, s ItemState) string {
	out := why + ": weight " + num(old.Weight) + " → " + num(s.Weight)
	if s.StrongBlocking && !old.StrongBlocking {
		out += ", now strong-blocking"
	}
	return out
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func distinctList(rs []string) []string {
	var out []string
	for _, r := range rs {
		if r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func distinct(rs []string) int { return len(distinctList(rs)) }

func cloneStates(states []ItemState) []ItemState {
	out := slices.Clone(states)
	for i := range out {
		out[i].AlertReleases = slices.Clone(out[i].AlertReleases)
	}
	return out
}
