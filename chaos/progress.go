package chaos

import "context"

type progressKey struct{}

// WithProgress attaches a progress reporter to ctx. Activities pass one that
// records a Temporal heartbeat, so a back-end that waits (for pods to become
// Ready, for a finalizer) proves it is alive without importing Temporal.
func WithProgress(ctx context.Context, report func(detail string)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// Progress reports that a long back-end call is still making progress. A
// no-op when ctx carries no reporter (tests, the CLI).
func Progress(ctx context.Context, detail string) {
	if f, ok := ctx.Value(progressKey{}).(func(string)); ok && f != nil {
		f(detail)
	}
}
