package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

// The game day's children are a stand-in for ExperimentWorkflow with the
// same contract (status query, abort update and signal, pause and resume
// updates unless it plays an older worker): it holds for its scenario's
// hold, ends with the outcome the test gave its scenario, or aborted. The
// forwarding activity delivers Updates to it the way the worker's client
// would, so an abort on the game day really ends the children aborted.
type gameDaySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu sync.Mutex
	// runs are the children as they started and ended, by workflow id.
	runs  map[string]*fakeRun
	order []string // workflow ids in start order
	// outcome and hold per scenario name (default passed, 10s).
	outcome map[string]experiment.Outcome
	hold    map[string]time.Duration
	// noPause plays children started by an older worker: no pause update.
	noPause bool
	// forwardErr makes the forwarding activity fail (server unreachable).
	forwardErr error
	forwarded  []string // "update workflow-id"
	preflight  func(activities.PreflightInput) (activities.PreflightResult, error)
	answers    map[string]answer // see update
	// reported are the game-day report activity's inputs; reportErr fails it.
	reported  []activities.GameDayReportInput
	reportErr error
}

type fakeRun struct {
	in       ExperimentInput
	gameDay  string // its GamedayGameDay search attribute
	started  time.Time
	ended    time.Time
	outcome  experiment.Outcome
	paused   []time.Time
	resumed  []time.Time
	abortReq *AbortRequest
}

func TestGameDayWorkflow(t *testing.T) { suite.Run(t, new(gameDaySuite)) }

func (s *gameDaySuite) SetupTest() {
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetTestTimeout(time.Minute)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.RegisterWorkflowWithOptions(s.fakeExperiment, workflow.RegisterOptions{Name: ExperimentWorkflowName})
	s.runs, s.order = map[string]*fakeRun{}, nil
	s.outcome, s.hold = map[string]experiment.Outcome{}, map[string]time.Duration{}
	s.noPause, s.forwardErr, s.forwarded = false, nil, nil
	s.answers = map[string]answer{}
	s.preflight = func(in activities.PreflightInput) (activities.PreflightResult, error) {
		var vals []experiment.GuardValue
		for _, g := range in.Guards {
			vals = append(vals, experiment.GuardValue{Guard: g.Name, Query: g.Query, Value: 0, Healthy: true})
		}
		return activities.PreflightResult{Values: vals, Healthy: true}, nil
	}
	s.env.OnActivity(a.Preflight, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PreflightInput) (activities.PreflightResult, error) {
			return s.preflight(in)
		}).Maybe()
	s.env.OnActivity(a.ForwardUpdate, mock.Anything, mock.Anything).Return(s.forward).Maybe()
	s.reported, s.reportErr = nil, nil
	s.env.OnActivity(a.GameDayReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.GameDayReportInput) (activities.GameDayReportResult, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.reported = append(s.reported, in)
			if s.reportErr != nil {
				return activities.GameDayReportResult{}, s.reportErr
			}
			return activities.GameDayReportResult{Report: &experiment.ReportLinks{HTML: "/reports/" + in.GameDay.WorkflowID + "/report.html"}}, nil
		}).Maybe()
}

func (s *gameDaySuite) run(id string) *fakeRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runs[id]
}

// forward is the forwarding activity: it sends the Update to the child in
// the test environment and returns its answer, or the refusal.
func (s *gameDaySuite) forward(ctx context.Context, in activities.ForwardInput) (activities.ForwardResult, error) {
	s.mu.Lock()
	s.forwarded = append(s.forwarded, in.Update+" "+in.WorkflowID)
	// The environment takes one update id for one update.
	updateID := fmt.Sprintf("%s-%d", in.WorkflowID, len(s.forwarded))
	ferr := s.forwardErr
	s.mu.Unlock()
	if ferr != nil {
		return activities.ForwardResult{}, ferr
	}
	done := make(chan error, 1)
	err := s.env.UpdateWorkflowByID(in.WorkflowID, in.Update, updateID, &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { done <- err },
		OnComplete: func(_ any, err error) { done <- err },
	}, in.Arg)
	if err == nil {
		select {
		case err = <-done:
		case <-ctx.Done():
			return activities.ForwardResult{}, ctx.Err()
		}
	}
	if err == nil {
		return activities.ForwardResult{}, nil
	}
	if r := activities.Refusal(err, in.Update); r != "" {
		return activities.ForwardResult{Refused: r}, nil
	}
	return activities.ForwardResult{}, err
}

