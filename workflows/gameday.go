package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
)

// GameDayStepID is the workflow id of a game day's step: the game day's
// id and the step's name (unique in the plan), so every experiment of a
// game day is found from it and a retried start never starts a step twice.
func GameDayStepID(gameDayID, step string) string { return gameDayID + "-" + step }

// NewGameDayID builds a readable, unique workflow id for a game day.
// Called by clients, never by workflow code.
func NewGameDayID(plan string, now time.Time) string {
	return strings.Replace(NewExperimentID(plan, now), "gameday-", "gameday-day-", 1)
}

// GameDayWorkflow runs a plan: the pre-flight guards once, then each entry
// of the plan's steps in order, every experiment as a child workflow
// (ExperimentWorkflow, each readable on its own in the Temporal UI, linked
// to the game day, GamedayGameDay=<plan>), the members of a parallel group
// started together and awaited together, the plan's pause between entries,
// and on_failure deciding whether a step that did not pass stops the rest.
//
// Children are started with ParentClosePolicy REQUEST_CANCEL: a game day
// that ends any way (cancelled, terminated, timed out) asks its running
// experiments to cancel, which they answer by removing their faults and
// verifying; they are never terminated, since a terminated experiment
// cannot recover what it injected. Abort, pause and resume on the game day
// reach the running experiments through their own Updates
// (activities.ForwardUpdate). The history grows with the plan (a few
// events per step) and with the notes and pauses, all bounded (package
// gameday's limits), so the workflow never continues-as-new.
func GameDayWorkflow(ctx workflow.Context, in GameDayInput) (gameday.Result, error) {
	g := &gameDayRun{in: in}
	if err := g.setup(ctx); err != nil {
		return g.res, err
	}
	return g.run(ctx)
}

type gameDayRun struct {
	in     GameDayInput
	res    gameday.Result
	logger log.Logger
	// stageOf lists, per stage, the indexes of its steps in res.Steps.
	stageOf [][]int
	// active are the experiments running now, in start order.
	active []*gameDayChild
	abort  *AbortRequest
	// stopped says why no further step starts (on_failure: stop).
	stopped string
	// where the plan stands, for the answers of abort, pause and resume.
	where string
}

type gameDayChild struct {
	step int // index in res.Steps
	fut  workflow.ChildWorkflowFuture
	// paused: the experiment accepted the game day's pause.
	paused bool
}

func (g *gameDayRun) setup(ctx workflow.Context) error {
	g.logger = workflow.GetLogger(ctx)
	info := workflow.GetInfo(ctx)
	p := g.in.Plan
	if p.Metadata.Name == "" || len(g.in.Stages) == 0 {
		return temporal.NewNonRetryableApplicationError("game day input has no plan name or no steps; prepare it with control.PrepareGameDay", activities.ErrTypeBadInput, nil)
	}
	g.res = gameday.Result{
		WorkflowID:  info.WorkflowExecution.ID,
		RunID:       info.WorkflowExecution.RunID,
		Plan:        p.Metadata.Name,
		Environment: p.Spec.Environment,
		People:      p.Spec.People,
		DryRun:      g.in.DryRun,
		Outcome:     experiment.Running,
		Steps:       []gameday.StepResult{},
		UIURL:       experiment.UIURL(g.in.UIBase, info.Namespace, info.WorkflowExecution.ID, info.WorkflowExecution.RunID),
		Started:     workflow.Now(ctx),
	}
	for i, st := range g.in.Stages {
		var idx []int
		for _, s := range st.Steps {
			sc := s.Experiment.Scenario
			if s.Name == "" || sc.Metadata.Name == "" || len(sc.Spec.Faults) == 0 {
				return temporal.NewNonRetryableApplicationError(fmt.Sprintf("game day input: stage %d has a step without a name or a scenario", i), activities.ErrTypeBadInput, nil)
			}
			r := gameday.StepResult{
				Name:       s.Name,
				Stage:      i,
				Scenario:   sc.Metadata.Name,
				Service:    sc.Metadata.Service,
				Source:     s.Source,
				OnFailure:  s.OnFailure,
				Overrides:  s.Experiment.Overrides,
				Blast:      gameday.Blast(sc.Spec.Target, len(sc.Spec.Faults), sc.HoldDuration()),
				Gated:      sc.Spec.Signoff.Roles,
				WorkflowID: GameDayStepID(info.WorkflowExecution.ID, s.Name),
				Status:     gameday.StepPending,
			}
			if st.Group {
				r.Group = st.Name
			}
			idx = append(idx, len(g.res.Steps))
			g.res.Steps = append(g.res.Steps, r)
		}
		g.stageOf = append(g.stageOf, idx)
	}
	g.where = "starting"
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (gameday.Result, error) { return g.res, nil }); err != nil {
		return err
	}
	// Every message exists as a signal (the Temporal UI) and as an update
	// with a validator (the CLI, Slack), as a run's do: the same rules, in
	// package gameday.
	if err := message(ctx, g.logger, SignalAbort, UpdateAbort, func(req AbortRequest) error { return g.res.CheckAbort(req.Reason) },
		func(ctx workflow.Context, req AbortRequest, _ bool) (AbortResponse, error) {
			return g.doAbort(ctx, req), nil
		}); err != nil {
		return err
	}
	if err := message(ctx, g.logger, SignalPause, UpdatePause, func(req PauseRequest) error { return g.res.CheckPause(req.Reason, req.Timeout) },
		func(ctx workflow.Context, req PauseRequest, _ bool) (GameDayResponse, error) {
			return g.pause(ctx, req), nil
		}); err != nil {
		return err
	}
	if err := message(ctx, g.logger, SignalResume, UpdateResume, func(ResumeRequest) error { return g.res.CheckResume() },
		func(ctx workflow.Context, req ResumeRequest, _ bool) (GameDayResponse, error) {
			return g.resume(ctx, req), nil
		}); err != nil {
		return err
	}
	return message(ctx, g.logger, SignalNote, UpdateNote, func(req NoteRequest) error { return g.res.CheckNote(req.Text, req.By, req.Kind) },
		func(ctx workflow.Context, req NoteRequest, _ bool) (NoteResponse, error) {
			n := g.note(ctx, req)
			return NoteResponse{Note: n, Notes: len(g.res.Notes)}, nil
		})
}

