package schedules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDs(t *testing.T) {
	id := ScheduleID("seed", "order-pod-kill")
	assert.Equal(t, "gameday-schedule.seed.order-pod-kill", id)
	blackout, set, name, ok := ParseID(id)
	assert.True(t, ok)
	assert.False(t, blackout)
	assert.Equal(t, "seed", set)
	assert.Equal(t, "order-pod-kill", name)
	blackout, set, name, ok = ParseID(BlackoutID("seed", "618"))
	assert.True(t, ok && blackout && set == "seed" && name == "618")
	// Set "a-b" entry "c" and set "a" entry "b-c" are different schedules.
	assert.NotEqual(t, ScheduleID("a-b", "c"), ScheduleID("a", "b-c"))
	for _, notOurs := range []string{"gameday-sweep", "gameday-checklist-release-default-quarterly", "gameday-schedule.seed", "gameday-schedule..x", "other"} {
		_, _, _, ok := ParseID(notOurs)
		assert.False(t, ok, notOurs)
	}
}

func TestPlan(t *testing.T) {
	const set = "team"
	running := PauseState{}
	held := PauseState{Paused: true, Note: "waiting for the new pods"}
	d := func(name, fp string, p PauseState) Desired {
		return Desired{ID: ScheduleID(set, name), Name: name, Kind: KindScenario, Fingerprint: fp, Pause: p}
	}
	cur := func(name, owner, fp string, file, live PauseState, drift ...string) Current {
		return Current{ID: ScheduleID(set, name), Set: owner, Fingerprint: fp, File: file, Live: live, Drift: drift}
	}
	for _, c := range []struct {
		name    string
		desired []Desired
		current []Current
		want    []Change
		summary string
	}{
		{
			name:    "create",
			desired: []Desired{d("a", "f1", running), d("b", "f2", held)},
			want: []Change{
				{Verb: Create, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, SetPause: &running},
				{Verb: Create, ID: ScheduleID(set, "b"), Name: "b", Kind: KindScenario, SetPause: &held, Why: []string{"paused: waiting for the new pods"}},
			},
			summary: "2 created",
		},
		{
			name:    "unchanged",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{cur("a", set, "f1", running, running)},
			want:    []Change{{Verb: Unchanged, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario}},
			summary: "1 unchanged",
		},
		{
			name:    "paused by hand stays paused",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{cur("a", set, "f1", running, PauseState{Paused: true, Note: "run X failed"})},
			want:    []Change{{Verb: Unchanged, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, Why: []string{"paused: run X failed by hand, left as is"}}},
			summary: "1 unchanged",
		},
		{
			name:    "update: definition",
			desired: []Desired{d("a", "f2", running)},
			current: []Current{cur("a", set, "f1", running, running)},
			want:    []Change{{Verb: Update, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, Why: []string{"definition changed"}}},
			summary: "1 updated",
		},
		{
			name:    "update: drift outside the file",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{cur("a", set, "f1", running, running, "task queue other")},
			want:    []Change{{Verb: Update, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, Why: []string{"changed outside the file: task queue other"}}},
			summary: "1 updated",
		},
		{
			name:    "update: the file pauses it",
			desired: []Desired{d("a", "f1", held)},
			current: []Current{cur("a", set, "f1", running, running)},
			want:    []Change{{Verb: Update, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, SetPause: &held, Why: []string{"file now says paused: waiting for the new pods"}}},
			summary: "1 updated",
		},
		{
			name:    "update: the file unpauses what it paused, even if paused since",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{cur("a", set, "f1", held, held)},
			want:    []Change{{Verb: Update, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario, SetPause: &running, Why: []string{"file now says running"}}},
			summary: "1 updated",
		},
		{
			name:    "delete only the set's own",
			desired: nil,
			current: []Current{cur("gone", set, "f1", running, running), cur("other", "another-set", "f", running, running), cur("hand-made", "", "", running, running)},
			want: []Change{
				{Verb: Delete, ID: ScheduleID(set, "gone"), Name: "gone", Why: []string{"no longer in the file"}},
				{Verb: Foreign, ID: ScheduleID(set, "hand-made"), Name: "hand-made", Why: []string{"not owned by a gameday schedules file"}},
				{Verb: Foreign, ID: ScheduleID(set, "other"), Name: "other", Why: []string{"owned by schedules file another-set"}},
			},
			summary: "1 deleted, 2 left alone (not this file's)",
		},
		{
			name:    "a desired id taken by a schedule nobody's file owns",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{cur("a", "", "", running, running)},
			want: []Change{{Verb: Conflict, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario,
				Why: []string{"schedule gameday-schedule.team.a exists and no gameday schedules file owns it: rename the entry, or delete that schedule yourself"}}},
			summary: "1 in conflict",
		},
		{
			name:    "the same set applied by another installation (task queue) of the namespace",
			desired: []Desired{d("a", "f1", running)},
			current: []Current{
				{ID: ScheduleID(set, "a"), Set: set, Fingerprint: "f1", OtherQueue: "gameday-staging"},
				{ID: ScheduleID(set, "b"), Set: set, Fingerprint: "f2", OtherQueue: "gameday-staging"},
			},
			want: []Change{
				{Verb: Conflict, ID: ScheduleID(set, "a"), Name: "a", Kind: KindScenario,
					Why: []string{"schedule gameday-schedule.team.a runs on task queue gameday-staging: schedules file team was applied there (another installation, or this one before its GAMEDAY_TASK_QUEUE changed); apply it from there, rename the set, or delete that schedule yourself"}},
				{Verb: Foreign, ID: ScheduleID(set, "b"), Name: "b", Why: []string{"runs on task queue gameday-staging (set team applied from another installation, or before GAMEDAY_TASK_QUEUE changed)"}},
			},
			summary: "1 left alone (not this file's), 1 in conflict",
		},
		{
			name: "everything at once",
			desired: []Desired{d("same", "f1", running), d("edited", "f9", running), d("new", "f3", running),
				{ID: BlackoutID(set, "nights"), Name: "nights", Kind: KindBlackout, Fingerprint: "w1"}},
			current: []Current{cur("same", set, "f1", running, running), cur("edited", set, "f2", running, running), cur("removed", set, "f4", running, running),
				{ID: BlackoutID(set, "nights"), Set: set, Fingerprint: "w1"}, {ID: BlackoutID(set, "old"), Set: set, Fingerprint: "w0"}},
			want: []Change{
				{Verb: Unchanged, ID: BlackoutID(set, "nights"), Name: "nights", Kind: KindBlackout},
				{Verb: Delete, ID: BlackoutID(set, "old"), Name: "old", Kind: KindBlackout, Why: []string{"no longer in the file"}},
				{Verb: Update, ID: ScheduleID(set, "edited"), Name: "edited", Kind: KindScenario, Why: []string{"definition changed"}},
				{Verb: Create, ID: ScheduleID(set, "new"), Name: "new", Kind: KindScenario, SetPause: &running},
				{Verb: Delete, ID: ScheduleID(set, "removed"), Name: "removed", Why: []string{"no longer in the file"}},
				{Verb: Unchanged, ID: ScheduleID(set, "same"), Name: "same", Kind: KindScenario},
			},
			summary: "1 created, 1 updated, 2 deleted, 2 unchanged",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Plan(set, c.desired, c.current)
			assert.Equal(t, c.want, got)
			assert.Equal(t, c.summary, Summary(got))
			// Applying the plan and planning again changes nothing.
			if len(Conflicts(got)) > 0 {
				return
			}
			var after []Current
			for _, ch := range got {
				switch ch.Verb {
				case Delete:
					continue
				case Foreign:
					for _, cu := range c.current {
						if cu.ID == ch.ID {
							after = append(after, cu)
						}
					}
					continue
				}
				for _, de := range c.desired {
					if de.ID != ch.ID {
						continue
					}
					live := de.Pause
					for _, cu := range c.current {
						if cu.ID == de.ID && ch.SetPause == nil {
							live = cu.Live
						}
					}
					after = append(after, Current{ID: de.ID, Set: set, Fingerprint: de.Fingerprint, File: de.Pause, Live: live})
				}
			}
			again := Plan(set, c.desired, after)
			assert.False(t, Changed(again), "second plan: %+v", again)
		})
	}
	require.Equal(t, "nothing", Summary(nil))
}

func TestFingerprint(t *testing.T) {
	a, err := Fingerprint(map[string]any{"b": 1, "a": []string{"x"}})
	require.NoError(t, err)
	b, err := Fingerprint(map[string]any{"a": []string{"x"}, "b": 1})
	require.NoError(t, err)
	assert.Equal(t, a, b, "map order does not matter")
	c, err := Fingerprint(map[string]any{"a": []string{"y"}, "b": 1})
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
	assert.Len(t, a, 24)
}
