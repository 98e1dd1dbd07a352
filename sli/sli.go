// Package sli evaluates guards: PromQL queries whose value must satisfy a
// healthy condition. The evaluation rules (consecutive bad samples before a
// breach, consecutive query errors before giving up) are pure and
// table-tested; the Prometheus client sits behind Querier.
package sli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// Querier runs an instant PromQL query that must yield one number.
type Querier interface {
	Query(ctx context.Context, query string, at time.Time) (float64, error)
}

// Point is one sample of a range query. Value may be NaN or ±Inf (as
// Prometheus answered); it never travels through Temporal (reports are
// files), so it is a plain float64.
type Point struct {
	At    time.Time
	Value float64
}

// RangeQuerier runs a range PromQL query that must yield at most one
// series: the guard's value over a window, for reports. An empty answer is
// no points and no error.
type RangeQuerier interface {
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Point, error)
}

// Healthy reports whether value OP threshold holds. NaN is never healthy:
// a quantile over no traffic is not evidence of health. ±Inf compare as the
// extremes they are (an error ratio of +Inf is not below any limit).
func Healthy(op Op, value, threshold float64) bool {
	if math.IsNaN(value) {
		return false
	}
	switch op {
	case OpLT:
		return value < threshold
	case OpLE:
		return value <= threshold
	case OpGT:
		return value > threshold
	case OpGE:
		return value >= threshold
	case OpEQ:
		return value == threshold
	case OpNE:
		return value != threshold
	}
	return false
}

// Breach is what ends an observation: a guard that was bad For consecutive
// evaluations, or whose query failed too often under on_error: abort.
type Breach struct {
	Guard string `json:"guard"`
	Query string `json:"query"`
	Op    string `json:"op"`
	// Value is the last bad value; NaN and ±Inf are kept (see Float).
	Value Float `json:"value"`
	// NoData: the last bad sample was an empty answer (no series at all).
	NoData    bool      `json:"no_data,omitempty"`
	Threshold float64   `json:"threshold"`
	At        time.Time `json:"at"`
	// QueryError is set when the breach is "the query kept failing" rather
	// than a bad value.
	QueryError string `json:"query_error,omitempty"`
	// Drift is set when this is no breach at all but the drift rule: the
	// value is inside the threshold and drifted from its baseline beyond
	// the limit (drift.go). The run pauses and asks a person.
	Drift *Drift `json:"drift,omitempty"`
}

func (b Breach) String() string {
	switch {
	case b.Drift != nil:
		return b.driftString()
	case b.QueryError != "":
		return fmt.Sprintf("guard %s: query failed %d times in a row: %s", b.Guard, MaxQueryErrors, b.QueryError)
	case b.NoData:
		return fmt.Sprintf("guard %s breached: no data (the query returned nothing: is the service down or no longer scraped?), healthy when %s %g", b.Guard, b.Op, b.Threshold)
	case b.Value.Kind() == KindNaN:
		return fmt.Sprintf("guard %s breached: value NaN (nothing to measure: no traffic reached the service?), healthy when %s %g", b.Guard, b.Op, b.Threshold)
	}
	return fmt.Sprintf("guard %s breached: value %s, healthy when %s %g", b.Guard, b.Value, b.Op, b.Threshold)
}

// Reading renders the breaching value for people: "no data", "NaN",
// "+Inf" or the number.
func (b Breach) Reading() string { return Describe(b.Value, b.NoData) }

