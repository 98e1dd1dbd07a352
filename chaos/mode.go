package chaos

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gameday/gameday/internal/errkind"
)

// Blast-radius modes for targets that match several instances (pods). The
// names are Chaos Mesh's, so a scenario reads the same for every back-end.
const (
	ModeOne              = "one"                // exactly one
	ModeAll              = "all"                // every match
	ModeFixed            = "fixed"              // value = a count
	ModeFixedPercent     = "fixed-percent"      // value = percent of the matches
	ModeRandomMaxPercent = "random-max-percent" // value = at most this percent
)

// Modes lists the modes in the order help text shows them.
var Modes = []string{ModeOne, ModeAll, ModeFixed, ModeFixedPercent, ModeRandomMaxPercent}

// ValidateMode checks mode and value together; an empty mode means one.
func ValidateMode(mode, value string) error {
	switch mode {
	case "", ModeOne, ModeAll:
		if value != "" {
			return &errkind.FieldError{Field: "value", Msg: fmt.Sprintf("mode %s takes no value", DefaultMode(mode))}
		}
		return nil
	case ModeFixed:
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return &errkind.FieldError{Field: "value", Msg: fmt.Sprintf("mode fixed needs a count >= 1, got %q", value)}
		}
		return nil
	case ModeFixedPercent, ModeRandomMaxPercent:
		p, err := strconv.ParseFloat(strings.TrimSuffix(value, "%"), 64)
		if err != nil || p <= 0 || p > 100 {
			return &errkind.FieldError{Field: "value", Msg: fmt.Sprintf("mode %s needs a percentage in (0, 100], got %q", mode, value)}
		}
		return nil
	}
	return &errkind.FieldError{Field: "mode", Msg: fmt.Sprintf("unknown mode %q (known: %s)", mode, strings.Join(Modes, ", "))}
}

// ModeString renders a mode and its value for messages: "one" (the
// default), "fixed 2", "fixed-percent 50".
func ModeString(mode, value string) string {
	m := DefaultMode(mode)
	if value != "" {
		m += " " + value
	}
	return m
}

// DefaultMode is mode, or "one" when the scenario left it empty.
func DefaultMode(m string) string {
	if m == "" {
		return ModeOne
	}
	return m
}

// ModeCount is the largest number of the matched instances a mode can hit:
// what the blast-radius limit is checked against. Percentages round up, as
// Chaos Mesh's own selector does (it always selects at least one object), so
// the limit is never checked against fewer pods than the fault really hits;
// a fixed count larger than the matches hits them all.
func ModeCount(mode, value string, matched int) (int, error) {
	if err := ValidateMode(mode, value); err != nil {
		return 0, err
	}
	if matched <= 0 {
		return 0, nil
	}
	switch mode {
	case "", ModeOne:
		return 1, nil
	case ModeAll:
		return matched, nil
	case ModeFixed:
		n, _ := strconv.Atoi(value)
		return min(n, matched), nil
	default:
		p, _ := strconv.ParseFloat(strings.TrimSuffix(value, "%"), 64)
		return max(1, int(math.Ceil(float64(matched)*p/100-1e-9))), nil
	}
}
