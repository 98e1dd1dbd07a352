package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/gameday/gameday/checklist"
)

// ChecklistStore reaches the checklist entity workflows (implemented in
// package worker with the Temporal client).
type ChecklistStore interface {
	// Record adds one run's per-item results and returns the weight
	// changes they caused. Idempotent by workflow id.
	Record(ctx context.Context, cl checklist.Checklist, workflowID string, obs []checklist.Observation) ([]checklist.Change, error)
	// Evaluate applies the weight rule now (the quarterly schedule).
	Evaluate(ctx context.Context, cl checklist.Checklist) ([]checklist.Change, error)
}

type RecordChecklistInput struct {
	Checklist    checklist.Checklist     `json:"checklist"`
	WorkflowID   string                  `json:"workflow_id"`
	Observations []checklist.Observation `json:"observations"`
}

type ChecklistResult struct {
	Changes []checklist.Change `json:"changes,omitempty"`
}

// RecordChecklist feeds a finished run into its checklist's weights.
func (a *Activities) RecordChecklist(ctx context.Context, in RecordChecklistInput) (ChecklistResult, error) {
	if a.Checklists == nil {
		return ChecklistResult{}, errors.New("no checklist store configured on this worker")
	}
	ch, err := a.Checklists.Record(ctx, in.Checklist, in.WorkflowID, in.Observations)
	if err != nil {
		return ChecklistResult{}, fmt.Errorf("record run in checklist %s: %w", in.Checklist.Metadata.Name, err)
	}
	return ChecklistResult{Changes: ch}, nil
}

type EvaluateChecklistInput struct {
	Checklist checklist.Checklist `json:"checklist"`
}

// EvaluateChecklist applies the weight rule on the quarterly schedule.
func (a *Activities) EvaluateChecklist(ctx context.Context, in EvaluateChecklistInput) (ChecklistResult, error) {
	if a.Checklists == nil {
		return ChecklistResult{}, errors.New("no checklist store configured on this worker")
	}
	ch, err := a.Checklists.Evaluate(ctx, in.Checklist)
	if err != nil {
		return ChecklistResult{}, fmt.Errorf("evaluate checklist %s: %w", in.Checklist.Metadata.Name, err)
	}
	for _, c := range ch {
		a.log().Info("checklist weight changed", "checklist", in.Checklist.Metadata.Name, "item", c.ItemID, "old", c.OldWeight, "new", c.NewWeight, "rule", c.Rule)
	}
	return ChecklistResult{Changes: ch}, nil
}
