package control

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/workflows"
)

// Status queries a run's live state.
func Status(ctx context.Context, c client.Client, workflowID string) (experiment.Result, error) {
	return query[experiment.Result](ctx, c, workflowID, workflows.QueryStatus)
}

// Abort sends the abort Update; the workflow's validator may refuse it
// (finished run, no reason), and that refusal is the error.
func Abort(ctx context.Context, c client.Client, workflowID string, req workflows.AbortRequest) (workflows.AbortResponse, error) {
	var resp workflows.AbortResponse
	return resp, update(ctx, c, workflowID, workflows.UpdateAbort, req, &resp)
}

// Signoff sends the sign-off Update for one role.
func Signoff(ctx context.Context, c client.Client, workflowID string, req workflows.SignoffRequest) (workflows.SignoffResponse, error) {
	var resp workflows.SignoffResponse
	return resp, update(ctx, c, workflowID, workflows.UpdateSignoff, req, &resp)
}

func update(ctx context.Context, c client.Client, workflowID, name string, arg, out any) error {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// Input reads the input a run was started with (its first history event):
// the resolved scenario and checklist, exactly as the run sees them.
func Input(ctx context.Context, c client.Client, workflowID string) (workflows.ExperimentInput, error) {
	return InputOf(ctx, c, workflowID, "")
}

// Follow polls a run's status every half second, handing each answer to
// progress, until the run ends; then hands progress the workflow's result
// and returns it. Cancelling ctx stops following; the run goes on.
func Follow(ctx context.Context, c client.Client, wr client.WorkflowRun, progress func(experiment.Result)) (experiment.Result, error) {
	return follow(ctx, c, wr, "experiment", progress)
}

// follow is Follow for any workflow whose status query answers what the
// workflow returns (an experiment.Result, a gameday.Result).
func follow[R any](ctx context.Context, c client.Client, wr client.WorkflowRun, what string, progress func(R)) (R, error) {
	type done struct {
		res R
		err error
	}
	ch := make(chan done, 1)
	go func() {
		var r R
		err := wr.Get(ctx, &r)
		ch <- done{r, err}
	}()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case d := <-ch:
			if d.err != nil {
				return d.res, fmt.Errorf("%s %s: %w", what, wr.GetID(), d.err)
			}
			progress(d.res)
			return d.res, nil
		case <-ctx.Done():
			var zero R
			return zero, fmt.Errorf("stopped following %s (it goes on; `gameday status %s`): %w", wr.GetID(), wr.GetID(), ctx.Err())
		case <-t.C:
			if r, err := query[R](ctx, c, wr.GetID(), workflows.QueryStatus); err == nil {
				progress(r)
			}
		}
	}
}

// query asks a workflow's query and decodes its answer.
func query[R any](ctx context.Context, c client.Client, workflowID, name string) (R, error) {
	var r R
	v, err := c.QueryWorkflow(ctx, workflowID, "", name)
	if err != nil {
		return r, err
	}
	return r, v.Get(&r)
}
