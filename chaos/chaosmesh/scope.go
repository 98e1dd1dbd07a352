package chaosmesh

import (
	"context"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
)

var _ chaos.Scoper = (*Backend)(nil)

// Scope implements chaos.Scoper: every pod the target matches.
func (b *Backend) Scope(ctx context.Context, f chaos.Fault) ([]string, error) {
	names, _, err := kubetarget.ScopePods(ctx, b.cs, b.policy, f)
	return names, err
}
