package sli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// QueryTimeout bounds one evaluation of g. A prometheus guard waits its
// interval, but at least 1 s (a loaded Prometheus needs that) and at most
// MaxQueryTimeout, so a hung Prometheus costs each guard at most
// MaxQueryTimeout per error and on_error: abort fires within about
// MaxQueryErrors timeouts of the hang. A probe bounds itself by its latency
// limit (no answer by then is a bad sample); this adds a grace for a probe
// that does not return at all.
func QueryTimeout(g Guard) time.Duration {
	if g.IsProbe() {
		return g.ProbeLatency() + probeGrace
	}
	return min(max(g.Interval.D(), time.Second), MaxQueryTimeout)
}

// MaxQueryTimeout is the longest a prometheus guard waits for one answer.
// It must stay well under the guard activity's heartbeat timeout.
const MaxQueryTimeout = 2 * time.Second

const probeGrace = 500 * time.Millisecond

const (
	// DefaultFreshEvery is how often a prometheus guard's freshness query
	// runs: the most a new sample waits before its evaluation starts.
	DefaultFreshEvery = 100 * time.Millisecond
	// FreshTimeout bounds one freshness query; one that does not answer in
	// time leaves the guard on its interval until freshness answers again
	// (not an error: the interval's own evaluations say whether Prometheus
	// answers the guard).
	FreshTimeout = 500 * time.Millisecond
	// StaleAfter: a guard whose newest sample is older than this (or than
	// 10 intervals, if longer) while Prometheus still answers is blind
	// (Prometheus no longer gets new data): each interval then counts as
	// one query error (on_error).
	StaleAfter = 2 * time.Minute
)

// staleAfter is when g's newest sample is too old (see StaleAfter).
func (w Watch) staleAfter(g Guard) time.Duration {
	if w.StaleAfter > 0 {
		return w.StaleAfter
	}
	return max(StaleAfter, 10*interval(g))
}

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
	// Load is what each guard cost (queries per second, freshness).
	Load []GuardLoad `json:"load,omitempty"`
}

// GuardLoad is the load one guard put on Prometheus or on the probed
// service over a watch (resumed attempts included).
type GuardLoad struct {
	Guard       string `json:"guard"`
	Evaluations int    `json:"evaluations"`
	// Queries counts every request (freshness checks included);
	// PerSecond is Queries over the watch's duration.
	Queries   int     `json:"queries"`
	PerSecond float64 `json:"queries_per_second"`
	// Freshness is the freshness query the guard used, or why it used
	// none ("interval only: ...").
	Freshness string `json:"freshness,omitempty"`
}

func (l GuardLoad) String() string {
	return fmt.Sprintf("%s: %d evaluations, %d queries (%.1f/s)", l.Guard, l.Evaluations, l.Queries, l.PerSecond)
}

// Watch evaluates guards until one breaches, Until passes or ctx ends.
//
// A prometheus guard is evaluated as soon as a new sample lands: its
// freshness query (the newest sample's time, see Guard.Freshness) runs
// every FreshEvery, and a newer answer starts an evaluation of the guard
// at that sample's time, which therefore sees exactly the data up to it.
// Only a new sample counts towards for: N (Tracker.ObserveSample). When
// freshness cannot tell (no freshness query, its selectors match nothing,
// it fails or hangs) the guard is evaluated every interval, each
// evaluation a sample, as it always was. Probes run every interval.
//
// Requests are concurrent, each bounded (QueryTimeout, FreshTimeout: an
// answer that does not come in time is given up even if the querier
// ignores its context), and at most one evaluation and one freshness query
// per guard are in flight, so a hung Prometheus or service never stops the
// others nor the heartbeat.
type Watch struct {
	Guards  []Guard
	Querier Querier
	// Prober runs the probe guards (kind http, tcp).
	Prober Prober
	// Freshness derives a prometheus guard's freshness query from its
	// query when the guard names none (promclient.FreshnessQuery); nil
	// leaves such guards on their interval.
	Freshness func(query string) (string, error)
	// FreshEvery is how often freshness is checked (DefaultFreshEvery).
	FreshEvery time.Duration
	// StaleAfter replaces the StaleAfter rule (tests).
	StaleAfter time.Duration
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
	fresh      bool // a freshness answer
	value      float64
	err        error
	at         time.Time // the time the query evaluated (the sample's time)
	stamp      time.Time // the newest sample an evaluation was sent for
	done       time.Time // when the answer came
}