func (g *gameDayRun) run(ctx workflow.Context) (gameday.Result, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAGameDay.ValueSet(g.res.Plan),
		SAOutcome.ValueSet(string(experiment.Running)),
	)
	g.details(ctx)
	if g.preflight(ctx) {
		g.runStages(ctx)
	}
	cancelled := ctx.Err() != nil
	// From here on nothing may be skipped because the game day was
	// cancelled: the record of what happened must be complete.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	g.conclude(dctx, cancelled)
	// An abort or resume still passing itself on to the steps finishes
	// first, so its answer is not lost.
	_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
	g.res.Ended = workflow.Now(dctx)
	g.report(dctx)
	_ = workflow.UpsertTypedSearchAttributes(dctx, SAOutcome.ValueSet(string(g.res.Outcome)))
	g.details(dctx)
	return g.res, nil
}

func (g *gameDayRun) details(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, g.res.Details())
}

// preflight reads the plan's pre-flight guards once; false ends the game
// day before any step starts.
func (g *gameDayRun) preflight(ctx workflow.Context) bool {
	guards := g.in.Plan.Spec.Preflight
	if len(guards) == 0 {
		return true
	}
	g.where = "pre-flight"
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         retry(4, activities.ErrTypeBadQuery),
		Summary:             fmt.Sprintf("pre-flight: %d guard(s)", len(guards)),
	})
	var out activities.PreflightResult
	err := workflow.ExecuteActivity(actx, a.Preflight, activities.PreflightInput{Guards: guards}).Get(ctx, &out)
	var app *temporal.ApplicationError
	if err != nil && errors.As(err, &app) && app.HasDetails() {
		_ = app.Details(&out)
	}
	g.res.Preflight = out.Values
	switch {
	case err != nil && (temporal.IsCanceledError(err) || ctx.Err() != nil):
		g.endEarly(ctx, experiment.Cancelled, "game day cancelled during the pre-flight check; nothing was started")
	case err != nil:
		g.endEarly(ctx, experiment.Failed, "pre-flight: "+rootMessage(err)+"; nothing was started")
	case !out.Healthy:
		g.endEarly(ctx, experiment.Failed, "pre-flight: not healthy: "+unhealthy(out.Values)+"; nothing was started")
	default:
		return true
	}
	return false
}

// endEarly ends the game day before any step started.
func (g *gameDayRun) endEarly(ctx workflow.Context, o experiment.Outcome, reason string) {
	g.res.Outcome, g.res.Reason = o, reason
	g.skipRest(reason)
	g.details(ctx)
}

