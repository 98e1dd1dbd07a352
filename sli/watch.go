package sli

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// QueryTimeout bounds one evaluation of g: its interval, but at least 1 s
// (a loaded Prometheus needs that) and at most MaxQueryTimeout, so a hung
// Prometheus costs each guard at most MaxQueryTimeout per error and
// on_error: abort fires within about MaxQueryErrors timeouts of the hang.
func QueryTimeout(g Guard) time.Duration {
	return min(max(g.Interval.D(), time.Second), MaxQueryTimeout)
}

// MaxQueryTimeout is the longest a guard waits for one answer. It must stay
// well under the guard activity's heartbeat timeout.
const MaxQueryTimeout = 2 * time.Second

// WatchState is what a Watch needs to continue where another attempt left
// off: when the watch began and every guard's streaks and cadence.
type WatchState struct {
	Started time.Time    `json:"started"`
	Guards  []GuardState `json:"guards,omitempty"`
}

// WatchResult is how a watch ended.
type WatchResult struct {
	Breach      *Breach   `json:"breach,omitempty"`
	Evaluations int       `json:"evaluations"`
	Last        []Sample  `json:"last,omitempty"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
}

// Watch evaluates guards on their cadence until one breaches, Until passes
// or ctx ends. Guards are queried concurrently, each query bounded by
// QueryTimeout (an answer that does not come in time is an error even if
// the querier ignores its context), and at most one query per guard is in
// flight, so a hung Prometheus never stops the others nor the heartbeat.
type Watch struct {
	Guards  []Guard
	Querier Querier
	// Until ends a watch without a breach; zero means "until ctx ends".
	Until time.Time
	// Resume continues a previous attempt's state. Lost says that attempt
	// died (worker crash, heartbeat timeout): the guards were blind for a
	// while, which counts as one query error on each.
	Resume *WatchState
	Lost   string
	// Heartbeat, when set, is called every HeartbeatEvery from a goroutine
	// of its own with the latest state, whatever the queries are doing.
	Heartbeat      func(WatchState)
	HeartbeatEvery time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
}

type answer struct {
	guard, gen int
	value      float64
	err        error
	at         time.Time // when the query was sent (the sample's time)
	done       time.Time // when the answer came
}

// Run watches; see Watch. On ctx's end it returns the result so far and
// ctx.Err().
func (w Watch) Run(ctx context.Context) (WatchResult, error) {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	tr := NewTracker(w.Guards)
	state := WatchState{Started: now()}
	if w.Resume != nil {
		if !w.Resume.Started.IsZero() {
			state.Started = w.Resume.Started
		}
		tr.Restore(w.Resume.Guards)
	}
	res := WatchResult{Started: state.Started}
	finish := func(b *Breach) WatchResult {
		res.Breach, res.Evaluations, res.Last, res.Ended = b, tr.Evaluations(), tr.Last(), now()
		return res
	}
	if w.Lost != "" {
		if b := tr.Lost(w.Lost, now()); b != nil {
			return finish(b), nil
		}
	}

	var mu sync.Mutex
	publish := func() {
		mu.Lock()
		state.Guards = tr.State()
		mu.Unlock()
	}
	publish()
	done := make(chan struct{})
	defer close(done)
	if w.Heartbeat != nil {
		every := w.HeartbeatEvery
		if every <= 0 {
			every = time.Second
		}
		beat := func() {
			mu.Lock()
			s := WatchState{Started: state.Started, Guards: state.Guards}
			mu.Unlock()
			w.Heartbeat(s)
		}
		beat()
		go func() {
			// A panicking heartbeat (an unencodable payload) must not take
			// the worker down: this goroutine is not the activity's.
			defer func() { _ = recover() }()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					beat()
				}
			}
		}()
	}

	n := len(w.Guards)
	answers := make(chan answer, n)
	gen := make([]int, n)            // generation of the query in flight; a late answer of an older one is dropped
	inflight := make([]time.Time, n) // when the query in flight was sent; zero: none
	missed := make([]bool, n)        // a due slot passed while a query was in flight
	running := make([]int, n)        // query goroutines not yet returned, given up on or not
	poll := min(max(MinInterval(w.Guards)/10, 20*time.Millisecond), 100*time.Millisecond)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		t := now()
		if !w.Until.IsZero() && !t.Before(w.Until) {
			return finish(nil), nil
		}
		send := func(i int, at time.Time) {
			inflight[i], missed[i] = at, false
			gen[i]++
			running[i]++
			go func(i, g int, at time.Time) {
				qctx, cancel := context.WithTimeout(ctx, QueryTimeout(w.Guards[i]))
				v, err := func() (v float64, err error) {
					defer func() {
						if p := recover(); p != nil {
							err = fmt.Errorf("query panicked: %v", p)
						}
					}()
					return w.Querier.Query(qctx, w.Guards[i].Query, at)
				}()
				cancel()
				if err != nil && qctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
					err = fmt.Errorf("no answer within %s: %w", QueryTimeout(w.Guards[i]), err)
				}
				select {
				case answers <- answer{guard: i, gen: g, value: v, err: err, at: at, done: now()}:
				case <-done:
				}
			}(i, gen[i], at)
		}
		for i := range w.Guards {
			// An answer that never came is an error now, whatever the
			// querier does with its context.
			if !inflight[i].IsZero() && t.Sub(inflight[i]) > QueryTimeout(w.Guards[i])+poll {
				inflight[i] = time.Time{}
				gen[i]++
				_, b := tr.Observe(i, 0, fmt.Errorf("no answer within %s", QueryTimeout(w.Guards[i])), t)
				publish()
				if b != nil {
					return finish(b), nil
				}
				missed[i] = true
			}
		}
		for _, i := range tr.Due(t) {
			switch {
			case !inflight[i].IsZero():
				missed[i] = true // still waiting for the previous answer: never pile up
			case running[i] > 0:
				// A query given up on has not returned (the querier ignores
				// its context): do not start another one beside it; the slot
				// is one more error.
				_, b := tr.Observe(i, 0, fmt.Errorf("previous query still has not returned after %s", QueryTimeout(w.Guards[i])), t)
				publish()
				if b != nil {
					return finish(b), nil
				}
			default:
				send(i, t)
			}
		}
		for i := range w.Guards {
			// A slot skipped for a slow answer is taken as soon as the
			// answer is in, so a hang costs one timeout per error, not two.
			if missed[i] && inflight[i].IsZero() && running[i] == 0 {
				send(i, t)
			}
		}
		select {
		case <-ctx.Done():
			// Answers already in may hold a breach seen while the faults
			// were still held: hand it in rather than drop it.
			for {
				select {
				case a := <-answers:
					running[a.guard]--
					if a.gen != gen[a.guard] || inflight[a.guard].IsZero() || a.err != nil {
						continue
					}
					inflight[a.guard] = time.Time{}
					if _, b := tr.Observe(a.guard, a.value, a.err, a.at); b != nil {
						return finish(b), nil
					}
				default:
					return finish(nil), ctx.Err()
				}
			}
		case a := <-answers:
			running[a.guard]--
			var bq *BadQueryError
			if errors.As(a.err, &bq) && a.gen == gen[a.guard] {
				// The query itself became invalid (e.g. a second series
				// appeared): the guard is blind, which is not the service
				// failing. Stop, so the run ends and says why.
				return finish(nil), fmt.Errorf("guard %s: %w", w.Guards[a.guard].Name, a.err)
			}
			if a.gen != gen[a.guard] || inflight[a.guard].IsZero() {
				continue // given up on already
			}
			inflight[a.guard] = time.Time{}
			if ctx.Err() != nil {
				return finish(nil), ctx.Err()
			}
			at := a.at
			if a.err != nil {
				at = a.done // a failed query is known to have failed only now
			}
			_, b := tr.Observe(a.guard, a.value, a.err, at)
			publish()
			if b != nil {
				return finish(b), nil
			}
		case <-tick.C:
		}
	}
}
