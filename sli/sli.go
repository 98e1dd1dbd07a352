// Package sli evaluates guards: PromQL queries, or direct probes of a
// service, whose value must satisfy a healthy condition. The evaluation
// rules (consecutive distinct bad samples before a breach, consecutive
// query errors before giving up) are pure and table-tested; the Prometheus
// client sits behind Querier (sli/promclient), the probes behind Prober
// (sli/probe).
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

// Prober runs one probe of a probe guard (kind http or tcp) and returns
// the answer's latency in seconds. An answer that is bad whatever its
// latency (a status out of range, a body that does not match, no answer
// in time) is a *BadAnswerError; no answer at all (refused, reset,
// unresolvable) one whose NoData is set. Any other error is the probe
// failing to run (on_error).
type Prober interface {
	Probe(ctx context.Context, g Guard) (float64, error)
	// Allowed says whether g's target is on the worker's allow-list (a
	// clear error naming the guard if not). Define refuses a scenario
	// with a probe it does not allow.
	Allowed(ctx context.Context, g Guard) error
}

// Read evaluates g once: its query at at (prometheus guards), or its probe
// now. A probe guard with no Prober, or a prometheus guard with no
// Querier, is an error saying so.
func Read(ctx context.Context, q Querier, p Prober, g Guard, at time.Time) (float64, error) {
	if g.IsProbe() {
		if p == nil {
			return 0, ErrNoProber
		}
		return p.Probe(ctx, g)
	}
	if q == nil {
		return 0, ErrNoQuerier
	}
	return q.Query(ctx, g.Query, at)
}

var (
	// ErrNoProber: probe guards need probes enabled on the worker.
	ErrNoProber = errors.New("probe guards are not enabled on this worker (set GAMEDAY_PROBE_ALLOW to the hosts probes may reach)")
	// ErrNoQuerier: prometheus guards need Prometheus on the worker.
	ErrNoQuerier = errors.New("no Prometheus configured on this worker: prometheus guards cannot be evaluated")
)

// BadAnswerError is a probe's answer that makes the sample bad whatever
// its value (Reason says why: "status 503, want 200-399", "body does not
// match", "no answer within 300ms"), or, with NoData, no answer at all
// ("connection refused"): then the sample is no data, bad unless
// on_no_data: ignore. Observe judges both; neither is a query error.
type BadAnswerError struct {
	Reason string
	NoData bool
}

func (e *BadAnswerError) Error() string { return e.Reason }

// Is makes a NoData answer errors.Is(err, ErrNoData).
func (e *BadAnswerError) Is(target error) bool { return e.NoData && target == ErrNoData }

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
	// Kind is the guard's kind (empty for prometheus guards and breaches
	// recorded before probes); Query then holds the probe's description
	// (Guard.Source). Reason says why a probe's last answer was bad.
	Kind   string `json:"kind,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Drift is set when this is no breach at all but the drift rule: the
	// value is inside the threshold and drifted from its baseline beyond
	// the limit (drift.go). The run pauses and asks a person.
	Drift *Drift `json:"drift,omitempty"`
}

func (b Breach) probe() bool { return b.Kind == KindHTTP || b.Kind == KindTCP }

// SourceLabel names what Query holds: "query" or "probe".
func (b Breach) SourceLabel() string { return sourceLabel(b.Kind) }

// Condition is the healthy condition for people: "<= 0.8", or for a probe
// "an answer within 300ms".
func (b Breach) Condition() string {
	if b.probe() {
		return "an answer within " + seconds(b.Threshold)
	}
	return fmt.Sprintf("%s %g", b.Op, b.Threshold)
}

// seconds renders a probe's latency (or limit) in seconds as a duration.
func seconds(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Float(v).String()
	}
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
}

func (b Breach) String() string {
	switch {
	case b.Drift != nil:
		return b.driftString()
	case b.QueryError != "":
		return fmt.Sprintf("guard %s: %s failed %d times in a row: %s", b.Guard, b.SourceLabel(), MaxQueryErrors, b.QueryError)
	case b.probe() && b.NoData:
		return fmt.Sprintf("guard %s breached: no answer (%s) from %s", b.Guard, b.Reason, b.Query)
	case b.probe() && b.Reason != "":
		return fmt.Sprintf("guard %s breached: %s (%s)", b.Guard, b.Reason, b.Query)
	case b.probe():
		return fmt.Sprintf("guard %s breached: answered in %s, healthy within %s (%s)", b.Guard, seconds(float64(b.Value)), seconds(b.Threshold), b.Query)
	case b.NoData:
		return fmt.Sprintf("guard %s breached: no data (the query returned nothing: is the service down or no longer scraped?), healthy when %s %g", b.Guard, b.Op, b.Threshold)
	case b.Value.Kind() == KindNaN:
		return fmt.Sprintf("guard %s breached: value NaN (nothing to measure: no traffic reached the service?), healthy when %s %g", b.Guard, b.Op, b.Threshold)
	}
	return fmt.Sprintf("guard %s breached: value %s, healthy when %s %g", b.Guard, b.Value, b.Op, b.Threshold)
}

// Reading renders the breaching value for people: "no data", "NaN",
// "+Inf" or the number; for a probe, why its answer was bad or its
// latency.
func (b Breach) Reading() string { return DescribeReading(b.Kind, b.Value, b.NoData, b.Reason) }

// DescribeReading renders one reading of a guard of the given kind:
// Describe for prometheus guards; for a probe, why its answer was bad
// ("status 503, want 200-399", "no answer (connection refused)") or its
// latency ("12ms").
func DescribeReading(kind string, v Float, noData bool, reason string) string {
	switch {
	case kind != KindHTTP && kind != KindTCP:
		return Describe(v, noData)
	case noData && reason != "":
		return "no answer (" + reason + ")"
	case reason != "":
		return reason
	}
	return seconds(float64(v))
}

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
	// Kind is the guard's kind (empty: prometheus); Reason why a probe's
	// answer was bad.
	Kind   string `json:"kind,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Stamp is the newest sample the evaluation saw (prometheus guards
	// whose freshness is known); zero otherwise.
	Stamp time.Time `json:"stamp,omitzero"`
}

