package control

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/workflows"
)

func TestRunningQuery(t *testing.T) {
	q, err := runningQuery(killswitch.Filter{TaskQueue: "gameday"})
	require.NoError(t, err)
	assert.Equal(t, "TaskQueue = 'gameday' AND ExecutionStatus = 'Running' AND WorkflowType IN ('Experiment', 'GameDay')", q,
		"one installation's runs, never another's in the namespace")
	q, err = runningQuery(killswitch.Filter{TaskQueue: "gameday", ScheduledBy: []string{"gameday-schedule.seed.a", "gameday-schedule.seed.b"}})
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(q, " AND TemporalScheduledById IN ('gameday-schedule.seed.a', 'gameday-schedule.seed.b')"), q)
	_, err = runningQuery(killswitch.Filter{})
	assert.ErrorContains(t, err, "needs the task queue")
	_, err = runningQuery(killswitch.Filter{TaskQueue: "x' OR TaskQueue != '"})
	assert.ErrorContains(t, err, "quotes and backslashes are not allowed", "no query injection")
}

// What drift compares survives the server's round trip unchanged; a change
// made in the Temporal UI shows up by name.
func TestDrift(t *testing.T) {
	w := wantSchedule{
		spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}, Jitter: time.Minute},
		action: &client.ScheduleWorkflowAction{Workflow: "Experiment", TaskQueue: "gameday"},
		policy: client.SchedulePolicies{Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 5 * time.Minute, PauseOnFailure: true},
	}
	same := &client.ScheduleDescription{Schedule: client.Schedule{
		Action: &client.ScheduleWorkflowAction{Workflow: "Experiment", TaskQueue: "gameday"},
		Spec:   &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}, Jitter: time.Minute, TimeZoneName: "UTC"},
		Policy: &client.SchedulePolicies{Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP, CatchupWindow: 5 * time.Minute, PauseOnFailure: true},
	}}
	assert.Empty(t, drift(same, w), `"UTC" is the default zone`)
	edited := *same
	edited.Schedule.Spec = &client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 2 * time.Hour}}, Jitter: time.Minute}
	edited.Schedule.Policy = &client.SchedulePolicies{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: 5 * time.Minute, PauseOnFailure: true}
	edited.Schedule.Action = &client.ScheduleWorkflowAction{Workflow: "Experiment", TaskQueue: "other"}
	assert.Equal(t, []string{"task queue other", "overlap AllowAll", "intervals [2h0m0s]"}, drift(&edited, w))
}

func TestCalendarsAndPolicies(t *testing.T) {
	w := schedules.Window{Name: "nights", TimeZone: "UTC", Weekly: &schedules.Weekly{Days: []string{"mon"}, From: "22:30", To: "23:00"}}
	cs := calendars(w.SkipCalendars())
	require.Len(t, cs, 1)
	assert.Equal(t, []client.ScheduleRange{{Start: 30, End: 59}}, cs[0].Minute)
	assert.Equal(t, []client.ScheduleRange{{Start: 22}}, cs[0].Hour)
	assert.Equal(t, []client.ScheduleRange{{Start: 1}}, cs[0].DayOfWeek)
	assert.Equal(t, "blackout window nights", cs[0].Comment)
	assert.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_SKIP, overlapPolicy(""))
	assert.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER, overlapPolicy(schedules.OverlapCancelOther))
	assert.Equal(t, "cron 0 3 * * * | @daily and every 24h0m0s Europe/Berlin, jitter 5m0s",
		whenText(schedules.Entry{Cron: []string{"0 3 * * *", "@daily"}, Every: 24 * 3600 * 1e9, TimeZone: "Europe/Berlin", Jitter: 5 * 60 * 1e9}))
}

// A set that is no set name is refused before the server is asked: an
// empty one would own (and delete) every schedule without a gameday memo,
// gameday-sweep and other teams' schedules included.
func TestDeleteScheduleSetRefusesAnEmptySet(t *testing.T) {
	l := Launcher{} // no client: any call to the server would panic
	for _, set := range []string{"", "Seed", "a.b"} {
		_, err := l.DeleteScheduleSet(t.Context(), set, true)
		assert.ErrorContains(t, err, "not a set name", "set %q", set)
	}
}

// lastRunClient describes one ended run and hands back its result.
type lastRunClient struct {
	client.Client
	typ    string
	result any
}

func (c *lastRunClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Status: enums.WORKFLOW_EXECUTION_STATUS_COMPLETED, Type: &commonpb.WorkflowType{Name: c.typ}}}, nil
}

func (c *lastRunClient) GetWorkflow(context.Context, string, string) client.WorkflowRun {
	return resultRun{v: c.result}
}

type resultRun struct {
	client.WorkflowRun
	v any
}

func (r resultRun) Get(_ context.Context, ptr any) error {
	b, err := json.Marshal(r.v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, ptr)
}

// schedule list says why the last run did not pass, a plan: entry's game
// day included.
func TestLastRunSaysWhy(t *testing.T) {
	l := lastRun(t.Context(), &lastRunClient{typ: workflows.GameDayWorkflowName,
		result: gameday.Result{Outcome: experiment.Failed, Reason: "1 of 2 step(s) did not pass: a (breach)"}}, "gd", "r")
	assert.Equal(t, "completed", l.Status)
	assert.Equal(t, string(experiment.Failed), l.Outcome)
	assert.Equal(t, "1 of 2 step(s) did not pass: a (breach)", l.Reason)
	l = lastRun(t.Context(), &lastRunClient{typ: workflows.ExperimentWorkflowName,
		result: experiment.Result{Outcome: experiment.Aborted, AbortReason: "p95 breached"}}, "x", "r")
	assert.Equal(t, string(experiment.Aborted), l.Outcome)
	assert.Equal(t, "p95 breached", l.Reason)
}