// slot is one kind of request of one guard: at most one in flight.
type slot struct {
	gen     int       // generation of the request in flight; a late answer of an older one is dropped
	sent    time.Time // when the request in flight was sent; zero: none
	running int       // goroutines not yet returned, given up on or not
}

func (s *slot) idle() bool { return s.sent.IsZero() && s.running == 0 }

// guardRun is one guard's request bookkeeping in a Run.
type guardRun struct {
	eval, fresh slot
	missed      bool      // an interval slot passed while an evaluation was in flight
	query       string    // freshness query; empty: interval only
	note        string    // why there is none
	freshNext   time.Time // when the next freshness query is due
	freshness   int       // what freshness said last: freshUnknown, freshOK, freshNone
	lastEval    time.Time // when the last evaluation was sent
	seen        time.Time // newest sample time freshness reported
	sentStamp   time.Time // newest sample an evaluation was sent for
}

// What a guard's freshness said last.
const (
	freshUnknown = iota // no answer yet: wait for it rather than evaluate blind
	freshOK             // it named the newest sample
	freshNone           // its series are gone, or it fails: the interval rules
)

// Run watches; see Watch. On ctx's end it returns the result so far and
// ctx.Err().
func (w Watch) Run(ctx context.Context) (WatchResult, error) {
	now := w.Now
	if now == nil {
		now = time.Now
	}
	freshEvery := w.FreshEvery
	if freshEvery <= 0 {
		freshEvery = DefaultFreshEvery
	}
	tr := NewTracker(w.Guards)
	state := WatchState{Started: now()}
	if w.Resume != nil {
		if !w.Resume.Started.IsZero() {
			state.Started = w.Resume.Started
		}
		tr.Restore(w.Resume.Guards)
	}
	n := len(w.Guards)
	runs := make([]guardRun, n)
	anyFresh := false
	for i, g := range w.Guards {
		runs[i].query, runs[i].note = w.freshness(g)
		anyFresh = anyFresh || runs[i].query != ""
	}
	for i, st := range tr.State() {
		// A sample an earlier attempt counted is not evaluated again.
		runs[i].sentStamp = st.Stamp
	}
	res := WatchResult{Started: state.Started}
	finish := func(b *Breach) WatchResult {
		res.Breach, res.Evaluations, res.Last, res.Ended = b, tr.Evaluations(), tr.Last(), now()
		secs := res.Ended.Sub(res.Started).Seconds()
		for i, st := range tr.State() {
			l := GuardLoad{Guard: st.Guard, Evaluations: st.Evaluations, Queries: st.Queries, Freshness: runs[i].query}
			if l.Freshness == "" {
				l.Freshness = runs[i].note
			}
			if secs > 0 {
				l.PerSecond = math.Round(float64(st.Queries)/secs*100) / 100
			}
			res.Load = append(res.Load, l)
		}
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

	answers := make(chan answer, 2*n)
	poll := min(max(MinInterval(w.Guards)/10, 20*time.Millisecond), 100*time.Millisecond)
	if anyFresh {
		poll = max(min(poll, freshEvery/5), 5*time.Millisecond)
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	// run sends one request on its own goroutine; its answer (or panic)
	// comes back on answers unless the watch is over.
	run := func(i int, s *slot, a answer, timeout time.Duration, call func(context.Context) (float64, error)) {
		s.sent = now()
		s.gen++
		s.running++
		a.guard, a.gen = i, s.gen
		tr.Sent(i)
		go func() {
			qctx, cancel := context.WithTimeout(ctx, timeout)
			v, err := func() (v float64, err error) {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("query panicked: %v", p)
					}
				}()
				return call(qctx)
			}()
			cancel()
			if err != nil && qctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				err = fmt.Errorf("no answer within %s: %w", timeout, err)
			}
			a.value, a.err, a.done = v, err, now()
			select {
			case answers <- a:
			case <-done:
			}
		}()
	}
	sendEval := func(i int, at, stamp time.Time) {
		r := &runs[i]
		r.missed = false
		r.lastEval = now()
		if stamp.IsZero() && r.query != "" && at.After(r.sentStamp) {
			// An interval evaluation sees the data up to at: a sample
			// freshness reports later that is not newer is not news.
			r.sentStamp = at
		}
		g := w.Guards[i]
		run(i, &r.eval, answer{at: at, stamp: stamp}, QueryTimeout(g), func(ctx context.Context) (float64, error) {
			return Read(ctx, w.Querier, w.Prober, g, at)
		})
	}
	sendFresh := func(i int, at time.Time) {
		q := runs[i].query
		run(i, &runs[i].fresh, answer{fresh: true, at: at}, FreshTimeout, func(ctx context.Context) (float64, error) {
			return w.Querier.Query(ctx, q, at)
		})
	}
	for {
		t := now()
		if !w.Until.IsZero() && !t.Before(w.Until) {
			return finish(nil), nil
		}
		for i, g := range w.Guards {
			r := &runs[i]
			// An answer that never came is an error now, whatever the
			// querier does with its context.
			if !r.eval.sent.IsZero() && t.Sub(r.eval.sent) > QueryTimeout(g)+poll {
				r.eval.sent = time.Time{}
				r.eval.gen++
				_, b := tr.Observe(i, 0, fmt.Errorf("no answer within %s", QueryTimeout(g)), t)
				publish()
				if b != nil {
					return finish(b), nil
				}
				r.missed = true
			}
			// A freshness query that never came back leaves the guard on
			// its interval until one answers again.
			if !r.fresh.sent.IsZero() && t.Sub(r.fresh.sent) > FreshTimeout+poll {
				r.fresh.sent = time.Time{}
				r.fresh.gen++
				r.blind(tr, i, g)
			}
			if r.query != "" && r.fresh.idle() && !t.Before(r.freshNext) {
				r.freshNext = t.Add(freshEvery)
				sendFresh(i, t)
			}
			// A new sample landed: evaluate the guard at its time.
			if r.freshness == freshOK && r.seen.After(r.sentStamp) && r.eval.sent.IsZero() {
				r.sentStamp = r.seen
				tr.Reschedule(i, t)
				if r.eval.running > 0 {
					// The evaluation given up on has not returned (the
					// querier ignores its context): never two beside each
					// other; this sample is one more error.
					_, b := tr.Observe(i, 0, fmt.Errorf("previous query still has not returned after %s", QueryTimeout(g)), t)
					publish()
					if b != nil {
						return finish(b), nil
					}
					continue
				}
				sendEval(i, r.seen, r.seen)
			}
		}
		for _, i := range tr.Due(t) {
			r := &runs[i]
			switch {
			case r.query != "" && r.freshness == freshUnknown:
				// The first freshness answer decides; an evaluation now
				// could count a sample an earlier attempt already did.
			case r.query != "" && r.freshness == freshOK:
				// Freshness answers: evaluating the same data again would
				// count nothing. Only data that stopped coming is news.
				if age := t.Sub(r.seen); age > w.staleAfter(w.Guards[i]) {
					_, b := tr.Observe(i, 0, fmt.Errorf("no new sample for %s (newest at %s): Prometheus no longer gets the guard's data",
						age.Truncate(time.Second), r.seen.UTC().Format(time.RFC3339)), t)
					publish()
					if b != nil {
						return finish(b), nil
					}
				}
			case !r.eval.sent.IsZero():
				r.missed = true // still waiting for the previous answer: never pile up
			case r.eval.running > 0:
				// A query given up on has not returned (the querier ignores
				// its context): do not start another one beside it; the slot
				// is one more error.
				_, b := tr.Observe(i, 0, fmt.Errorf("previous query still has not returned after %s", QueryTimeout(w.Guards[i])), t)
				publish()
				if b != nil {
					return finish(b), nil
				}
			default:
				sendEval(i, t, time.Time{})
			}
		}
		for i := range w.Guards {
			// A slot skipped for a slow answer is taken as soon as the
			// answer is in, so a hang costs one timeout per error, not two.
			if r := &runs[i]; r.missed && (r.query == "" || r.freshness == freshNone) && r.eval.idle() {
				sendEval(i, t, time.Time{})
			}
		}
		select {
		case <-ctx.Done():
			// Answers already in may hold a breach seen while the faults
			// were still held: hand it in rather than drop it.
			for {
				select {
				case a := <-answers:
					r := &runs[a.guard]
					s := &r.eval
					if a.fresh {
						s = &r.fresh
					}
					s.running--
					if a.fresh || a.gen != s.gen || s.sent.IsZero() || a.err != nil {
						continue
					}
					s.sent = time.Time{}
					if _, b := tr.ObserveSample(a.guard, a.stamp, a.value, a.err, a.at); b != nil {
						return finish(b), nil
					}
				default:
					return finish(nil), ctx.Err()
				}
			}
		case a := <-answers:
			r := &runs[a.guard]
			if a.fresh {
				r.fresh.running--
				if a.gen != r.fresh.gen || r.fresh.sent.IsZero() {
					continue // given up on already
				}
				r.fresh.sent = time.Time{}
				w.fresh(r, tr, a)
				continue
			}
			r.eval.running--
			var bq *BadQueryError
			if errors.As(a.err, &bq) && a.gen == r.eval.gen {
				// The query itself became invalid (e.g. a second series
				// appeared): the guard is blind, which is not the service
				// failing. Stop, so the run ends and says why.
				return finish(nil), fmt.Errorf("guard %s: %w", w.Guards[a.guard].Name, a.err)
			}
			if a.gen != r.eval.gen || r.eval.sent.IsZero() {
				continue // given up on already
			}
			r.eval.sent = time.Time{}
			if ctx.Err() != nil {
				return finish(nil), ctx.Err()
			}
			at := a.at
			if a.err != nil {
				at = a.done // a failed query is known to have failed only now
			}
			_, b := tr.ObserveSample(a.guard, a.stamp, a.value, a.err, at)
			publish()
			if b != nil {
				return finish(b), nil
			}
		case <-tick.C:
		}
	}
}