// Reading renders the sample's value for people ("no data", "NaN", "0.12";
// a probe's latency or why its answer was bad).
func (s Sample) Reading() string {
	if s.Err != "" {
		return "error: " + s.Err
	}
	return DescribeReading(s.Kind, s.Value, s.NoData, s.Reason)
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
	// Stamp is the newest sample time the last counted evaluation saw: a
	// later one counts only if it saw newer data, so a retried attempt
	// never counts the same sample twice either.
	Stamp time.Time `json:"stamp,omitzero"`
	// Queries counts every request sent for the guard (freshness checks
	// included): the load the guard puts on Prometheus or on the probed
	// service.
	Queries int `json:"queries,omitempty"`
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
		iv := interval(g)
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
	s := Sample{Guard: g.Name, Value: Float(value), At: at, Kind: g.Kind}
	defer func() { st.Last = &s }()
	var bad *BadAnswerError
	isBad := errors.As(err, &bad)
	if err != nil && !isBad && !errors.Is(err, ErrNoData) {
		s.Err = err.Error()
		return s, t.countError(i, err.Error(), at)
	}
	st.Errors = 0
	noData := errors.Is(err, ErrNoData)
	if isBad {
		s.Reason = bad.Reason
	}
	if noData {
		s.NoData, s.Value = true, Float(math.NaN())
	}
	if (noData || math.IsNaN(value)) && g.OnNoData == OnNoDataIgnore {
		s.Ignored = true
		return s, nil
	}
	s.Healthy = !noData && !isBad && Healthy(g.Op, value, g.Threshold)
	if s.Healthy {
		st.Bad = 0
		return s, t.drift(i, value, at) // the drift rule (drift.go)
	}
	st.Bad++
	if st.Bad >= max(g.For, 1) {
		return s, &Breach{Guard: g.Name, Query: g.Source(), Op: string(g.Op), Value: s.Value, NoData: s.NoData, Threshold: g.Threshold, At: at, Kind: g.Kind, Reason: s.Reason}
	}
	return s, nil
}

// ObserveSample is Observe for an evaluation that saw the data up to stamp
// (the newest sample's time, from the guard's freshness; zero when
// unknown). An evaluation that saw nothing newer than the last one counted
// is the same sample looked at again: it counts neither way, so for: N
// means N distinct samples. The judgement itself is Observe's.
func (t *Tracker) ObserveSample(i int, stamp time.Time, value float64, err error, at time.Time) (Sample, *Breach) {
	st := &t.st[i]
	if !stamp.IsZero() && !st.Stamp.IsZero() && !stamp.After(st.Stamp) {
		return Sample{Guard: t.guards[i].Name, Value: Float(value), At: at, Kind: t.guards[i].Kind, Stamp: stamp}, nil
	}
	s, b := t.Observe(i, value, err, at)
	if !stamp.IsZero() && s.Err == "" {
		// A failed query saw nothing: the sample is still to be judged.
		st.Stamp, s.Stamp = stamp, stamp
		st.Last.Stamp = stamp
	}
	return s, b
}

// Sent counts one request sent for guard i (Queries).
func (t *Tracker) Sent(i int) { t.st[i].Queries++ }

// Reschedule makes guard i's next interval evaluation due one interval
// after now: it was just evaluated on a new sample.
func (t *Tracker) Reschedule(i int, now time.Time) { t.st[i].Next = now.Add(interval(t.guards[i])) }

// DueBy makes guard i's next interval evaluation due at at the latest
// (at once if at has passed).
func (t *Tracker) DueBy(i int, at time.Time) {
	if st := &t.st[i]; !st.Next.IsZero() && at.Before(st.Next) {
		st.Next = at
	}
}

func interval(g Guard) time.Duration {
	if iv := g.Interval.D(); iv > 0 {
		return iv
	}
	return DefaultGuardInterval
}

func (t *Tracker) countError(i int, msg string, at time.Time) *Breach {
	g := t.guards[i]
	st := &t.st[i]
	st.Errors++
	if g.OnError != OnErrorIgnore && st.Errors >= MaxQueryErrors {
		return &Breach{Guard: g.Name, Query: g.Source(), Op: string(g.Op), Value: Float(math.NaN()), Threshold: g.Threshold, At: at, QueryError: msg, Kind: g.Kind}
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
