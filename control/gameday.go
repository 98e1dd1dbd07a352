package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/plans"
	"github.com/gameday/gameday/workflows"
)

// GameDayOptions of one game-day start.
type GameDayOptions struct {
	ID     string // workflow id; generated when empty (workflows.NewGameDayID)
	DryRun bool   // every step's experiment stops after define
	By     string // who starts it (recorded in history)
	// Memo is recorded on the workflow by the client at start.
	Memo map[string]any
}

// PrepareGameDay loads a plan (catalog name or file) and resolves every
// step into the workflow input: its scenario with overrides, its checklist
// with the weights it has learned, exactly as `gameday run` would start it.
func (l Launcher) PrepareGameDay(ctx context.Context, ref string, o GameDayOptions) (workflows.GameDayInput, error) {
	p, dir, err := plans.Find(ref)
	if err != nil {
		return workflows.GameDayInput{}, err
	}
	return l.PreparePlan(ctx, p, dir, ref, o)
}

// PreparePlan is PrepareGameDay for a plan already loaded (a schedule
// that names one): dir is where its step files are ("" for a catalog
// plan), source what to record as where it came from.
func (l Launcher) PreparePlan(ctx context.Context, p gameday.Plan, dir, source string, o GameDayOptions) (workflows.GameDayInput, error) {
	stages, err := plans.Resolve(p, dir)
	if err != nil {
		return workflows.GameDayInput{}, err
	}
	find := checklists.Find
	if dir == "" {
		// A catalog plan's checklists come from the catalog, never from a
		// file that happens to be in the working directory.
		find = catalogChecklist
	}
	in := workflows.GameDayInput{Plan: p, Source: source, DryRun: o.DryRun, StartedBy: o.By, UIBase: l.Config.UIURL}
	for _, st := range stages {
		gs := workflows.GameDayStage{Name: st.Name, Group: st.Group}
		for _, r := range st.Steps {
			sc := r.Scenario
			cl, err := l.resolveChecklist(ctx, &sc, find)
			if err != nil {
				return workflows.GameDayInput{}, fmt.Errorf("plan %s, step %s: %w", p.Metadata.Name, r.Name, err)
			}
			exp := l.input(sc, r.Source, cl, r.Overrides, Options{DryRun: o.DryRun, By: o.By})
			gs.Steps = append(gs.Steps, workflows.GameDayStep{Name: r.Name, Source: r.Source, OnFailure: r.OnFailure, Experiment: exp})
		}
		in.Stages = append(in.Stages, gs)
	}
	return in, nil
}

// GameDayStartOptions are a game day's start options: its id (given or
// generated), the task queue, the summary and details the Temporal UI
// shows, and GamedayGameDay=<plan> from the start, so a listing finds it
// before its first workflow task.
func (l Launcher) GameDayStartOptions(in workflows.GameDayInput, o GameDayOptions) client.StartWorkflowOptions {
	id := o.ID
	if id == "" {
		id = workflows.NewGameDayID(in.Plan.Metadata.Name, time.Now())
	}
	return client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             l.Config.TaskQueue,
		StaticSummary:         GameDaySummary(in),
		StaticDetails:         GameDayDetails(in),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.SAGameDay.ValueSet(in.Plan.Metadata.Name)),
		Memo:                  o.Memo,
		// `--id X` while X still runs is an error, not the running game
		// day handed back as if it had just started.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
}

// GameDayAction is the Schedule action that starts a prepared game day:
// the start options' id (the schedule appends the time), task queue and
// search attribute.
func (l Launcher) GameDayAction(in workflows.GameDayInput, o GameDayOptions) *client.ScheduleWorkflowAction {
	so := l.GameDayStartOptions(in, o)
	return &client.ScheduleWorkflowAction{
		ID: so.ID, Workflow: workflows.GameDayWorkflowName, Args: []any{in},
		TaskQueue: so.TaskQueue, TypedSearchAttributes: so.TypedSearchAttributes, Memo: so.Memo,
	}
}

// StartGameDay starts the GameDay workflow for a prepared input.
func (l Launcher) StartGameDay(ctx context.Context, in workflows.GameDayInput, o GameDayOptions) (client.WorkflowRun, error) {
	run, err := l.Client.ExecuteWorkflow(ctx, l.GameDayStartOptions(in, o), workflows.GameDayWorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("start game day %s: %w", in.Plan.Metadata.Name, err)
	}
	return run, nil
}

