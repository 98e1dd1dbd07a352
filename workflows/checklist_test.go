package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

func testChecklist() checklist.Checklist {
	return checklist.Checklist{
		APIVersion: "gameday/v1", Kind: checklist.Kind,
		Metadata: checklist.Metadata{Name: "release-test"},
		Spec: checklist.Spec{Threshold: 70, Items: []checklist.Item{
			{ID: "cb-fallback", Title: "breaker falls back", Verification: "v", Criterion: "c", Owner: "dev", Weight: 15, FaultClass: "network-delay"},
			{ID: "trace-color", Title: "trace coloring", Verification: "v", Criterion: "c", Owner: "test", Weight: 30},
			{ID: "offset-delta", Title: "offset delta <= 50", Verification: "v", Criterion: "c", Owner: "sre", Weight: 55, StrongBlocking: true},
		}},
	}
}

func checklistInput() ExperimentInput {
	sc := testScenario("dev", "test", "sre")
	sc.Spec.Checklist = "release-test"
	sc.Spec.FaultClass = "network-delay"
	cl := testChecklist()
	return ExperimentInput{
		Scenario: sc, Checklist: &cl, ReleaseTicket: "REL-7",
	}
}

func quietEnv(s *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	return env
}

func updateCB(onReject func(error), onDone func(any, error)) *testsuite.TestUpdateCallback {
	if onDone == nil {
		onDone = func(any, error) {}
	}
	return &testsuite.TestUpdateCallback{OnReject: onReject, OnAccept: func() {}, OnComplete: onDone}
}

func (s *experimentSuite) Test_ChecklistSignoffValidatorAndGate() {
	s.okDefineTwice()
	s.okInject()
	s.guardBreaches(testHold/4, sli.Breach{Guard: "p95", Value: 1.3, Threshold: 0.8})
	s.okVerify()
	var recorded activities.RecordChecklistInput
	s.env.OnActivity(a.RecordChecklist, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordChecklistInput) (activities.ChecklistResult, error) {
			recorded = in
			return activities.ChecklistResult{Changes: []checklist.Change{{ItemID: "cb-fallback", OldWeight: 15, NewWeight: 50, Rule: checklist.RuleAlerting}}}, nil
		}).Once()

	rejections := map[string]error{}
	reject := func(name string) func(error) { return func(err error) { rejections[name] = err } }
	mustAccept := func(err error) { s.Fail("sign-off rejected", err) }
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateSignoff, "unknown", updateCB(reject("unknown"), nil), SignoffRequest{Role: "dev", User: "mallory", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}})
		s.env.UpdateWorkflow(UpdateSignoff, "norole", updateCB(reject("norole"), nil), SignoffRequest{Role: "sre", User: "dana", Items: []ItemSign{{ID: "offset-delta", Pass: true}}})
		s.env.UpdateWorkflow(UpdateSignoff, "notyours", updateCB(reject("notyours"), nil), SignoffRequest{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true}, {ID: "trace-color", Pass: true}}})
		s.env.UpdateWorkflow(UpdateSignoff, "missing", updateCB(reject("missing"), nil), SignoffRequest{Role: "dev", User: "dana"})
		s.env.UpdateWorkflow(UpdateSignoff, "dev", updateCB(mustAccept, nil), SignoffRequest{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true, Evidence: "https://ci/1"}}})
		s.env.UpdateWorkflow(UpdateSignoff, "twice", updateCB(reject("twice"), nil), SignoffRequest{Role: "dev", User: "sam", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}})
		s.env.UpdateWorkflow(UpdateSignoff, "test", updateCB(mustAccept, nil), SignoffRequest{Role: "test", User: "tess", Items: []ItemSign{{ID: "trace-color", Pass: false, Evidence: "https://ci/2"}}})
		s.env.UpdateWorkflow(UpdateSignoff, "sre", updateCB(mustAccept, nil), SignoffRequest{Role: "sre", User: "sam", Items: []ItemSign{{ID: "offset-delta", Pass: true}}})
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, checklistInput())
	r := s.result()

	s.ErrorContains(rejections["unknown"], "user mallory may not sign for dev: not in the worker's role map")
	s.ErrorContains(rejections["norole"], "user dana does not hold role sre")
	s.ErrorContains(rejections["notyours"], "item trace-color is owned by test, not dev")
	s.ErrorContains(rejections["missing"], "missing: cb-fallback")
	s.ErrorContains(rejections["twice"], "already signed by dana")

	s.Require().NotNil(r.Gate)
	s.Equal(70.0, r.Gate.Score, "15 + 55 of 100 passed")
	s.True(r.Gate.Passed, "blocking item passed and 70%% >= 70%%")
	s.Equal("dana", r.Gate.Items[0].User)
	s.Equal("https://ci/1", r.Gate.Items[0].Evidence)
	s.True(r.Gate.Items[0].Alerted, "its fault class breached in this run")

	s.Equal("REL-7", r.ReleaseTicket)
	s.Equal("release-test", recorded.Checklist.Metadata.Name)
	s.Require().Len(recorded.Observations, 3)
	s.Equal(checklist.Observation{ItemID: "cb-fallback", Pass: false, Alerted: true, Release: "REL-7", At: recorded.Observations[0].At}, recorded.Observations[0])
	s.False(recorded.Observations[1].Pass, "trace-color signed fail")
	s.True(recorded.Observations[2].Pass)
	s.Len(r.WeightChanges, 1)
}