func (g *gameDayRun) runStages(ctx workflow.Context) {
	pause := g.in.Plan.Spec.PauseBetween.D()
	for i, st := range g.in.Stages {
		if i > 0 && pause > 0 && !g.in.DryRun && !g.halted(ctx) {
			// Time to look at the dashboards; an abort ends the wait.
			g.where = fmt.Sprintf("waiting %s before %s", pause, st.Name)
			g.details(ctx)
			wait := timerFor(pause, fmt.Sprintf("pause between steps: %s before %s", pause, st.Name))
			if _, err := workflow.AwaitWithOptions(ctx, wait, func() bool { return g.abort != nil }); err != nil {
				return
			}
		}
		if _, paused := g.res.Paused(); paused && !g.halted(ctx) {
			// A person's pause holds the plan here until resumed, aborted
			// or timed out (the pause's own watcher aborts then).
			g.where = "paused before " + st.Name
			g.details(ctx)
			if err := workflow.Await(ctx, func() bool { _, p := g.res.Paused(); return !p || g.abort != nil }); err != nil {
				return
			}
		}
		// Nothing may block between this check and the starts below: an
		// abort handled in between would miss the new steps.
		if g.halted(ctx) {
			return
		}
		g.where = "running " + st.Name
		wg := workflow.NewWaitGroup(ctx)
		for _, k := range g.stageOf[i] {
			c := g.start(ctx, i, k)
			g.active = append(g.active, c)
			wg.Add(1)
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer wg.Done()
				g.await(ctx, c)
			})
		}
		g.details(ctx)
		wg.Wait(ctx)
		for _, k := range g.stageOf[i] {
			s := g.res.Steps[k]
			if !s.Passed && s.OnFailure != gameday.OnFailureContinue && g.stopped == "" && !g.in.DryRun {
				g.stopped = fmt.Sprintf("step %s did not pass (on_failure: stop)", s.Name)
			}
		}
	}
}

// halted: no further step may start.
func (g *gameDayRun) halted(ctx workflow.Context) bool {
	return g.abort != nil || g.stopped != "" || ctx.Err() != nil
}

// start starts step k (of stage i) as a child workflow; it does not block.
func (g *gameDayRun) start(ctx workflow.Context, i, k int) *gameDayChild {
	s := &g.res.Steps[k]
	var in ExperimentInput
	for _, st := range g.in.Stages[i].Steps {
		if st.Name == s.Name {
			in = st.Experiment
		}
	}
	in.GameDay = g.res.WorkflowID
	in.DryRun = in.DryRun || g.in.DryRun
	if in.UIBase == "" {
		in.UIBase = g.in.UIBase
	}
	if in.StartedBy == "" {
		in.StartedBy = g.in.StartedBy
	}
	summary := fmt.Sprintf("game day %s, step %s: %s on %s", g.res.Plan, s.Name, s.Scenario, s.Service)
	if in.DryRun {
		summary += " (dry run)"
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: s.WorkflowID,
		// Never TERMINATE: a terminated experiment cannot remove its
		// faults. A cancel request makes it recover, verify and report.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
		// A cancelled game day waits for its steps to have cleaned up, so
		// its result says how each ended.
		WaitForCancellation:   true,
		TypedSearchAttributes: temporal.NewSearchAttributes(SAGameDay.ValueSet(g.res.Plan)),
		StaticSummary:         summary,
		StaticDetails:         in.Scenario.Describe(),
	})
	s.Status, s.Started = gameday.StepRunning, workflow.Now(ctx)
	return &gameDayChild{step: k, fut: workflow.ExecuteChildWorkflow(cctx, ExperimentWorkflowName, in)}
}

// await follows one step's experiment to its end and records it.
func (g *gameDayRun) await(ctx workflow.Context, c *gameDayChild) {
	s := &g.res.Steps[c.step]
	defer func() {
		s.Status, s.Ended = gameday.StepDone, workflow.Now(ctx)
		g.active = slices.DeleteFunc(g.active, func(x *gameDayChild) bool { return x == c })
		g.details(ctx)
	}()
	var exec workflow.Execution
	if err := c.fut.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		s.Outcome, s.Reason = experiment.Failed, "did not start: "+rootMessage(err)
		return
	}
	s.RunID = exec.RunID
	s.UIURL = experiment.UIURL(g.in.UIBase, workflow.GetInfo(ctx).Namespace, exec.ID, exec.RunID)
	g.details(ctx)
	var r experiment.Result
	err := c.fut.Get(ctx, &r)
	switch {
	case err == nil:
		s.Outcome, s.Targets = r.Outcome, r.Targets
		s.Passed, s.Reason = gameday.Verdict(r, g.in.DryRun)
	case temporal.IsCanceledError(err):
		s.Outcome, s.Reason = experiment.Cancelled, "its run was cancelled"
	default:
		// Failed, terminated or timed out without a result.
		s.Outcome, s.Reason = experiment.Failed, rootMessage(err)
	}
}