// GameDaySummary is the one line the Temporal UI shows for a game day.
func GameDaySummary(in workflows.GameDayInput) string {
	n := 0
	for _, st := range in.Stages {
		n += len(st.Steps)
	}
	s := fmt.Sprintf("game day %s in %s: %d experiment(s)", in.Plan.Metadata.Name, in.Plan.Spec.Environment, n)
	if in.DryRun {
		s += " (dry run)"
	}
	return s
}

// GameDayDetails is the Markdown the Temporal UI shows for a game day: the
// description, the people, the pre-flight guards and the steps in order.
func GameDayDetails(in workflows.GameDayInput) string {
	p := in.Plan
	var b strings.Builder
	if d := strings.TrimSpace(p.Spec.Description); d != "" {
		fmt.Fprintf(&b, "%s\n\n", d)
	}
	pp := p.Spec.People
	fmt.Fprintf(&b, "- owner %s", pp.Owner)
	if pp.Coordinator != "" {
		fmt.Fprintf(&b, ", coordinator %s", pp.Coordinator)
	}
	if pp.Reporter != "" {
		fmt.Fprintf(&b, ", reporter %s", pp.Reporter)
	}
	if len(pp.Observers) > 0 {
		fmt.Fprintf(&b, ", observers %s", strings.Join(pp.Observers, ", "))
	}
	b.WriteString("\n")
	for _, g := range p.Spec.Preflight {
		fmt.Fprintf(&b, "- pre-flight %s: `%s` %s %g\n", g.Name, g.Query, g.Op, g.Threshold)
	}
	fmt.Fprintf(&b, "- on failure: %s; pause between steps: %s\n", p.Spec.OnFailure, p.Spec.PauseBetween)
	for i, st := range in.Stages {
		if st.Group {
			fmt.Fprintf(&b, "%d. together (%s):\n", i+1, st.Name)
		}
		for _, s := range st.Steps {
			prefix := fmt.Sprintf("%d. ", i+1)
			if st.Group {
				prefix = "   - "
			}
			fmt.Fprintf(&b, "%s%s: %s", prefix, s.Name, s.Experiment.Scenario.Metadata.Name)
			for _, o := range s.Experiment.Overrides {
				fmt.Fprintf(&b, " %s=%s", o.Key, o.Value)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// GameDayStatus queries a game day's live state.
func GameDayStatus(ctx context.Context, c client.Client, workflowID string) (gameday.Result, error) {
	return query[gameday.Result](ctx, c, workflowID, workflows.QueryStatus)
}

// FollowGameDay polls a game day's status every half second, handing each
// answer to progress, until it ends; then hands progress the workflow's
// result and returns it. Cancelling ctx stops following; the game day
// goes on.
func FollowGameDay(ctx context.Context, c client.Client, wr client.WorkflowRun, progress func(gameday.Result)) (gameday.Result, error) {
	return follow(ctx, c, wr, "game day", progress)
}

// WorkflowType says what a workflow id is: workflows.ExperimentWorkflowName,
// workflows.GameDayWorkflowName, or another of gameday's types.
func WorkflowType(ctx context.Context, c client.Client, workflowID string) (string, error) {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return "", fmt.Errorf("no run or game day %s: %w", workflowID, err)
		}
		return "", err
	}
	return d.GetWorkflowExecutionInfo().GetType().GetName(), nil
}

// PauseGameDay pauses a game day: no further step starts, and the pause
// is passed on to the running steps (their answers are in the response).
func PauseGameDay(ctx context.Context, c client.Client, workflowID string, req workflows.PauseRequest) (workflows.GameDayResponse, error) {
	var resp workflows.GameDayResponse
	return resp, update(ctx, c, workflowID, workflows.UpdatePause, req, &resp)
}

// ResumeGameDay resumes a paused game day and its paused steps.
func ResumeGameDay(ctx context.Context, c client.Client, workflowID string, req workflows.ResumeRequest) (workflows.GameDayResponse, error) {
	var resp workflows.GameDayResponse
	return resp, update(ctx, c, workflowID, workflows.UpdateResume, req, &resp)
}
