package workflows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// liveFaults is a back-end for the pause tests: what is injected now, and
// every inject as it was asked for (ids, durations).
type liveFaults struct {
	mu       sync.Mutex
	live     map[string]bool
	injected []chaos.Fault
	// hang makes the inject of these fault ids hang until cancelled.
	hang map[string]bool
}

func (f *liveFaults) register(s *experimentSuite) {
	f.live = map[string]bool{}
	s.env.OnActivity(a.Inject, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.InjectInput) (activities.InjectResult, error) {
			f.mu.Lock()
			f.injected = append(f.injected, in.Fault)
			hang := f.hang[in.Fault.ID]
			f.mu.Unlock()
			if hang {
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Second): // far past the test's end
				}
				return activities.InjectResult{}, errors.New("inject hung")
			}
			f.mu.Lock()
			f.live[in.Fault.ID] = true
			f.mu.Unlock()
			return activities.InjectResult{Injected: chaos.Injected{FaultID: in.Fault.ID}}, nil
		})
	s.recoverHook = func(_ context.Context, in activities.RecoverInput) (activities.RecoverResult, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.live, in.Fault.ID)
		return activities.RecoverResult{}, nil
	}
}

func (f *liveFaults) liveNow() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id := range f.live {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (f *liveFaults) asked() []chaos.Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.injected)
}

// guardWatches mocks the guard activity watch by watch: the n-th watch
// started behaves as behave[n]; later ones (and a nil entry) watch until
// cancelled. It returns how many watches were started.
func (s *experimentSuite) guardWatches(behave ...func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error)) func() int {
	var mu sync.Mutex
	n := 0
	s.env.OnActivity(a.Guard, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
			mu.Lock()
			i := n
			n++
			mu.Unlock()
			if i < len(behave) && behave[i] != nil {
				return behave[i](ctx, in)
			}
			<-ctx.Done()
			return activities.GuardResult{}, temporal.NewCanceledError(activities.GuardResult{Evaluations: 1})
		})
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}

// breachAfter is a watch that breaches after d (real time).
func breachAfter(d time.Duration, b sli.Breach) func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
	return func(ctx context.Context, in activities.GuardInput) (activities.GuardResult, error) {
		select {
		case <-ctx.Done():
			return activities.GuardResult{}, temporal.NewCanceledError(activities.GuardResult{})
		case <-time.After(d):
			return activities.GuardResult{Breach: &b}, nil
		}
	}
}

// at runs fn at d on the workflow's clock.
func (s *experimentSuite) at(d time.Duration, fn func()) { s.env.RegisterDelayedCallback(fn, d) }

// update sends an update and keeps its outcome: the rejection, or the
// handler's answer.
type updateOutcome struct {
	rejected error
	err      error
	value    any
	done     bool
}

func (s *experimentSuite) update(name string, arg any) *updateOutcome {
	o := &updateOutcome{}
	s.env.UpdateWorkflow(name, name+"-"+time.Now().Format("150405.000000"), &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { o.rejected = err },
		OnComplete: func(v any, err error) { o.value, o.err, o.done = v, err, true },
	}, arg)
	return o
}

