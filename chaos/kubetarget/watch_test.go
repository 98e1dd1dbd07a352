package kubetarget

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// A change wakes the wait at once; a watch the server ends is reopened.
func TestChangesWakeAndReopen(t *testing.T) {
	var opened atomic.Int32
	fakes := make(chan *watch.FakeWatcher, 10)
	ch := WatchChanges(context.Background(), func(context.Context) (watch.Interface, error) {
		opened.Add(1)
		w := watch.NewFake()
		fakes <- w
		return w, nil
	})
	defer ch.Stop()
	assert.True(t, ch.Watching())
	w := <-fakes
	go w.Delete(nil)
	require.NoError(t, ch.Wait(context.Background(), time.Hour), "the event woke it")

	w.Stop() // the server ends the watch
	require.NoError(t, ch.Wait(context.Background(), time.Hour), "the end wakes it too (it may have missed something)")
	select {
	case <-fakes:
	case <-time.After(time.Minute):
		t.Fatal("the watch was not reopened")
	}
	assert.Equal(t, int32(2), opened.Load())
}

// Without the watch verb (an older RBAC), waits poll every FinePoll.
func TestChangesForbiddenFallsBackToFinePoll(t *testing.T) {
	ch := WatchChanges(context.Background(), func(context.Context) (watch.Interface, error) {
		return nil, apierrors.NewForbidden(schema.GroupResource{Resource: "podchaos"}, "x", nil)
	})
	defer ch.Stop()
	assert.False(t, ch.Watching())
	done := make(chan error, 1)
	go func() { done <- ch.Wait(context.Background(), time.Hour) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the wait did not fall back to FinePoll")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, ch.Wait(ctx, time.Hour), context.Canceled)
}

// A server that ends every watch at once (an API server whose storage is
// failing sends an error event and closes) is not reopened in a busy loop:
// reopening backs off as after a failed open.
func TestChangesWatchEndingAtOnceBacksOff(t *testing.T) {
	var opened atomic.Int32
	ch := WatchChanges(context.Background(), func(context.Context) (watch.Interface, error) {
		opened.Add(1)
		c := make(chan watch.Event, 1)
		c <- watch.Event{Type: watch.Error}
		close(c)
		return endedWatch(c), nil
	})
	time.Sleep(time.Second)
	ch.Stop()
	// 100 ms, 200, 400, ...: a handful in a second; the busy loop made thousands.
	assert.LessOrEqual(t, opened.Load(), int32(10), "watches opened in one second")
}

// endedWatch is a watch that already sent its last event and ended.
type endedWatch chan watch.Event

func (w endedWatch) ResultChan() <-chan watch.Event { return w }
func (endedWatch) Stop()                            {}
