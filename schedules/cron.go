package schedules

import (
	"fmt"
	"strconv"
	"strings"
)

// cronField is one field of a 5-field cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i (months, days of the week)
}

var cronFields = []cronField{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{name: "day of week", min: 0, max: 6, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// cronShorthands are the @ forms the Temporal server accepts as calendars.
var cronShorthands = []string{"@yearly", "@monthly", "@weekly", "@daily", "@hourly"}

// checkCron validates one cron expression as the Temporal server reads it
// (5 fields: minute hour day-of-month month day-of-week, or @daily and the
// like), so a typo is refused at its line in the file rather than by the
// server halfway through an apply. The server's other forms have their own
// fields in the file: "@every" is every:, "CRON_TZ=" is time_zone:.
func checkCron(expr string) error {
	s := strings.TrimSpace(expr)
	switch {
	case s == "":
		return fmt.Errorf("empty cron expression")
	case strings.HasPrefix(s, "@every"):
		return fmt.Errorf("%q: use every: for an interval", expr)
	case strings.HasPrefix(s, "CRON_TZ=") || strings.HasPrefix(s, "TZ="):
		return fmt.Errorf("%q: use time_zone: for the time zone", expr)
	case strings.Contains(s, "#"):
		return fmt.Errorf("%q: no comments in a cron expression", expr)
	case strings.HasPrefix(s, "@"):
		for _, sh := range cronShorthands {
			if s == sh {
				return nil
			}
		}
		return fmt.Errorf("%q: unknown shorthand (known: %s)", expr, strings.Join(cronShorthands, ", "))
	}
	fields := strings.Fields(s)
	if len(fields) != len(cronFields) {
		return fmt.Errorf("%q: want 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%q: %s: %v", expr, cronFields[i].name, err)
		}
	}
	return nil
}

// check validates one field: a list of *, N, N-M, each optionally /STEP.
func (cf cronField) check(field string) error {
	for _, item := range strings.Split(field, ",") {
		base, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n <= 0 {
				return fmt.Errorf("step %q is not a positive number", step)
			}
		}
		if base == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(base, "-")
		a, err := cf.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := cf.value(hi)
			if err != nil {
				return err
			}
			if b < a {
				return fmt.Errorf("range %s ends before it starts", base)
			}
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	for i, n := range cf.names {
		if strings.EqualFold(s, n) {
			return cf.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	switch {
	case err != nil && len(cf.names) > 0:
		return 0, fmt.Errorf("%q is not a number from %d to %d or a name (%s)", s, cf.min, cf.max, strings.Join(cf.names, ", "))
	case err != nil:
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, cf.min, cf.max)
	case cf.name == "day of week" && v == 7:
		return 0, fmt.Errorf("7 is not a day of the week here: Sunday is 0")
	case v < cf.min || v > cf.max:
		return 0, fmt.Errorf("%d is out of range %d-%d", v, cf.min, cf.max)
	}
	return v, nil
}
