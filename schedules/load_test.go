package schedules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/yamlx"
)

const good = `apiVersion: gameday/v1
kind: Schedules
metadata: {name: team}
spec:
  time_zone: Europe/Berlin
  schedules:
    - name: pod-kill
      scenario: order-pod-kill
      overrides: {duration: 45s, toxicity: 0.5}
      cron: ["30 10 * * mon-fri", "@daily"]
      jitter: 5m
      pause_on_failure: true
    - name: cpu
      scenario: my/cpu.yaml
      every: 24h
      time_zone: UTC
      overlap: buffer-one
      catchup_window: 15m
      paused: true
      note: waiting for the new payment pods
  blackouts:
    - name: nights
      weekly: {days: [mon, Tuesday], from: "22:00", to: "06:00"}
    - name: sale
      from: 2027-11-10
      to: "2027-11-12 12:00"
      schedules: [cpu]
`

func TestParseAppliesDefaults(t *testing.T) {
	f, err := Parse("team.yaml", []byte(good))
	require.NoError(t, err)
	require.Len(t, f.Spec.Schedules, 2)
	pk, cpu := f.Spec.Schedules[0], f.Spec.Schedules[1]
	assert.Equal(t, "Europe/Berlin", pk.TimeZone, "entry zone defaults to spec.time_zone")
	assert.Equal(t, OverlapSkip, pk.Overlap)
	assert.Equal(t, DefaultCatchupWindow, pk.CatchupWindow.D(), "not Temporal's one year")
	assert.Equal(t, map[string]string{"duration": "45s", "toxicity": "0.5"}, pk.Overrides, "override values are read as written")
	assert.Equal(t, "UTC", cpu.TimeZone)
	assert.Equal(t, 15*time.Minute, cpu.CatchupWindow.D())
	assert.Equal(t, "Europe/Berlin", f.Spec.Blackouts[0].TimeZone)
	assert.Equal(t, "2027-11-10", f.Spec.Blackouts[1].From, "an unquoted date is kept as written")

	assert.Len(t, f.WindowsFor("pod-kill"), 1)
	assert.Len(t, f.WindowsFor("cpu"), 2)
	assert.Equal(t, []string{"pod-kill", "cpu"}, f.EntriesOf(f.Spec.Blackouts[0]))
	assert.NotEmpty(t, f.SkipFor(pk), "a window in the entry's zone becomes skip calendars")
	assert.Empty(t, f.SkipFor(cpu), "windows in another zone are left to the check at start")

	// Parsed is resolved: validating again changes nothing.
	again := f
	require.NoError(t, Validate(&again))
	assert.Equal(t, f, again)
}

const cronLine = `      cron: ["30 10 * * mon-fri", "@daily"]`

