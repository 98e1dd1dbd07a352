package lease

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
)

func l(domain, ns string, sel map[string]string, targets ...string) Lease {
	return Lease{Key: Key{Domain: domain, Namespace: ns, Selector: sel}, Targets: targets}
}

func TestOverlap(t *testing.T) {
	order := map[string]string{"app": "order"}
	orderCanary := map[string]string{"app": "order", "track": "canary"}
	payment := map[string]string{"app": "payment"}
	backend := map[string]string{"tier": "backend"}
	for _, c := range []struct {
		name    string
		a, b    Lease
		overlap bool
		what    []string
	}{
		{"same namespace and selector", l("kubernetes-pods", "shop", order), l("kubernetes-pods", "shop", order), true, []string{"kubernetes-pods shop/app=order"}},
		{"selector a subset of the other", l("kubernetes-pods", "shop", order), l("kubernetes-pods", "shop", orderCanary), true, []string{"kubernetes-pods shop/app=order overlaps kubernetes-pods shop/app=order,track=canary"}},
		{"superset the other way round", l("kubernetes-pods", "shop", orderCanary), l("kubernetes-pods", "shop", order), true, nil},
		{"empty selector is the whole namespace", l("kubernetes-pods", "shop", nil), l("kubernetes-pods", "shop", payment), true, nil},
		{"disjoint selectors, no common target", l("kubernetes-pods", "shop", order, "pod shop/order-1"), l("kubernetes-pods", "shop", payment, "pod shop/payment-1"), false, nil},
		{"disjoint selectors matching a common pod", l("kubernetes-pods", "shop", order, "pod shop/order-1", "pod shop/order-2"), l("kubernetes-pods", "shop", backend, "pod shop/order-2", "pod shop/payment-1"), true, []string{"pod shop/order-2"}},
		{"same selector, other namespace", l("kubernetes-pods", "shop", order), l("kubernetes-pods", "shop-staging", order), false, nil},
		{"other namespace, a common node", l("kubernetes-pods", "a", order, "node n1"), l("kubernetes-pods", "b", payment, "node n1"), true, []string{"node n1"}},
		{"other domain, same names", l("toxiproxy", "", map[string]string{"proxy": "inventory"}), l("kubernetes-pods", "", map[string]string{"proxy": "inventory"}), false, nil},
		{"same proxy", l("toxiproxy", "", map[string]string{"proxy": "inventory"}), l("toxiproxy", "", map[string]string{"proxy": "inventory"}), true, []string{"toxiproxy proxy=inventory"}},
		{"other proxy", l("toxiproxy", "", map[string]string{"proxy": "inventory"}), l("toxiproxy", "", map[string]string{"proxy": "payment"}), false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, what := Overlap(c.a, c.b)
			assert.Equal(t, c.overlap, ok)
			if c.what != nil {
				assert.Equal(t, c.what, what)
			}
			ok2, _ := Overlap(c.b, c.a)
			assert.Equal(t, ok, ok2, "overlap is symmetric")
		})
	}
}

func TestDomain(t *testing.T) {
	assert.Equal(t, Domain("kubernetes"), Domain("chaos-mesh"), "both act on the pods of a namespace")
	assert.Equal(t, "toxiproxy", Domain("toxiproxy"))
	assert.NotEqual(t, Domain("kubernetes"), Domain("toxiproxy"))
}

func holder(id string) Holder { return Holder{WorkflowID: id, RunID: id + "-run"} }

