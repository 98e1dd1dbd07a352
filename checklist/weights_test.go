package checklist

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestEvaluateWeights(t *testing.T) {
	now := day("2026-08-01")
	tests := []struct {
		name  string
		state ItemState
		want  ItemState // state afterwards; ItemID filled in
		// change expected (nil: none)
		change *Change
	}{
		{
			name:   "seed example: 15% item alerting in 3 releases goes to 50% and strong-blocking",
			state:  ItemState{Weight: 15, Since: day("2026-01-01"), LastFault: day("2026-07-20"), AlertReleases: []string{"R1", "R2", "R3"}},
			want:   ItemState{Weight: 50, StrongBlocking: true, Since: now, LastFault: day("2026-07-20")},
			change: &Change{OldWeight: 15, NewWeight: 50, NewBlocking: true, Rule: RuleAlerting, Reason: "alerted in releases R1, R2, R3: weight 15 → 50, now strong-blocking"},
		},
		{
			name:   "alerting on an item already strong-blocking only adds weight",
			state:  ItemState{Weight: 40, StrongBlocking: true, AlertReleases: []string{"R4", "R5", "R6", "R7"}},
			want:   ItemState{Weight: 75, StrongBlocking: true, Since: now},
			change: &Change{OldWeight: 40, NewWeight: 75, OldBlocking: true, NewBlocking: true, Rule: RuleAlerting, Reason: "alerted in releases R4, R5, R6, R7: weight 40 → 75"},
		},
		{
			name:   "alerting caps at 100",
			state:  ItemState{Weight: 80, AlertReleases: []string{"a", "b", "c"}},
			want:   ItemState{Weight: 100, StrongBlocking: true, Since: now},
			change: &Change{OldWeight: 80, NewWeight: 100, NewBlocking: true, Rule: RuleAlerting, Reason: "alerted in releases a, b, c: weight 80 → 100, now strong-blocking"},
		},
		{
			name:  "alerting at the cap and already blocking changes nothing but spends the releases",
			state: ItemState{Weight: 100, StrongBlocking: true, AlertReleases: []string{"a", "b", "c"}},
			want:  ItemState{Weight: 100, StrongBlocking: true, Since: now},
		},
		{
			name:  "3 alerts in only 2 distinct releases: nothing",
			state: ItemState{Weight: 15, AlertReleases: []string{"R1", "R1", "R2"}},
			want:  ItemState{Weight: 15, AlertReleases: []string{"R1", "R1", "R2"}},
		},
		{
			name:   "quiet since tracking began, 6 passes: -20",
			state:  ItemState{Weight: 30, ConsecutivePasses: 6, Since: day("2026-03-15")},
			want:   ItemState{Weight: 10, Since: now},
			change: &Change{OldWeight: 30, NewWeight: 10, Rule: RuleQuiet, Reason: "passed 6 times in a row, no fault since 2026-03-15: weight 30 → 10"},
		},
		{
			name:   "last fault exactly 3 months ago, 7 passes: -20",
			state:  ItemState{Weight: 25, ConsecutivePasses: 7, Since: day("2026-01-01"), LastFault: day("2026-05-01")},
			want:   ItemState{Weight: 5, Since: now, LastFault: day("2026-05-01")},
			change: &Change{OldWeight: 25, NewWeight: 5, Rule: RuleQuiet, Reason: "passed 7 times in a row, no fault since 2026-05-01: weight 25 → 5"},
		},
		{
			name:   "quiet keeps the strong-blocking flag",
			state:  ItemState{Weight: 50, StrongBlocking: true, ConsecutivePasses: 6, Since: day("2026-01-01")},
			want:   ItemState{Weight: 30, StrongBlocking: true, Since: now},
			change: &Change{OldWeight: 50, NewWeight: 30, OldBlocking: true, NewBlocking: true, Rule: RuleQuiet, Reason: "passed 6 times in a row, no fault since 2026-01-01: weight 50 → 30"},
		},
		{
			name:   "floor: 10 → 5",
			state:  ItemState{Weight: 10, ConsecutivePasses: 6, Since: day("2026-01-01")},
			want:   ItemState{Weight: 5, Since: now},
			change: &Change{OldWeight: 10, NewWeight: 5, Rule: RuleQuiet, Reason: "passed 6 times in a row, no fault since 2026-01-01: weight 10 → 5"},
		},
		{
			name:  "floor: 5 stays 5, counters untouched",
			state: ItemState{Weight: 5, ConsecutivePasses: 6, Since: day("2026-01-01")},
			want:  ItemState{Weight: 5, ConsecutivePasses: 6, Since: day("2026-01-01")},
		},
		{
			name:  "below the floor (set so in the file) is not raised",
			state: ItemState{Weight: 3, ConsecutivePasses: 9, Since: day("2026-01-01")},
			want:  ItemState{Weight: 3, ConsecutivePasses: 9, Since: day("2026-01-01")},
		},
		{
			name:  "5 passes: nothing",
			state: ItemState{Weight: 30, ConsecutivePasses: 5, Since: day("2026-01-01")},
			want:  ItemState{Weight: 30, ConsecutivePasses: 5, Since: day("2026-01-01")},
		},
		{
			name:  "fault 2 months ago: nothing",
			state: ItemState{Weight: 30, ConsecutivePasses: 8, Since: day("2026-01-01"), LastFault: day("2026-06-01")},
			want:  ItemState{Weight: 30, ConsecutivePasses: 8, Since: day("2026-01-01"), LastFault: day("2026-06-01")},
		},
		{
			name:  "tracked for only 2 months: nothing",
			state: ItemState{Weight: 30, ConsecutivePasses: 8, Since: day("2026-06-01")},
			want:  ItemState{Weight: 30, ConsecutivePasses: 8, Since: day("2026-06-01")},
		},
		{
			name:   "both rules apply: alerting only",
			state:  ItemState{Weight: 15, ConsecutivePasses: 6, Since: day("2026-01-01"), AlertReleases: []string{"R1", "R2", "R3"}},
			want:   ItemState{Weight: 50, StrongBlocking: true, Since: now},
			change: &Change{OldWeight: 15, NewWeight: 50, NewBlocking: true, Rule: RuleAlerting, Reason: "alerted in releases R1, R2, R3: weight 15 → 50, now strong-blocking"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.state.ItemID, tt.want.ItemID = "item", "item"
			in := []ItemState{tt.state}
			snapshot := cloneStates(in)
			out, changes := Evaluate(in, now)
			if !reflect.DeepEqual(in, snapshot) {
				t.Errorf("Evaluate modified its input")
			}
			if !reflect.DeepEqual(out, []ItemState{tt.want}) {
				t.Errorf("state\n got %+v\nwant %+v", out[0], tt.want)
			}
			var want []Change
			if tt.change != nil {
				c := *tt.change
				c.ItemID, c.At = "item", now
				want = []Change{c}
			}
			if !reflect.DeepEqual(changes, want) {
				t.Errorf("changes\n got %+v\nwant %+v", changes, want)
			}
		})
	}
}

