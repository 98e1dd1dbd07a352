// Package resilience scores runs and services and places services on the
// seed's maturity levels L1–L5, from run history alone. Pure and
// table-tested: control reads the history from Temporal (visibility and
// each run's result and input) and hands it here; docs/scoring.md explains
// the formulas and compares them with LitmusChaos, Krkn and Gremlin.
package resilience

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

// Run is one experiment run as the history holds it: its result plus what
// only its input and its search attributes know.
type Run struct {
	Result experiment.Result `json:"result"`
	// FaultClass of the scenario (spec.fault_class); empty when it names
	// none (then the scenario name stands for its class).
	FaultClass string `json:"fault_class,omitempty"`
	// Labels of the scenario (environment, core).
	Labels map[string]string `json:"labels,omitempty"`
	// Automated: started by a Temporal Schedule or a game day, not by a
	// person.
	Automated bool `json:"automated,omitempty"`
}

// Class is the run's fault class, or its scenario when it names none.
func (r Run) Class() string { return cmp.Or(r.FaultClass, r.Result.Scenario) }

// End is when the run ended (its last phase when Ended is not set).
func (r Run) End() time.Time {
	if !r.Result.Ended.IsZero() {
		return r.Result.Ended
	}
	t := r.Result.Started
	for _, p := range r.Result.Phases {
		if p.Ended.After(t) {
			t = p.Ended
		}
	}
	return t
}

// RunScore is one run's resilience score: Score = 100 × Held × Checklist
// when Scored.
type RunScore struct {
	Scored bool `json:"scored"`
	// Score is 0..100; meaningful only when Scored.
	Score float64 `json:"score"`
	// Held is 1 when the guards held through the faults and steady state
	// came back, 0 when a guard breached or verify failed.
	Held float64 `json:"held"`
	// Checklist is the share of the checklist's (learned) weight whose
	// items passed, signed or verified by evidence (the gate's score /
	// 100); 1 without a
	// checklist.
	Checklist float64 `json:"checklist"`
	// Why says what decided the score, or why the run is not scored.
	Why string `json:"why"`
}

// ScoreRun scores one run. Only a run that injected faults under guards and
// came to a verdict on the service is scored: a dry run, a run that
// injected nothing, an unguarded one, a cancel, a person's abort, a
// platform failure or a guard whose query kept failing say nothing about
// the service's resilience and are left out (Scored false, Why says
// which).
func ScoreRun(r experiment.Result) RunScore {
	no := func(why string) RunScore { return RunScore{Why: why} }
	switch {
	case r.Outcome == experiment.DryRun:
		return no("dry run: nothing was injected")
	case !r.Finished():
		return no("not finished")
	case len(r.Injected) == 0:
		return no(fmt.Sprintf("%s before any fault was injected", r.Outcome))
	case r.Unguarded:
		return no("unguarded: no guard measured the service")
	case r.Breach != nil && r.Breach.QueryError != "":
		return no("guard " + r.Breach.Guard + " could not be queried: nobody watched the service")
	}
	checklistShare := 1.0
	if g := r.Gate; g != nil {
		checklistShare = clamp01(g.Score / 100)
	}
	switch {
	case r.Breach != nil:
		return RunScore{Scored: true, Held: 0, Checklist: checklistShare, Why: "guard " + r.Breach.Guard + " breached"}
	case r.Outcome == experiment.Failed && verifyFailed(r):
		return RunScore{Scored: true, Held: 0, Checklist: checklistShare, Why: "steady state did not come back: " + r.AbortReason}
	case r.Outcome == experiment.Passed:
		why := "guards held and steady state came back"
		if r.Gate != nil {
			why += fmt.Sprintf("; checklist %s: %s%% of its weight passed", r.Gate.Checklist, strconv.FormatFloat(math.Round(r.Gate.Score*10)/10, 'f', -1, 64))
		}
		return RunScore{Scored: true, Score: 100 * checklistShare, Held: 1, Checklist: checklistShare, Why: why}
	case r.Outcome == experiment.Aborted:
		return no("aborted by a person: no verdict on the service")
	case r.Outcome == experiment.Cancelled:
		return no("cancelled: no verdict on the service")
	}
	return no(fmt.Sprintf("%s: %s (the platform's failure, not the service's)", r.Outcome, cmp.Or(r.AbortReason, r.Error)))
}

// verifyFailed: the run's verify phase failed (steady state not back in
// time, or its queries gave up).
func verifyFailed(r experiment.Result) bool {
	return slices.ContainsFunc(r.Phases, func(p experiment.Phase) bool {
		return p.Name == experiment.PhaseVerify && p.Status == experiment.StatusFailed
	})
}

func clamp01(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return math.Max(0, math.Min(1, v))
}

// Service scoring constants (docs/scoring.md).
const (
	// Fresh is how long a scenario's latest result counts in full.
	Fresh = 30 * 24 * time.Hour
	// HalfLife: past Fresh, the score halves every HalfLife.
	HalfLife = 30 * 24 * time.Hour
	// DefaultWeight weighs a scenario whose fault class no checklist item
	// names: the weight of an ordinary item of the default checklist.
	DefaultWeight = 10.0
	// Horizon is how far back the history is read by default.
	Horizon = 90 * 24 * time.Hour
)

// Decay is the factor a result of the given age counts for: 1 up to Fresh,
// then halving every HalfLife (0.5 at 60 days, 0.25 at 90).
func Decay(age time.Duration) float64 {
	if age <= Fresh {
		return 1
	}
	return math.Pow(0.5, float64(age-Fresh)/float64(HalfLife))
}