func TestForFaultsOneLeasePerKey(t *testing.T) {
	target := chaos.Target{Backend: "kubernetes", Namespace: "shop", Selector: map[string]string{"app": "order"}}
	faults := []chaos.Fault{
		{ID: "f0", Backend: "kubernetes", Target: target},
		{ID: "f1", Backend: "chaos-mesh", Target: target},
		{ID: "f2", Backend: "toxiproxy", Target: chaos.Target{Selector: map[string]string{"proxy": "inventory"}}},
	}
	got := ForFaults(holder("w"), faults, [][]string{{"pod shop/b", "pod shop/a"}, {"pod shop/a"}, nil}, true)
	require.Len(t, got, 2)
	assert.Equal(t, "kubernetes-pods shop/app=order", got[0].Key.String())
	assert.Equal(t, []string{"f0", "f1"}, got[0].FaultIDs)
	assert.Equal(t, []string{"pod shop/a", "pod shop/b"}, got[0].Targets)
	assert.True(t, got[0].AllowOverlap)
	assert.Equal(t, "toxiproxy proxy=inventory", got[1].Key.String())
	assert.Equal(t, []string{"f2"}, got[1].FaultIDs)
}

func TestTableRules(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	proxy := func(h Holder, allow bool) []Lease {
		x := l("toxiproxy", "", map[string]string{"proxy": "inventory"})
		x.Holder, x.AllowOverlap = h, allow
		return []Lease{x}
	}
	for _, c := range []struct {
		name       string
		held, req  []Lease
		refusedBy  string
		heldBefore int
	}{
		{"free target", nil, proxy(holder("b"), false), "", 0},
		{"overlap refused, naming the holder", proxy(holder("a"), false), proxy(holder("b"), false), "a", 1},
		{"only the requester allows", proxy(holder("a"), false), proxy(holder("b"), true), "a", 1},
		{"only the holder allows", proxy(holder("a"), true), proxy(holder("b"), false), "a", 1},
		{"both allow", proxy(holder("a"), true), proxy(holder("b"), true), "", 1},
		{"own workflow id (retry, or a reused id of a closed run)", proxy(Holder{WorkflowID: "a", RunID: "old"}, false), proxy(holder("a"), false), "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := Table{Leases: c.held}
			got, err := tb.Acquire(c.req, now)
			if c.refusedBy == "" {
				require.NoError(t, err)
				require.Len(t, got, len(c.req))
				assert.Equal(t, now, got[0].Since)
				return
			}
			var ce *ConflictError
			require.True(t, errors.As(err, &ce), "%v", err)
			assert.Equal(t, []string{c.refusedBy}, ce.Holders())
			assert.Contains(t, err.Error(), "leased by workflow "+c.refusedBy)
			assert.Contains(t, err.Error(), "toxiproxy proxy=inventory")
			assert.Len(t, tb.Leases, c.heldBefore, "a refused request changes nothing")
		})
	}
}

func TestTableAcquireReleaseIdempotent(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var tb Table
	req := ForFaults(holder("a"), []chaos.Fault{{ID: "f0", Backend: "toxiproxy", Target: chaos.Target{Selector: map[string]string{"proxy": "p"}}}}, nil, false)
	_, err := tb.Acquire(req, t0)
	require.NoError(t, err)
	again, err := tb.Acquire(req, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, t0, again[0].Since, "a retried acquire keeps the first time")
	require.Len(t, tb.Leases, 1)

	// A newer run under the same workflow id takes the lease over; a late
	// release of the older run leaves it alone.
	newer := req
	newer[0].Holder.RunID = "a-run-2"
	_, err = tb.Acquire(newer, t0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, tb.Release("a", "a-run"))
	require.Len(t, tb.Leases, 1)
	assert.Len(t, tb.Release("a", "a-run-2"), 1)
	assert.Empty(t, tb.Leases)
	assert.Empty(t, tb.Release("a", "a-run-2"), "releasing nothing is fine")
}

func TestTableCheckRefusesMalformed(t *testing.T) {
	var tb Table
	require.Error(t, tb.Check(nil))
	require.ErrorContains(t, tb.Check([]Lease{{Key: Key{Domain: "toxiproxy"}}}), "no holder")
	require.ErrorContains(t, tb.Check([]Lease{{Key: Key{Domain: "toxiproxy"}, Holder: holder("a")}, {Key: Key{Domain: "toxiproxy"}, Holder: holder("b")}}), "one holder")
	require.ErrorContains(t, tb.Check([]Lease{{Holder: holder("a")}}), "no domain")
}
