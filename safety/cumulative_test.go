package safety

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func half(t *testing.T) Policy {
	t.Helper()
	r, err := ParseRadius("*=50%,staging=50%,prod=1")
	require.NoError(t, err)
	return Policy{MaxRadius: r}
}

// order builds the four pods of deployment/order: ready says which are
// Ready, hit which the fault takes away.
func order(ready, hit string) []PodState {
	var out []PodState
	for i := 0; i < 4; i++ {
		out = append(out, PodState{Namespace: "shop", Name: fmt.Sprintf("order-%d", i), Owner: "deployment/order",
			Ready: ready[i] == 'R', Hit: hit[i] == 'x'})
	}
	return out
}

var desired4 = map[string]int{"shop/deployment/order": 4}

func TestCumulativeCountsWhatIsAlreadyUnavailable(t *testing.T) {
	p := half(t)
	// Alone, two of four is 50%: allowed.
	require.NoError(t, p.CheckCumulative("staging", "killing", Census{Pods: order("RRRR", "xx.."), Desired: desired4}))
	// The second step of the issue: two replacements Pending, the fault
	// picks one Ready pod and one Pending: 3 of 4 would be down.
	err := p.CheckCumulative("staging", "killing", Census{Pods: order("RRPP", "x.x."), Desired: desired4})
	var r *Refusal
	require.ErrorAs(t, err, &r)
	assert.Equal(t, "cumulative-blast-radius", r.Rule)
	assert.Contains(t, err.Error(), "2 of 4 pods of deployment/order (namespace shop) already unavailable (2 not Ready); killing 1 more would make 3 of 4 unavailable (75%), over the limit of 50% for environment \"staging\"")
	assert.Contains(t, err.Error(), "Wait until deployment/order is fully Ready again")
	// Killing only pods that are down anyway takes nothing away.
	require.NoError(t, p.CheckCumulative("staging", "killing", Census{Pods: order("RRPP", "..xx"), Desired: desired4}))
}

func TestCumulativeCountsMissingReplicasAndOtherFaults(t *testing.T) {
	p := half(t)
	other := &Disruption{How: "on a node cordoned by", Fault: "gd-aaaaaaaaaaaa-f1", Workflow: "W2"}
	// The controller has not created the replacements yet: only three pods
	// exist, one of them under another run's fault; desired is still 4.
	pods := order("RRR.", "x...")[:3]
	pods[2].DisruptedBy = other
	census := Census{Pods: pods, Desired: desired4,
		Gone: []GoneVictim{{Namespace: "shop", Owner: "deployment/order", By: Disruption{How: "killed by", Fault: "gd-bbbbbbbbbbbb-f0", Workflow: "W1"}}}}
	err := p.CheckCumulative("staging", "killing", census)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 of 4 pods of deployment/order (namespace shop) already unavailable (1 on a node cordoned by gd-aaaaaaaaaaaa-f1 of workflow W2, 1 killed by gd-bbbbbbbbbbbb-f0 of workflow W1); killing 1 more would make 3 of 4")
}

func TestCumulativeCountLimitAndUnlistedEnvironment(t *testing.T) {
	p := half(t)
	// prod=1: one pod down already, one more is two.
	err := p.CheckCumulative("prod", "evicting", Census{Pods: order("RRRP", "x..."), Desired: desired4})
	assert.ErrorContains(t, err, `evicting 1 more would make 2 of 4 unavailable (50%), over the limit of 1 for environment "prod"`)
	assert.NoError(t, p.CheckCumulative("prod", "evicting", Census{Pods: order("RRRR", "x..."), Desired: desired4}))
	// No environment label: every limit applies, prod=1 included.
	assert.ErrorContains(t, p.CheckCumulative("", "killing", Census{Pods: order("RRRP", "x..."), Desired: desired4}), "every limit applies; prod=1")
}

// Pods nothing recreates stay counted once killed: the victims of live
// pod-kills that are gone are part of their group, as unavailable.
func TestCumulativeBarePods(t *testing.T) {
	p := half(t)
	bare := []PodState{{Namespace: "shop", Name: "a", Ready: true, Hit: true}, {Namespace: "shop", Name: "b", Ready: true}}
	killed := Disruption{How: "killed by", Fault: "gd-cccccccccccc-f0"}
	gone := []GoneVictim{{Namespace: "shop", By: killed}, {Namespace: "shop", By: killed}}
	err := p.CheckCumulative("staging", "killing", Census{Pods: bare, Gone: gone})
	assert.ErrorContains(t, err, "2 of 4 pods of the pods without a controller in namespace shop already unavailable (2 killed by gd-cccccccccccc-f0); killing 1 more would make 3 of 4")
	assert.NoError(t, p.CheckCumulative("staging", "killing", Census{Pods: bare}))
}

// Each owner is judged on its own: evicting every pod of a small
// Deployment is refused even when the fault's own selector matched many.
func TestCumulativePerOwner(t *testing.T) {
	p := half(t)
	pods := append(order("RRRR", "x..."), PodState{Namespace: "shop", Name: "cart-0", Owner: "deployment/cart", Ready: true, Hit: true})
	err := p.CheckCumulative("staging", "evicting", Census{Pods: pods, Desired: map[string]int{"shop/deployment/order": 4, "shop/deployment/cart": 1}})
	assert.ErrorContains(t, err, "0 of 1 pods of deployment/cart (namespace shop) already unavailable; evicting 1 more would make 1 of 1 unavailable (100%)")
}

// A surge (more Ready pods than desired, mid-rollout) is not unavailability.
func TestCumulativeSurge(t *testing.T) {
	p := half(t)
	pods := append(order("RRRR", "xx.."), PodState{Namespace: "shop", Name: "order-new", Owner: "deployment/order", Ready: true, Hit: true})
	assert.NoError(t, p.CheckCumulative("staging", "killing", Census{Pods: pods, Desired: desired4}), "5 Ready of 4 desired, 3 killed: 2 of 4 left")
}

// A Ready pod another fault disrupts still serves: a fault that hits it
// while the owner is already over the limit is refused, one that hits it
// while the owner is within the limit is not (it takes nothing more away).
func TestCumulativeHitOnADisruptedPod(t *testing.T) {
	p := half(t)
	chaos := &Disruption{How: "selected by NetworkChaos", Fault: "gd-dddddddddddd-f0", Workflow: "W3"}
	pods := order("RRRR", "x...")
	for i := range pods {
		pods[i].DisruptedBy = chaos
	}
	err := p.CheckCumulative("staging", "killing", Census{Pods: pods, Desired: desired4})
	assert.ErrorContains(t, err, "4 of 4 pods of deployment/order (namespace shop) already unavailable (4 selected by NetworkChaos gd-dddddddddddd-f0 of workflow W3); killing 1 of the already disrupted ones would make 4 of 4")
	pods = order("RRRR", "x...")
	pods[0].DisruptedBy, pods[1].DisruptedBy = chaos, chaos
	assert.NoError(t, p.CheckCumulative("staging", "killing", Census{Pods: pods, Desired: desired4}))
}
