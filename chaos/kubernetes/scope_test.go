package kubernetes_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
)

// A lease covers every pod a random pick may hit, and the nodes a
// node-notready may cordon, whatever the mode picks.
func TestScopeNamesEveryCandidate(t *testing.T) {
	c := nodeCluster(t, true)
	b := c.backend(policy(t, "*=34%"))
	names, err := b.Scope(context.Background(), podKillFault(chaos.ModeOne, "", nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"pod shop/order-7d9-a", "pod shop/order-7d9-b", "pod shop/order-7d9-c", "owner shop/deployment/order"}, names)

	names, err = b.Scope(context.Background(), nodeFault(chaos.ModeOne, "", nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"pod shop/order-7d9-a", "pod shop/order-7d9-b", "pod shop/order-7d9-c", "owner shop/deployment/order", "node kwok-node-1", "node kwok-node-2"}, names)
	assert.Zero(t, c.requests("patch", "nodes")+c.requests("delete", "pods"), "scope changes nothing")
}