func TestParseErrorsNameLineAndField(t *testing.T) {
	for _, c := range []struct {
		name, edit, want string
		from             string // the line replaced (default: pause_on_failure)
	}{
		{"unknown field", "      pause_on_failur: true", `x.yaml:12: spec.schedules[0].pause_on_failur: unknown field`, ""},
		{"scenario and plan", "      plan: weekly", `x.yaml:12: spec.schedules[0].plan: a schedule runs a scenario or a plan, not both`, ""},
		{"bad cron", `      cron: ["@daily", "30 25 * * *"]`, `x.yaml:10: spec.schedules[0].cron[1]: "30 25 * * *": hour: 25 is out of range 0-23`, cronLine},
		{"cron @every", `      cron: ["@every 1h"]`, `use every: for an interval`, cronLine},
		{"sunday as 7", `      cron: ["0 0 * * 7"]`, `Sunday is 0`, cronLine},
		{"every too short", "      every: 10s", `x.yaml:12: spec.schedules[0].every: at least 1m0s, got 10s`, ""},
		{"bad zone", "      time_zone: Mars/Olympus", `spec.schedules[0].time_zone: unknown time zone "Mars/Olympus"`, ""},
		{"local zone", "      time_zone: Local", `unknown time zone "Local"`, ""},
		{"terminate-other", "      overlap: terminate-other", `terminated run never runs its recover`, ""},
		{"unknown overlap", "      overlap: sometimes", `unknown policy "sometimes"`, ""},
		{"catch-up too short", "      catchup_window: 1s", `catchup_window: at least 10s`, ""},
		{"paused without note", "      paused: true", `spec.schedules[0].note: a paused schedule needs a note`, ""},
		{"note without pause", "      note: hello", `a note goes with paused: true`, ""},
		{"negative jitter", "      jitter: -1m", `x.yaml:11: spec.schedules[0].jitter: must not be negative`, "      jitter: 5m"},
		{"plan with overrides", "      plan: weekly", `x.yaml:9: spec.schedules[0].overrides: overrides apply to a scenario`, "      scenario: order-pod-kill"},
	} {
		t.Run(c.name, func(t *testing.T) {
			from := c.from
			if from == "" {
				from = "      pause_on_failure: true"
			}
			doc := strings.Replace(good, from+"\n", c.edit+"\n", 1)
			require.NotEqual(t, good, doc, "the edit must apply")
			_, err := Parse("x.yaml", []byte(doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			require.NoError(t, yamlx.WellFormed(err, "x.yaml"))
		})
	}
}

func TestParseFileLevelErrors(t *testing.T) {
	for _, c := range []struct{ name, from, to, want string }{
		{"duplicate entry", "name: cpu", "name: pod-kill", `x.yaml:13: spec.schedules[1].name: "pod-kill" is also the name of spec.schedules[0]`},
		{"name not a label", "name: cpu", "name: CPU_job", `spec.schedules[1].name: must be a DNS-1123 label`},
		{"nothing to run", "      scenario: my/cpu.yaml\n", "", `x.yaml:13: spec.schedules[1]: needs scenario:`},
		{"no time", "      every: 24h\n", "", `spec.schedules[1]: needs cron: (expressions) or every:`},
		{"window unknown schedule", "schedules: [cpu]", "schedules: [gpu]", `x.yaml:27: spec.blackouts[1].schedules[0]: no schedule named "gpu" in this file (schedules: cpu, pod-kill)`},
		{"window backwards", `to: "2027-11-12 12:00"`, `to: 2027-11-01`, `spec.blackouts[1].to: must be after from`},
		{"window bad date", `to: "2027-11-12 12:00"`, `to: next week`, `spec.blackouts[1].to: want a date like 2026-11-11`},
		{"bad day", "days: [mon, Tuesday]", "days: [mon, tuesdy]", `x.yaml:23: spec.blackouts[0].weekly.days[1]: unknown day "tuesdy"`},
		{"bad clock", `from: "22:00"`, `from: "25:00"`, `spec.blackouts[0].weekly.from: "25:00" is not a time of day`},
		{"24:00 only as end", `from: "22:00"`, `from: "24:00"`, `spec.blackouts[0].weekly.from: "24:00" is not a time of day (00:00 to 23:59)`},
		{"both forms", "      schedules: [cpu]", "      schedules: [cpu]\n      weekly: {from: \"01:00\", to: \"02:00\"}", `spec.blackouts[1].weekly: a window is either weekly or from/to`},
		{"neither form", "    - name: sale\n      from: 2027-11-10\n      to: \"2027-11-12 12:00\"", "    - name: sale", `x.yaml:24: spec.blackouts[1]: a window needs weekly:`},
		{"spec zone", "time_zone: Europe/Berlin", "time_zone: Berlin", `x.yaml:5: spec.time_zone: unknown time zone "Berlin"`},
		{"kind", "kind: Schedules", "kind: Schedule", `x.yaml:2: kind: must be "Schedules"`},
		{"long set name", "name: team}", "name: " + strings.Repeat("t", 41) + "}", `metadata.name: at most 40 characters`},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := strings.Replace(good, c.from, c.to, 1)
			require.NotEqual(t, good, doc, "the edit must apply")
			_, err := Parse("x.yaml", []byte(doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			require.NoError(t, yamlx.WellFormed(err, "x.yaml"))
		})
	}
}

func TestCatalog(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	byName := map[string]File{}
	for _, f := range all {
		byName[f.Metadata.Name] = f
	}
	require.Contains(t, byName, "seed")
	require.Contains(t, byName, "demo")

	// The seed's cadence: a change here changes what teams run.
	seed := byName["seed"]
	cadence := map[string]string{}
	for _, e := range seed.Spec.Schedules {
		cadence[e.Scenario] = strings.Join(e.Cron, ";") + "|" + e.Every.String()
		assert.True(t, e.PauseOnFailure, "%s: a failing seed schedule stops until someone looks", e.Name)
	}
	assert.Equal(t, map[string]string{
		"order-pod-kill":          "30 10 * * *|0s",  // daily
		"inventory-network-delay": "0 15 * * wed|0s", // weekly
		"payment-cpu-stress":      "|24h0m0s",        // every 24 h
	}, cadence)

	demo := byName["demo"]
	require.Len(t, demo.Spec.Schedules, 1)
	assert.Equal(t, "demo-coupon-latency-harmless", demo.Spec.Schedules[0].Scenario)
	assert.LessOrEqual(t, demo.Spec.Schedules[0].Every.D(), 5*time.Minute, "a newcomer sees a scheduled run within minutes")

	f, err := Find("seed")
	require.NoError(t, err)
	assert.Equal(t, seed, f)
}

func TestResolveRef(t *testing.T) {
	assert.Equal(t, "order-pod-kill", ResolveRef("/etc/gameday", "order-pod-kill"), "a catalog name")
	assert.Equal(t, "/etc/gameday/mine/cpu.yaml", ResolveRef("/etc/gameday", "mine/cpu.yaml"), "relative to the schedules file")
	assert.Equal(t, "/abs/cpu.yml", ResolveRef("/etc/gameday", "/abs/cpu.yml"))
	assert.Equal(t, "cpu.yaml", ResolveRef("", "cpu.yaml"), "the catalog has no directory")
}

func TestCheckCron(t *testing.T) {
	for _, ok := range []string{"* * * * *", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *", "5,10 1 1-31/2 * SUN", "@hourly", "@weekly"} {
		assert.NoError(t, checkCron(ok), ok)
	}
	for expr, want := range map[string]string{
		"":                   "empty",
		"* * * *":            "want 5 fields",
		"* * * * * 2027":     "want 5 fields",
		"60 * * * *":         "minute: 60 is out of range 0-59",
		"* * 0 * *":          "day of month: 0 is out of range 1-31",
		"* * * foo *":        `month: "foo" is not a number from 1 to 12 or a name`,
		"*/0 * * * *":        `step "0" is not a positive number`,
		"5-1 * * * *":        "range 5-1 ends before it starts",
		"@reboot":            "unknown shorthand",
		"TZ=UTC 0 * * * *":   "use time_zone:",
		"0 * * * * # hourly": "no comments",
	} {
		err := checkCron(expr)
		if assert.Error(t, err, expr) {
			assert.Contains(t, err.Error(), want, expr)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := catalogFS.ReadDir(".")
	for _, e := range files {
		data, _ := catalogFS.ReadFile(e.Name())
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte(good))
	f.Add([]byte(strings.ReplaceAll(good, "  ", "\t")))
	f.Add([]byte(strings.Replace(good, `"22:00"`, `"24:00"`, 1)))
	f.Add([]byte(strings.Replace(good, "every: 24h", "every: 1e400h", 1)))
	f.Add([]byte(strings.Replace(good, "from: 2027-11-10", "from: 2027-02-30", 1)))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("spec: {schedules: [{name: a, cron: ['* * * * *', 1]}]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if err != nil {
			if bad := yamlx.WellFormed(err, "fuzz.yaml"); bad != nil {
				t.Fatal(bad)
			}
			return
		}
		// It must fit in a memo and a workflow input.
		if _, err := json.Marshal(file); err != nil {
			t.Fatalf("parsed file is not JSON: %v", err)
		}
		again := file
		if err := Validate(&again); err != nil {
			t.Fatalf("parsed file does not validate: %v", err)
		}
		if !reflect.DeepEqual(again, file) {
			t.Fatal("Validate changed a parsed file")
		}
		// Every window of a parsed file has calendars and answers.
		now := time.Date(2027, 11, 11, 1, 2, 3, 0, time.UTC)
		for _, w := range file.Spec.Blackouts {
			if len(w.StartCalendars()) == 0 || len(w.SkipCalendars()) == 0 {
				t.Fatalf("window %s has no calendars", w.Name)
			}
			if open, until := w.OpenAt(now); open && !until.After(now) {
				t.Fatalf("window %s open at %s until %s", w.Name, now, until)
			}
		}
		for _, e := range file.Spec.Schedules {
			if e.TimeZone == "" || e.Overlap == "" || e.CatchupWindow == 0 {
				t.Fatalf("defaults not applied: %+v", e)
			}
			if len(file.SkipFor(e)) > 0 && fmt.Sprint(file.SkipFor(e)) == "" {
				t.Fatal("unprintable calendars")
			}
		}
	})
}