// conclude sets the game day's outcome once every step has ended.
func (g *gameDayRun) conclude(ctx workflow.Context, cancelled bool) {
	if g.res.Outcome != experiment.Running {
		return // the pre-flight decided
	}
	var failed []string
	for _, s := range g.res.Steps {
		if s.Status == gameday.StepDone && !s.Passed {
			failed = append(failed, fmt.Sprintf("%s (%s)", s.Name, s.Reason))
		}
	}
	switch {
	case g.abort != nil:
		g.res.Outcome = experiment.Aborted // Reason set with the abort
	case cancelled:
		g.res.Outcome, g.res.Reason = experiment.Cancelled, "game day cancelled; its running steps were cancelled and cleaned up"
	case len(failed) > 0:
		g.res.Outcome = experiment.Failed
		g.res.Reason = fmt.Sprintf("%d of %d step(s) did not pass: %s", len(failed), len(g.res.Steps), strings.Join(failed, "; "))
		if g.stopped != "" {
			g.res.Reason += "; " + g.stopped
		}
	case g.in.DryRun:
		g.res.Outcome = experiment.DryRun
	default:
		g.res.Outcome = experiment.Passed
	}
	why := g.res.Reason
	if g.stopped != "" {
		why = g.stopped
	}
	g.skipRest(why)
	if p, paused := g.res.Paused(); paused {
		g.closePause(ctx, experiment.PauseAborted, p.By)
	}
}

// versionGameDayReport: from version 1 a game day ends by writing its
// report (activities.GameDayReport) and telling the notifier; histories
// before it end without that activity.
const (
	versionGameDayReport   = "gameday-report"
	versionGameDayReportV1 = 1
)

// report writes the game day's report once it has ended, from the
// experiments it started; a report that cannot be written is recorded,
// never a reason for the game day to fail.
func (g *gameDayRun) report(ctx workflow.Context) {
	if workflow.GetVersion(ctx, versionGameDayReport, workflow.DefaultVersion, versionGameDayReportV1) < versionGameDayReportV1 || g.in.DryRun {
		return
	}
	in := activities.GameDayReportInput{GameDay: g.res}
	for _, s := range g.res.Steps {
		if s.Status == gameday.StepDone && s.RunID != "" && s.Outcome != "" {
			in.Steps = append(in.Steps, activities.GameDayStepRun{Step: s.Name, WorkflowID: s.WorkflowID, RunID: s.RunID})
		}
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: activities.GameDayReportBudget(len(in.Steps)) + time.Minute,
		RetryPolicy:         retry(3),
		Summary:             fmt.Sprintf("report: game day %s, %d experiment(s)", g.res.Outcome, len(in.Steps)),
	})
	var out activities.GameDayReportResult
	if err := workflow.ExecuteActivity(actx, a.GameDayReport, in).Get(ctx, &out); err != nil {
		g.logger.Warn("game day report not written", "error", err)
		out.Report = &experiment.ReportLinks{Error: rootMessage(err)}
	}
	g.res.Report = out.Report
}

// skipRest marks every step that never started as skipped.
func (g *gameDayRun) skipRest(reason string) {
	for i := range g.res.Steps {
		if s := &g.res.Steps[i]; s.Status == gameday.StepPending {
			s.Status, s.Reason = gameday.StepSkipped, reason
		}
	}
}

// doAbort stops the plan (no further step starts) and passes the abort to
// every running step's experiment, which removes its faults and ends
// aborted. An experiment that cannot be reached is cancelled instead: it
// still recovers what it injected.
func (g *gameDayRun) doAbort(ctx workflow.Context, req AbortRequest) AbortResponse {
	g.abort = &req
	g.res.AbortedBy = req.By
	if req.By == "" {
		g.res.AbortedBy = "someone"
	}
	g.res.Reason = fmt.Sprintf("aborted by %s: %s", g.res.AbortedBy, req.Reason)
	if _, paused := g.res.Paused(); paused {
		g.closePause(ctx, experiment.PauseAborted, req.By)
	}
	where := g.where
	g.details(ctx)
	return AbortResponse{Phase: where, Steps: g.forward(ctx, UpdateAbort, req, func(c *gameDayChild) bool { return true }, true)}
}

