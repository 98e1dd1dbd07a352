package schedules

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Ownership. A Temporal Schedule is the file's when its memo names the
// file's set (MemoSet); apply creates, updates and deletes only those. The
// ids have prefixes of their own too, so they never meet the schedules
// gameday keeps by other means (gameday-sweep, gameday-checklist-...:
// no MemoSet, never touched by apply) or anybody else's.
const (
	IDPrefix         = "gameday-schedule."
	BlackoutIDPrefix = "gameday-blackout."

	// MemoSet is the Schedule's memo: the set (file metadata.name) that
	// owns it.
	MemoSet = "gameday.schedules"
	// MemoSchedule is the action's memo (a Memo), which Temporal copies
	// onto every run the schedule starts: the run knows its schedule and
	// the windows define refuses it in.
	MemoSchedule = "gameday.schedule"
)

// ScheduleID is the Temporal Schedule id of an entry. The dots cannot occur
// in a DNS-label name, so set "a-b" entry "c" and set "a" entry "b-c" never
// meet.
func ScheduleID(set, entry string) string { return IDPrefix + set + "." + entry }

// BlackoutID is the id of the Schedule that aborts the runs still going
// when a window opens.
func BlackoutID(set, window string) string { return BlackoutIDPrefix + set + "." + window }

// ParseID splits a schedule id made by ScheduleID (blackout false) or
// BlackoutID (true).
func ParseID(id string) (blackout bool, set, name string, ok bool) {
	rest, isEntry := strings.CutPrefix(id, IDPrefix)
	if !isEntry {
		if rest, blackout = strings.CutPrefix(id, BlackoutIDPrefix); !blackout {
			return false, "", "", false
		}
	}
	set, name, ok = strings.Cut(rest, ".")
	if !ok || set == "" || name == "" || strings.Contains(name, ".") {
		return false, "", "", false
	}
	return blackout, set, name, true
}

// Memo is what apply records on a schedule's action (MemoSchedule) and so
// on each of its runs.
type Memo struct {
	ID   string `json:"id"`
	Set  string `json:"set"`
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// What and When, for people: "scenario order-pod-kill (duration=45s)",
	// "cron 30 10 * * * Asia/Shanghai, jitter 10m".
	What string `json:"what"`
	When string `json:"when"`
	// Fingerprint of what apply wrote (see Fingerprint).
	Fingerprint string `json:"fingerprint"`
	// File is the pause state the file asked for.
	File PauseState `json:"file"`
	// Blackouts are the windows of the entry: define refuses a run inside
	// one.
	Blackouts []Window `json:"blackouts,omitempty"`
}

// Kind is what a schedule starts.
type Kind string

const (
	KindScenario Kind = "scenario" // an ExperimentWorkflow
	KindPlan     Kind = "plan"     // a GameDayWorkflow
	KindBlackout Kind = "blackout" // the aborter of a blackout window
)

// PauseState is a schedule's paused flag and note.
type PauseState struct {
	Paused bool   `json:"paused"`
	Note   string `json:"note,omitempty"`
}

func (p PauseState) String() string {
	if !p.Paused {
		return "running"
	}
	return "paused: " + p.Note
}

// Desired is one schedule as the file wants it.
type Desired struct {
	ID   string
	Name string // entry or window name
	Kind Kind
	// Fingerprint of everything apply writes but the pause state (see
	// Fingerprint): spec, action and its input, policies.
	Fingerprint string
	Pause       PauseState
}

// Current is one schedule as Describe shows it.
type Current struct {
	ID string
	// Set is the owner (memo MemoSet); empty when no gameday file owns it.
	Set         string
	Fingerprint string
	// File is the pause state the file asked for when it was last
	// applied; Live is the schedule's now (a person, or pause on failure,
	// may have changed it since).
	File PauseState
	Live PauseState
	// Drift names what Describe shows differently from what apply would
	// write (changed in the Temporal UI, say).
	Drift []string
	// OtherQueue is the task queue the schedule starts its runs on when
	// it is not this installation's: schedules live in the namespace, and
	// another installation (a staging worker sharing it) applied a set of
	// the same name. Apply leaves such a schedule alone.
	OtherQueue string
}

// Verb is what apply does to one schedule.
type Verb string

const (
	Create    Verb = "create"
	Update    Verb = "update"
	Delete    Verb = "delete"
	Unchanged Verb = "unchanged"
	// Foreign: a schedule in the set's id space that the set does not own
	// (no memo, or another set's): left alone.
	Foreign Verb = "left alone"
	// Conflict: the file wants an id that exists and is not the set's.
	// Apply refuses before changing anything.
	Conflict Verb = "conflict"
)

// Change is one line of the plan.
type Change struct {
	Verb Verb
	ID   string
	Name string
	Kind Kind
	Why  []string
	// SetPause, when set, is the pause state to give the schedule (create,
	// or the file's pause state changed); nil keeps the live one.
	SetPause *PauseState
}