func (s *gameDaySuite) fakeExperiment(ctx workflow.Context, in ExperimentInput) (experiment.Result, error) {
	info := workflow.GetInfo(ctx)
	id := info.WorkflowExecution.ID
	sa, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(SAGameDay)
	fr := &fakeRun{in: in, gameDay: sa, started: workflow.Now(ctx)}
	s.mu.Lock()
	s.runs[id] = fr
	s.order = append(s.order, id)
	hold, ok := s.hold[in.Scenario.Metadata.Name]
	if !ok {
		hold = 10 * time.Second
	}
	outcome, ok := s.outcome[in.Scenario.Metadata.Name]
	if !ok {
		outcome = experiment.Passed
	}
	noPause := s.noPause
	s.mu.Unlock()

	res := experiment.Result{WorkflowID: id, Scenario: in.Scenario.Metadata.Name, Outcome: experiment.Running, GameDay: in.GameDay, Targets: []string{"fault: proxy " + in.Scenario.Metadata.Name}}
	paused := false
	_ = workflow.SetQueryHandler(ctx, QueryStatus, func() (experiment.Result, error) { return res, nil })
	_ = workflow.SetUpdateHandlerWithOptions(ctx, UpdateAbort, func(ctx workflow.Context, req AbortRequest) (AbortResponse, error) {
		fr.abortReq = &req
		return AbortResponse{Phase: "observe"}, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req AbortRequest) error {
		if fr.abortReq != nil {
			return errors.New("already aborted")
		}
		return nil
	}})
	if !noPause {
		_ = workflow.SetUpdateHandler(ctx, UpdatePause, func(ctx workflow.Context, req PauseRequest) (AbortResponse, error) {
			paused = true
			fr.paused = append(fr.paused, workflow.Now(ctx))
			return AbortResponse{Phase: "paused"}, nil
		})
		_ = workflow.SetUpdateHandler(ctx, UpdateResume, func(ctx workflow.Context, req ResumeRequest) (AbortResponse, error) {
			paused = false
			fr.resumed = append(fr.resumed, workflow.Now(ctx))
			return AbortResponse{Phase: "observe"}, nil
		})
	}
	// Hold for the scenario's time, not counting paused time.
	left := hold
	for left > 0 && fr.abortReq == nil {
		from := workflow.Now(ctx)
		_, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return paused || fr.abortReq != nil })
		if err != nil {
			res.Outcome = experiment.Cancelled
			break
		}
		left -= workflow.Now(ctx).Sub(from)
		if paused {
			if err := workflow.Await(ctx, func() bool { return !paused || fr.abortReq != nil }); err != nil {
				res.Outcome = experiment.Cancelled
				break
			}
		}
	}
	switch {
	case res.Outcome == experiment.Cancelled:
		// Like the real one: clean up on a disconnected context, then
		// say so.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = workflow.Sleep(dctx, 5*time.Second)
		res.AbortReason = "workflow cancelled during observe; every fault was removed first"
	case fr.abortReq != nil:
		res.Outcome, res.AbortReason = experiment.Aborted, "aborted by "+fr.abortReq.By+": "+fr.abortReq.Reason
	case in.DryRun:
		res.Outcome = experiment.DryRun
	default:
		res.Outcome = outcome
		if outcome != experiment.Passed {
			res.AbortReason = "guard p95 breached"
		}
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	fr.ended, fr.outcome = workflow.Now(dctx), res.Outcome
	return res, nil
}