func (s *experimentSuite) Test_ChecklistGateFailsOnBlockingItem() {
	s.okDefineTwice()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.OnActivity(a.RecordChecklist, mock.Anything, mock.Anything).Return(activities.ChecklistResult{}, nil).Once()
	s.env.RegisterDelayedCallback(func() {
		for _, req := range []SignoffRequest{
			{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}},
			{Role: "test", User: "tess", Items: []ItemSign{{ID: "trace-color", Pass: true}}},
			{Role: "sre", User: "sam", Items: []ItemSign{{ID: "offset-delta", Pass: false}}},
		} {
			s.env.SignalWorkflow(SignalSignoff, req)
		}
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, checklistInput())
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, "the experiment itself passed")
	s.Require().NotNil(r.Gate)
	s.False(r.Gate.Passed)
	s.Equal([]string{"offset-delta"}, r.Gate.BlockingFailed)
}

func (s *experimentSuite) Test_ChecklistRecordFailureKeepsOutcome() {
	s.okDefineTwice()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.OnActivity(a.RecordChecklist, mock.Anything, mock.Anything).Return(activities.ChecklistResult{}, errors.New("entity unreachable"))
	in := checklistInput()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}})
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "test", User: "tess", Items: []ItemSign{{ID: "trace-color", Pass: true}}})
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "sre", User: "sam", Items: []ItemSign{{ID: "offset-delta", Pass: true}}})
	}, time.Minute)
	s.env.ExecuteWorkflow(ExperimentWorkflow, in)
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.True(r.Gate.Passed)
	s.Contains(r.Phases[len(r.Phases)-1].Detail, "checklist weights not updated")
}

