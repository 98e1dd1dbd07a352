package activities

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/sli"
)

type fakeSwitch struct {
	st  killswitch.State
	err error
}

func (f fakeSwitch) State(context.Context) (killswitch.State, error) { return f.st, f.err }

type fakeSchedules struct {
	windows []schedules.Window
	paused  []string // notes
}

func (f *fakeSchedules) Blackouts(_ context.Context, workflowID, _ string) (string, []schedules.Window, error) {
	if !strings.HasPrefix(workflowID, schedules.IDPrefix) {
		return "", nil, nil
	}
	return "gameday-schedule.team.a", f.windows, nil
}

func (f *fakeSchedules) PauseOnFailure(_ context.Context, workflowID, _, why string) (string, error) {
	f.paused = append(f.paused, why)
	return "gameday-schedule.team.a", nil
}

func TestDefineRefusesWhileFrozen(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1, 0.1}
	since := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	h.acts.KillSwitch = fakeSwitch{st: killswitch.State{Frozen: true, By: "sam", Reason: "INC-7", Since: since}}
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "frozen by sam at 2026-12-07T08:00:00Z: INC-7")
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeFrozen, typ)
	assert.True(t, nonRetryable)
	assert.Len(t, h.prom.values["p95"], 2, "a refused run queries nothing")

	// The switch that cannot be read is not a pass: define is retried.
	h.acts.KillSwitch = fakeSwitch{err: errors.New("deadline exceeded")}
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.Error(t, err)
	_, nonRetryable = appErrType(t, err)
	assert.False(t, nonRetryable)

	h.acts.KillSwitch = fakeSwitch{}
	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.NoError(t, err, "unfrozen: the run goes on")
}

func TestDefineRefusesInsideABlackoutWindow(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1, 0.1}
	always := schedules.Window{Name: "always", TimeZone: "UTC", Weekly: &schedules.Weekly{From: "00:00", To: "24:00"}}
	h.acts.Schedules = &fakeSchedules{windows: []schedules.Window{always}}
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "gameday-schedule.team.a-2026-12-07T08:00:00Z"})
	require.Error(t, err)
	assert.Regexp(t, `blackout window always until \d{4}-\d\d-\d\dT00:00:00Z`, err.Error())
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeBlackout, typ)
	assert.True(t, nonRetryable)

	_, err = h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "by-hand"})
	require.NoError(t, err, "a run started by hand has no schedule and no window")
}

func TestReportPausesTheScheduleOnFailureButNotForASkip(t *testing.T) {
	h := newHarness(t)
	sch := &fakeSchedules{}
	h.acts.Schedules = sch
	aborted := experiment.Result{WorkflowID: "gameday-schedule.team.a-1", RunID: "r", Scenario: "s", Outcome: experiment.Aborted, AbortReason: "guard p95 breached"}
	_, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: aborted})
	require.NoError(t, err)
	assert.Equal(t, []string{"paused on failure: run gameday-schedule.team.a-1 aborted: guard p95 breached"}, sch.paused)

	frozen := experiment.Result{WorkflowID: "gameday-schedule.team.a-2", RunID: "r", Scenario: "s", Outcome: experiment.Failed,
		Error: "define: frozen by sam at 2026-12-07T08:00:00Z: INC-7"}
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: frozen})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	assert.Len(t, sch.paused, 1, "a run the freeze refused is a skipped action, not a failure")
	assert.Empty(t, res.Postmortem, "and there is nothing to learn from it")
	files, _ := os.ReadDir(h.acts.Postmortems.(postmortem.Dir).Path)
	assert.Len(t, files, 1, "only the aborted run's postmortem")

	blackedOut := experiment.Result{WorkflowID: "gameday-schedule.team.a-4", RunID: "r", Scenario: "s", Outcome: experiment.Aborted,
		AbortReason: "aborted by blackout window sale: " + killswitch.BlackoutAbortReason("sale", time.Now())}
	_, err = h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: blackedOut})
	require.NoError(t, err)
	assert.Len(t, sch.paused, 1, "a run its blackout window stopped was stopped on purpose")

	passed := experiment.Result{WorkflowID: "gameday-schedule.team.a-3", Scenario: "s", Outcome: experiment.Passed}
	_, err = h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: passed})
	require.NoError(t, err)
	assert.Len(t, sch.paused, 1)
}

// A game day's pre-flight meets the kill switch first, as a run's define
// does: a frozen game day starts no step.
func TestPreflightRefusesWhileFrozen(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	h.acts.KillSwitch = fakeSwitch{st: killswitch.State{Frozen: true, By: "sam", Reason: "INC-7", Since: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}}
	_, err := h.env.ExecuteActivity(h.acts.Preflight, PreflightInput{Guards: []sli.Guard{guard("p95", 1)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "frozen by sam at 2026-12-07T08:00:00Z: INC-7")
	typ, nonRetryable := appErrType(t, err)
	assert.Equal(t, ErrTypeFrozen, typ)
	assert.True(t, nonRetryable)
	assert.Len(t, h.prom.values["p95"], 1)

	h.acts.KillSwitch = fakeSwitch{}
	_, err = h.env.ExecuteActivity(h.acts.Preflight, PreflightInput{Guards: []sli.Guard{guard("p95", 1)}})
	require.NoError(t, err)
}

// flipSwitch turns frozen from its nth read on: a freeze that lands while
// define reads the guards.
type flipSwitch struct {
	reads *int
	at    int
}

func (f flipSwitch) State(context.Context) (killswitch.State, error) {
	*f.reads++
	if *f.reads >= f.at {
		return killswitch.State{Frozen: true, By: "sam", Reason: "INC-9", Since: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, nil
	}
	return killswitch.State{}, nil
}

// A freeze turned on while define reads the guards still refuses the run
// before anything is injected (a run without a sign-off gate has no
// re-check after it).
func TestDefineRefusesAFreezeThatLandsDuringDefine(t *testing.T) {
	h := newHarness(t)
	h.prom.values["p95"] = []float64{0.1}
	reads := 0
	h.acts.KillSwitch = flipSwitch{reads: &reads, at: 2}
	_, err := h.env.ExecuteActivity(h.acts.Define, DefineInput{Scenario: scenario("inventory", guard("p95", 1)), WorkflowID: "wf"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "frozen by sam at 2026-12-07T09:00:00Z: INC-9")
	typ, _ := appErrType(t, err)
	assert.Equal(t, ErrTypeFrozen, typ)
	assert.Equal(t, 2, reads, "read before and after the guards")
}