// plan builds a game day input: each entry is a step name, or a group as
// "group:a,b".
func gameDayPlan(entries ...string) GameDayInput {
	in := GameDayInput{
		Plan: gameday.Plan{
			APIVersion: gameday.APIVersion, Kind: gameday.Kind,
			Metadata: gameday.Metadata{Name: "shop-day"},
			Spec: gameday.Spec{
				Environment: "demo", People: gameday.People{Owner: "dana"},
				PauseBetween: duration.Duration(30 * time.Second), OnFailure: gameday.OnFailureStop,
				Preflight: []sli.Guard{{Name: "errors", Query: "q", Op: sli.OpLT, Threshold: 0.001, For: 1, Interval: duration.Duration(time.Second)}},
			},
		},
		UIBase: "http://ui",
	}
	for _, e := range entries {
		st := GameDayStage{Name: e}
		names := []string{e}
		if g, members, ok := strings.Cut(e, ":"); ok {
			st = GameDayStage{Name: g, Group: true}
			names = strings.Split(members, ",")
		}
		for _, n := range names {
			sc := testScenario()
			sc.Metadata.Name = n
			st.Steps = append(st.Steps, GameDayStep{Name: n, OnFailure: gameday.OnFailureStop, Source: n, Experiment: ExperimentInput{Scenario: sc}})
		}
		in.Stages = append(in.Stages, st)
	}
	return in
}

func (s *gameDaySuite) result() gameday.Result {
	s.True(s.env.IsWorkflowCompleted())
	s.NoError(s.env.GetWorkflowError())
	var r gameday.Result
	s.NoError(s.env.GetWorkflowResult(&r))
	return r
}

func step(r gameday.Result, name string) gameday.StepResult {
	for _, st := range r.Steps {
		if st.Name == name {
			return st
		}
	}
	panic("no step " + name)
}

const gdID = testWorkflowID

// Steps run in order, a group's members start together and are awaited
// together, the plan's pause separates the entries, and every child is
// linked to the game day (id, input, search attribute).
func (s *gameDaySuite) TestStepOrderAndParallelGroups() {
	s.hold["b"] = 40 * time.Second
	s.hold["c"] = 5 * time.Second
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "g:b,c", "d"))
	r := s.result()

	s.Equal(experiment.Passed, r.Outcome, r.Reason)
	// A group's members start together: which of b and c the test
	// environment runs first is its choice.
	s.Require().Len(s.order, 4)
	s.Equal(gdID+"-a", s.order[0])
	s.ElementsMatch([]string{gdID + "-b", gdID + "-c"}, s.order[1:3])
	s.Equal(gdID+"-d", s.order[3])
	a, b, c, d := s.run(gdID+"-a"), s.run(gdID+"-b"), s.run(gdID+"-c"), s.run(gdID+"-d")
	s.Equal(a.ended.Add(30*time.Second), b.started, "the pause between entries")
	s.Equal(b.started, c.started, "a group starts together")
	s.Equal(b.ended.Add(30*time.Second), d.started, "the group is awaited as a whole: d waits for the slower member")
	for _, fr := range []*fakeRun{a, b, c, d} {
		s.Equal(gdID, fr.in.GameDay)
		s.Equal("shop-day", fr.gameDay, "GamedayGameDay on every child")
		s.False(fr.in.DryRun)
	}
	s.Len(r.Preflight, 1)
	for _, n := range []string{"a", "b", "c", "d"} {
		st := step(r, n)
		s.Equal(gameday.StepDone, st.Status)
		s.True(st.Passed)
		s.Equal(gdID+"-"+n, st.WorkflowID)
		s.Contains(st.UIURL, "/workflows/"+gdID+"-"+n+"/")
		s.Equal("toxiproxy proxy=inventory, 2 fault(s) held 2s", st.Blast)
	}
	s.Equal("g", step(r, "b").Group)
	s.Equal(1, step(r, "c").Stage)
	s.Contains(r.Details(), "| g / b | b | done | passed |")
}