// The entity workflow: weights learn from recorded runs.
func TestChecklistWorkflowLearns(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	cl := testChecklist()
	start := env.Now()
	var alertChanges, quietChanges, replayed []checklist.Change
	record := func(id string, at time.Duration, obs func(i int) checklist.Observation, out *[]checklist.Change) {
		env.RegisterDelayedCallback(func() {
			var o []checklist.Observation
			for i := range cl.Spec.Items {
				o = append(o, obs(i))
			}
			env.UpdateWorkflow(UpdateChecklistRecord, id, updateCB(func(err error) { t.Errorf("record %s rejected: %v", id, err) }, func(v any, err error) {
				require.NoError(t, err)
				if out != nil {
					*out = append(*out, v.(RecordResponse).Changes...)
				}
			}), RecordRequest{WorkflowID: id, Checklist: cl, Observations: o})
		}, at)
	}
	// cb-fallback alerts in three releases: +35 and strong-blocking (seed: 15 % -> 50 %).
	for r := 1; r <= 3; r++ {
		record(fmt.Sprintf("run-alert-%d", r), time.Duration(r)*time.Hour, func(i int) checklist.Observation {
			return checklist.Observation{ItemID: cl.Spec.Items[i].ID, Pass: i != 0, Alerted: i == 0, Release: fmt.Sprintf("REL-%d", r), At: start.Add(time.Duration(r) * time.Hour)}
		}, &alertChanges)
	}
	// A retried record of the third run returns the same changes, counted once.
	record("run-alert-3", 4*time.Hour, func(i int) checklist.Observation {
		return checklist.Observation{ItemID: cl.Spec.Items[i].ID, Alerted: i == 0, Release: "REL-3"}
	}, &replayed)
	// trace-color passes 6 times; four months on, the quarterly review lowers it.
	for r := 1; r <= 6; r++ {
		record(fmt.Sprintf("run-pass-%d", r), time.Duration(4+r)*time.Hour, func(i int) checklist.Observation {
			return checklist.Observation{ItemID: cl.Spec.Items[i].ID, Pass: true, Release: fmt.Sprintf("REL-P%d", r), At: start.Add(time.Duration(4+r) * time.Hour)}
		}, nil)
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateChecklistEvaluate, "q1", updateCB(func(err error) { t.Error(err) }, func(v any, err error) {
			require.NoError(t, err)
			quietChanges = v.(RecordResponse).Changes
		}), EvaluateRequest{Reason: "quarterly"})
	}, 24*time.Hour*120)
	var state ChecklistState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryChecklistState)
		require.NoError(t, err)
		require.NoError(t, v.Get(&state))
		env.CancelWorkflow()
	}, 24*time.Hour*121)
	env.ExecuteWorkflow(ChecklistWorkflow, ChecklistInput{Checklist: cl})

	require.Len(t, alertChanges, 1)
	assert.Equal(t, "cb-fallback", alertChanges[0].ItemID)
	assert.Equal(t, 15.0, alertChanges[0].OldWeight)
	assert.Equal(t, 50.0, alertChanges[0].NewWeight)
	assert.True(t, alertChanges[0].NewBlocking)
	assert.Equal(t, alertChanges, replayed, "a retried record is idempotent")

	var traceQuiet *checklist.Change
	for i := range quietChanges {
		if quietChanges[i].ItemID == "trace-color" {
			traceQuiet = &quietChanges[i]
		}
	}
	require.NotNil(t, traceQuiet, "quiet rule fired for trace-color: %+v", quietChanges)
	assert.Equal(t, 30.0, traceQuiet.OldWeight)
	assert.Equal(t, 10.0, traceQuiet.NewWeight)
	assert.Equal(t, checklist.RuleQuiet, traceQuiet.Rule)

	assert.Equal(t, 9, state.Runs, "the retried record is not counted")
	assert.GreaterOrEqual(t, len(state.Audit), 2)
	weights := map[string]float64{}
	for _, it := range state.Items {
		weights[it.ItemID] = it.Weight
	}
	// cb-fallback then passed 6 times with no fault for 4 months: -20 again.
	assert.Equal(t, 30.0, weights["cb-fallback"])
	assert.Equal(t, 10.0, weights["trace-color"])
}

func TestChecklistWorkflowRejectsUnknownItems(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateChecklistRecord, "x", updateCB(func(err error) { rejected = err }, nil),
			RecordRequest{WorkflowID: "wf", Observations: []checklist.Observation{{ItemID: "nope"}}})
		env.CancelWorkflow()
	}, time.Minute)
	env.ExecuteWorkflow(ChecklistWorkflow, ChecklistInput{Checklist: testChecklist()})
	assert.ErrorContains(t, rejected, `unknown checklist item "nope"`)
}

func TestChecklistWorkflowContinuesAsNew(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := quietEnv(&ts)
	cl := testChecklist()
	env.RegisterDelayedCallback(func() {
		for i := 0; i < checklistMaxRuns; i++ {
			env.UpdateWorkflow(UpdateChecklistRecord, fmt.Sprint(i), updateCB(func(err error) { t.Error(err) }, nil),
				RecordRequest{WorkflowID: fmt.Sprintf("wf-%d", i), Checklist: cl, Observations: []checklist.Observation{{ItemID: "trace-color", Pass: true}}})
		}
	}, time.Minute)
	env.ExecuteWorkflow(ChecklistWorkflow, ChecklistInput{Checklist: cl})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "want continue-as-new, got %v", err)
	assert.Equal(t, ChecklistWorkflowName, can.WorkflowType.Name)
}
