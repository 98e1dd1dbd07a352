package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/workflows"
)

// KillSwitch reads the kill switch of the workers polling taskQueue: the
// zero State (not frozen) when it was never turned.
func KillSwitch(ctx context.Context, c client.Client, taskQueue string) (killswitch.State, error) {
	var st killswitch.State
	v, err := c.QueryWorkflow(ctx, workflows.KillSwitchWorkflowID(taskQueue), "", workflows.QueryKillSwitch)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("query %s: %w", workflows.KillSwitchWorkflowID(taskQueue), err)
	}
	return st, v.Get(&st)
}

// Freeze turns the kill switch on or off (the entity's validator refuses a
// missing reason or name, and a switch that would not change). The first
// freeze starts the entity: Update-With-Start, nothing to deploy.
func Freeze(ctx context.Context, c client.Client, taskQueue string, req killswitch.Request) (killswitch.State, error) {
	if noWorkerFor(ctx, c, taskQueue, 5*time.Second) {
		// The switch turns in the entity's update handler, which only a
		// worker runs: without one the command waited for ever, and an
		// update not yet taken is not durable.
		return killswitch.State{}, fmt.Errorf("no worker polls task queue %s: the kill switch turns in a workflow a worker runs (and no run starts without one either); start `gameday worker` and try again", taskQueue)
	}
	id := workflows.KillSwitchWorkflowID(taskQueue)
	start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "gameday kill switch: while frozen, every new run on task queue " + taskQueue + " is refused",
	}, workflows.KillSwitchWorkflowName, workflows.KillSwitchInput{})
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: workflows.UpdateFreeze, Args: []any{req}, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	var resp workflows.FreezeResponse
	if err == nil {
		err = h.Get(ctx, &resp)
	}
	if err != nil {
		return resp.State, errors.New(rootMessage(err))
	}
	return resp.State, nil
}

// rootMessage is an error as a person reads it: a workflow's refusal
// without the SDK's wrapping.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// Run is one running experiment or game day.
type Run struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"type"`
	// Parent is the workflow id of the game day a step runs under.
	Parent string `json:"parent,omitempty"`
}

// RunningRuns lists the running experiments and game days a filter
// reaches: those of its task queue (one installation's, never another's
// sharing the namespace), of the given schedules when it names some. It
// reads visibility, which is eventually consistent: a run started a moment
// ago may be missing.
func RunningRuns(ctx context.Context, c client.Client, f killswitch.Filter) ([]Run, error) {
	q, err := runningQuery(f)
	if err != nil {
		return nil, err
	}
	var out []Run
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 200}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return out, fmt.Errorf("list running runs: %w", err)
		}
		for _, ex := range resp.GetExecutions() {
			out = append(out, Run{WorkflowID: ex.GetExecution().GetWorkflowId(), RunID: ex.GetExecution().GetRunId(), Type: ex.GetType().GetName(),
				Parent: ex.GetParentExecution().GetWorkflowId()})
		}
		if len(resp.GetNextPageToken()) == 0 {
			slices.SortFunc(out, func(a, b Run) int { return strings.Compare(a.WorkflowID, b.WorkflowID) })
			return out, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

// runningQuery is the visibility query of RunningRuns.
func runningQuery(f killswitch.Filter) (string, error) {
	if f.TaskQueue == "" {
		return "", errors.New("abort-all needs the task queue whose runs it aborts")
	}
	quote := func(s string) (string, error) {
		if strings.ContainsAny(s, `'"\`) {
			return "", fmt.Errorf("%q: quotes and backslashes are not allowed here", s)
		}
		return "'" + s + "'", nil
	}
	tq, err := quote(f.TaskQueue)
	if err != nil {
		return "", err
	}
	q := fmt.Sprintf("TaskQueue = %s AND ExecutionStatus = 'Running' AND WorkflowType IN ('%s', '%s')",
		tq, workflows.ExperimentWorkflowName, workflows.GameDayWorkflowName)
	if len(f.ScheduledBy) > 0 {
		ids := make([]string, len(f.ScheduledBy))
		for i, id := range f.ScheduledBy {
			if ids[i], err = quote(id); err != nil {
				return "", err
			}
		}
		q += " AND TemporalScheduledById IN (" + strings.Join(ids, ", ") + ")"
	}
	return q, nil
}

// AbortAll aborts every running experiment and game day a filter reaches
// through their abort updates, all at once, and says what each answered:
// accepted (and in which phase), or refused with the workflow's reason
// (already recovering, say). A run the list missed (visibility lags by a
// moment) is not aborted: abort it by id.
func AbortAll(ctx context.Context, c client.Client, f killswitch.Filter, reason, by string) ([]killswitch.Aborted, error) {
	if strings.TrimSpace(reason) == "" {
		return nil, errors.New("an abort needs a reason")
	}
	runs, err := RunningRuns(ctx, c, f)
	if err != nil {
		return nil, err
	}
	out := make([]killswitch.Aborted, len(runs))
	// What each game day's steps answered when it passed the abort on.
	forwarded := make([][]gameday.Forwarded, len(runs))
	gameDays := map[string]bool{}
	for _, r := range runs {
		if r.Type == workflows.GameDayWorkflowName {
			gameDays[r.WorkflowID] = true
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, r := range runs {
		if gameDays[r.Parent] {
			// Its game day forwards the abort to it; a second abort
			// would only be refused as "already aborted".
			out[i] = killswitch.Aborted{WorkflowID: r.WorkflowID, RunID: r.RunID, Type: r.Type, GameDay: r.Parent}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			a := killswitch.Aborted{WorkflowID: r.WorkflowID, RunID: r.RunID, Type: r.Type}
			var resp workflows.AbortResponse
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: r.WorkflowID, RunID: r.RunID, UpdateName: workflows.UpdateAbort,
				Args: []any{workflows.AbortRequest{Reason: reason, By: by}}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			if err == nil {
				err = h.Get(ctx, &resp)
			}
			if err != nil {
				a.Refused = rootMessage(err)
			} else {
				a.Phase = resp.Phase
				forwarded[i] = resp.Steps
			}
			out[i] = a
		}()
	}
	wg.Wait()
	stepAnswers(out, forwarded)
	return out, ctx.Err()
}

// stepAnswers gives each step left to its game day the answer it really
// got: its game day's refusal (then nobody aborted the step), or the
// step's own refusal of the abort its game day passed on. Without it a
// step read "aborted with its game day" and counted as aborted when
// neither had taken the abort.
func stepAnswers(out []killswitch.Aborted, forwarded [][]gameday.Forwarded) {
	for i := range out {
		s := &out[i]
		if s.GameDay == "" {
			continue
		}
		for j, g := range out {
			if g.WorkflowID != s.GameDay || g.GameDay != "" {
				continue
			}
			if g.Refused != "" {
				s.Refused = "its game day " + g.WorkflowID + " refused the abort: " + g.Refused
			}
			for _, f := range forwarded[j] {
				if f.WorkflowID == s.WorkflowID && !f.OK {
					s.Refused = "its game day passed the abort on: " + f.Refused
				}
			}
		}
	}
}

// noWorkerFor reports whether no worker polled taskQueue during wait: a
// worker started a moment ago may not have polled yet, and refusing it
// would be wrong (asked every 500 ms).
func noWorkerFor(ctx context.Context, c client.Client, taskQueue string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for NoWorker(ctx, c, taskQueue) {
		if time.Now().After(deadline) {
			return true
		}
		select {
		case <-ctx.Done():
			return true
		case <-time.After(500 * time.Millisecond):
		}
	}
	return false
}