// on_failure: stop ends the plan after the entry that failed (its group's
// other members finish on their own); later steps are skipped.
func (s *gameDaySuite) TestOnFailureStop() {
	s.outcome["b"] = experiment.Aborted
	s.hold["c"] = 20 * time.Second
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "g:b,c", "d"))
	r := s.result()

	s.Equal(experiment.Failed, r.Outcome)
	s.Contains(r.Reason, "1 of 4 step(s) did not pass: b (aborted: guard p95 breached)")
	s.Contains(r.Reason, "step b did not pass (on_failure: stop)")
	s.Equal(experiment.Passed, step(r, "c").Outcome, "the sibling ran to its end")
	s.Equal(gameday.StepSkipped, step(r, "d").Status)
	s.Equal("step b did not pass (on_failure: stop)", step(r, "d").Reason)
	s.Nil(s.run(gdID+"-d"), "d never started")

	// The game day's report covers the experiments it started, not d.
	s.Require().Len(s.reported, 1)
	rep := s.reported[0]
	s.Equal(gdID, rep.GameDay.WorkflowID)
	s.Equal(r.RunID, rep.GameDay.RunID, "the report dir is the game day's run key")
	s.NotEmpty(rep.GameDay.RunID)
	s.Equal(experiment.Failed, rep.GameDay.Outcome)
	s.Equal(r.Reason, rep.GameDay.Reason)
	s.Equal(gameday.StepSkipped, step(rep.GameDay, "d").Status, "the report shows the skipped step")
	s.False(rep.GameDay.Ended.IsZero())
	var names []string
	for _, st := range rep.Steps {
		names = append(names, st.Step)
		s.Equal(gdID+"-"+st.Step, st.WorkflowID)
		s.NotEmpty(st.RunID)
	}
	s.ElementsMatch([]string{"a", "b", "c"}, names)
	s.Require().NotNil(r.Report)
	s.Equal("/reports/"+gdID+"/report.html", r.Report.HTML)
}

// A report that cannot be written is recorded; the game day's outcome
// stands.
func (s *gameDaySuite) TestReportFailureKeepsTheOutcome() {
	s.reportErr = temporal.NewNonRetryableApplicationError("disk full", "io", nil)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a"))
	r := s.result()
	s.Equal(experiment.Passed, r.Outcome, r.Reason)
	s.Require().NotNil(r.Report)
	s.Contains(r.Report.Error, "disk full")
}

// on_failure: continue goes on past a step that did not pass; the game day
// still ends failed, naming it.
func (s *gameDaySuite) TestOnFailureContinue() {
	s.outcome["a"] = experiment.Failed
	in := gameDayPlan("a", "b")
	in.Stages[0].Steps[0].OnFailure = gameday.OnFailureContinue
	s.env.ExecuteWorkflow(GameDayWorkflow, in)
	r := s.result()

	s.Equal(experiment.Failed, r.Outcome)
	s.False(step(r, "a").Passed)
	s.Equal("failed: guard p95 breached", step(r, "a").Reason)
	s.True(step(r, "b").Passed, "b ran")
	s.Equal([]string{gdID + "-a", gdID + "-b"}, s.order)
}

// An unhealthy pre-flight ends the game day before anything starts, with
// the values; a query Prometheus refuses does too.
func (s *gameDaySuite) TestPreflightFailure() {
	s.preflight = func(in activities.PreflightInput) (activities.PreflightResult, error) {
		return activities.PreflightResult{Values: []experiment.GuardValue{{Guard: "errors", Query: "q", Value: 0.02, Healthy: false}}}, nil
	}
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "g:b,c"))
	r := s.result()

	s.Equal(experiment.Failed, r.Outcome)
	s.Equal("pre-flight: not healthy: errors = 0.02; nothing was started", r.Reason)
	s.Empty(s.order, "no child started")
	for _, st := range r.Steps {
		s.Equal(gameday.StepSkipped, st.Status)
	}
	s.Equal(0.02, float64(r.Preflight[0].Value))
}

func (s *gameDaySuite) TestPreflightBadQuery() {
	s.preflight = func(in activities.PreflightInput) (activities.PreflightResult, error) {
		return activities.PreflightResult{}, temporal.NewNonRetryableApplicationError("pre-flight guard errors: parse error", activities.ErrTypeBadQuery, nil)
	}
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a"))
	r := s.result()
	s.Equal(experiment.Failed, r.Outcome)
	s.Equal("pre-flight: pre-flight guard errors: parse error; nothing was started", r.Reason)
	s.Empty(s.order)
}

