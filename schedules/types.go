// Package schedules holds the schedules file (apiVersion gameday/v1, kind
// Schedules): when scenarios and game-day plans run by themselves, and the
// blackout windows in which none may. It has the strict loader, the
// embedded catalog (seed.yaml, demo.yaml), the blackout window rules (is a
// window open now, until when; the calendars that skip it and that fire at
// its start) and the plan of `gameday schedule apply` (what to create,
// update and delete so the Temporal Schedules match the file). Pure: no
// Temporal import; package control turns its values into Schedules.
package schedules

import (
	"time"

	"github.com/gameday/gameday/internal/duration"
)

const (
	APIVersion = "gameday/v1"
	FileKind   = "Schedules"
)

// File is one schedules file. Its metadata.name is the set: `gameday
// schedule apply` manages exactly the Temporal Schedules of that set, so
// two files (seed and demo, say) never delete each other's schedules.
type File struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

type Metadata struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description"`
}

type Spec struct {
	// TimeZone is the default of every entry and window (IANA name);
	// default UTC.
	TimeZone  string   `json:"time_zone,omitempty" yaml:"time_zone"`
	Schedules []Entry  `json:"schedules" yaml:"schedules"`
	Blackouts []Window `json:"blackouts,omitempty" yaml:"blackouts"`
}

// Entry is one schedule: what it starts and when.
type Entry struct {
	Name string `json:"name" yaml:"name"`
	// Scenario (catalog name or file) or Plan (a game-day plan: catalog
	// name or file); exactly one. A file is read relative to the
	// schedules file.
	Scenario string `json:"scenario,omitempty" yaml:"scenario"`
	Plan     string `json:"plan,omitempty" yaml:"plan"`
	// Overrides are key=value changes, as `gameday run --set`.
	Overrides map[string]string `json:"overrides,omitempty" yaml:"overrides"`
	// Cron expressions (5 fields, or @daily and the like) and/or an
	// interval; at least one.
	Cron  []string          `json:"cron,omitempty" yaml:"cron"`
	Every duration.Duration `json:"every,omitempty" yaml:"every"`
	// TimeZone the cron expressions are read in (default spec.time_zone).
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone"`
	// Jitter delays each run by a random amount up to this.
	Jitter duration.Duration `json:"jitter,omitempty" yaml:"jitter"`
	// Overlap: what happens when a run is due while the previous one still
	// runs (default skip).
	Overlap string `json:"overlap,omitempty" yaml:"overlap"`
	// CatchupWindow: after an outage of the Temporal server, runs missed
	// by at most this long are still started (default 5m, not Temporal's
	// one year: a chaos run a day late is a surprise, not a catch-up).
	CatchupWindow duration.Duration `json:"catchup_window,omitempty" yaml:"catchup_window"`
	// PauseOnFailure pauses the schedule when a run does not pass
	// (aborted, failed, cancelled, expired), with the run and its reason
	// in the schedule's note. A run the freeze or a blackout refused is
	// not a failure.
	PauseOnFailure bool `json:"pause_on_failure,omitempty" yaml:"pause_on_failure"`
	// Paused with a Note (required when paused) saying why.
	Paused bool   `json:"paused,omitempty" yaml:"paused"`
	Note   string `json:"note,omitempty" yaml:"note"`
}

// Overlap policies (Temporal's, minus terminate-other: a terminated run
// never runs its recover, so its faults would stay behind).
const (
	OverlapSkip        = "skip"
	OverlapBufferOne   = "buffer-one"
	OverlapBufferAll   = "buffer-all"
	OverlapCancelOther = "cancel-other"
	OverlapAllowAll    = "allow-all"
)

// Overlaps lists the accepted overlap policies.
var Overlaps = []string{OverlapSkip, OverlapBufferOne, OverlapBufferAll, OverlapCancelOther, OverlapAllowAll}

// Defaults.
const (
	DefaultTimeZone      = "UTC"
	DefaultCatchupWindow = 5 * time.Minute
	// MinEvery: chaos more often than this is a load test, not a game day.
	MinEvery = time.Minute
	// MinCatchupWindow is the Temporal server's own minimum.
	MinCatchupWindow = 10 * time.Second
)

// Window is a blackout window: no run of the schedules it applies to
// starts inside it, and a run of theirs still going when it opens is
// aborted. Either Weekly (recurring) or From and To (one date range).
type Window struct {
	Name string `json:"name" yaml:"name"`
	// TimeZone the times are read in (default spec.time_zone).
	TimeZone string  `json:"time_zone,omitempty" yaml:"time_zone"`
	Weekly   *Weekly `json:"weekly,omitempty" yaml:"weekly"`
	// From and To: "2006-01-02", "2006-01-02 15:04" (or with T) in the
	// window's time zone, or RFC 3339 with an offset; To is excluded.
	From string `json:"from,omitempty" yaml:"from"`
	To   string `json:"to,omitempty" yaml:"to"`
	// Schedules it applies to (entry names); empty: every entry of the
	// file.
	Schedules []string `json:"schedules,omitempty" yaml:"schedules"`
}

// Weekly is a recurring window: on each of Days, from From to To ("09:00"
// to "18:00"; a To at or before From ends on the next day, "24:00" is the
// end of the day). No days: every day.
type Weekly struct {
	Days []string `json:"days,omitempty" yaml:"days"`
	From string   `json:"from" yaml:"from"`
	To   string   `json:"to" yaml:"to"`
}
