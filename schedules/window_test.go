package schedules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	require.NoError(t, err)
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	require.NoError(t, err)
	return v
}

func TestOpenAt(t *testing.T) {
	nights := Window{Name: "nights", TimeZone: "Europe/Berlin", Weekly: &Weekly{Days: []string{"mon", "tue"}, From: "22:00", To: "06:00"}}
	office := Window{Name: "office", TimeZone: "Asia/Shanghai", Weekly: &Weekly{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "00:00", To: "24:00"}}
	sale := Window{Name: "sale", TimeZone: "Asia/Shanghai", From: "2027-11-10", To: "2027-11-12 12:00"}
	for _, c := range []struct {
		name  string
		w     Window
		t     time.Time
		open  bool
		until time.Time
	}{
		// 2027-03-01 is a Monday.
		{"before", nights, at(t, "Europe/Berlin", "2027-03-01 21:59"), false, time.Time{}},
		{"opens", nights, at(t, "Europe/Berlin", "2027-03-01 22:00"), true, at(t, "Europe/Berlin", "2027-03-02 06:00")},
		{"past midnight", nights, at(t, "Europe/Berlin", "2027-03-02 05:59"), true, at(t, "Europe/Berlin", "2027-03-02 06:00")},
		{"closed at to", nights, at(t, "Europe/Berlin", "2027-03-02 06:00"), false, time.Time{}},
		{"tuesday night runs into wednesday", nights, at(t, "Europe/Berlin", "2027-03-03 01:00"), true, at(t, "Europe/Berlin", "2027-03-03 06:00")},
		{"not wednesday night", nights, at(t, "Europe/Berlin", "2027-03-03 23:00"), false, time.Time{}},
		{"read in its own zone", nights, at(t, "UTC", "2027-03-01 21:30"), true, at(t, "Europe/Berlin", "2027-03-02 06:00")},
		{"back to back days are one window", office, at(t, "Asia/Shanghai", "2027-03-01 10:00"), true, at(t, "Asia/Shanghai", "2027-03-06 00:00")},
		{"weekend", office, at(t, "Asia/Shanghai", "2027-03-06 10:00"), false, time.Time{}},
		{"date range", sale, at(t, "Asia/Shanghai", "2027-11-11 23:00"), true, at(t, "Asia/Shanghai", "2027-11-12 12:00")},
		{"date range start", sale, at(t, "Asia/Shanghai", "2027-11-10 00:00"), true, at(t, "Asia/Shanghai", "2027-11-12 12:00")},
		{"date range end excluded", sale, at(t, "Asia/Shanghai", "2027-11-12 12:00"), false, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			open, until := c.w.OpenAt(c.t)
			assert.Equal(t, c.open, open)
			assert.True(t, c.until.Equal(until), "until %s, want %s", until, c.until)
		})
	}
	name, until, open := OpenWindow([]Window{nights, sale}, at(t, "Asia/Shanghai", "2027-11-11 09:00"))
	assert.True(t, open)
	assert.Equal(t, "sale", name)
	assert.True(t, until.Equal(at(t, "Asia/Shanghai", "2027-11-12 12:00")))

	// Overlapping and back-to-back windows: the run may go when none is
	// open any more, not when the first one closes.
	morning := Window{Name: "morning", TimeZone: "UTC", Weekly: &Weekly{From: "09:00", To: "12:00"}}
	noon := Window{Name: "noon", TimeZone: "UTC", Weekly: &Weekly{From: "11:00", To: "14:00"}}
	afternoon := Window{Name: "afternoon", TimeZone: "UTC", Weekly: &Weekly{From: "14:00", To: "15:00"}}
	name, until, open = OpenWindow([]Window{morning, noon, afternoon}, at(t, "UTC", "2027-03-01 10:00"))
	assert.True(t, open)
	assert.Equal(t, "morning", name)
	assert.True(t, until.Equal(at(t, "UTC", "2027-03-01 15:00")), "until %s", until)
	_, _, open = OpenWindow([]Window{morning, noon, afternoon}, at(t, "UTC", "2027-03-01 15:00"))
	assert.False(t, open)
}

// The skip calendars are what the Temporal server skips: minute by minute
// over ten days (a daylight-saving change included), a time is skipped
// exactly when the window is open, and the start calendars match exactly
// the minutes a window opens.
func TestCalendarsCoverExactlyTheWindow(t *testing.T) {
	for _, w := range []Window{
		{Name: "nights", TimeZone: "Europe/Berlin", Weekly: &Weekly{Days: []string{"sat", "sun", "mon"}, From: "22:30", To: "06:15"}},
		{Name: "lunch", TimeZone: "Europe/Berlin", Weekly: &Weekly{From: "12:10", To: "12:50"}},
		{Name: "afternoon", TimeZone: "Europe/Berlin", Weekly: &Weekly{Days: []string{"fri"}, From: "13:00", To: "17:45"}},
		{Name: "day", TimeZone: "Europe/Berlin", Weekly: &Weekly{Days: []string{"wed"}, From: "00:00", To: "24:00"}},
		{Name: "dst-night", TimeZone: "Europe/Berlin", Weekly: &Weekly{Days: []string{"sun"}, From: "01:30", To: "03:30"}},
		{Name: "range", TimeZone: "Europe/Berlin", From: "2027-03-25 18:20", To: "2027-04-02 07:05"},
		{Name: "one-day", TimeZone: "Europe/Berlin", From: "2027-03-30 09:00", To: "2027-03-30 09:30"},
		{Name: "whole-days", TimeZone: "Europe/Berlin", From: "2027-03-27", To: "2027-03-29"},
	} {
		t.Run(w.Name, func(t *testing.T) {
			loc, err := time.LoadLocation(w.TimeZone)
			require.NoError(t, err)
			skip, starts := w.SkipCalendars(), w.StartCalendars()
			require.NotEmpty(t, skip)
			require.NotEmpty(t, starts)
			pw, errs := parseWindow(w)
			require.Empty(t, errs)
			// 2027-03-28 02:00 is the spring-forward in Berlin.
			from := time.Date(2027, 3, 24, 0, 0, 0, 0, loc)
			for m := from; m.Before(from.Add(10 * 24 * time.Hour)); m = m.Add(time.Minute) {
				open, _ := pw.openAt(m)
				skipped := false
				for _, c := range skip {
					skipped = skipped || c.Matches(m, loc)
				}
				if open != skipped {
					t.Fatalf("%s: open %t, skipped %t", m, open, skipped)
				}
				starting := false
				for _, c := range starts {
					starting = starting || c.Matches(m, loc)
				}
				occStart, _, inOcc := pw.occurrence(m)
				if isStart := inOcc && occStart.Equal(m); starting != isStart {
					t.Fatalf("%s: start calendar %t, window starts %t", m, starting, isStart)
				}
			}
		})
	}
}
