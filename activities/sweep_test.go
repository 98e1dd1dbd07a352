package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
)

func TestDecideOrphan(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-10*time.Minute), now.Add(10*time.Minute)
	for _, c := range []struct {
		name   string
		inj    chaos.Injected
		state  string
		orphan bool
		reason string
	}{
		{"closed workflow", chaos.Injected{WorkflowID: "w", Expires: future}, "terminated", true, "workflow w is terminated"},
		{"gone workflow", chaos.Injected{WorkflowID: "w"}, "gone", true, "workflow w is gone"},
		{"running, not expired", chaos.Injected{WorkflowID: "w", Expires: future}, RunRunning, false, "is running"},
		{"running but long expired", chaos.Injected{WorkflowID: "w", Expires: past}, RunRunning, true, "expired at"},
		{"running, expired within grace", chaos.Injected{WorkflowID: "w", Expires: now.Add(-30 * time.Second)}, RunRunning, false, "is running"},
		{"no workflow, expired", chaos.Injected{Expires: past}, "", true, "expired"},
		{"no workflow, not expired", chaos.Injected{Expires: future}, "", false, "no workflow recorded"},
	} {
		orphan, reason := DecideOrphan(c.inj, c.state, now, time.Minute)
		assert.Equal(t, c.orphan, orphan, c.name)
		assert.Contains(t, reason, c.reason, c.name)
	}
}

// listBackend holds faults a sweep can list and recover.
type listBackend struct {
	fakeBackend
	listed  []chaos.Injected
	listErr error
	gotBack []chaos.Fault
}

func (b *listBackend) List(context.Context) ([]chaos.Injected, error) { return b.listed, b.listErr }
func (b *listBackend) Recover(ctx context.Context, f chaos.Fault) (chaos.Recovered, error) {
	b.gotBack = append(b.gotBack, f)
	return b.fakeBackend.Recover(ctx, f)
}

type runMap map[string]string

func (m runMap) RunState(_ context.Context, id string) (string, error) {
	if s, ok := m[id]; ok {
		return s, nil
	}
	return "", errors.New("temporal unavailable")
}

func TestSweepRemovesOnlyOrphans(t *testing.T) {
	future := time.Now().Add(time.Hour)
	kube := &listBackend{fakeBackend: fakeBackend{faults: map[string]bool{"f-orphan": true, "f-live": true}}, listed: []chaos.Injected{
		{FaultID: "f-orphan", WorkflowID: "w-done", Action: "pod-kill", Namespace: "shop", Object: "configmap shop/f-orphan", Expires: future},
		{FaultID: "f-live", WorkflowID: "w-running", Action: "pod-kill", Namespace: "shop", Expires: future},
		{FaultID: "f-unknown", WorkflowID: "w-unreadable", Expires: future},
	}}
	broken := &listBackend{listErr: errors.New("Chaos Mesh is not installed")}
	a := &Activities{Backends: map[string]chaos.Backend{"kubernetes": kube, "chaos-mesh": broken}, Runs: runMap{"w-done": "completed", "w-running": RunRunning}}

	dry, err := a.Sweep(context.Background(), SweepInput{DryRun: true})
	require.NoError(t, err)
	require.Len(t, dry.Faults, 3)
	assert.Equal(t, 1, dry.Orphans())
	assert.Empty(t, kube.gotBack, "a dry run removes nothing")
	assert.Equal(t, []string{"chaos-mesh: Chaos Mesh is not installed"}, dry.Errors, "an unlistable back-end is reported, the others still swept")

	res, err := a.Sweep(context.Background(), SweepInput{})
	require.NoError(t, err)
	byID := map[string]Swept{}
	for _, f := range res.Faults {
		byID[f.FaultID] = f
	}
	assert.Equal(t, "removed", byID["f-orphan"].Outcome)
	assert.Equal(t, "pod-kill", byID["f-orphan"].Action, "the fault's own action is kept")
	assert.Equal(t, "workflow w-done is completed", byID["f-orphan"].Reason)
	assert.Equal(t, "kept", byID["f-live"].Outcome)
	assert.Equal(t, "kept", byID["f-unknown"].Outcome)
	assert.Contains(t, byID["f-unknown"].Reason, "cannot read its workflow")
	require.Len(t, kube.gotBack, 1)
	// Recover gets what it needs to find the fault without the scenario.
	assert.Equal(t, chaos.Fault{ID: "f-orphan", WorkflowID: "w-done", Backend: "kubernetes", Action: "pod-kill",
		Target: chaos.Target{Backend: "kubernetes", Namespace: "shop"}}, kube.gotBack[0])
	assert.True(t, kube.faults["f-live"], "the running workflow's fault stays")
	assert.False(t, kube.faults["f-orphan"])
}

// Two gameday installations (two Temporal namespaces) may share a cluster:
// a sweep leaves the other one's faults alone, whatever the state of a
// workflow id it cannot see.
func TestSweepLeavesOtherInstallationsFaults(t *testing.T) {
	h := newHarness(t)
	kube := &listBackend{fakeBackend: fakeBackend{faults: map[string]bool{"mine": true, "theirs": true}}, listed: []chaos.Injected{
		{FaultID: "mine", WorkflowID: "w-mine", TemporalNamespace: "default-test-namespace", Namespace: "shop"}, // the test environment's namespace,
		{FaultID: "theirs", WorkflowID: "w-theirs", TemporalNamespace: "staging-gameday", Namespace: "shop"},
	}}
	h.acts.Backends = map[string]chaos.Backend{"kubernetes": kube}
	h.acts.Runs = runMap{"w-mine": "gone", "w-theirs": "gone"}
	v, err := h.env.ExecuteActivity(h.acts.Sweep, SweepInput{})
	require.NoError(t, err)
	var res SweepResult
	require.NoError(t, v.Get(&res))
	byID := map[string]Swept{}
	for _, f := range res.Faults {
		byID[f.FaultID] = f
	}
	assert.Equal(t, "removed", byID["mine"].Outcome, "%+v", byID["mine"])
	assert.Equal(t, "kept", byID["theirs"].Outcome)
	assert.Contains(t, byID["theirs"].Reason, `Temporal namespace "staging-gameday"`)
	assert.True(t, kube.faults["theirs"])
}

// Inject records the workflow's Temporal namespace on the fault.
func TestInjectRecordsTheTemporalNamespace(t *testing.T) {
	h := newHarness(t)
	rec := &nsBackend{}
	h.acts.Backends = map[string]chaos.Backend{"rec": rec}
	_, err := h.env.ExecuteActivity(h.acts.Inject, InjectInput{Fault: chaos.Fault{ID: "f", Backend: "rec"}})
	require.NoError(t, err)
	assert.Equal(t, "default-test-namespace", rec.got.TemporalNamespace)
}

type nsBackend struct {
	fakeBackend
	got chaos.Fault
}

func (b *nsBackend) Inject(_ context.Context, f chaos.Fault) (chaos.Injected, error) {
	b.got = f
	return chaos.Injected{FaultID: f.ID}, nil
}