// An abort on the game day reaches every running experiment through its
// abort update: they end aborted, with the reason, and nothing else starts.
func (s *gameDaySuite) TestAbortReachesChildren() {
	s.hold["b"], s.hold["c"] = time.Hour, time.Hour
	var resp AbortResponse
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateAbort, "abort", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("abort refused", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				s.NoError(err)
				resp = v.(AbortResponse)
			},
		}, AbortRequest{Reason: "pager went off", By: "sam"})
		s.update("abort-again", UpdateAbort, AbortRequest{Reason: "twice", By: "sam"})
	}, 10*time.Second+30*time.Second+time.Minute) // a, the pause, a minute into the group
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "g:b,c", "d"))
	r := s.result()

	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal("aborted by sam: pager went off", r.Reason)
	for _, n := range []string{"b", "c"} {
		fr := s.run(gdID + "-" + n)
		s.Require().NotNil(fr.abortReq, n)
		s.Equal("pager went off", fr.abortReq.Reason)
		s.Equal(experiment.Aborted, step(r, n).Outcome)
		s.Less(fr.ended.Sub(fr.started), 2*time.Minute, "ended by the abort, not its hour")
	}
	s.Equal(gameday.StepSkipped, step(r, "d").Status)
	s.Equal("running g", resp.Phase)
	s.Len(resp.Steps, 2)
	for _, f := range resp.Steps {
		s.True(f.OK, f.String())
	}
	s.ErrorContains(s.answers["abort-again"].err, "already being aborted: aborted by sam: pager went off")
	s.ElementsMatch([]string{"abort-update " + gdID + "-b", "abort-update " + gdID + "-c"}, s.forwarded)
}

// A step that cannot be reached with the abort is cancelled instead, so it
// still removes its faults.
func (s *gameDaySuite) TestAbortUnreachableStepIsCancelled() {
	s.hold["a"] = time.Hour
	s.forwardErr = temporal.NewNonRetryableApplicationError("connection refused", "Unavailable", nil)
	var resp AbortResponse
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateAbort, "abort", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { s.Fail("abort refused", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { resp, _ = v.(AbortResponse) },
		}, AbortRequest{Reason: "stop", By: "sam"})
	}, time.Minute)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	r := s.result()

	s.Equal(experiment.Aborted, r.Outcome)
	s.Equal(experiment.Cancelled, step(r, "a").Outcome)
	s.Require().Len(resp.Steps, 1)
	s.False(resp.Steps[0].OK)
	s.Contains(resp.Steps[0].Refused, "not reached: connection refused; cancelled instead")
	s.Nil(s.run(gdID + "-b"))
}

// update sends an Update to the game day; the environment answers later
// (after the callback that sent it returns), so the answer is recorded in
// s.answers under label and read once the workflow has ended.
func (s *gameDaySuite) update(label, name string, arg any) {
	s.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { s.answers[label] = answer{err: err} },
		OnAccept:   func() {},
		OnComplete: func(v any, err error) { s.answers[label] = answer{v: v, err: err} },
	}, arg)
}

type answer struct {
	v   any
	err error
}

// A pause during a step reaches the running experiment; the plan then
// holds before the next step until resumed, and the resume reaches the
// experiment too.
func (s *gameDaySuite) TestPauseDuringAndBetweenSteps() {
	s.hold["a"] = time.Minute
	s.env.RegisterDelayedCallback(func() {
		s.update("pause", UpdatePause, PauseRequest{Reason: "dashboards look odd", By: "tess"})
	}, 20*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.update("pause-again", UpdatePause, PauseRequest{Reason: "again", By: "tess"})
	}, 30*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.Nil(s.run(gdID+"-b"), "held: b has not started while paused")
		s.update("resume", UpdateResume, ResumeRequest{By: "dana"})
	}, 10*time.Minute)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	r := s.result()
	s.Require().NoError(s.answers["pause"].err)
	pauseResp := s.answers["pause"].v.(GameDayResponse)
	s.ErrorContains(s.answers["pause-again"].err, "already paused")
	s.Require().NoError(s.answers["resume"].err)
	resumeResp := s.answers["resume"].v.(GameDayResponse)

	s.Equal(experiment.Passed, r.Outcome, r.Reason)
	a, b := s.run(gdID+"-a"), s.run(gdID+"-b")
	s.Len(a.paused, 1, "the pause reached the running step")
	s.Len(a.resumed, 1, "and the resume")
	s.Equal("running a", pauseResp.Where)
	s.Require().Len(pauseResp.Steps, 1)
	s.True(pauseResp.Steps[0].OK)
	s.Len(resumeResp.Steps, 1)
	s.False(b.started.Before(a.started.Add(10*time.Minute-20*time.Second)), "b waited for the resume: %s after a", b.started.Sub(a.started))
	s.Require().Len(r.Pauses, 1)
	p := r.Pauses[0]
	s.Equal("dashboards look odd", p.Reason)
	s.Equal(experiment.PauseResumed, p.Ended)
	s.Equal("dana", p.EndedBy)
}

