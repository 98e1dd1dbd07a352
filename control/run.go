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
	var r experiment.Result
	v, err := c.QueryWorkflow(ctx, workflowID, "", workflows.QueryStatus)
	if err != nil {
		return r, err
	}
	return r, v.Get(&r)
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
	type done struct {
		res experiment.Result
		err error
	}
	ch := make(chan done, 1)
	go func() {
		var r experiment.Result
		err := wr.Get(ctx, &r)
		ch <- done{r, err}
	}()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case d := <-ch:
			if d.err != nil {
				return d.res, fmt.Errorf("experiment %s: %w", wr.GetID(), d.err)
			}
			progress(d.res)
			return d.res, nil
		case <-ctx.Done():
			return experiment.Result{}, fmt.Errorf("stopped following %s (the run goes on; `gameday status %s`): %w", wr.GetID(), wr.GetID(), ctx.Err())
		case <-t.C:
			if r, err := Status(ctx, c, wr.GetID()); err == nil {
				progress(r)
			}
		}
	}
}