// Sample is one evaluation of one guard.
type Sample struct {
	Guard   string `json:"guard"`
	Value   Float  `json:"value"`
	NoData  bool   `json:"no_data,omitempty"`
	Healthy bool   `json:"healthy"`
	// Ignored: no data or NaN on a guard with on_no_data: ignore; the
	// sample counted neither as good nor as bad.
	Ignored bool      `json:"ignored,omitempty"`
	Err     string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// Reading renders the sample's value for people ("no data", "NaN", "0.12").
func (s Sample) Reading() string {
	if s.Err != "" {
		return "error: " + s.Err
	}
	return Describe(s.Value, s.NoData)
}

// GuardState is one guard's running evaluation state: its streaks, its
// cadence and its last sample. It travels in the guard activity's heartbeat,
// so an attempt retried on another worker continues the streaks instead of
// starting from zero (a crash must not reset "for: 3" to 0 of 3).
type GuardState struct {
	Guard       string    `json:"guard"`
	Bad         int       `json:"bad"`
	Errors      int       `json:"errors"`
	Evaluations int       `json:"evaluations"`
	Drifted     int       `json:"drifted,omitempty"` // healthy samples in a row beyond the drift limit
	Next        time.Time `json:"next,omitzero"`
	Last        *Sample   `json:"last,omitempty"`
}

// Tracker counts consecutive bad values and errors per guard.
type Tracker struct {
	guards []Guard
	st     []GuardState
}

func NewTracker(guards []Guard) *Tracker {
	t := &Tracker{guards: guards, st: make([]GuardState, len(guards))}
	for i, g := range guards {
		t.st[i].Guard = g.Name
	}
	return t
}

// Restore continues from a state saved by State (matched by guard name,
// so a state of other guards is ignored).
func (t *Tracker) Restore(saved []GuardState) {
	for _, s := range saved {
		for i := range t.st {
			if t.st[i].Guard == s.Guard {
				t.st[i] = s
				// Next came from another worker's clock: if that one ran
				// ahead, waiting for it would leave the guard blind.
				t.st[i].Next = time.Time{}
			}
		}
	}
}

// State is a copy of every guard's state, safe to serialize.
func (t *Tracker) State() []GuardState {
	out := make([]GuardState, len(t.st))
	for i, s := range t.st {
		out[i] = s
		if s.Last != nil {
			l := *s.Last
			out[i].Last = &l
		}
	}
	return out
}

// Evaluations is the number of evaluations over all guards.
func (t *Tracker) Evaluations() int {
	n := 0
	for _, s := range t.st {
		n += s.Evaluations
	}
	return n
}

// Last lists the last sample of every guard evaluated so far.
func (t *Tracker) Last() []Sample {
	var out []Sample
	for _, s := range t.st {
		if s.Last != nil {
			out = append(out, *s.Last)
		}
	}
	return out
}

// Due lists the guards whose interval has elapsed at now, and schedules
// their next evaluation.
func (t *Tracker) Due(now time.Time) []int {
	var out []int
	for i, g := range t.guards {
		st := &t.st[i]
		if now.Before(st.Next) {
			continue
		}
		out = append(out, i)
		iv := g.Interval.D()
		if iv <= 0 {
			iv = DefaultGuardInterval
		}
		// Keep a fixed cadence from the first evaluation: scheduling from
		// "now" would let polling jitter stretch every interval, and with
		// for: N that delay adds up before a breach is declared.
		if st.Next.IsZero() {
			st.Next = now
		}
		st.Next = st.Next.Add(iv)
		if !st.Next.After(now) {
			st.Next = now.Add(iv) // fell behind (slow query): do not burst
		}
	}
	return out
}

// Observe records one evaluation and returns a breach when the guard's rule
// fires. err may be ErrNoData (an empty answer): like NaN, it is a bad
// sample unless the guard says on_no_data: ignore. Any other error counts
// towards on_error.
func (t *Tracker) Observe(i int, value float64, err error, at time.Time) (Sample, *Breach) {
	g := t.guards[i]
	st := &t.st[i]
	st.Evaluations++
	s := Sample{Guard: g.Name, Value: Float(value), At: at}
	defer func() { st.Last = &s }()
	if err != nil && !errors.Is(err, ErrNoData) {
		s.Err = err.Error()
		return s, t.countError(i, err.Error(), at)
	}
	st.Errors = 0
	noData := errors.Is(err, ErrNoData)
	if noData {
		s.NoData, s.Value = true, Float(math.NaN())
	}
	if (noData || math.IsNaN(value)) && g.OnNoData == OnNoDataIgnore {
		s.Ignored = true
		return s, nil
	}
	s.Healthy = !noData && Healthy(g.Op, value, g.Threshold)
	if s.Healthy {
		st.Bad = 0
		return s, t.drift(i, value, at) // the drift rule (drift.go)
	}
	st.Bad++
	if st.Bad >= max(g.For, 1) {
		return s, &Breach{Guard: g.Name, Query: g.Query, Op: string(g.Op), Value: s.Value, NoData: s.NoData, Threshold: g.Threshold, At: at}
	}
	return s, nil
}

func (t *Tracker) countError(i int, msg string, at time.Time) *Breach {
	g := t.guards[i]
	st := &t.st[i]
	st.Errors++
	if g.OnError != OnErrorIgnore && st.Errors >= MaxQueryErrors {
		return &Breach{Guard: g.Name, Query: g.Query, Op: string(g.Op), Value: Float(math.NaN()), Threshold: g.Threshold, At: at, QueryError: msg}
	}
	return nil
}

// Lost counts one query error on every guard: the guard was blind for a
// while (its attempt died, e.g. on a heartbeat timeout) and nothing says the
// service was healthy meanwhile. Returns the first breach it causes.
func (t *Tracker) Lost(why string, at time.Time) *Breach {
	var first *Breach
	for i := range t.guards {
		if b := t.countError(i, why, at); b != nil && first == nil {
			first = b
		}
	}
	return first
}

// MinInterval is the polling tick that serves every guard on time.
func MinInterval(guards []Guard) time.Duration {
	min := time.Duration(0)
	for _, g := range guards {
		if iv := g.Interval.D(); iv > 0 && (min == 0 || iv < min) {
			min = iv
		}
	}
	if min == 0 {
		min = DefaultGuardInterval
	}
	return min
}

// ErrNoData means the query returned an empty vector: usually a wrong
// metric name or a service that is not scraped.
var ErrNoData = errors.New("query returned no data")

// BadQueryError marks a query Prometheus rejected (bad PromQL), or whose
// answer cannot be a guard's (many series, too large): retrying cannot
// help, so activities make it non-retryable.
type BadQueryError struct {
	Query string
	Msg   string
}

func (e *BadQueryError) Error() string { return fmt.Sprintf("invalid query %q: %s", e.Query, e.Msg) }
