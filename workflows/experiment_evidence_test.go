package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// evidenceInput: the checklist of checklist_test.go with cb-fallback
// verified by evidence (a query of its own and the scenario's p95 guard);
// trace-color and offset-delta stay signed. With roles, the scenario's gate
// is signed by test and sre only.
func evidenceInput(roles ...string) ExperimentInput {
	in := checklistInput()
	in.Scenario.Spec.Signoff.Roles = roles
	cl := *in.Checklist
	cl.Spec.Items = append([]checklist.Item(nil), cl.Spec.Items...)
	zero := 0.0
	cl.Spec.Items[0].StrongBlocking = true
	cl.Spec.Items[0].VerifiedBy = []checklist.Check{
		{Name: "fallback", Query: "sum(increase(fallback[$window]))", Op: sli.OpGT, Threshold: &zero, Reduce: checklist.ReduceLast, Window: checklist.WindowObserve},
		{Guard: "p95", Window: checklist.WindowRun},
	}
	if len(roles) == 0 {
		cl.Spec.Items = cl.Spec.Items[:1] // evidence only: nobody signs
	}
	in.Checklist = &cl
	return in
}

// evidenceReturns mocks the Evidence activity: each check of its input
// passes unless named in fail; the input is kept.
func (s *experimentSuite) evidenceReturns(got *activities.EvidenceInput, fail ...string) {
	s.env.OnActivity(a.Evidence, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EvidenceInput) (activities.EvidenceResult, error) {
			*got = in
			var out activities.EvidenceResult
			for _, it := range in.Items {
				for _, c := range it.VerifiedBy {
					r := checklist.Judge(c, []sli.Point{{At: in.Timeline.HoldEnd, Value: 0.5}})
					r.Item, r.Query = it.ID, c.Query
					for _, f := range fail {
						if f == c.Name {
							r = checklist.Judge(c, nil) // no data: a failure
							r.Item, r.Query = it.ID, c.Query
						}
					}
					out.Checks = append(out.Checks, r)
				}
			}
			return out, nil
		}).Once()
}

// recordsChecklist mocks RecordChecklist once, keeping its input.
func (s *experimentSuite) recordsChecklist(got *activities.RecordChecklistInput) {
	s.env.OnActivity(a.RecordChecklist, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordChecklistInput) (activities.ChecklistResult, error) {
			*got = in
			return activities.ChecklistResult{}, nil
		}).Once()
}

// A checklist of evidence alone: no sign-off gate, the gate is decided
// after verify from the evidence, recorded in the weights like a signed
// pass, and the report and the result carry the final gate.
func (s *experimentSuite) Test_EvidenceDecidesTheGateAfterTheRun() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	var asked activities.EvidenceInput
	s.evidenceReturns(&asked)
	var recorded activities.RecordChecklistInput
	s.recordsChecklist(&recorded)
	s.env.ExecuteWorkflow(ExperimentWorkflow, evidenceInput())
	r := s.result()

	s.Equal(experiment.Passed, r.Outcome)
	s.Equal([]string{"define:done", "inject:done", "observe:done", "recover:done", "verify:done", "evidence:done", "report:done"}, phaseNames(r))
	s.Require().NotNil(r.Gate)
	s.True(r.Gate.Passed, r.Gate.Reason)
	s.Empty(r.Gate.Pending)
	it := r.Gate.Items[0]
	s.True(it.Verified)
	s.True(it.Pass)
	s.Len(it.Checks, 2)

	// The activity judged resolved checks over the run's own windows.
	s.Require().Len(asked.Items, 1)
	p95 := asked.Items[0].VerifiedBy[1]
	s.Equal("p95", p95.Name)
	s.Equal("q", p95.Query, "the guard's query, from the scenario")
	s.Equal(0.8, *p95.Threshold)
	tl := asked.Timeline
	s.False(tl.FaultAt.IsZero())
	s.True(!tl.HoldEnd.Before(tl.FaultAt) && !tl.RunEnd.Before(tl.HoldEnd), "%+v", tl)
	s.GreaterOrEqual(tl.HoldEnd.Sub(tl.FaultAt), testHold/2, "the hold: from the first fault's effect to the last release")

	s.Require().Len(recorded.Observations, 1)
	s.True(recorded.Observations[0].Pass, "an evidence pass feeds the weights like a signed one")
	s.Equal(r.Gate, s.reported.Gate, "the report (postmortem, release ticket) sees the final gate")
}

