package workflows

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/lease"
)

func proxyLease(wid string, allow bool) []lease.Lease {
	return []lease.Lease{{
		Key:          lease.Key{Domain: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}},
		Holder:       lease.Holder{WorkflowID: wid, RunID: wid + "-run", Scenario: "latency"},
		FaultIDs:     []string{wid + "-f0"},
		AllowOverlap: allow,
	}}
}

func TestLeasesWorkflowAcquireRefuseRelease(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	var refused, refusedAllow, badRelease error
	var acquired, shared AcquireResponse
	var released ReleaseResponse
	var during, after LeasesState
	query := func(out *LeasesState) {
		v, err := env.QueryWorkflow(QueryLeases)
		require.NoError(t, err)
		require.NoError(t, v.Get(out))
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateLeaseAcquire, "a", updateCB(func(err error) { t.Errorf("a refused: %v", err) }, func(v any, err error) {
			require.NoError(t, err)
			acquired = v.(AcquireResponse)
		}), AcquireRequest{Leases: proxyLease("run-a", true)})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateLeaseAcquire, "b", updateCB(func(err error) { refused = err }, func(any, error) { t.Error("b acquired an overlapping lease") }),
			AcquireRequest{Leases: proxyLease("run-b", false)})
		env.UpdateWorkflow(UpdateLeaseAcquire, "c", updateCB(func(err error) { refusedAllow = err }, func(v any, err error) {
			require.NoError(t, err)
			shared = v.(AcquireResponse)
		}), AcquireRequest{Leases: proxyLease("run-c", true)})
		env.UpdateWorkflow(UpdateLeaseRelease, "bad", updateCB(func(err error) { badRelease = err }, nil), ReleaseRequest{WorkflowID: "run-a"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() { query(&during) }, 150*time.Second)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateLeaseRelease, "rel-a", updateCB(func(err error) { t.Error(err) }, func(v any, err error) {
			require.NoError(t, err)
			released = v.(ReleaseResponse)
		}), ReleaseRequest{WorkflowID: "run-a", RunID: "run-a-run", Reason: "recovered"})
		env.UpdateWorkflow(UpdateLeaseRelease, "rel-c", updateCB(func(err error) { t.Error(err) }, nil), ReleaseRequest{WorkflowID: "run-c", RunID: "run-c-run"})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() {
		query(&after)
		env.CancelWorkflow()
	}, 4*time.Minute)
	env.ExecuteWorkflow(LeasesWorkflow, LeasesInput{})

	require.Len(t, acquired.Leases, 1)
	assert.False(t, acquired.Leases[0].Since.IsZero())
	require.Error(t, refused)
	assert.Contains(t, refused.Error(), "leased by workflow run-a")
	var app *temporal.ApplicationError
	require.True(t, errors.As(refused, &app))
	assert.Equal(t, ErrTypeTargetLeased, app.Type())
	var ce lease.ConflictError
	require.NoError(t, app.Details(&ce))
	assert.Equal(t, []string{"run-a"}, ce.Holders())
	assert.NoError(t, refusedAllow, "both scenarios allow overlapping")
	assert.Len(t, shared.Leases, 1)
	assert.ErrorContains(t, badRelease, "run id")
	assert.Len(t, during.Leases, 2)
	assert.Len(t, released.Released, 1)
	assert.Empty(t, after.Leases)
}

func TestLeasesWorkflowContinuesAsNewWithItsLeases(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	env.RegisterDelayedCallback(func() {
		for i := 0; i < leasesMaxUpdates; i++ {
			env.UpdateWorkflow(UpdateLeaseAcquire, fmt.Sprint(i), updateCB(func(err error) { t.Error(err) }, nil),
				AcquireRequest{Leases: proxyLease(fmt.Sprintf("run-%d", i%3), true)})
		}
	}, time.Minute)
	env.ExecuteWorkflow(LeasesWorkflow, LeasesInput{})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	assert.Equal(t, LeasesWorkflowName, can.WorkflowType.Name)
	var in LeasesInput
	require.NoError(t, converterDecode(can, &in))
	assert.Len(t, in.Leases, 3, "the leases carry over")
}

func converterDecode(can *workflow.ContinueAsNewError, out any) error {
	return converter.GetDefaultDataConverter().FromPayloads(can.Input, out)
}
