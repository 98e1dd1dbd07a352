package kubernetes

import (
	"context"
	"slices"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
)

var _ chaos.Scoper = (*Backend)(nil)

// Scope implements chaos.Scoper: every pod the target matches; for
// node-notready also every node hosting one of them (any may be cordoned).
func (b *Backend) Scope(ctx context.Context, f chaos.Fault) ([]string, error) {
	names, pods, err := kubetarget.ScopePods(ctx, b.cs, b.policy, f)
	if err != nil || f.Action != ActionNodeNotReady {
		return names, err
	}
	for _, p := range pods {
		if n := "node " + p.Spec.NodeName; p.Spec.NodeName != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}