// A mixed checklist: the owners of signed items sign at the gate, the
// evidence item cannot be signed, the gate is provisional during the run,
// and a failed check fails the gate with the value in the reason.
func (s *experimentSuite) Test_EvidenceItemCannotBeSignedAndFailsTheGate() {
	s.okDefineTwice()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	var asked activities.EvidenceInput
	s.evidenceReturns(&asked, "fallback")
	var recorded activities.RecordChecklistInput
	s.recordsChecklist(&recorded)
	var refused error
	var live experiment.Result
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateSignoff, "forged", updateCB(func(err error) { refused = err }, nil),
			SignoffRequest{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}})
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "test", User: "tess", Items: []ItemSign{{ID: "trace-color", Pass: true}}})
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "sre", User: "sam", Items: []ItemSign{{ID: "offset-delta", Pass: true}}})
	}, time.Minute)
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&live))
	}, time.Minute+testHold/4)
	s.env.ExecuteWorkflow(ExperimentWorkflow, evidenceInput("test", "sre"))
	r := s.result()

	s.ErrorContains(refused, "role \"dev\" is not required")
	s.Equal(experiment.PhaseObserve, live.Phase)
	s.Require().NotNil(live.Gate, "the provisional gate from sign-off")
	s.Equal([]string{"cb-fallback"}, live.Gate.Pending)
	s.False(live.Gate.Passed)

	s.Equal(experiment.Passed, r.Outcome, "the experiment passed; its release gate did not")
	s.Require().NotNil(r.Gate)
	s.False(r.Gate.Passed)
	s.Empty(r.Gate.Pending)
	s.Equal([]string{"cb-fallback"}, r.Gate.BlockingFailed)
	s.Contains(r.Gate.Reason, "evidence for cb-fallback: fallback = no data (want > 0; last over observe): FAIL")
	s.Equal("evidence:failed", phaseNames(r)[len(r.Phases)-2])
	s.Require().Len(recorded.Observations, 3)
	s.False(recorded.Observations[0].Pass, "an evidence failure feeds the weights as a failure")
	s.True(recorded.Observations[1].Pass)
}

// The validator refuses a verdict for an evidence-verified item even from
// its owner.
func TestValidateItemsRefusesEvidenceItems(t *testing.T) {
	in := evidenceInput("dev", "test", "sre")
	err := validateItems(*in.Checklist, SignoffRequest{Role: "dev", User: "dana", Items: []ItemSign{{ID: "cb-fallback", Pass: true}}})
	if err == nil || err.Error() != "item cb-fallback is verified by evidence: its checks decide it after the run, nobody signs it" {
		t.Fatalf("got %v", err)
	}
	if err := validateItems(*in.Checklist, SignoffRequest{Role: "dev", User: "dana"}); err != nil {
		t.Fatalf("dev has nothing else to sign: %v", err)
	}
}

// Prometheus never answers: every check fails with the reason, never a
// pass.
func (s *experimentSuite) Test_EvidenceThatCannotBeComputedFails() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	s.env.OnActivity(a.Evidence, mock.Anything, mock.Anything).Return(activities.EvidenceResult{},
		temporal.NewNonRetryableApplicationError("prometheus http://p:9090: connection refused", "Unavailable", errors.New("down")))
	s.env.OnActivity(a.RecordChecklist, mock.Anything, mock.Anything).Return(activities.ChecklistResult{}, nil).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, evidenceInput())
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.Require().NotNil(r.Gate)
	s.False(r.Gate.Passed)
	for _, c := range r.Gate.Items[0].Checks {
		s.False(c.Pass)
		s.Equal("evidence could not be computed: prometheus http://p:9090: connection refused", c.Error)
	}
}

// A define that fails injects nothing and opens no gate: no evidence is
// asked for and there is no release verdict, as for a signed checklist.
func (s *experimentSuite) Test_NoEvidenceWithoutARun() {
	s.env.OnActivity(a.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{},
		temporal.NewNonRetryableApplicationError("steady state not established", activities.ErrTypeNotSteady, nil)).Once()
	s.env.ExecuteWorkflow(ExperimentWorkflow, evidenceInput())
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Nil(r.Gate)
	s.Equal([]string{"define:failed", "report:done"}, phaseNames(r))
}