// The quiet rule restarts its clock and the pass streak, so evaluating again
// (the workflow does on every run and each quarter) does not cut twice.
func TestQuietDoesNotRepeat(t *testing.T) {
	s := []ItemState{{ItemID: "a", Weight: 60, ConsecutivePasses: 6, Since: day("2026-01-01")}}
	now := day("2026-05-01")
	s, ch := Evaluate(s, now)
	if len(ch) != 1 || s[0].Weight != 40 {
		t.Fatalf("first evaluation: %+v %+v", s, ch)
	}
	// Six more passes straight away: still not 3 quiet months since the cut.
	for range 6 {
		s = Record(s, []Observation{{ItemID: "a", Pass: true, At: now}})
	}
	if s, ch = Evaluate(s, now.AddDate(0, 2, 0)); len(ch) != 0 {
		t.Fatalf("cut again after 2 months: %+v", ch)
	}
	if s, ch = Evaluate(s, now.AddDate(0, 3, 0)); len(ch) != 1 || s[0].Weight != 20 {
		t.Fatalf("no cut after 3 more months: %+v %+v", s, ch)
	}
}

func TestRecord(t *testing.T) {
	at := day("2026-07-01")
	in := []ItemState{
		{ItemID: "pass", ConsecutivePasses: 2},
		{ItemID: "fail", ConsecutivePasses: 5},
		{ItemID: "alert", ConsecutivePasses: 4, LastFault: day("2026-06-01"), AlertReleases: []string{"R1"}},
		{ItemID: "late", LastFault: day("2026-08-01")},
	}
	snapshot := cloneStates(in)
	out := Record(in, []Observation{
		{ItemID: "pass", Pass: true, At: at},
		{ItemID: "fail", Pass: false, At: at},
		// Signed pass but its fault class breached a guard: an alert, and
		// the streak ends.
		{ItemID: "alert", Pass: true, Alerted: true, Release: "R2", At: at},
		{ItemID: "alert", Pass: false, Alerted: true, Release: "R1", At: at},
		{ItemID: "alert", Alerted: true, At: at}, // no release: not counted
		// An observation older than the last fault does not move it back.
		{ItemID: "late", Alerted: true, Release: "R9", At: at},
		{ItemID: "unknown", Pass: true, Alerted: true, Release: "R1", At: at},
	})
	if !reflect.DeepEqual(in, snapshot) {
		t.Errorf("Record modified its input")
	}
	want := []ItemState{
		{ItemID: "pass", ConsecutivePasses: 3, Passed: 1},
		{ItemID: "fail", Failed: 1},
		// An alert is a failed run for the tally, whatever was signed.
		{ItemID: "alert", LastFault: at, AlertReleases: []string{"R1", "R2"}, Failed: 3},
		{ItemID: "late", LastFault: day("2026-08-01"), AlertReleases: []string{"R9"}, Failed: 1},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got  %+v\nwant %+v", out, want)
	}
}

