package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"unicode"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/activities"
)

// Runs implements activities.RunStatus with the Temporal client.
type Runs struct{ Client client.Client }

func (r Runs) RunState(ctx context.Context, workflowID string) (string, error) {
	d, err := r.Client.DescribeWorkflowExecution(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return "gone", nil
	}
	if err != nil {
		return "", err
	}
	st := d.GetWorkflowExecutionInfo().GetStatus()
	if st == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return activities.RunRunning, nil
	}
	return kebab(st.String()), nil
}

// UpdateRun sends an Update and waits for its answer
// (activities.RunUpdater): the run's refusal, or its accepting.
func (r Runs) UpdateRun(ctx context.Context, workflowID, update string, arg json.RawMessage) error {
	h, err := r.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: update, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, nil)
}

// kebab turns the enum's "TimedOut" into "timed-out".
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