func ids(fs []chaos.Fault) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// A pause removes the faults and holds; the resume re-injects them under
// fresh ids for what was left of each one's hold, and the run then passes.
func (s *experimentSuite) Test_PauseRemovesFaultsResumeReinjectsTheRemainingHold() {
	s.okDefine()
	f := &liveFaults{}
	f.register(s)
	watches := s.guardWatches()
	s.okVerify()
	var duringPause []string
	var pause, resume *updateOutcome
	var statusPaused experiment.Result
	s.at(500*time.Millisecond, func() {
		pause = s.update(UpdatePause, PauseRequest{Reason: "customer call", By: "pat"})
	})
	s.at(1200*time.Millisecond, func() {
		duringPause = f.liveNow()
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&statusPaused))
	})
	s.at(1500*time.Millisecond, func() {
		resume = s.update(UpdateResume, ResumeRequest{By: "pat", Reason: "call over"})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()

	s.Equal(experiment.Passed, r.Outcome, r.AbortReason+r.Error)
	s.Empty(duringPause, "every fault removed while paused")
	s.Equal(experiment.PhasePaused, statusPaused.Phase)
	s.True(statusPaused.Paused())
	s.False(statusPaused.PauseOpen())
	s.True(statusPaused.ResumeOpen())
	s.True(statusPaused.AbortOpen())

	s.Require().True(pause.done, "the pause update completed")
	s.NoError(pause.err)
	s.Equal(experiment.PhasePaused, pause.value.(PauseResponse).Phase, "answered once the pause took effect")
	s.Equal([]string{testFaultID(0), testFaultID(1)}, pause.value.(PauseResponse).Pause.Faults)
	s.Require().True(resume.done)
	s.NoError(resume.err)

	first := []string{testFaultID(0), testFaultID(1)}
	again := []string{testFaultID(0) + "-r1", testFaultID(1) + "-r1"}
	asked := f.asked()
	s.Equal(append(slices.Clone(first), again...), ids(asked), "re-injected under fresh ids, step by step")
	// lat holds 2s, lat2 1s; 0.5s of each was served before the pause.
	s.InDelta(1500*time.Millisecond, asked[2].Duration, float64(300*time.Millisecond), "lat: what was left of its 2s")
	s.InDelta(500*time.Millisecond, asked[3].Duration, float64(300*time.Millisecond), "lat2: what was left of its 1s")
	s.Equal(0, asked[2].Step)
	s.Empty(f.liveNow(), "nothing left behind")
	s.ElementsMatch(append(first, again...), r.Recovered, "recover removed every fault of both cycles")
	s.Equal(append(first, again...), r.Injected)

	s.Require().Len(r.Pauses, 1)
	p := r.Pauses[0]
	s.Equal("customer call", p.Reason)
	s.Equal("pat", p.By)
	s.False(p.Drift)
	s.Equal(experiment.PauseResumed, p.Ended)
	s.Equal("pat", p.EndedBy)
	s.Equal(first, p.Faults)
	s.Equal(again, p.Reinjected)
	s.False(p.Removed.IsZero(), "when the faults were gone is recorded")
	s.InDelta(time.Second, p.To.Sub(p.From), float64(300*time.Millisecond))
	s.Equal(DefaultPauseTimeout, p.Timeout)
	s.InDelta(1500*time.Millisecond, p.Remaining, float64(300*time.Millisecond))

	s.Equal([]string{"define:done", "inject:done", "observe:paused", "paused:done", "inject:done", "observe:done", "recover:done", "verify:done", "report:done"}, phaseNames(r))
	s.Equal(3, watches(), "a watch for the first exposure, one while paused, one after the resume")
	s.Contains(s.notified, "paused")
}

// A pause nobody answers within its timeout aborts the run, saying so.
func (s *experimentSuite) Test_PauseTimeoutAborts() {
	s.okDefine()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches()
	s.okVerify()
	var pause *updateOutcome
	s.at(300*time.Millisecond, func() {
		pause = s.update(UpdatePause, PauseRequest{Reason: "checking dashboards", By: "pat", Timeout: time.Second})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("paused for 1s without an answer (pause by pat: checking dashboards)", r.AbortReason)
	s.Require().Len(r.Pauses, 1)
	s.Equal(experiment.PauseTimeout, r.Pauses[0].Ended)
	s.Equal(time.Second, r.Pauses[0].Timeout)
	s.True(pause.done)
	s.Empty(f.liveNow())
	s.ElementsMatch(bothFaults, r.Recovered)
	s.Len(f.asked(), 2, "nothing re-injected")
	s.Equal([]string{"define:done", "inject:done", "observe:paused", "paused:failed", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}

// An abort while paused ends the pause and the run.
func (s *experimentSuite) Test_AbortWhilePaused() {
	s.okDefine()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches()
	s.okVerify()
	var resumeAfter *updateOutcome
	s.at(300*time.Millisecond, func() { s.update(UpdatePause, PauseRequest{Reason: "look", By: "pat"}) })
	s.at(800*time.Millisecond, func() {
		s.update(UpdateAbort, AbortRequest{Reason: "enough", By: "sam"})
		resumeAfter = s.update(UpdateResume, ResumeRequest{By: "pat"})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("aborted by sam: enough", r.AbortReason)
	s.Require().Len(r.Pauses, 1)
	s.Equal(experiment.PauseAborted, r.Pauses[0].Ended)
	s.Equal("sam", r.Pauses[0].EndedBy)
	s.Require().NotNil(resumeAfter.rejected, "no resume after the abort")
	s.Empty(f.liveNow())
	s.Len(f.asked(), 2)
}

// A guard that breaches while the run is paused aborts it: the guards
// keep reporting during the pause.
func (s *experimentSuite) Test_BreachWhilePausedAborts() {
	s.okDefine()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches(nil, breachAfter(400*time.Millisecond, sli.Breach{Guard: "p95", Op: "<=", Value: 2.5, Threshold: 0.8}))
	s.okVerify()
	s.at(300*time.Millisecond, func() { s.update(UpdatePause, PauseRequest{Reason: "look", By: "pat"}) })
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Aborted, r.Outcome)
	s.Require().NotNil(r.Breach)
	s.Contains(r.AbortReason, "guard p95 breached: value 2.5")
	s.Require().Len(r.Pauses, 1)
	s.Equal(experiment.PauseBreach, r.Pauses[0].Ended)
	s.Empty(f.liveNow())
	s.Equal([]string{"define:done", "inject:done", "observe:paused", "paused:failed", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}

// Pause, resume, pause again, then cancel: recover still removes every
// fault of both cycles, and the run says it was cancelled.
func (s *experimentSuite) Test_CancelWhilePausedRecoversEveryCycle() {
	s.okDefine()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches()
	s.okVerify()
	s.at(300*time.Millisecond, func() { s.update(UpdatePause, PauseRequest{Reason: "one", By: "pat"}) })
	s.at(600*time.Millisecond, func() { s.update(UpdateResume, ResumeRequest{By: "pat"}) })
	s.at(900*time.Millisecond, func() { s.update(UpdatePause, PauseRequest{Reason: "two", By: "pat"}) })
	s.at(1200*time.Millisecond, func() { s.env.CancelWorkflow() })
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Cancelled, r.Outcome)
	all := []string{testFaultID(0), testFaultID(1), testFaultID(0) + "-r1", testFaultID(1) + "-r1"}
	s.Equal(all, r.Injected)
	s.ElementsMatch(all, r.Recovered)
	s.Empty(f.liveNow())
	s.Require().Len(r.Pauses, 2)
	s.Equal(experiment.PauseResumed, r.Pauses[0].Ended)
	s.Equal(experiment.PauseCancelled, r.Pauses[1].Ended)
	s.Equal(r.Pauses[0].Reinjected, r.Pauses[1].Faults, "the second pause removed the re-injected faults")
}

// A pause during an inject cancels it and lets recover settle it (the
// attempt may have landed); the resume injects that step with its whole
// hold, since none of it was served.
func (s *experimentSuite) Test_PauseDuringInjectSettlesIt() {
	s.okDefine()
	f := &liveFaults{hang: map[string]bool{testFaultID(1): true}}
	f.register(s)
	s.guardWatches()
	s.okVerify()
	s.at(300*time.Millisecond, func() { s.update(UpdatePause, PauseRequest{Reason: "wrong link", By: "pat"}) })
	s.at(800*time.Millisecond, func() { s.update(UpdateResume, ResumeRequest{By: "pat"}) })
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, r.AbortReason+r.Error)
	asked := f.asked()
	s.Equal([]string{testFaultID(0), testFaultID(1), testFaultID(0) + "-r1", testFaultID(1) + "-r1"}, ids(asked))
	s.Equal(testHold/2, asked[3].Duration, "the hung inject served none of its hold")
	s.Require().Len(r.Pauses, 1)
	s.Equal([]string{testFaultID(0), testFaultID(1)}, r.Pauses[0].Faults, "the hung inject is removed too: it may have landed")
	s.ElementsMatch(r.Injected, r.Recovered)
	s.Empty(f.liveNow())
	s.Equal([]string{"define:done", "inject:paused", "paused:done", "inject:done", "observe:done", "recover:done", "verify:done", "report:done"}, phaseNames(r))
}

// What the validators refuse, with reasons a person can act on.
func (s *experimentSuite) Test_PauseAndResumeValidators() {
	s.okDefineTwice()
	f := &liveFaults{}
	f.register(s)
	s.guardWatches()
	s.okVerify()
	out := map[string]*updateOutcome{}
	s.at(time.Minute, func() { // at the sign-off gate
		out["gate"] = s.update(UpdatePause, PauseRequest{Reason: "early", By: "pat"})
		out["resume-not-paused"] = s.update(UpdateResume, ResumeRequest{By: "pat"})
		out["no-reason"] = s.update(UpdatePause, PauseRequest{By: "pat"})
		out["bad-timeout"] = s.update(UpdatePause, PauseRequest{Reason: "x", By: "pat", Timeout: 48 * time.Hour})
		s.env.SignalWorkflow(SignalSignoff, SignoffRequest{Role: "sre", User: "sam"})
	})
	s.at(time.Minute+300*time.Millisecond, func() {
		out["pause"] = s.update(UpdatePause, PauseRequest{Reason: "look", By: "pat"})
	})
	s.at(time.Minute+600*time.Millisecond, func() {
		out["twice"] = s.update(UpdatePause, PauseRequest{Reason: "again", By: "pat"})
		out["resume"] = s.update(UpdateResume, ResumeRequest{By: "pat"})
		out["resume-twice"] = s.update(UpdateResume, ResumeRequest{By: "pat"})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario("sre")})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, r.AbortReason+r.Error)
	s.ErrorContains(out["gate"].rejected, "nothing to pause yet: no fault is injected before the inject phase (phase signoff)")
	s.ErrorContains(out["resume-not-paused"].rejected, "run is not paused (phase signoff): nothing to resume")
	s.ErrorContains(out["no-reason"].rejected, "a pause needs a reason")
	s.ErrorContains(out["bad-timeout"].rejected, "pause timeout 48h0m0s: want between 1s and 24h0m0s")
	s.NoError(out["pause"].rejected)
	s.ErrorContains(out["twice"].rejected, "already paused since")
	s.NoError(out["resume"].rejected)
	s.ErrorContains(out["resume-twice"].rejected, "run is not paused (phase inject): nothing to resume", "the first resume was taken at once")
	s.Len(r.Pauses, 1)
}

// Notes are taken in any phase until the report, with their author and
// time; the report gets them.
func (s *experimentSuite) Test_NotesAreRecordedAndValidated() {
	s.okDefine()
	s.okInject()
	s.guardHolds()
	s.okVerify()
	out := map[string]*updateOutcome{}
	s.at(100*time.Millisecond, func() {
		out["obs"] = s.update(UpdateNote, NoteRequest{Text: "  p95 climbs on the dashboard ", By: "dana"})
		out["empty"] = s.update(UpdateNote, NoteRequest{Text: "  ", By: "dana"})
		out["nobody"] = s.update(UpdateNote, NoteRequest{Text: "who?"})
		out["long"] = s.update(UpdateNote, NoteRequest{Text: string(make([]byte, experiment.MaxNoteLength+1)), By: "dana"})
		out["kind"] = s.update(UpdateNote, NoteRequest{Text: "x", By: "dana", Kind: "todo"})
	})
	s.at(time.Second, func() {
		out["action"] = s.update(UpdateNote, NoteRequest{Text: "add a cache alert", By: "sam", Kind: experiment.NoteAction})
		s.env.SignalWorkflow(SignalNote, NoteRequest{Text: "from the UI", By: "ui"})
	})
	s.env.ExecuteWorkflow(ExperimentWorkflow, ExperimentInput{Scenario: testScenario()})
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome)
	s.Require().True(out["obs"].done)
	s.Equal("p95 climbs on the dashboard", out["obs"].value.(NoteResponse).Note.Text)
	s.ErrorContains(out["empty"].rejected, "a note needs text")
	s.ErrorContains(out["nobody"].rejected, "a note needs its author")
	s.ErrorContains(out["long"].rejected, "a note is at most 2000 characters")
	s.ErrorContains(out["kind"].rejected, `note kind "todo": want observation or action`)
	s.Require().Len(r.Notes, 3)
	s.Equal(experiment.Note{Text: "p95 climbs on the dashboard", By: "dana", Kind: experiment.NoteObservation, At: r.Notes[0].At}, r.Notes[0])
	s.Equal(experiment.NoteAction, r.Notes[1].Kind)
	s.Equal("ui", r.Notes[2].By)
	s.False(r.Notes[0].At.IsZero())
	s.Equal(r.Notes, s.reported.Notes, "the report (postmortem, ticket) has every note")
}