// The seed's story end to end: distributed-lock failure verification at
// 15% alerts in three releases and comes out at 50% and strong-blocking;
// several alerting runs of one release count once.
func TestSeedLockStory(t *testing.T) {
	// The shipped default checklist, read plainly: its loader (package
	// checklists) depends on this package.
	data, err := os.ReadFile("../checklists/release-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cl Checklist
	if err := yaml.Unmarshal(data, &cl); err != nil {
		t.Fatal(err)
	}
	start := day("2024-01-02")
	s := NewState(cl, start)
	if len(s) != len(cl.Spec.Items) {
		t.Fatalf("%d states for %d items", len(s), len(cl.Spec.Items))
	}
	for i, r := range []string{"REL-1", "REL-1", "REL-2", "REL-3"} {
		at := start.AddDate(0, 0, 7*(i+1))
		g := EvaluateGate(cl, signs(cl, nil, nil))
		MarkAlerted(&g, []string{"redis-unavailable"})
		var obs []Observation
		for _, r2 := range g.Items {
			obs = append(obs, Observation{ItemID: r2.ID, Pass: r2.Signed && r2.Pass && !r2.Alerted, Alerted: r2.Alerted, Release: r, At: at})
		}
		s = Record(s, obs)
		var ch []Change
		s, ch = Evaluate(s, at)
		if i < 3 && len(ch) != 0 {
			t.Fatalf("release %d: early change %+v", i, ch)
		}
		if i == 3 {
			if len(ch) != 1 || ch[0].ItemID != "lock-failure" || ch[0].OldWeight != 15 || ch[0].NewWeight != 50 || !ch[0].NewBlocking ||
				!strings.Contains(ch[0].Reason, "alerted in releases REL-1, REL-2, REL-3") {
				t.Fatalf("changes = %+v", ch)
			}
		}
	}
	learned := Apply(cl, s)
	for _, it := range learned.Spec.Items {
		if it.ID == "lock-failure" && (it.Weight != 50 || !it.StrongBlocking) {
			t.Errorf("learned lock item = %+v", it)
		}
	}
}
