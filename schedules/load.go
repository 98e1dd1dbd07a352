package schedules

import (
	"embed"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/internal/yamlx"
)

var schema = yamlx.Schema{APIVersion: APIVersion, Kind: FileKind}

// The catalog ships inside the binary: the seed's cadence (seed.yaml) and
// the demo schedule `make run` applies (demo.yaml).
//
//go:embed *.yaml
var catalogFS embed.FS

var loader = yamlx.Loader[File]{
	Schema:  schema,
	Check:   check,
	Catalog: catalogFS,
	Dir:     "schedules",
	Noun:    "schedules file",
	Name:    func(f File) string { return f.Metadata.Name },
}

// Parse strictly decodes and validates one schedules file and returns it
// with defaults applied. Strict like the scenario loader: a misspelt
// "pause_on_failur" would otherwise quietly leave a failing schedule
// running every day. Errors name FILE:LINE: FIELD.
func Parse(file string, data []byte) (File, error) { return loader.Parse(file, data) }

// Load reads and parses a schedules file.
func Load(path string) (File, error) { return loader.Load(path) }

// Validate checks a File that did not come from a file, by the same rules.
func Validate(f *File) error { return loader.Validate(f) }

// Catalog parses every embedded schedules file, sorted by name.
func Catalog() ([]File, error) { return loader.All() }

// Find resolves a schedules file or the name of a catalog entry.
func Find(nameOrPath string) (File, error) { return loader.Find(nameOrPath) }

// ResolveRef is where a scenario or plan named in a schedules file is:
// a file name (ending in .yaml or .yml) relative to the schedules file's
// directory, anything else a catalog name. dir is empty for the catalog.
func ResolveRef(dir, ref string) string {
	if dir == "" || filepath.IsAbs(ref) || !(strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")) {
		return ref
	}
	return filepath.Join(dir, ref)
}

func check(c *yamlx.Collector, f *File) {
	c.Header(schema, f.APIVersion, f.Kind, f.Metadata.Name)
	// The set's name is part of every schedule id and run id: keep it short.
	if len(f.Metadata.Name) > 40 {
		c.Add("metadata.name", "at most 40 characters (it is part of every schedule id), got %d", len(f.Metadata.Name))
	}
	if f.Spec.TimeZone == "" {
		f.Spec.TimeZone = DefaultTimeZone
	} else if _, err := loadZone(f.Spec.TimeZone); err != nil {
		c.Add("spec.time_zone", "%v", err)
	}
	names := map[string]int{}
	for i := range f.Spec.Schedules {
		p := fmt.Sprintf("spec.schedules[%d]", i)
		e := &f.Spec.Schedules[i]
		checkEntry(c, p, e, f.Spec.TimeZone)
		if j, dup := names[e.Name]; dup && e.Name != "" {
			c.Add(p+".name", "%q is also the name of spec.schedules[%d]", e.Name, j)
		}
		names[e.Name] = i
	}
	windows := map[string]int{}
	for i := range f.Spec.Blackouts {
		p := fmt.Sprintf("spec.blackouts[%d]", i)
		w := &f.Spec.Blackouts[i]
		checkName(c, p+".name", w.Name)
		if j, dup := windows[w.Name]; dup && w.Name != "" {
			c.Add(p+".name", "%q is also the name of spec.blackouts[%d]", w.Name, j)
		}
		windows[w.Name] = i
		if w.TimeZone == "" {
			w.TimeZone = f.Spec.TimeZone
		}
		if _, errs := parseWindow(*w); len(errs) > 0 {
			for _, e := range errs {
				c.Add(strings.TrimSuffix(p+"."+e.field, "."), "%s", e.msg)
			}
		}
		for j, s := range w.Schedules {
			if _, ok := names[s]; !ok {
				c.Add(fmt.Sprintf("%s.schedules[%d]", p, j), "no schedule named %q in this file (schedules: %s)", s, strings.Join(slices.Sorted(maps.Keys(names)), ", "))
			}
		}
	}
}

func checkName(c *yamlx.Collector, p, name string) {
	switch {
	case name == "":
		c.Add(p, "required")
	case !yamlx.IsDNSLabel(name):
		c.Add(p, "must be a DNS-1123 label (lowercase letters, digits and '-'), got %q", name)
	}
}

