package toxiproxy

import (
	"context"

	"github.com/gameday/gameday/chaos"
)

var _ chaos.Scoper = (*Backend)(nil)

// Scope implements chaos.Scoper: the proxy (the link), without calling the
// API (Resolve already proved it exists).
func (b *Backend) Scope(_ context.Context, f chaos.Fault) ([]string, error) {
	name, _, err := checkFault(f)
	if err != nil {
		return nil, err
	}
	return []string{"proxy " + name}, nil
}
