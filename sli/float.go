package sli

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Float is a guard value as it travels through Temporal (workflow inputs,
// activity results, heartbeats) and into reports. JSON has no NaN or ±Inf,
// and Prometheus returns both (a quantile over no traffic is NaN, a ratio
// over zero requests can be +Inf): encoding/json refuses them, which once
// made a guard panic on every attempt and a total outage pass. Float writes
// them as the strings "NaN", "+Inf" and "-Inf" and reads them back; finite
// values stay JSON numbers, so histories recorded with plain float64 fields
// still decode.
type Float float64

// Kinds of a Float, for reports that want to say more than the number.
const (
	KindValue  = "value"
	KindNaN    = "NaN"
	KindPosInf = "+Inf"
	KindNegInf = "-Inf"
)

// Kind says whether f is a finite value or which non-finite value it is.
func (f Float) Kind() string {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return KindNaN
	case math.IsInf(v, 1):
		return KindPosInf
	case math.IsInf(v, -1):
		return KindNegInf
	}
	return KindValue
}

// Finite reports whether f is neither NaN nor ±Inf.
func (f Float) Finite() bool { return f.Kind() == KindValue }

// String renders f for people: 4 significant digits, or NaN / +Inf / -Inf.
func (f Float) String() string {
	if k := f.Kind(); k != KindValue {
		return k
	}
	return strconv.FormatFloat(float64(f), 'g', 4, 64)
}

func (f Float) MarshalJSON() ([]byte, error) {
	if k := f.Kind(); k != KindValue {
		return json.Marshal(k)
	}
	return json.Marshal(float64(f))
}

func (f *Float) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		switch s {
		case KindNaN:
			*f = Float(math.NaN())
		case KindPosInf, "Inf":
			*f = Float(math.Inf(1))
		case KindNegInf:
			*f = Float(math.Inf(-1))
		default:
			return fmt.Errorf("guard value %q: want a number, NaN, +Inf or -Inf", s)
		}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// Describe renders a guard reading: "no data" when the query returned
// nothing, else the value (NaN, +Inf and -Inf spelled out).
func Describe(v Float, noData bool) string {
	if noData {
		return "no data"
	}
	return v.String()
}
