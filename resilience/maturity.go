package resilience

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/experiment"
)

// The seed's five-level chaos maturity model (chapter 5: "混沌成熟度五级模型"),
// each level made of criteria a run history can prove. The seed defines L1
// (passive: drills only after major incidents), L3 (active validation:
// monthly automated injection on core paths such as order creation and
// fund deduction) and L4 (continuous resilience: every new service passes
// three fault scenarios under the SLI thresholds before it goes live); L2
// and L5 are ours (docs/scoring.md). Levels are cumulative: a service is at
// the highest level whose criteria, and those of every level below, are
// all met.

// Labels a scenario may carry for the maturity rules.
const (
	// LabelCore marks a scenario as exercising a core path ("true"); when
	// no scenario of a service carries it, all of them count as core.
	LabelCore = "core"
	// LabelEnvironment names the environment (see scenarios); prod and
	// production count as production.
	LabelEnvironment = "environment"
)

// Maturity rule constants.
const (
	Month         = 30 * 24 * time.Hour
	Quarter       = 90 * 24 * time.Hour
	L4Classes     = 3  // distinct fault classes the seed's L4 asks for
	L5MinScore    = 90 // service score an L5 service keeps
	monthlyWindow = 3  // L3: one automated run in each of the last 3 months
)

// Criterion is one checkable condition of a level.
type Criterion struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Met  bool   `json:"met"`
	// Evidence names the runs or facts that meet it; Missing says what to
	// do when it is not met.
	Evidence string `json:"evidence,omitempty"`
	Missing  string `json:"missing,omitempty"`
}

// Level is one maturity level and its criteria.
type Level struct {
	Level    int         `json:"level"`
	Name     string      `json:"name"`
	Met      bool        `json:"met"`
	Criteria []Criterion `json:"criteria"`
}

// Maturity is a service's level with every level's criteria.
type Maturity struct {
	Service string `json:"service"`
	// Level is 0 when not even L1 is met (no experiment on record).
	Level  int       `json:"level"`
	Levels []Level   `json:"levels"`
	AsOf   time.Time `json:"as_of"`
}

// Next is the first level not met (nil at L5).
func (m Maturity) Next() *Level {
	for i := range m.Levels {
		if !m.Levels[i].Met {
			return &m.Levels[i]
		}
	}
	return nil
}