// A pause between steps (no step running) holds the plan before the next
// one until resumed; nothing is forwarded.
func (s *gameDaySuite) TestPauseBetweenSteps() {
	s.env.RegisterDelayedCallback(func() {
		s.update("pause", UpdatePause, PauseRequest{Reason: "coffee", By: "dana"})
	}, 25*time.Second) // a ended at 10s; the plan waits 30s before b
	s.env.RegisterDelayedCallback(func() {
		s.update("resume", UpdateResume, ResumeRequest{By: "dana"})
	}, 10*time.Minute)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	r := s.result()

	s.Equal(experiment.Passed, r.Outcome, r.Reason)
	s.Require().NoError(s.answers["pause"].err)
	resp := s.answers["pause"].v.(GameDayResponse)
	s.Equal("waiting 30s before b", resp.Where)
	s.Empty(resp.Steps, "no step running: nothing to forward")
	a, b := s.run(gdID+"-a"), s.run(gdID+"-b")
	s.Equal(10*time.Minute, b.started.Sub(a.started), "b started when resumed, not after the 30s pause")
	s.Empty(s.forwarded)
}

// Children of an older worker do not know the pause update: the refusal
// is reported, the game day still holds before its next step.
func (s *gameDaySuite) TestPauseOlderChildRefusesGracefully() {
	s.noPause = true
	s.hold["a"] = time.Minute
	s.env.RegisterDelayedCallback(func() {
		s.update("pause", UpdatePause, PauseRequest{Reason: "look", By: "tess", Timeout: 5 * time.Minute})
	}, 20*time.Second)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	r := s.result()
	s.Require().NoError(s.answers["pause"].err)
	resp := s.answers["pause"].v.(GameDayResponse)

	s.Require().Len(resp.Steps, 1)
	s.False(resp.Steps[0].OK)
	s.Contains(resp.Steps[0].Refused, "does not know pause-update (started by an older worker)")
	// Nobody resumed within the pause's 5 minutes: aborted.
	s.Equal(experiment.Aborted, r.Outcome)
	s.Contains(r.Reason, "paused for 5m0s and nobody resumed (look)")
	s.Equal(experiment.PauseTimeout, r.Pauses[0].Ended)
	s.Equal(experiment.Passed, step(r, "a").Outcome, "a finished its hold")
	s.Equal(gameday.StepSkipped, step(r, "b").Status)
}

// Notes are validated and kept, with their author, kind and time.
func (s *gameDaySuite) TestNotes() {
	s.env.RegisterDelayedCallback(func() {
		s.update("blank", UpdateNote, NoteRequest{Text: "  ", By: "tess"})
		s.update("kind", UpdateNote, NoteRequest{Text: "p95 spiked", By: "tess", Kind: "rumour"})
		s.update("author", UpdateNote, NoteRequest{Text: "p95 spiked", By: ""})
		s.update("long", UpdateNote, NoteRequest{Text: strings.Repeat("x", experiment.MaxNoteLength+1), By: "tess"})
	}, 4*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.update("first", UpdateNote, NoteRequest{Text: "p95 spiked at 14:02", By: "tess"})
	}, 5*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.update("action", UpdateNote, NoteRequest{Text: "add an alert on the breaker", By: "sam", Kind: experiment.NoteAction})
	}, 6*time.Second)
	s.env.RegisterDelayedCallback(func() {
		s.NoError(s.env.SignalWorkflowByID(gdID, SignalNote, NoteRequest{Text: "from the UI", By: "olga"}))
	}, 7*time.Second)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a"))
	r := s.result()

	s.ErrorContains(s.answers["blank"].err, "a note needs text")
	s.ErrorContains(s.answers["kind"].err, `note kind "rumour"`)
	s.ErrorContains(s.answers["author"].err, "a note needs its author")
	s.ErrorContains(s.answers["long"].err, "at most")
	s.Require().NoError(s.answers["first"].err)
	first := s.answers["first"].v.(NoteResponse)
	s.Equal(experiment.NoteObservation, first.Note.Kind)
	s.Equal(1, first.Notes)
	s.Require().Len(r.Notes, 3)
	s.Equal("p95 spiked at 14:02", r.Notes[0].Text)
	s.Equal("tess", r.Notes[0].By)
	s.Equal(experiment.NoteAction, r.Notes[1].Kind)
	s.Equal("from the UI", r.Notes[2].Text)
	s.False(r.Notes[0].At.IsZero())
	s.Contains(r.Details(), "3 note(s); the last by olga: from the UI")
}

