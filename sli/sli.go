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

	"github.com/gameday/gameday/scenarios"
)

// Querier runs an instant PromQL query that must yield one number.
type Querier interface {
	Query(ctx context.Context, query string, at time.Time) (float64, error)
}

// Healthy reports whether value OP threshold holds. NaN is never healthy:
// a quantile over no traffic is not evidence of health.
func Healthy(op scenarios.Op, value, threshold float64) bool {
	if math.IsNaN(value) {
		return false
	}
	switch op {
	case scenarios.OpLT:
		return value < threshold
	case scenarios.OpLE:
		return value <= threshold
	case scenarios.OpGT:
		return value > threshold
	case scenarios.OpGE:
		return value >= threshold
	case scenarios.OpEQ:
		return value == threshold
	case scenarios.OpNE:
		return value != threshold
	}
	return false
}

// Breach is what ends an observation: a guard that was bad For consecutive
// evaluations, or whose query failed too often under on_error: abort.
type Breach struct {
	Guard     string    `json:"guard"`
	Query     string    `json:"query"`
	Op        string    `json:"op"`
	Value     float64   `json:"value"`
	Threshold float64   `json:"threshold"`
	At        time.Time `json:"at"`
	// QueryError is set when the breach is "the query kept failing" rather
	// than a bad value.
	QueryError string `json:"query_error,omitempty"`
}

func (b Breach) String() string {
	if b.QueryError != "" {
		return fmt.Sprintf("guard %s: query failed %d times in a row: %s", b.Guard, scenarios.MaxQueryErrors, b.QueryError)
	}
	return fmt.Sprintf("guard %s breached: value %.4g, healthy when %s %g", b.Guard, b.Value, b.Op, b.Threshold)
}

// Sample is one evaluation of one guard.
type Sample struct {
	Guard   string    `json:"guard"`
	Value   float64   `json:"value"`
	Healthy bool      `json:"healthy"`
	Err     string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
}

// Tracker counts consecutive bad values and errors per guard.
type Tracker struct {
	guards []scenarios.Guard
	bad    []int
	errs   []int
	next   []time.Time
}

func NewTracker(guards []scenarios.Guard) *Tracker {
	return &Tracker{
		guards: guards,
		bad:    make([]int, len(guards)),
		errs:   make([]int, len(guards)),
		next:   make([]time.Time, len(guards)),
	}
}

// Due lists the guards whose interval has elapsed at now, and schedules
// their next evaluation.
func (t *Tracker) Due(now time.Time) []int {
	var out []int
	for i, g := range t.guards {
		if now.Before(t.next[i]) {
			continue
		}
		out = append(out, i)
		iv := g.Interval.D()
		if iv <= 0 {
			iv = 5 * time.Second
		}
		// Keep a fixed cadence from the first evaluation: scheduling from
		// "now" would let polling jitter stretch every interval, and with
		// for: N that delay adds up before a breach is declared.
		if t.next[i].IsZero() {
			t.next[i] = now
		}
		t.next[i] = t.next[i].Add(iv)
		if !t.next[i].After(now) {
			t.next[i] = now.Add(iv) // fell behind (slow query): do not burst
		}
	}
	return out
}

// Observe records one evaluation and returns a breach when the guard's rule
// fires.
func (t *Tracker) Observe(i int, value float64, err error, at time.Time) (Sample, *Breach) {
	g := t.guards[i]
	s := Sample{Guard: g.Name, Value: value, At: at}
	if err != nil {
		s.Err = err.Error()
		t.errs[i]++
		if g.OnError != scenarios.OnErrorIgnore && t.errs[i] >= scenarios.MaxQueryErrors {
			return s, &Breach{Guard: g.Name, Query: g.Query, Op: string(g.Op), Threshold: g.Threshold, At: at, QueryError: err.Error()}
		}
		return s, nil
	}
	t.errs[i] = 0
	s.Healthy = Healthy(g.Op, value, g.Threshold)
	if s.Healthy {
		t.bad[i] = 0
		return s, nil
	}
	t.bad[i]++
	need := g.For
	if need < 1 {
		need = 1
	}
	if t.bad[i] >= need {
		return s, &Breach{Guard: g.Name, Query: g.Query, Op: string(g.Op), Value: value, Threshold: g.Threshold, At: at}
	}
	return s, nil
}

// MinInterval is the polling tick that serves every guard on time.
func MinInterval(guards []scenarios.Guard) time.Duration {
	min := time.Duration(0)
	for _, g := range guards {
		if iv := g.Interval.D(); iv > 0 && (min == 0 || iv < min) {
			min = iv
		}
	}
	if min == 0 {
		min = 5 * time.Second
	}
	return min
}

// ErrNoData means the query returned an empty vector: usually a wrong
// metric name or a service that is not scraped.
var ErrNoData = errors.New("query returned no data")