// Assess places service on the maturity levels from its runs (runs of other
// services are ignored) and its score (ScoreService of the same runs).
func Assess(service string, all []Run, score ServiceScore, now time.Time) Maturity {
	var runs []Run
	for _, r := range all {
		if r.Result.Service == service {
			runs = append(runs, r)
		}
	}
	slices.SortFunc(runs, func(a, b Run) int { return b.End().Compare(a.End()) }) // newest first
	injected := func(r Run) bool { return len(r.Result.Injected) > 0 }
	within := func(r Run, d time.Duration) bool { return now.Sub(r.End()) <= d }

	m := Maturity{Service: service, AsOf: now}

	// L1: something was tried at all.
	l1 := Level{Level: 1, Name: "Reactive"}
	{
		c := Criterion{ID: "l1-injected", Text: "at least one experiment injected faults into the service"}
		if i := slices.IndexFunc(runs, injected); i >= 0 {
			c.Met, c.Evidence = true, describe(runs[i])
		} else {
			c.Missing = "run a scenario of the service (gameday run NAME --wait)"
		}
		l1.Criteria = append(l1.Criteria, c)
	}

	// L2: planned, guarded, and learned from.
	l2 := Level{Level: 2, Name: "Planned"}
	{
		c := Criterion{ID: "l2-recent", Text: "a guarded experiment injected faults in the last 90 days (planned, not only after an incident)"}
		if i := slices.IndexFunc(runs, func(r Run) bool { return injected(r) && !r.Result.Unguarded && within(r, Quarter) }); i >= 0 {
			c.Met, c.Evidence = true, describe(runs[i])
		} else {
			c.Missing = "run a guarded scenario of the service at least once a quarter"
		}
		l2.Criteria = append(l2.Criteria, c)

		c = Criterion{ID: "l2-postmortems", Text: "every run of the last 90 days that injected faults and did not pass has a postmortem"}
		var missing []string
		n := 0
		for _, r := range runs {
			if injected(r) && within(r, Quarter) && r.Result.Finished() && r.Result.Outcome != experiment.Passed {
				n++
				if r.Result.Postmortem == "" {
					missing = append(missing, r.Result.WorkflowID)
				}
			}
		}
		switch {
		case len(missing) > 0:
			c.Missing = "no postmortem for " + list(missing) + " (file one: the report step files it when a sink is configured)"
		case n == 0:
			c.Met, c.Evidence = true, "no failing run in the last 90 days"
		default:
			c.Met, c.Evidence = true, fmt.Sprintf("%d failing run(s), each with a postmortem", n)
		}
		l2.Criteria = append(l2.Criteria, c)
	}

	// L3 (seed): monthly automated injection on core paths.
	l3 := Level{Level: 3, Name: "Active validation"}
	{
		coreLabelled := slices.ContainsFunc(runs, func(r Run) bool { return r.Labels[LabelCore] == "true" })
		core := func(r Run) bool { return !coreLabelled || r.Labels[LabelCore] == "true" }
		c := Criterion{ID: "l3-monthly-automated", Text: "automated injection on core paths at least monthly: a scheduled or game-day run that injected faults into a core scenario in each of the last 3 months"}
		var ev, gaps []string
		for k := range monthlyWindow {
			from, to := now.Add(-time.Duration(k+1)*Month), now.Add(-time.Duration(k)*Month)
			i := slices.IndexFunc(runs, func(r Run) bool {
				return r.Automated && injected(r) && core(r) && !r.End().Before(from) && r.End().Before(to.Add(time.Nanosecond))
			})
			span := fmt.Sprintf("%s..%s", from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02"))
			if i < 0 {
				gaps = append(gaps, span)
			} else {
				ev = append(ev, span+": "+runs[i].Result.WorkflowID)
			}
		}
		scope := "every scenario counts as core (none is labelled core: \"true\")"
		if coreLabelled {
			scope = "scenarios labelled core: \"true\""
		}
		c.Evidence = strings.Join(ev, "; ") + " [" + scope + "]"
		if len(gaps) == 0 {
			c.Met = true
		} else {
			c.Missing = "no automated core run in " + strings.Join(gaps, ", ") + ": schedule the core scenarios at least monthly (a Temporal Schedule or a game day)"
		}
		l3.Criteria = append(l3.Criteria, c)
	}

	// L4 (seed): three fault scenarios passed, continuously, and before
	// every release.
	l4 := Level{Level: 4, Name: "Continuous resilience"}
	{
		c := Criterion{ID: "l4-three-classes", Text: fmt.Sprintf("the latest guarded run of at least %d distinct fault classes passed, each in the last 30 days", L4Classes)}
		latest := map[string]Run{}
		for _, r := range runs { // newest first: the first of each class is its latest
			if _, seen := latest[r.Class()]; !seen && ScoreRun(r.Result).Scored {
				latest[r.Class()] = r
			}
		}
		var ok, stale, failing []string
		for _, cl := range slices.Sorted(maps.Keys(latest)) {
			r := latest[cl]
			switch {
			case r.Result.Outcome != experiment.Passed:
				failing = append(failing, cl)
			case !within(r, Month):
				stale = append(stale, cl)
			default:
				ok = append(ok, cl)
			}
		}
		c.Evidence = "passing: " + orNone(ok)
		if len(ok) >= L4Classes {
			c.Met = true
		} else {
			var why []string
			if len(failing) > 0 {
				why = append(why, "latest run failed for "+list(failing))
			}
			if len(stale) > 0 {
				why = append(why, "last pass older than 30 days for "+list(stale))
			}
			why = append(why, fmt.Sprintf("%d more class(es) needed (the seed's three: network delay, pod eviction, Redis pool exhaustion)", L4Classes-len(ok)))
			c.Missing = strings.Join(why, "; ")
		}
		l4.Criteria = append(l4.Criteria, c)

		c = Criterion{ID: "l4-releases", Text: fmt.Sprintf("every release of the last 90 days (runs carrying a release ticket) had %d distinct fault classes pass under it", L4Classes)}
		releases := map[string]map[string]bool{}
		for _, r := range runs {
			t := r.Result.ReleaseTicket
			if t == "" || !within(r, Quarter) {
				continue
			}
			if releases[t] == nil {
				releases[t] = map[string]bool{}
			}
			if r.Result.Outcome == experiment.Passed && ScoreRun(r.Result).Scored {
				releases[t][r.Class()] = true
			}
		}
		var short, good []string
		for _, t := range slices.Sorted(maps.Keys(releases)) {
			if n := len(releases[t]); n < L4Classes {
				short = append(short, fmt.Sprintf("%s (%d)", t, n))
			} else {
				good = append(good, t)
			}
		}
		switch {
		case len(releases) == 0:
			c.Met, c.Evidence = true, "no release ticket on the service's runs in the last 90 days: nothing to check"
		case len(short) == 0:
			c.Met, c.Evidence = true, "releases: "+list(good)
		default:
			c.Missing = "releases without three passing fault classes: " + list(short)
		}
		l4.Criteria = append(l4.Criteria, c)
	}

	// L5 (ours): resilience held high in production and kept there.
	l5 := Level{Level: 5, Name: "Antifragile"}
	{
		c := Criterion{ID: "l5-score", Text: fmt.Sprintf("the service's resilience score is at least %d", L5MinScore)}
		exact := score.Score
		if score.exact != 0 {
			exact = score.exact
		}
		c.Evidence = "score " + score.String()
		if score.Scored && exact < L5MinScore && score.Score >= L5MinScore {
			c.Evidence += fmt.Sprintf(" (%s before rounding)", strconv.FormatFloat(math.Floor(exact*1e6)/1e6, 'f', -1, 64))
		}
		if score.Scored && exact >= L5MinScore {
			c.Met = true
		} else {
			c.Missing = "raise the score: fix the failing scenarios and rerun stale ones (gameday score " + service + ")"
		}
		l5.Criteria = append(l5.Criteria, c)

		c = Criterion{ID: "l5-no-open-weakness", Text: "the latest scored run of every scenario of the service passed (no known weakness left open)"}
		var open []string
		for _, s := range score.Scenarios {
			if s.Run.Held < 1 {
				open = append(open, s.Scenario)
			}
		}
		switch {
		case len(score.Scenarios) == 0:
			c.Missing = "no scored run"
		case len(open) > 0:
			c.Missing = "latest run did not pass: " + list(open)
		default:
			c.Met, c.Evidence = true, fmt.Sprintf("%d scenario(s), all passing", len(score.Scenarios))
		}
		l5.Criteria = append(l5.Criteria, c)

		c = Criterion{ID: "l5-production", Text: "an automated run passed in production (environment: prod or production) in the last 30 days"}
		if i := slices.IndexFunc(runs, func(r Run) bool {
			env := strings.ToLower(r.Labels[LabelEnvironment])
			return r.Automated && (env == "prod" || env == "production") && r.Result.Outcome == experiment.Passed && ScoreRun(r.Result).Scored && within(r, Month)
		}); i >= 0 {
			c.Met, c.Evidence = true, describe(runs[i])
		} else {
			c.Missing = "schedule a guarded scenario against production"
		}
		l5.Criteria = append(l5.Criteria, c)

		c = Criterion{ID: "l5-gameday", Text: "the service took part in a game day in the last 90 days"}
		if i := slices.IndexFunc(runs, func(r Run) bool { return r.Result.GameDay != "" && injected(r) && within(r, Quarter) }); i >= 0 {
			c.Met, c.Evidence = true, "game day "+runs[i].Result.GameDay+": "+describe(runs[i])
		} else {
			c.Missing = "include the service in a game day (several scenarios run as one plan)"
		}
		l5.Criteria = append(l5.Criteria, c)
	}

	m.Levels = []Level{l1, l2, l3, l4, l5}
	for i := range m.Levels {
		m.Levels[i].Met = !slices.ContainsFunc(m.Levels[i].Criteria, func(c Criterion) bool { return !c.Met })
	}
	for _, l := range m.Levels {
		if !l.Met {
			break
		}
		m.Level = l.Level
	}
	return m
}

func describe(r Run) string {
	return fmt.Sprintf("%s (%s, %s, %s)", r.Result.WorkflowID, r.Result.Scenario, r.Result.Outcome, r.End().UTC().Format(time.DateOnly))
}

func list(s []string) string {
	const max = 5
	if len(s) > max {
		return strings.Join(s[:max], ", ") + fmt.Sprintf(" and %d more", len(s)-max)
	}
	return strings.Join(s, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return list(s)
}
