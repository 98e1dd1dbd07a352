package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/schedules"
)

func TestKillSwitchFreezeRefuseUnfreeze(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	var frozen, unfrozen FreezeResponse
	rejected := map[string]error{}
	reject := func(name string) func(error) { return func(err error) { rejected[name] = err } }
	var during, after killswitch.State
	query := func(out *killswitch.State) {
		v, err := env.QueryWorkflow(QueryKillSwitch)
		require.NoError(t, err)
		require.NoError(t, v.Get(out))
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateFreeze, "noreason", updateCB(reject("noreason"), nil), killswitch.Request{On: true, By: "sam"})
		env.UpdateWorkflow(UpdateFreeze, "unfreeze-unfrozen", updateCB(reject("unfreeze-unfrozen"), nil), killswitch.Request{On: false, By: "sam", Reason: "x"})
		env.UpdateWorkflow(UpdateFreeze, "on", updateCB(func(err error) { t.Errorf("freeze refused: %v", err) }, func(v any, err error) {
			require.NoError(t, err)
			frozen = v.(FreezeResponse)
		}), killswitch.Request{On: true, By: "sam", Reason: "payment incident"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		query(&during)
		env.UpdateWorkflow(UpdateFreeze, "twice", updateCB(reject("twice"), nil), killswitch.Request{On: true, By: "dana", Reason: "me too"})
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateFreeze, "off", updateCB(func(err error) { t.Errorf("unfreeze refused: %v", err) }, func(v any, err error) {
			require.NoError(t, err)
			unfrozen = v.(FreezeResponse)
		}), killswitch.Request{On: false, By: "dana", Reason: "resolved"})
	}, 3*time.Minute)
	env.RegisterDelayedCallback(func() {
		query(&after)
		env.CancelWorkflow()
	}, 4*time.Minute)
	env.ExecuteWorkflow(KillSwitchWorkflow, KillSwitchInput{})

	assert.ErrorContains(t, rejected["noreason"], "needs a reason")
	assert.ErrorContains(t, rejected["unfreeze-unfrozen"], "not frozen")
	assert.ErrorContains(t, rejected["twice"], "already frozen by sam at ")
	assert.True(t, frozen.State.Frozen)
	assert.Equal(t, "sam", frozen.State.By)
	assert.False(t, frozen.State.Since.IsZero(), "the workflow's clock says since when")
	assert.Equal(t, frozen.State, during, "the query shows what the update answered")
	assert.False(t, unfrozen.State.Frozen)
	assert.Len(t, after.History, 2, "refused requests leave no trace; the two changes do")
	assert.Equal(t, "dana", after.History[1].By)
}

func TestKillSwitchContinuesAsNewFrozen(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	start := killswitch.State{}.Apply(killswitch.Request{On: true, By: "sam", Reason: "carried in"}, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC))
	env.RegisterDelayedCallback(func() {
		for i := range killSwitchMaxUpdates {
			env.UpdateWorkflow(UpdateFreeze, fmt.Sprint(i), updateCB(func(err error) { t.Error(err) }, nil),
				killswitch.Request{On: i%2 == 1, By: "sam", Reason: fmt.Sprint("flip ", i)})
		}
	}, time.Minute)
	env.ExecuteWorkflow(KillSwitchWorkflow, KillSwitchInput{State: start})
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	assert.Equal(t, KillSwitchWorkflowName, can.WorkflowType.Name)
	var in KillSwitchInput
	require.NoError(t, converterDecode(can, &in))
	assert.True(t, in.State.Frozen, "the freeze carries over")
	assert.Equal(t, fmt.Sprint("flip ", killSwitchMaxUpdates-1), in.State.Reason)
	assert.Len(t, in.State.History, killswitch.HistoryLen)
}

// fakeAborter records what the blackout's activity asked and answers like
// control.AbortAll: one run accepted, one already recovering.
type fakeAborter struct {
	mu      sync.Mutex
	filters []killswitch.Filter
	reasons []string
}

func (f *fakeAborter) AbortRuns(_ context.Context, fl killswitch.Filter, reason, by string) ([]killswitch.Aborted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, fl)
	f.reasons = append(f.reasons, reason+" / "+by)
	return []killswitch.Aborted{
		{WorkflowID: "gameday-schedule.team.a-1", Type: ExperimentWorkflowName, Phase: "observe"},
		{WorkflowID: "gameday-schedule.team.b-1", Type: ExperimentWorkflowName, Refused: "run is already past observe (phase recover)"},
	}, nil
}

func runBlackout(t *testing.T, ab *fakeAborter, in BlackoutInput) (activities.AbortRunsResult, error) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	env.RegisterActivity(&activities.Activities{Aborter: ab})
	env.ExecuteWorkflow(BlackoutWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	var out activities.AbortRunsResult
	if err := env.GetWorkflowError(); err != nil {
		return out, err
	}
	require.NoError(t, env.GetWorkflowResult(&out))
	return out, nil
}

func TestBlackoutAbortsTheRunsOfItsSchedules(t *testing.T) {
	ab := &fakeAborter{}
	always := schedules.Window{Name: "always", TimeZone: "UTC", Weekly: &schedules.Weekly{From: "00:00", To: "24:00"}}
	out, err := runBlackout(t, ab, BlackoutInput{Set: "team", Window: always, ScheduleIDs: []string{"gameday-schedule.team.a", "gameday-schedule.team.b"}})
	require.NoError(t, err)
	require.Len(t, ab.filters, 1)
	assert.Equal(t, []string{"gameday-schedule.team.a", "gameday-schedule.team.b"}, ab.filters[0].ScheduledBy, "only the window's schedules")
	assert.NotEmpty(t, ab.filters[0].TaskQueue, "only this worker's task queue")
	assert.Regexp(t, `^blackout window always opened \(until \d{4}-\d\d-\d\dT00:00:00Z\) / blackout window always$`, ab.reasons[0])
	assert.Equal(t, "blackout window always opened", out.Reason[:len("blackout window always opened")])
	aborted, refused := killswitch.Counts(out.Runs)
	assert.Equal(t, 1, aborted)
	assert.Equal(t, 1, refused)

	// A Schedule that fires after its window closed (a server outage, a
	// catch-up) aborts nothing.
	past := schedules.Window{Name: "sale", TimeZone: "UTC", From: "2020-11-10", To: "2020-11-12"}
	out, err = runBlackout(t, ab, BlackoutInput{Set: "team", Window: past, ScheduleIDs: []string{"gameday-schedule.team.a"}})
	require.NoError(t, err)
	assert.True(t, out.Closed)
	assert.Empty(t, out.Runs)
	assert.Len(t, ab.filters, 1, "nothing asked")

	// A window over no schedule never turns into "every run".
	out, err = runBlackout(t, ab, BlackoutInput{Set: "team", Window: always})
	require.NoError(t, err)
	assert.Empty(t, out.Runs)
	assert.Len(t, ab.filters, 1, "nothing asked")
}