func (g *gameDayRun) pause(ctx workflow.Context, req PauseRequest) GameDayResponse {
	g.res.Pauses = append(g.res.Pauses, experiment.Pause{Reason: req.Reason, By: req.By, From: workflow.Now(ctx)})
	n := len(g.res.Pauses)
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = gameday.DefaultPauseTimeout
	}
	// Nobody resuming in time aborts the game day, as it does a run.
	workflow.Go(ctx, func(ctx workflow.Context) {
		wait := timerFor(timeout, fmt.Sprintf("abort the game day unless resumed within %s (paused: %s)", timeout, req.Reason))
		resumed, err := workflow.AwaitWithOptions(ctx, wait, func() bool { return g.res.Pauses[n-1].Ended != experiment.PauseRunning })
		if err != nil || resumed || g.abort != nil || g.res.Final() {
			return
		}
		g.closePause(ctx, experiment.PauseTimeout, "")
		g.doAbort(ctx, AbortRequest{Reason: fmt.Sprintf("paused for %s and nobody resumed (%s)", timeout, req.Reason), By: "gameday"})
	})
	where := g.where
	g.details(ctx)
	fw := g.forward(ctx, UpdatePause, req, func(c *gameDayChild) bool { return true }, false)
	for _, f := range fw {
		for _, c := range g.active {
			if f.OK && g.res.Steps[c.step].Name == f.Step {
				c.paused = true
			}
		}
	}
	return GameDayResponse{Where: where, Steps: fw}
}

func (g *gameDayRun) resume(ctx workflow.Context, req ResumeRequest) GameDayResponse {
	g.closePause(ctx, experiment.PauseResumed, req.By)
	where := g.where
	return GameDayResponse{Where: where, Steps: g.forward(ctx, UpdateResume, req, func(c *gameDayChild) bool { return c.paused }, false)}
}

// closePause ends the pause in progress.
func (g *gameDayRun) closePause(ctx workflow.Context, how, by string) {
	p := &g.res.Pauses[len(g.res.Pauses)-1]
	p.Ended, p.EndedBy, p.To = how, by, workflow.Now(ctx)
	g.details(ctx)
}

func (g *gameDayRun) note(ctx workflow.Context, req NoteRequest) experiment.Note {
	n := newNote(ctx, req)
	g.res.Notes = append(g.res.Notes, n)
	g.details(ctx)
	return n
}

// forward sends an Update to the running steps' experiments that want it,
// all at once, and collects their answers. It waits for each experiment
// to have started (an Update to a run not started yet would find nothing).
// cancelUnreached cancels an experiment the Update could not reach.
func (g *gameDayRun) forward(ctx workflow.Context, update string, arg any, want func(*gameDayChild) bool, cancelUnreached bool) []gameday.Forwarded {
	raw, err := json.Marshal(arg)
	if err != nil {
		g.logger.Error("cannot encode update", "update", update, "error", err)
		return nil
	}
	type sent struct {
		c   *gameDayChild
		fw  gameday.Forwarded
		fut workflow.Future
	}
	var out []sent
	for _, c := range slices.Clone(g.active) {
		if !want(c) {
			continue
		}
		s := g.res.Steps[c.step]
		fw := gameday.Forwarded{Step: s.Name, WorkflowID: s.WorkflowID}
		if err := c.fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			fw.Refused = "its run never started: " + rootMessage(err)
			out = append(out, sent{c: c, fw: fw})
			continue
		}
		out = append(out, sent{c: c, fw: fw, fut: workflow.ExecuteActivity(
			workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: retry(5), Summary: chaos.Clip(update+" to step "+s.Name+" ("+s.WorkflowID+")", chaos.MaxDescription)}),
			a.ForwardUpdate, activities.ForwardInput{WorkflowID: s.WorkflowID, Update: update, Arg: raw})})
	}
	fws := make([]gameday.Forwarded, 0, len(out))
	for _, o := range out {
		if o.fut != nil {
			var res activities.ForwardResult
			switch err := o.fut.Get(ctx, &res); {
			case err != nil:
				o.fw.Refused = "not reached: " + rootMessage(err)
				if cancelUnreached {
					if cerr := workflow.RequestCancelExternalWorkflow(ctx, o.fw.WorkflowID, "").Get(ctx, nil); cerr == nil {
						o.fw.Refused += "; cancelled instead (it still removes its faults)"
					}
				}
			case res.Refused != "":
				o.fw.Refused = res.Refused
			default:
				o.fw.OK = true
			}
		}
		if !o.fw.OK {
			g.logger.Warn("step did not take the update", "update", update, "step", o.fw.Step, "refused", o.fw.Refused)
		}
		fws = append(fws, o.fw)
	}
	return fws
}