// fresh takes one freshness answer.
func (w Watch) fresh(r *guardRun, tr *Tracker, a answer) {
	g := w.Guards[a.guard]
	var bq *BadQueryError
	switch {
	case errors.As(a.err, &bq):
		// Prometheus refuses the freshness query (an older server, an
		// expression it cannot evaluate): the guard keeps its interval.
		r.blind(tr, a.guard, g)
		r.query, r.note = "", "interval only: freshness query refused: "+bq.Msg
	case a.err != nil || math.IsNaN(a.value) || math.IsInf(a.value, 0) || a.value <= 0:
		// The guard's series are gone (a target that stopped answering
		// gets staleness markers at its next failed scrape), or
		// Prometheus fails: the interval rules, from now.
		r.blind(tr, a.guard, g)
	case a.value > float64(a.at.Add(time.Minute).Unix()):
		// Newer than the time it was asked at: not the newest sample's Unix
		// time in seconds (a freshness expression in milliseconds, say).
		// Evaluating at it would read where Prometheus has no data yet.
		r.blind(tr, a.guard, g)
		r.query, r.note = "", fmt.Sprintf("interval only: freshness answered %g, not the newest sample's Unix time in seconds (asked at %d)", a.value, a.at.Unix())
	default:
		r.freshness = freshOK
		if s := time.UnixMilli(int64(math.Round(a.value * 1000))); s.After(r.seen) {
			r.seen = s
		}
	}
}

// blind puts the guard on its interval: freshness cannot tell (its series
// are gone, it fails or hangs). That is news: the guard is evaluated as
// soon as an interval has passed since its last evaluation (at once if it
// has), then every interval, each evaluation a sample.
func (r *guardRun) blind(tr *Tracker, i int, g Guard) {
	if r.freshness != freshNone {
		tr.DueBy(i, r.lastEval.Add(interval(g)))
	}
	r.freshness = freshNone
}

// freshness is g's freshness query, or "" and why it has none.
func (w Watch) freshness(g Guard) (string, string) {
	switch {
	case g.IsProbe():
		return "", ""
	case g.Freshness == FreshnessOff:
		return "", "interval only: freshness: off"
	case g.Freshness != "":
		return g.Freshness, ""
	case w.Freshness == nil:
		return "", "interval only: no freshness query"
	}
	q, err := w.Freshness(g.Query)
	if err != nil {
		return "", "interval only: " + err.Error()
	}
	return q, ""
}
