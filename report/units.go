package report

import (
	"math"
	"strconv"
	"strings"

	"github.com/gameday/gameday/sli"
)

// scale is how a unit's values are shown: multiplied by factor, followed by
// suffix. Charts use one scale per guard (its axis); single values pick
// their own (Format), so "0.9 ms" and "1.2 s" both read naturally.
type scale struct {
	factor float64
	suffix string // with a leading space, or "" for plain counts
}

// axisScale picks the scale of a guard's chart from the largest magnitude it
// shows (its threshold and finite samples).
func axisScale(unit string, maxAbs float64) scale {
	switch unit {
	case sli.UnitSeconds:
		if maxAbs >= 10 {
			return scale{1, " s"}
		}
		return scale{1000, " ms"}
	case sli.UnitMillis:
		if maxAbs >= 10_000 {
			return scale{0.001, " s"}
		}
		return scale{1, " ms"}
	case sli.UnitRatio:
		return scale{100, " %"}
	case sli.UnitPercent:
		return scale{1, " %"}
	case sli.UnitBytes:
		return bytesScale(maxAbs)
	}
	return scale{1, ""}
}

func bytesScale(v float64) scale {
	units := []string{" B", " KiB", " MiB", " GiB", " TiB"}
	f := 1.0
	i := 0
	for math.Abs(v)/f >= 1024 && i < len(units)-1 {
		f *= 1024
		i++
	}
	return scale{1 / f, units[i]}
}

// Format renders one value of a guard in unit for people: three
// significant digits, with the unit ("812 ms", "1.21 s", "0.917 %",
// "1.5 KiB", "42"); NaN, +Inf and -Inf are spelled out.
func Format(unit string, v float64) string { return formatDigits(unit, v, 3) }

// FormatApart is Format of v with as many more significant digits as it
// takes to differ from how threshold is shown, when v is not threshold: a
// breach at 0.10004 % of a "≤ 0.1 %" guard must not read "0.1 %".
func FormatApart(unit string, v, threshold float64) string {
	s := Format(unit, v)
	for digits := 4; v != threshold && digits <= 17 && s == Format(unit, threshold); digits++ {
		s = formatDigits(unit, v, digits)
	}
	return s
}

func formatDigits(unit string, v float64, digits int) string {
	if k := sli.Float(v).Kind(); k != sli.KindValue {
		return k
	}
	s := axisScale(unit, math.Abs(v))
	if unit == sli.UnitSeconds && math.Abs(v) >= 1 && math.Abs(v) < 10 {
		s = scale{1, " s"}
	}
	if unit == sli.UnitMillis && math.Abs(v) >= 1000 {
		s = scale{0.001, " s"}
	}
	return number(v*s.factor, digits) + s.suffix
}

// FormatThreshold is the healthy condition of g in its unit, e.g.
// "≤ 800 ms".
func FormatThreshold(g sli.Guard) string {
	return OpSymbol(g.Op) + " " + Format(sli.UnitOf(g), g.Threshold)
}

// OpSymbol writes an operator the way people read it.
func OpSymbol(op sli.Op) string {
	switch op {
	case sli.OpLE:
		return "≤"
	case sli.OpGE:
		return "≥"
	case sli.OpEQ:
		return "="
	case sli.OpNE:
		return "≠"
	}
	return string(op)
}

// number writes v with digits significant digits (three in reports) and
// no exponent for the magnitudes reports meet (integers up to a billion
// stay whole, unless more digits are asked for).
func number(v float64, digits int) string {
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	if a >= 1000 && a < 1e9 && digits <= 3 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	if a >= 1e9 || a < 1e-4 {
		return strconv.FormatFloat(v, 'g', digits, 64)
	}
	// Digits after the point for that many significant ones.
	d := digits - 1 - int(math.Floor(math.Log10(a)))
	d = max(d, 0)
	s := strconv.FormatFloat(v, 'f', d, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
