package schedules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must resolve the same on every machine (containers often lack /usr/share/zoneinfo)
)

// Range is a set of integers of one calendar field: Start to End
// inclusive (End below Start means Start alone), every Step (0 means 1),
// as in a Temporal calendar.
type Range struct {
	Start int `json:"start"`
	End   int `json:"end,omitempty"`
	Step  int `json:"step,omitempty"`
}

// Calendar matches the wall-clock times, in a schedule's time zone, whose
// every field is in one of the field's ranges; an empty Year matches every
// year. Unlike a Temporal calendar there are no defaults: every other
// field is given (package control converts it).
type Calendar struct {
	Second     []Range `json:"second"`
	Minute     []Range `json:"minute"`
	Hour       []Range `json:"hour"`
	DayOfMonth []Range `json:"day_of_month"`
	Month      []Range `json:"month"`
	Year       []Range `json:"year,omitempty"`
	DayOfWeek  []Range `json:"day_of_week"`
	Comment    string  `json:"comment,omitempty"`
}

var (
	allSeconds = []Range{{Start: 0, End: 59}}
	allMinutes = []Range{{Start: 0, End: 59}}
	allHours   = []Range{{Start: 0, End: 23}}
	allDays    = []Range{{Start: 1, End: 31}}
	allMonths  = []Range{{Start: 1, End: 12}}
	allWeek    = []Range{{Start: 0, End: 6}}
)

// weekdays by the names the file accepts (three letters or in full).
var weekdays = map[string]time.Weekday{}

func init() {
	for d := time.Sunday; d <= time.Saturday; d++ {
		n := strings.ToLower(d.String())
		weekdays[n] = d
		weekdays[n[:3]] = d
	}
}

// window is a Window read: its zone loaded and its times parsed.
type window struct {
	name     string
	loc      *time.Location
	weekly   bool
	days     [7]bool
	from, to int // minutes of the day; to may be 1440 ("24:00")
	absFrom  time.Time
	absTo    time.Time
}

// parseWindow reads a window whose defaults are applied. Its errors name
// the field (relative to the window).
func parseWindow(w Window) (window, []fieldErr) {
	var errs []fieldErr
	out := window{name: w.Name}
	loc, err := loadZone(w.TimeZone)
	if err != nil {
		errs = append(errs, fieldErr{"time_zone", err.Error()})
		loc = time.UTC
	}
	out.loc = loc
	switch {
	case w.Weekly != nil && (w.From != "" || w.To != ""):
		errs = append(errs, fieldErr{"weekly", "a window is either weekly or from/to, not both"})
	case w.Weekly != nil:
		out.weekly = true
		if len(w.Weekly.Days) == 0 {
			out.days = [7]bool{true, true, true, true, true, true, true}
		}
		for i, d := range w.Weekly.Days {
			wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
			if !ok {
				errs = append(errs, fieldErr{fmt.Sprintf("weekly.days[%d]", i), fmt.Sprintf("unknown day %q (mon, tue, wed, thu, fri, sat, sun)", d)})
				continue
			}
			out.days[wd] = true
		}
		var e1, e2 error
		out.from, e1 = parseClock(w.Weekly.From, false)
		out.to, e2 = parseClock(w.Weekly.To, true)
		if e1 != nil {
			errs = append(errs, fieldErr{"weekly.from", e1.Error()})
		}
		if e2 != nil {
			errs = append(errs, fieldErr{"weekly.to", e2.Error()})
		}
	case w.From == "" && w.To == "":
		errs = append(errs, fieldErr{"", "a window needs weekly: (days, from, to) or from: and to: (dates)"})
	default:
		var e1, e2 error
		out.absFrom, e1 = parseInstant(w.From, loc)
		out.absTo, e2 = parseInstant(w.To, loc)
		if e1 != nil {
			errs = append(errs, fieldErr{"from", e1.Error()})
		}
		if e2 != nil {
			errs = append(errs, fieldErr{"to", e2.Error()})
		}
		if e1 == nil && e2 == nil && !out.absTo.After(out.absFrom) {
			errs = append(errs, fieldErr{"to", fmt.Sprintf("must be after from (%s)", w.From)})
		}
	}
	return out, errs
}

type fieldErr struct{ field, msg string }

func loadZone(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil || strings.EqualFold(name, "local") {
		// Local would mean the zone of whichever machine reads it.
		return nil, fmt.Errorf("unknown time zone %q (an IANA name such as UTC, Europe/Berlin, Asia/Shanghai)", name)
	}
	return loc, nil
}

// parseClock reads "HH:MM" as minutes of the day; "24:00" only as an end.
func parseClock(s string, end bool) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, e1 := strconv.Atoi(h)
	mm, e2 := strconv.Atoi(m)
	switch {
	case !ok || e1 != nil || e2 != nil || len(m) != 2 || len(h) == 0 || len(h) > 2:
		return 0, fmt.Errorf("want a time of day like 09:00, got %q", s)
	case end && hh == 24 && mm == 0:
		return 24 * 60, nil
	case hh < 0 || hh > 23 || mm < 0 || mm > 59:
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 23:59%s)", s, map[bool]string{true: ", or 24:00", false: ""}[end])
	}
	return hh*60 + mm, nil
}

var instantLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"}

// parseInstant reads a date (midnight), a date and time in loc, or RFC 3339
// with its own offset.
func parseInstant(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range instantLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a date like 2026-11-11, 2026-11-11 09:00 or RFC 3339, got %q", s)
}

// at is minute m of day's date in the window's zone (1440: the next
// midnight).
func (w window) at(day time.Time, m int) time.Time {
	y, mo, d := day.Date()
	return time.Date(y, mo, d, 0, m, 0, 0, w.loc)
}

// span is the occurrence of a weekly window that starts on day.
func (w window) span(day time.Time) (time.Time, time.Time) {
	start := w.at(day, w.from)
	if w.to > w.from {
		return start, w.at(day, w.to)
	}
	return start, w.at(day.AddDate(0, 0, 1), w.to)
}

// occurrence is the window's occurrence that contains t, if any.
func (w window) occurrence(t time.Time) (time.Time, time.Time, bool) {
	if !w.weekly {
		if !t.Before(w.absFrom) && t.Before(w.absTo) {
			return w.absFrom, w.absTo, true
		}
		return time.Time{}, time.Time{}, false
	}
	lt := t.In(w.loc)
	today := time.Date(lt.Year(), lt.Month(), lt.Day(), 12, 0, 0, 0, w.loc)
	// One that started today, or yesterday and runs past midnight.
	for back := 0; back <= 1; back++ {
		day := today.AddDate(0, 0, -back)
		if !w.days[day.Weekday()] {
			continue
		}
		start, end := w.span(day)
		if !t.Before(start) && t.Before(end) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// openAt says whether t is inside the window and until when: back-to-back
// occurrences (every day 00:00 to 24:00, say) count as one.
func (w window) openAt(t time.Time) (bool, time.Time) {
	_, end, ok := w.occurrence(t)
	if !ok {
		return false, time.Time{}
	}
	for range 8 {
		_, next, more := w.occurrence(end)
		if !more || !next.After(end) {
			break
		}
		end = next
	}
	return true, end
}

// OpenAt reports whether t falls inside the window, and when the window
// closes. A window that does not parse is never open (the loader refuses
// it first).
func (w Window) OpenAt(t time.Time) (bool, time.Time) {
	pw, errs := parseWindow(w)
	if len(errs) > 0 {
		return false, time.Time{}
	}
	return pw.openAt(t)
}

// OpenWindow is the first of windows open at t: its name, and when no
// window is open any more. Overlapping or back-to-back windows count as
// one: a refusal saying "until 12:00" while another window runs to 14:00
// would send people back at 12:00 to be refused again.
func OpenWindow(windows []Window, t time.Time) (name string, until time.Time, open bool) {
	for _, w := range windows {
		if ok, end := w.OpenAt(t); ok {
			name, until, open = w.Name, end, true
			break
		}
	}
	if !open {
		return "", time.Time{}, false
	}
	for range 8 * len(windows) {
		later := until
		for _, w := range windows {
			if ok, end := w.OpenAt(until); ok && end.After(later) {
				later = end
			}
		}
		if !later.After(until) {
			break
		}
		until = later
	}
	return name, until, true
}

func (w window) weekRanges(shift int) []Range {
	var out []Range
	for d := range 7 {
		if w.days[d] {
			out = append(out, Range{Start: (d + shift) % 7})
		}
	}
	slices.SortFunc(out, func(a, b Range) int { return a.Start - b.Start })
	return out
}

// StartCalendars are the times the window opens, in its own time zone:
// what the Schedule that aborts the runs still going fires on.
func (w Window) StartCalendars() []Calendar {
	pw, errs := parseWindow(w)
	if len(errs) > 0 {
		return nil
	}
	comment := "blackout window " + w.Name + " opens"
	if pw.weekly {
		return []Calendar{{
			Second: []Range{{Start: 0}}, Minute: []Range{{Start: pw.from % 60}}, Hour: []Range{{Start: pw.from / 60}},
			DayOfMonth: allDays, Month: allMonths, DayOfWeek: pw.weekRanges(0), Comment: comment,
		}}
	}
	t := pw.absFrom.In(pw.loc)
	return []Calendar{{
		Second: []Range{{Start: t.Second()}}, Minute: []Range{{Start: t.Minute()}}, Hour: []Range{{Start: t.Hour()}},
		DayOfMonth: []Range{{Start: t.Day()}}, Month: []Range{{Start: int(t.Month())}}, Year: []Range{{Start: t.Year()}},
		DayOfWeek: allWeek, Comment: comment,
	}}
}

// SkipCalendars cover the window, in its own time zone: put in the skip
// list of a Schedule in that zone, the server never starts a run inside
// the window, and the schedule's next run times leave it out.
func (w Window) SkipCalendars() []Calendar {
	pw, errs := parseWindow(w)
	if len(errs) > 0 {
		return nil
	}
	comment := "blackout window " + w.Name
	var out []Calendar
	if pw.weekly {
		days := pw.weekRanges(0)
		if pw.to > pw.from {
			out = dayBlocks(pw.from, pw.to, days, allDays, allMonths, nil)
		} else {
			out = dayBlocks(pw.from, 24*60, days, allDays, allMonths, nil)
			out = append(out, dayBlocks(0, pw.to, pw.weekRanges(1), allDays, allMonths, nil)...)
		}
	} else {
		out = absoluteBlocks(pw.absFrom.In(pw.loc), pw.absTo.In(pw.loc))
	}
	for i := range out {
		out[i].Comment = comment
	}
	return out
}

// dayBlocks covers minutes [a, b) of the days given by week (days of the
// week), dom, months and years: at most three calendars (the rest of the
// first hour, the whole hours, the start of the last hour).
func dayBlocks(a, b int, week, dom, months, years []Range) []Calendar {
	if a >= b {
		return nil
	}
	mk := func(hours, minutes []Range) Calendar {
		return Calendar{Second: allSeconds, Minute: minutes, Hour: hours, DayOfMonth: dom, Month: months, Year: years, DayOfWeek: week}
	}
	ah, am, bh, bm := a/60, a%60, b/60, b%60
	if ah == bh {
		return []Calendar{mk([]Range{{Start: ah}}, []Range{{Start: am, End: bm - 1}})}
	}
	var out []Calendar
	first := ah
	if am > 0 {
		out = append(out, mk([]Range{{Start: ah}}, []Range{{Start: am, End: 59}}))
		first++
	}
	if bh-1 >= first {
		out = append(out, mk([]Range{{Start: first, End: bh - 1}}, allMinutes))
	}
	if bm > 0 {
		out = append(out, mk([]Range{{Start: bh}}, []Range{{Start: 0, End: bm - 1}}))
	}
	return out
}

// absoluteBlocks covers the wall-clock interval [from, to) (both in the
// window's zone): the partial first and last days by the minute, the whole
// days in between as one calendar per month.
func absoluteBlocks(from, to time.Time) []Calendar {
	minute := func(t time.Time) int { return t.Hour()*60 + t.Minute() }
	date := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, time.UTC) }
	on := func(d time.Time) ([]Range, []Range, []Range) {
		return []Range{{Start: d.Day()}}, []Range{{Start: int(d.Month())}}, []Range{{Start: d.Year()}}
	}
	fd, td := date(from), date(to)
	if fd.Equal(td) {
		dom, mo, yr := on(fd)
		return dayBlocks(minute(from), minute(to), allWeek, dom, mo, yr)
	}
	var out []Calendar
	first := fd
	if m := minute(from); m > 0 {
		dom, mo, yr := on(fd)
		out = append(out, dayBlocks(m, 24*60, allWeek, dom, mo, yr)...)
		first = fd.AddDate(0, 0, 1)
	}
	// Whole days [first, td), grouped by month.
	for d := first; d.Before(td); {
		end := time.Date(d.Year(), d.Month()+1, 1, 12, 0, 0, 0, time.UTC) // first of next month
		if td.Before(end) {
			end = td
		}
		last := end.AddDate(0, 0, -1)
		out = append(out, Calendar{
			Second: allSeconds, Minute: allMinutes, Hour: allHours,
			DayOfMonth: []Range{{Start: d.Day(), End: last.Day()}}, Month: []Range{{Start: int(d.Month())}}, Year: []Range{{Start: d.Year()}},
			DayOfWeek: allWeek,
		})
		d = end
	}
	if m := minute(to); m > 0 {
		dom, mo, yr := on(td)
		out = append(out, dayBlocks(0, m, allWeek, dom, mo, yr)...)
	}
	return out
}

// Matches reports whether the wall-clock time t (read in loc) matches the
// calendar: what the Temporal server does with it. Tests use it to prove
// the skip calendars cover exactly the window.
func (c Calendar) Matches(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	in := func(rs []Range, v int) bool {
		for _, r := range rs {
			end, step := r.End, r.Step
			if end < r.Start {
				end = r.Start
			}
			if step <= 0 {
				step = 1
			}
			if v >= r.Start && v <= end && (v-r.Start)%step == 0 {
				return true
			}
		}
		return false
	}
	return in(c.Second, lt.Second()) && in(c.Minute, lt.Minute()) && in(c.Hour, lt.Hour()) &&
		in(c.DayOfMonth, lt.Day()) && in(c.Month, int(lt.Month())) &&
		(len(c.Year) == 0 || in(c.Year, lt.Year())) && in(c.DayOfWeek, int(lt.Weekday()))
}
