package scenarios

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/sli"
)

// A guard's drift rule (baseline, drift) and spec.pause_timeout: errors
// name the file, line and field; the default limit is applied.
func TestDriftRuleFields(t *testing.T) {
	// base's line 22 is guards[0].threshold; line 29 guards[1].on_error.
	withBaseline := func(lines string) []byte {
		return edit(map[int]string{22: "      threshold: 0.8\n" + lines})
	}
	tests := []struct {
		name string
		data []byte
		want []want
	}{
		{"drift without baseline", withBaseline("      drift: 15"),
			[]want{{23, "spec.guards[0].drift", "needs a baseline"}}},
		{"both sources", withBaseline("      baseline: {query: 'avg_over_time(up[7d])', runs: 3}"),
			[]want{{23, "spec.guards[0].baseline", "one of query or runs, not both"}}},
		{"no source", withBaseline("      baseline: {}"),
			[]want{{23, "spec.guards[0].baseline", "needs query"}}},
		{"too many runs", withBaseline("      baseline:\n        runs: 500"),
			[]want{{24, "spec.guards[0].baseline.runs", "between 1 and 50"}}},
		{"negative runs", withBaseline("      baseline:\n        runs: -1"),
			[]want{{24, "spec.guards[0].baseline.runs", "between 1 and 50"}}},
		{"no window", withBaseline("      baseline:\n        query: avg(up)"),
			[]want{{24, "spec.guards[0].baseline.query", "looks at no window"}}},
		{"grouped", withBaseline("      baseline:\n        query: avg by (pod) (avg_over_time(up[7d]))"),
			[]want{{24, "spec.guards[0].baseline.query", "groups by labels at the top: a baseline must aggregate to one number"}}},
		{"grouped after", withBaseline("      baseline:\n        query: sum(avg_over_time(up[7d])) without (job)"),
			[]want{{24, "spec.guards[0].baseline.query", "groups by labels"}}},
		{"unbalanced", withBaseline("      baseline:\n        query: avg_over_time(up[7d]"),
			[]want{{24, "spec.guards[0].baseline.query", "unbalanced"}}},
		{"nan drift", withBaseline("      baseline: {runs: 3}\n      drift: .nan"),
			[]want{{24, "spec.guards[0].drift", "finite number"}}},
		{"negative drift", withBaseline("      baseline: {runs: 3}\n      drift: -5"),
			[]want{{24, "spec.guards[0].drift", "between 0 and 1000"}}},
		{"drift not a number", withBaseline("      baseline: {runs: 3}\n      drift: 15%"),
			[]want{{24, "spec.guards[0].drift", "cannot unmarshal"}}},
		{"armed is not written", withBaseline("      armed: 0.2"),
			[]want{{23, "spec.guards[0].armed", "unknown field"}}},
		{"steady-state guard", edit(map[int]string{31: "    roles: [dev, sre]\n  steady_state:\n    guards:\n      - {name: v, query: up, op: '<', threshold: 1, baseline: {runs: 2}}"}),
			[]want{{34, "spec.steady_state.guards[0].baseline", "declare baseline and drift on spec.guards"}}},
		{"pause timeout", edit(map[int]string{31: "    roles: [dev, sre]\n  pause_timeout: 48h"}),
			[]want{{32, "spec.pause_timeout", "between 1s and 24h0m0s"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", tc.data)
			if err == nil {
				t.Fatal("parsed")
			}
			got := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(got, "x.yaml:"+strconv.Itoa(w.line)+": "+w.field+": ") || !strings.Contains(got, w.msg) {
					t.Errorf("got %s\nwant x.yaml:%d: %s: ...%s...", got, w.line, w.field, w.msg)
				}
			}
		})
	}
}

func TestDriftRuleAccepted(t *testing.T) {
	s, err := Parse("x.yaml", edit(map[int]string{
		22: "      threshold: 0.8\n      baseline:\n        query: avg_over_time(histogram_quantile(0.95, sum by (le) (rate(h[5m])))[7d:5m])",
		29: "      on_error: ignore\n      baseline: {runs: 5}\n      drift: 25",
		31: "    roles: [dev, sre]\n  pause_timeout: 2m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	g0, g1 := s.Spec.Guards[0], s.Spec.Guards[1]
	if g0.Drift != sli.DefaultDriftLimit || g0.DriftLimit() != 15 {
		t.Errorf("default drift limit: %g", g0.Drift)
	}
	if g1.Drift != 25 || g1.Baseline.Runs != 5 {
		t.Errorf("guard 1: %+v %+v", g1, g1.Baseline)
	}
	if s.Spec.PauseTimeout.D() != 2*time.Minute {
		t.Errorf("pause timeout %s", s.Spec.PauseTimeout)
	}
	if g0.Armed != nil {
		t.Error("a scenario never arms a guard")
	}
}
