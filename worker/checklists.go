package worker

import (
	"context"
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/workflows"
)

// Checklists reaches the checklist entity workflows with Update-With-Start:
// the first run of a checklist creates its entity, later runs update it.
type Checklists struct {
	Client    client.Client
	TaskQueue string
}

func (s Checklists) update(ctx context.Context, cl checklist.Checklist, name string, arg any) ([]checklist.Change, error) {
	start := s.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       workflows.ChecklistWorkflowID(cl.Metadata.Name),
		TaskQueue:                s.TaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            "gameday checklist " + cl.Metadata.Name + ": learned weights",
	}, workflows.ChecklistWorkflowName, workflows.ChecklistInput{Checklist: cl})
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID:   workflows.ChecklistWorkflowID(cl.Metadata.Name),
			UpdateName:   name,
			Args:         []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("checklist %s: %s: %w", cl.Metadata.Name, name, err)
	}
	var resp workflows.RecordResponse
	if err := h.Get(ctx, &resp); err != nil {
		return nil, fmt.Errorf("checklist %s: %s: %w", cl.Metadata.Name, name, err)
	}
	return resp.Changes, nil
}

func (s Checklists) Record(ctx context.Context, cl checklist.Checklist, workflowID string, obs []checklist.Observation) ([]checklist.Change, error) {
	return s.update(ctx, cl, workflows.UpdateChecklistRecord, workflows.RecordRequest{WorkflowID: workflowID, Checklist: cl, Observations: obs})
}

func (s Checklists) Evaluate(ctx context.Context, cl checklist.Checklist) ([]checklist.Change, error) {
	return s.update(ctx, cl, workflows.UpdateChecklistEvaluate, workflows.EvaluateRequest{Reason: "quarterly schedule"})
}