// ClassWeights sums the (learned) weights of checklist items per fault
// class: a scenario of that class weighs as much as the items it
// exercises. Items without a fault class weigh nothing here.
func ClassWeights(items []checklist.Item) map[string]float64 {
	out := map[string]float64{}
	for _, it := range items {
		if it.FaultClass != "" {
			out[it.FaultClass] += it.Weight
		}
	}
	return out
}

// LearnedItems are the checklist items the runs saw, per checklist, with the
// weights as learned after the most recent run that used each checklist:
// its gate's weights with its weight changes applied. control prefers the
// checklist entity's current weights and falls back on these.
func LearnedItems(runs []Run) map[string][]checklist.Item {
	latest := map[string]experiment.Result{}
	for _, r := range runs {
		g := r.Result.Gate
		if g == nil {
			continue
		}
		if cur, ok := latest[g.Checklist]; !ok || r.Result.Started.After(cur.Started) {
			latest[g.Checklist] = r.Result
		}
	}
	out := map[string][]checklist.Item{}
	for name, r := range latest {
		items := make([]checklist.Item, 0, len(r.Gate.Items))
		for _, it := range r.Gate.Items {
			item := it.Item
			for _, c := range r.WeightChanges {
				if c.ItemID == item.ID {
					item.Weight, item.StrongBlocking = c.NewWeight, c.NewBlocking
				}
			}
			items = append(items, item)
		}
		out[name] = items
	}
	return out
}

// ScenarioScore is one scenario's part in a service's score.
type ScenarioScore struct {
	Scenario   string  `json:"scenario"`
	FaultClass string  `json:"fault_class,omitempty"`
	Weight     float64 `json:"weight"`
	// WeightFrom says where the weight came from ("checklist items of
	// fault class pod-kill" or "default").
	WeightFrom string `json:"weight_from"`
	// Latest is the latest scored run of the scenario (workflow id).
	Latest   string    `json:"latest"`
	Outcome  string    `json:"outcome"`
	Ended    time.Time `json:"ended"`
	Run      RunScore  `json:"run"`
	AgeDays  float64   `json:"age_days"`
	Decay    float64   `json:"decay"`
	Weighted float64   `json:"weighted"` // Run.Score × Decay
}

// ServiceScore is a service's resilience score.
type ServiceScore struct {
	Service string `json:"service"`
	Scored  bool   `json:"scored"`
	// Score = Σ Weight × Decay × RunScore / Σ Weight over Scenarios.
	Score     float64         `json:"score"`
	Scenarios []ScenarioScore `json:"scenarios"`
	// Unscored are scenarios run in the window with no scored run, and why
	// their latest run was not scored.
	Unscored map[string]string `json:"unscored,omitempty"`
	Runs     int               `json:"runs"`
	AsOf     time.Time         `json:"as_of"`
	// exact is Score before rounding: rules compare it, so 89.95 (shown
	// as 90) does not reach a level that asks for 90.
	exact float64
}

// ScoreService scores service from its runs (any order; runs of other
// services are ignored): per scenario its latest scored run, weighted by
// the learned checklist weight of its fault class (weights: ClassWeights;
// DefaultWeight when no item names it) and decayed by the age of that run.
func ScoreService(service string, runs []Run, weights map[string]float64, now time.Time) ServiceScore {
	out := ServiceScore{Service: service, AsOf: now, Unscored: map[string]string{}}
	latest := map[string]Run{}
	latestAny := map[string]Run{}
	for _, r := range runs {
		if r.Result.Service != service {
			continue
		}
		out.Runs++
		sc := r.Result.Scenario
		if cur, ok := latestAny[sc]; !ok || r.End().After(cur.End()) {
			latestAny[sc] = r
		}
		if !ScoreRun(r.Result).Scored {
			continue
		}
		if cur, ok := latest[sc]; !ok || r.End().After(cur.End()) {
			latest[sc] = r
		}
	}
	var sumW, sum float64
	for _, sc := range slices.Sorted(maps.Keys(latestAny)) {
		r, ok := latest[sc]
		if !ok {
			out.Unscored[sc] = ScoreRun(latestAny[sc].Result).Why
			continue
		}
		rs := ScoreRun(r.Result)
		w, from := DefaultWeight, "default (no checklist item has fault class "+r.Class()+")"
		if cw := weights[r.Class()]; cw > 0 {
			w, from = cw, "checklist items of fault class "+r.Class()
		}
		age := max(0, now.Sub(r.End()))
		d := Decay(age)
		s := ScenarioScore{
			Scenario: sc, FaultClass: r.FaultClass, Weight: w, WeightFrom: from,
			Latest: r.Result.WorkflowID, Outcome: string(r.Result.Outcome), Ended: r.End(),
			Run: rs, AgeDays: math.Round(age.Hours()/24*10) / 10, Decay: round3(d), Weighted: round1(rs.Score * d),
		}
		out.Scenarios = append(out.Scenarios, s)
		sumW += w
		sum += w * d * rs.Score
	}
	if len(out.Unscored) == 0 {
		out.Unscored = nil
	}
	if sumW > 0 {
		out.Scored, out.Score, out.exact = true, round1(sum/sumW), sum/sumW
	}
	return out
}

// Services lists the services the runs are of, sorted.
func Services(runs []Run) []string {
	set := map[string]bool{}
	for _, r := range runs {
		if r.Result.Service != "" {
			set[r.Result.Service] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// String is the score as people read it: "87.5" or "n/a".
func (s ServiceScore) String() string {
	if !s.Scored {
		return "n/a"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", s.Score), ".0")
}