func checkEntry(c *yamlx.Collector, p string, e *Entry, zone string) {
	checkName(c, p+".name", e.Name)
	switch {
	case e.Scenario == "" && e.Plan == "":
		c.Add(p, "needs scenario: (a scenario to run) or plan: (a game-day plan)")
	case e.Scenario != "" && e.Plan != "":
		c.Add(p+".plan", "a schedule runs a scenario or a plan, not both")
	}
	if len(e.Overrides) > 0 && e.Plan != "" {
		c.Add(p+".overrides", "overrides apply to a scenario; a plan sets them per step")
	}
	for k := range e.Overrides {
		if strings.TrimSpace(k) == "" {
			c.Add(p+".overrides", "an override needs a key")
		}
	}
	if len(e.Cron) == 0 && e.Every == 0 {
		c.Add(p, "needs cron: (expressions) or every: (an interval)")
	}
	for i, expr := range e.Cron {
		if err := checkCron(expr); err != nil {
			c.Add(fmt.Sprintf("%s.cron[%d]", p, i), "%v", err)
		}
	}
	if e.Every != 0 && e.Every.D() < MinEvery {
		c.Add(p+".every", "at least %s, got %s", duration.Duration(MinEvery), e.Every)
	}
	if e.TimeZone == "" {
		e.TimeZone = zone
	} else if _, err := loadZone(e.TimeZone); err != nil {
		c.Add(p+".time_zone", "%v", err)
	}
	if e.Jitter < 0 {
		c.Add(p+".jitter", "must not be negative")
	}
	switch {
	case e.Overlap == "":
		e.Overlap = OverlapSkip
	case e.Overlap == "terminate-other":
		c.Add(p+".overlap", "terminate-other is refused: a terminated run never runs its recover, so its faults would stay behind (cancel-other cancels it and lets it clean up)")
	case !slices.Contains(Overlaps, e.Overlap):
		c.Add(p+".overlap", "unknown policy %q (%s)", e.Overlap, strings.Join(Overlaps, ", "))
	}
	switch {
	case e.CatchupWindow == 0:
		e.CatchupWindow = duration.Duration(DefaultCatchupWindow)
	case e.CatchupWindow.D() < MinCatchupWindow:
		c.Add(p+".catchup_window", "at least %s (the Temporal server's minimum), got %s", duration.Duration(MinCatchupWindow), e.CatchupWindow)
	}
	switch {
	case e.Paused && strings.TrimSpace(e.Note) == "":
		c.Add(p+".note", "a paused schedule needs a note saying why")
	case !e.Paused && e.Note != "":
		c.Add(p+".note", "a note goes with paused: true")
	}
}

// WindowsFor are the blackout windows that apply to one entry.
func (f File) WindowsFor(entry string) []Window {
	var out []Window
	for _, w := range f.Spec.Blackouts {
		if len(w.Schedules) == 0 || slices.Contains(w.Schedules, entry) {
			out = append(out, w)
		}
	}
	return out
}

// EntriesOf are the names of the entries a window applies to.
func (f File) EntriesOf(w Window) []string {
	if len(w.Schedules) > 0 {
		return slices.Clone(w.Schedules)
	}
	out := make([]string, 0, len(f.Spec.Schedules))
	for _, e := range f.Spec.Schedules {
		out = append(out, e.Name)
	}
	return out
}

// SkipFor are the skip calendars of an entry: those of its windows in its
// own time zone. A window in another zone cannot be written as calendars
// of the schedule's zone (daylight saving moves one against the other), so
// only the check at start (define) keeps runs out of it.
func (f File) SkipFor(e Entry) []Calendar {
	var out []Calendar
	for _, w := range f.WindowsFor(e.Name) {
		if w.TimeZone == e.TimeZone {
			out = append(out, w.SkipCalendars()...)
		}
	}
	return out
}

// Source is where a File came from, so a problem found after loading (a
// scenario that does not load at apply time) still names FILE:LINE: FIELD.
type Source struct {
	File string
	// Dir is the directory file references are read from; empty for the
	// catalog (catalog names only).
	Dir  string
	root *yaml.Node
}

// Error places err at field (e.g. spec.schedules[1].scenario).
func (s Source) Error(field string, err error) error {
	return &errkind.FieldError{File: s.File, Line: yamlx.LineOf(s.root, field), Field: field, Msg: err.Error()}
}

// Open reads a schedules file, or the catalog entry of that name, with its
// Source.
func Open(nameOrPath string) (File, Source, error) {
	if yamlx.IsFileName(nameOrPath) {
		data, err := os.ReadFile(nameOrPath)
		if err != nil {
			return File{}, Source{}, err
		}
		f, err := Parse(nameOrPath, data)
		if err != nil {
			return f, Source{}, err
		}
		root, _ := schema.ParseNode(nameOrPath, data)
		return f, Source{File: nameOrPath, Dir: filepath.Dir(nameOrPath), root: root}, nil
	}
	f, err := Find(nameOrPath) // the catalog; its errors list the names
	if err != nil {
		return f, Source{}, err
	}
	file := "schedules/" + nameOrPath + ".yaml"
	src := Source{File: file}
	if data, err := catalogFS.ReadFile(nameOrPath + ".yaml"); err == nil {
		src.root, _ = schema.ParseNode(file, data)
	}
	return f, src, nil
}