// Plan is what apply must do so the set's schedules match the file:
// desired is the file, current what the server has (the set's schedules
// and any other schedule in the set's id space or at a desired id). Pure,
// sorted by id.
//
// The pause state belongs to people at run time (a pause on failure, a
// `gameday schedule pause`): apply sets it when it creates a schedule and
// when the file's paused/note changed since the last apply, and otherwise
// leaves it as it is (saying so), so re-applying an unchanged file never
// unpauses a schedule somebody paused.
func Plan(set string, desired []Desired, current []Current) []Change {
	cur := map[string]Current{}
	for _, c := range current {
		cur[c.ID] = c
	}
	var out []Change
	want := map[string]bool{}
	for _, d := range desired {
		want[d.ID] = true
		ch := Change{ID: d.ID, Name: d.Name, Kind: d.Kind}
		c, exists := cur[d.ID]
		switch {
		case !exists:
			ch.Verb, ch.SetPause = Create, &d.Pause
			if d.Pause.Paused {
				ch.Why = append(ch.Why, d.Pause.String())
			}
		case c.Set == set && c.OtherQueue != "":
			ch.Verb = Conflict
			ch.Why = append(ch.Why, fmt.Sprintf("schedule %s runs on task queue %s: schedules file %s was applied there (another installation, or this one before its GAMEDAY_TASK_QUEUE changed); apply it from there, rename the set, or delete that schedule yourself", d.ID, c.OtherQueue, set))
		case c.Set != set:
			ch.Verb = Conflict
			owner := "no gameday schedules file owns it"
			if c.Set != "" {
				owner = "it belongs to schedules file " + c.Set
			}
			ch.Why = append(ch.Why, fmt.Sprintf("schedule %s exists and %s: rename the entry, or delete that schedule yourself", d.ID, owner))
		default:
			if c.Fingerprint != d.Fingerprint {
				ch.Why = append(ch.Why, "definition changed")
			}
			if len(c.Drift) > 0 {
				ch.Why = append(ch.Why, "changed outside the file: "+strings.Join(c.Drift, ", "))
			}
			if c.File != d.Pause {
				p := d.Pause
				ch.SetPause = &p
				ch.Why = append(ch.Why, "file now says "+p.String())
			}
			ch.Verb = Update
			if len(ch.Why) == 0 {
				ch.Verb = Unchanged
			}
			if ch.SetPause == nil && c.Live != d.Pause {
				ch.Why = append(ch.Why, fmt.Sprintf("%s by hand, left as is", c.Live))
			}
		}
		out = append(out, ch)
	}
	for _, c := range current {
		if want[c.ID] {
			continue
		}
		blackout, _, name, _ := ParseID(c.ID)
		kind := Kind("")
		if blackout {
			kind = KindBlackout
		}
		if c.Set == set && c.OtherQueue != "" {
			out = append(out, Change{Verb: Foreign, ID: c.ID, Name: name, Kind: kind, Why: []string{"runs on task queue " + c.OtherQueue + " (set " + set + " applied from another installation, or before GAMEDAY_TASK_QUEUE changed)"}})
			continue
		}
		if c.Set == set {
			out = append(out, Change{Verb: Delete, ID: c.ID, Name: name, Kind: kind, Why: []string{"no longer in the file"}})
			continue
		}
		why := "not owned by a gameday schedules file"
		if c.Set != "" {
			why = "owned by schedules file " + c.Set
		}
		out = append(out, Change{Verb: Foreign, ID: c.ID, Name: name, Kind: kind, Why: []string{why}})
	}
	slices.SortFunc(out, func(a, b Change) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Conflicts are the changes apply refuses to make.
func Conflicts(plan []Change) []Change {
	var out []Change
	for _, c := range plan {
		if c.Verb == Conflict {
			out = append(out, c)
		}
	}
	return out
}

// Changed reports whether the plan changes anything.
func Changed(plan []Change) bool {
	for _, c := range plan {
		if c.Verb == Create || c.Verb == Update || c.Verb == Delete {
			return true
		}
	}
	return false
}

// Summary counts the plan: "1 created, 1 updated, 1 deleted, 3 unchanged",
// leaving out what is zero ("nothing" for an empty plan).
func Summary(plan []Change) string {
	n := map[Verb]int{}
	for _, c := range plan {
		n[c.Verb]++
	}
	var parts []string
	for _, v := range []struct {
		verb Verb
		word string
	}{{Create, "created"}, {Update, "updated"}, {Delete, "deleted"}, {Unchanged, "unchanged"}, {Foreign, "left alone (not this file's)"}, {Conflict, "in conflict"}} {
		if n[v.verb] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v.verb], v.word))
		}
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// Fingerprint is a short hash of v's JSON: apply records it on the
// schedule (memo MemoFingerprint) and compares it with the file's next
// time. The server rewrites cron expressions as calendars, so comparing
// a described spec field by field with the written one would see changes
// that are not there; the fingerprint of what was written does not.
func Fingerprint(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12]), nil
}
