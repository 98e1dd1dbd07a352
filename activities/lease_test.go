package activities

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/lease"
)

// memLeases is a LeaseStore on a lease.Table, the rules the entity
// workflow applies.
type memLeases struct {
	mu       sync.Mutex
	t        lease.Table
	released []string
}

func (m *memLeases) List(context.Context) ([]lease.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]lease.Lease(nil), m.t.Leases...), nil
}

func (m *memLeases) Acquire(_ context.Context, req []lease.Lease) ([]lease.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t.Acquire(req, time.Now())
}

func (m *memLeases) Release(_ context.Context, wid, rid, reason string) ([]lease.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.released = append(m.released, wid+": "+reason)
	return m.t.Release(wid, rid), nil
}

// scopeBackend names the pods of its selector, like the Kubernetes
// back-ends.
type scopeBackend struct{ fakeBackend }

func (b *scopeBackend) Scope(_ context.Context, f chaos.Fault) ([]string, error) {
	return []string{"pod shop/shared-1", "pod shop/" + f.Target.Selector["proxy"] + "-1"}, nil
}

func holdBy(t *testing.T, m *memLeases, wid string, allow bool) {
	t.Helper()
	sc := scenario("inventory")
	if allow {
		sc.Spec.Overlap = "allow"
	}
	req := lease.ForFaults(lease.Holder{WorkflowID: wid, RunID: wid + "-run", Scenario: "other"}, sc.ChaosFaultsForRun(wid, wid+"-run"), [][]string{{"pod shop/inventory-1", "pod shop/shared-1"}}, allow)
	_, err := m.t.Acquire(req, time.Now())
	require.NoError(t, err)
}

func TestDefineRefusesALeasedTargetNamingTheHolder(t *testing.T) {
	h := newHarness(t)
	m := &memLeases{}
	h.acts.Leases = m
	h.prom.values["p95"] = []float64{0.1}
	holdBy(t, m, "gameday-holder-1", false)

	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf", RunID: "r"})
	require.Error(t, err)
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeTargetLeased, typ)
	assert.True(t, nonRetryable, "refused, not delayed")
	assert.Contains(t, err.Error(), "leased by workflow gameday-holder-1")

	// Another proxy is free.
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("payment", guard("p95", 1)), WorkflowID: "wf", RunID: "r"})
	require.NoError(t, err)
}

func TestDefineAllowsOverlapWhenBothSaySo(t *testing.T) {
	h := newHarness(t)
	m := &memLeases{}
	h.acts.Leases = m
	h.prom.values["p95"] = []float64{0.1}
	holdBy(t, m, "gameday-holder-1", true)
	sc := scenario("inventory", guard("p95", 1))
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", RunID: "r"})
	require.Error(t, err, "only the holder allows it")
	sc.Spec.Overlap = "allow"
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: sc, WorkflowID: "wf", RunID: "r"})
	require.NoError(t, err)
}

// Different selectors that name a common target overlap (the back-end's
// Scope), the same way for define and acquire.
func TestAcquireRefusesCommonTargetsAndReleaseFrees(t *testing.T) {
	h := newHarness(t)
	m := &memLeases{}
	h.acts.Leases = m
	h.acts.Backends = map[string]chaos.Backend{"fake": &scopeBackend{fakeBackend{faults: map[string]bool{}}}}
	holdBy(t, m, "gameday-holder-1", false)
	sc := scenario("payment") // another selector, a common pod
	_, err := h.env.ExecuteActivity(h.acts.AcquireLeases, AcquireLeasesInput{Scenario: sc, WorkflowID: "wf", RunID: "r"})
	require.Error(t, err)
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeTargetLeased, typ)
	assert.True(t, nonRetryable)
	assert.Contains(t, err.Error(), "gameday-holder-1")
	assert.Contains(t, err.Error(), "overlap: pod shop/shared-1)")

	_, err = h.env.ExecuteActivity(h.acts.ReleaseLeases, ReleaseLeasesInput{WorkflowID: "gameday-holder-1", RunID: "gameday-holder-1-run", Reason: "recovered"})
	require.NoError(t, err)
	v, err := h.env.ExecuteActivity(h.acts.AcquireLeases, AcquireLeasesInput{Scenario: sc, WorkflowID: "wf", RunID: "r"})
	require.NoError(t, err)
	var got AcquireLeasesResult
	require.NoError(t, v.Get(&got))
	require.Len(t, got.Leases, 1)
	assert.Equal(t, []string{"pod shop/payment-1", "pod shop/shared-1"}, got.Leases[0].Targets)
	assert.Equal(t, []string{chaos.FaultID("wf/r", 0)}, got.Leases[0].FaultIDs)
}

func TestSweepFreesLeasesOfClosedRuns(t *testing.T) {
	m := &memLeases{}
	holdBy(t, m, "w-terminated", true)
	holdBy(t, m, "w-running", true)
	holdBy(t, m, "w-unreadable", true)
	a := &Activities{Backends: map[string]chaos.Backend{}, Leases: m, Runs: runMap{"w-terminated": "terminated", "w-running": RunRunning}}

	dry, err := a.Sweep(context.Background(), SweepInput{DryRun: true})
	require.NoError(t, err)
	require.Len(t, dry.Leases, 3)
	assert.Equal(t, 1, dry.OrphanLeases())
	assert.Equal(t, "would-free", dry.Leases[0].Outcome)
	assert.Len(t, m.t.Leases, 3, "a dry run frees nothing")

	res, err := a.Sweep(context.Background(), SweepInput{})
	require.NoError(t, err)
	byID := map[string]SweptLease{}
	for _, l := range res.Leases {
		byID[l.WorkflowID] = l
	}
	assert.Equal(t, "freed", byID["w-terminated"].Outcome)
	assert.Equal(t, "workflow w-terminated is terminated", byID["w-terminated"].Reason)
	assert.Equal(t, []string{"fake proxy=inventory"}, byID["w-terminated"].Keys)
	assert.Equal(t, "kept", byID["w-running"].Outcome)
	assert.Equal(t, "kept", byID["w-unreadable"].Outcome)
	assert.Equal(t, []string{"w-terminated: sweep: workflow w-terminated is terminated"}, m.released)
	require.Len(t, m.t.Leases, 2)
}