// A dry run runs every step's experiment as a dry run, without the pause
// between entries, and ends dry-run with every step's targets.
func (s *gameDaySuite) TestDryRun() {
	in := gameDayPlan("a", "g:b,c")
	in.DryRun = true
	s.env.ExecuteWorkflow(GameDayWorkflow, in)
	r := s.result()

	s.Equal(experiment.DryRun, r.Outcome, r.Reason)
	s.True(r.DryRun)
	a, b := s.run(gdID+"-a"), s.run(gdID+"-b")
	s.True(a.in.DryRun)
	s.True(b.in.DryRun)
	s.Equal(a.ended, b.started, "no pause between entries in a dry run")
	s.Equal([]string{"fault: proxy a"}, step(r, "a").Targets)
	s.True(step(r, "c").Passed)
	s.Empty(s.reported, "a dry run writes no report")
	s.Nil(r.Report)
}

// Cancelling the game day cancels its running steps (they clean up), waits
// for them, and records how each ended.
func (s *gameDaySuite) TestCancelReachesChildren() {
	s.hold["a"] = time.Hour
	s.env.RegisterDelayedCallback(s.env.CancelWorkflow, time.Minute)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	r := s.result()

	s.Equal(experiment.Cancelled, r.Outcome)
	a := step(r, "a")
	s.Equal(experiment.Cancelled, a.Outcome)
	s.Equal(experiment.Cancelled, s.run(gdID+"-a").outcome, "the child itself saw the cancel")
	// The game day waited for the step's cleanup and recorded its own
	// account of it.
	s.Equal("cancelled: workflow cancelled during observe; every fault was removed first", a.Reason)
	s.False(a.Ended.Before(s.run(gdID + "-a").ended))
	s.Equal(gameday.StepSkipped, step(r, "b").Status)
}

func (s *gameDaySuite) TestStatusQueryDuringARun() {
	s.hold["a"] = time.Minute
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		var r gameday.Result
		s.Require().NoError(v.Get(&r))
		s.Equal(experiment.Running, r.Outcome)
		s.Equal(gameday.StepRunning, step(r, "a").Status)
		s.Equal(gameday.StepPending, step(r, "b").Status)
		s.Equal([]string{"a"}, names(r.Running()))
	}, 30*time.Second)
	s.env.ExecuteWorkflow(GameDayWorkflow, gameDayPlan("a", "b"))
	s.Equal(experiment.Passed, s.result().Outcome)
}

func names(ss []gameday.StepResult) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}

// Bad input is refused before anything starts.
func (s *gameDaySuite) TestBadInput() {
	s.env.ExecuteWorkflow(GameDayWorkflow, GameDayInput{Plan: gameday.Plan{Metadata: gameday.Metadata{Name: "x"}}})
	s.True(s.env.IsWorkflowCompleted())
	s.ErrorContains(s.env.GetWorkflowError(), "no plan name or no steps")
}

// The forwarded payload reaches the run as the run's own type: a pause's
// timeout (a time.Duration) survives the trip.
// A game day's pause ends like a run's.
func TestGameDayPauseTimeoutsAreTheRuns(t *testing.T) {
	require.Equal(t, DefaultPauseTimeout, gameday.DefaultPauseTimeout)
	require.Equal(t, MaxPauseTimeout, gameday.MaxPauseTimeout)
}

func TestForwardPayloadKeepsTypes(t *testing.T) {
	raw, err := json.Marshal(PauseRequest{Reason: "r", Timeout: 90 * time.Minute})
	require.NoError(t, err)
	b, err := json.Marshal(activities.ForwardInput{WorkflowID: "w", Update: UpdatePause, Arg: raw})
	require.NoError(t, err)
	var in activities.ForwardInput
	require.NoError(t, json.Unmarshal(b, &in))
	var back PauseRequest
	require.NoError(t, json.Unmarshal(in.Arg, &back))
	require.Equal(t, 90*time.Minute, back.Timeout, fmt.Sprintf("%s", in.Arg))
}
