package kubetarget

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"
)

// FinePoll is how often a wait polls while no watch is open (RBAC
// without the watch verb, a watch the server keeps refusing): recovery
// times are then still true within it.
const FinePoll = 100 * time.Millisecond

// OpenWatch opens one watch (e.g. one object by name:
// FieldSelector metadata.name=<name>).
type OpenWatch func(ctx context.Context) (watch.Interface, error)

// Changes wakes a wait on every change its watches report, so removal and
// recovery times are the moments the API server saw them, not the next
// poll's. Every watch is reopened when the server ends it; one that cannot
// be opened leaves the wait on FinePoll.
type Changes struct {
	c        chan struct{}
	open     atomic.Int32 // watches open now
	want     int32
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	backoffs time.Duration
}

// WatchChanges opens every watch before it returns (a change after that is
// never missed) and keeps them open until Stop.
func WatchChanges(ctx context.Context, opens ...OpenWatch) *Changes {
	ctx, cancel := context.WithCancel(ctx)
	ch := &Changes{c: make(chan struct{}, 1), cancel: cancel, want: int32(len(opens)), backoffs: 100 * time.Millisecond}
	for _, open := range opens {
		w, err := open(ctx)
		if err == nil {
			ch.open.Add(1)
		}
		ch.wg.Add(1)
		go ch.run(ctx, open, w, err)
	}
	return ch
}

func (ch *Changes) signal() {
	select {
	case ch.c <- struct{}{}:
	default:
	}
}

func (ch *Changes) run(ctx context.Context, open OpenWatch, w watch.Interface, err error) {
	defer ch.wg.Done()
	backoff := ch.backoffs
	// reopen waits out the backoff, then opens again; false when ctx ended.
	reopen := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		if w, err = open(ctx); err == nil {
			ch.open.Add(1)
			ch.signal() // changes may have been missed while closed
		}
		return true
	}
	for {
		if err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err) || ctx.Err() != nil {
				return // not allowed to watch (an older RBAC): FinePoll it is
			}
			if !reopen() {
				return
			}
			continue
		}
		opened := time.Now()
		ok := ch.consume(ctx, w)
		w.Stop()
		ch.open.Add(-1)
		if !ok {
			return
		}
		ch.signal()
		if time.Since(opened) < shortWatch {
			// Ended at once (a failing API server sends an error event and
			// closes): reopening at once would be a busy loop against it.
			if !reopen() {
				return
			}
			continue
		}
		backoff = ch.backoffs
		if w, err = open(ctx); err == nil {
			ch.open.Add(1)
		}
	}
}

// shortWatch: a watch that ended sooner than this after it was opened is
// reopened after a backoff, like one that failed to open.
const shortWatch = time.Second

// consume forwards w's events until it ends (true) or ctx does (false).
func (ch *Changes) consume(ctx context.Context, w watch.Interface) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case _, ok := <-w.ResultChan():
			if !ok {
				return true
			}
			ch.signal()
		}
	}
}

// Watching reports whether every watch is open.
func (ch *Changes) Watching() bool { return ch.open.Load() == ch.want }

// Wait returns on the next change, after poll (FinePoll when a watch is
// not open, if shorter), or with ctx's error.
func (ch *Changes) Wait(ctx context.Context, poll time.Duration) error {
	if !ch.Watching() {
		poll = min(poll, FinePoll)
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-ch.c:
	case <-t.C:
	}
	return ctx.Err() // an ended ctx wins over a change that came with it
}

// Stop closes the watches.
func (ch *Changes) Stop() {
	ch.cancel()
	ch.wg.Wait()
}
