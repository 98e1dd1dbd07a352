package resilience

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

// Histories built up level by level: each case is the previous one plus
// what the next level asks for, and states the level and the first
// criterion still missing.
func TestAssessLevels(t *testing.T) {
	pass := func(scenario, class string, days float64, edit ...func(*Run)) Run {
		r := Run{Result: res("order", scenario, experiment.Passed, daysAgo(days)), FaultClass: class}
		for _, e := range edit {
			e(&r)
		}
		return r
	}
	automated := func(r *Run) { r.Automated = true }
	prod := func(r *Run) { r.Labels = map[string]string{LabelEnvironment: "prod"} }
	inGameDay := func(r *Run) { r.Result.GameDay = "seed-weekly" }
	release := func(t string) func(*Run) { return func(r *Run) { r.Result.ReleaseTicket = t } }

	adHoc := []Run{{Result: res("order", "pod-kill", experiment.Aborted, daysAgo(200), func(r *experiment.Result) {
		r.Breach, r.Postmortem = breach("p95"), "GD-1"
	})}}
	planned := append(append([]Run(nil), adHoc...), pass("pod-kill", "pod-kill", 40))
	monthly := append(append([]Run(nil), planned...),
		pass("pod-kill", "pod-kill", 10, automated), pass("pod-kill", "pod-kill", 45, automated), pass("pod-kill", "pod-kill", 75, automated))
	continuous := append(append([]Run(nil), monthly...),
		pass("inventory-delay", "network-delay", 5, release("REL-1")), pass("redis-pool", "redis-pool-exhaustion", 6, release("REL-1")), pass("pod-kill", "pod-kill", 7, release("REL-1")))
	top := append(append([]Run(nil), continuous...), pass("pod-kill", "pod-kill", 1, automated, prod, inGameDay))

	cases := []struct {
		name    string
		runs    []Run
		level   int
		missing string // ID of the first criterion not met
	}{
		{"nothing on record", nil, 0, "l1-injected"},
		{"one ad-hoc run long ago", adHoc, 1, "l2-recent"},
		{"a guarded run this quarter, postmortems filed", planned, 2, "l3-monthly-automated"},
		{"automated runs every month", monthly, 3, "l4-three-classes"},
		{"three classes passing, release covered", continuous, 4, "l5-production"},
		{"in production and in a game day", top, 5, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := Assess("order", c.runs, ScoreService("order", c.runs, nil, now), now)
			assert.Equal(t, c.level, m.Level)
			require.Len(t, m.Levels, 5)
			next := m.Next()
			if c.missing == "" {
				assert.Nil(t, next)
				return
			}
			require.NotNil(t, next)
			var first *Criterion
			for i := range next.Criteria {
				if !next.Criteria[i].Met {
					first = &next.Criteria[i]
					break
				}
			}
			require.NotNil(t, first)
			assert.Equal(t, c.missing, first.ID)
			assert.NotEmpty(t, first.Missing, "a criterion not met says what to do")
		})
	}
}

func TestAssessCriteria(t *testing.T) {
	failed := func(days float64, postmortem string) Run {
		return Run{Result: res("order", "pod-kill", experiment.Aborted, daysAgo(days), func(r *experiment.Result) {
			r.Breach, r.Postmortem = breach("p95"), postmortem
		})}
	}
	crit := func(m Maturity, id string) Criterion {
		for _, l := range m.Levels {
			for _, c := range l.Criteria {
				if c.ID == id {
					return c
				}
			}
		}
		t.Fatalf("no criterion %s", id)
		return Criterion{}
	}
	assess := func(runs ...Run) Maturity { return Assess("order", runs, ScoreService("order", runs, nil, now), now) }

	// A failing run without a postmortem keeps L2 out of reach.
	c := crit(assess(failed(5, "")), "l2-postmortems")
	assert.False(t, c.Met)
	assert.Contains(t, c.Missing, "wf-pod-kill-0625")
	assert.True(t, crit(assess(failed(5, "GD-7")), "l2-postmortems").Met)

	// L3: a month without an automated run is named.
	auto := func(days float64, labels map[string]string) Run {
		return Run{Result: res("order", "pod-kill", experiment.Passed, daysAgo(days)), Automated: true, Labels: labels}
	}
	c = crit(assess(auto(10, nil), auto(70, nil)), "l3-monthly-automated")
	assert.False(t, c.Met)
	assert.Contains(t, c.Missing, "2026-05-01..2026-05-31")
	// Once a scenario is labelled core, only core scenarios count.
	core := map[string]string{LabelCore: "true"}
	c = crit(assess(auto(10, core), auto(40, nil), auto(70, core)), "l3-monthly-automated")
	assert.False(t, c.Met, c.Evidence)
	assert.Contains(t, c.Evidence, `labelled core: "true"`)
	assert.True(t, crit(assess(auto(10, core), auto(40, core), auto(70, core)), "l3-monthly-automated").Met)

	// L4: a stale pass and a failing class are both named.
	stale := Run{Result: res("order", "cache", experiment.Passed, daysAgo(45)), FaultClass: "redis"}
	broken := Run{Result: res("order", "delay", experiment.Aborted, daysAgo(3), func(r *experiment.Result) { r.Breach = breach("p95") }), FaultClass: "network-delay"}
	fresh := Run{Result: res("order", "pods", experiment.Passed, daysAgo(3)), FaultClass: "pod-kill"}
	c = crit(assess(stale, broken, fresh), "l4-three-classes")
	assert.False(t, c.Met)
	assert.Contains(t, c.Missing, "latest run failed for network-delay")
	assert.Contains(t, c.Missing, "older than 30 days for redis")
	assert.Equal(t, "passing: pod-kill", c.Evidence)

	// L4: a release with fewer than three passing classes.
	rel := fresh
	rel.Result.ReleaseTicket = "REL-2"
	c = crit(assess(rel), "l4-releases")
	assert.False(t, c.Met)
	assert.Contains(t, c.Missing, "REL-2 (1)")
	assert.True(t, crit(assess(fresh), "l4-releases").Met, "no release: nothing to check")
}

// L5 asks for a score of at least 90: a service at 89.95, shown rounded
// as 90, has not reached it.
func TestL5ScoreIsNotReachedByRounding(t *testing.T) {
	r := Run{Result: res("order", "pod-kill", experiment.Passed, daysAgo(1), func(r *experiment.Result) {
		r.Gate = &checklist.Gate{Checklist: "release-default", Passed: true, Score: 89.95}
	})}
	s := ScoreService("order", []Run{r}, nil, now)
	assert.Equal(t, "90", s.String(), "shown with one decimal")
	m := Assess("order", []Run{r}, s, now)
	c := m.Levels[4].Criteria[0]
	require.Equal(t, "l5-score", c.ID)
	assert.False(t, c.Met, "89.95 is not at least 90")
	assert.Contains(t, c.Evidence, "89.95")
}
