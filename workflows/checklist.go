package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/checklist"
)

// The checklist entity workflow: one per checklist, holding the learned
// weights. Experiments record their per-item results into it (an Update,
// started with the workflow if needed) and get back the weight changes the
// run caused, for the postmortem. A quarterly Schedule asks it to evaluate
// the rule even when no run happened.
const (
	ChecklistWorkflowName          = "Checklist"
	ChecklistQuarterlyWorkflowName = "ChecklistQuarterly"
	UpdateChecklistRecord          = "record"
	UpdateChecklistEvaluate        = "evaluate"
	QueryChecklistState            = "state"

	// checklistMaxRuns bounds how many recorded run ids are kept for
	// idempotency, and how many records happen before continue-as-new.
	checklistMaxRuns = 200
	// checklistMaxAudit keeps the audit trail bounded across continue-as-new.
	checklistMaxAudit = 500
)

// ChecklistWorkflowID is the entity's id for a checklist.
func ChecklistWorkflowID(name string) string { return "gameday-checklist-" + name }

// ChecklistScheduleID is the id of a checklist's quarterly schedule.
func ChecklistScheduleID(name string) string { return "gameday-checklist-" + name + "-quarterly" }

// ChecklistWorkflow is the long-running entity.
func ChecklistWorkflow(ctx workflow.Context, in ChecklistInput) error {
	c := &checklistEntity{in: in}
	if err := c.setup(ctx); err != nil {
		return err
	}
	return c.run(ctx)
}

type checklistEntity struct {
	in       ChecklistInput
	sinceCAN int // records since this run started, for continue-as-new
}

func (c *checklistEntity) setup(ctx workflow.Context) error {
	if c.in.Checklist.Metadata.Name == "" {
		return temporal.NewNonRetryableApplicationError("checklist workflow needs a checklist", "BadInput", nil)
	}
	if len(c.in.Items) == 0 {
		c.in.Items = checklist.NewState(c.in.Checklist, workflow.Now(ctx))
	}
	if err := workflow.SetQueryHandler(ctx, QueryChecklistState, func() (ChecklistState, error) {
		_, pending := checklist.Evaluate(c.in.Items, workflow.Now(ctx))
		return ChecklistState{
			Checklist: c.in.Checklist.Metadata.Name, Items: c.in.Items, Audit: c.in.Audit,
			Pending: pending, Runs: c.in.Runs, AsOf: workflow.Now(ctx),
		}, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateChecklistRecord,
		func(ctx workflow.Context, req RecordRequest) (RecordResponse, error) {
			for _, r := range c.in.Recorded {
				if r.WorkflowID == req.WorkflowID {
					return RecordResponse{Changes: r.Changes}, nil
				}
			}
			c.adopt(ctx, req.Checklist)
			c.in.Items = checklist.Record(c.in.Items, req.Observations)
			changes := c.evaluate(ctx)
			c.in.Runs++
			c.sinceCAN++
			c.in.Recorded = append(c.in.Recorded, RecordedRun{WorkflowID: req.WorkflowID, Changes: changes})
			if len(c.in.Recorded) > checklistMaxRuns {
				c.in.Recorded = c.in.Recorded[len(c.in.Recorded)-checklistMaxRuns:]
			}
			return RecordResponse{Changes: changes}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req RecordRequest) error {
			if req.WorkflowID == "" {
				return errors.New("record needs the experiment's workflow id")
			}
			if req.Checklist.Metadata.Name != "" && req.Checklist.Metadata.Name != c.in.Checklist.Metadata.Name {
				return fmt.Errorf("run used checklist %s, this is %s", req.Checklist.Metadata.Name, c.in.Checklist.Metadata.Name)
			}
			for _, o := range req.Observations {
				if !c.known(o.ItemID) && !slices.ContainsFunc(req.Checklist.Spec.Items, func(it checklist.Item) bool { return it.ID == o.ItemID }) {
					return fmt.Errorf("unknown checklist item %q", o.ItemID)
				}
			}
			return nil
		}},
	); err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, UpdateChecklistEvaluate, func(ctx workflow.Context, req EvaluateRequest) (RecordResponse, error) {
		return RecordResponse{Changes: c.evaluate(ctx)}, nil
	})
}

func (c *checklistEntity) known(id string) bool {
	return slices.ContainsFunc(c.in.Items, func(s checklist.ItemState) bool { return s.ItemID == id })
}

// adopt adds items that appeared in the checklist file since the entity
// started; existing items keep their learned weights.
func (c *checklistEntity) adopt(ctx workflow.Context, cl checklist.Checklist) {
	if cl.Metadata.Name == "" {
		return
	}
	fresh := checklist.NewState(cl, workflow.Now(ctx))
	for _, s := range fresh {
		if !c.known(s.ItemID) {
			c.in.Items = append(c.in.Items, s)
		}
	}
	c.in.Checklist = cl
}

func (c *checklistEntity) evaluate(ctx workflow.Context) []checklist.Change {
	items, changes := checklist.Evaluate(c.in.Items, workflow.Now(ctx))
	c.in.Items = items
	c.in.Audit = append(c.in.Audit, changes...)
	if len(c.in.Audit) > checklistMaxAudit {
		c.in.Audit = c.in.Audit[len(c.in.Audit)-checklistMaxAudit:]
	}
	return changes
}

func (c *checklistEntity) run(ctx workflow.Context) error {
	// Live until history grows; then carry the state into a fresh run.
	if err := workflow.Await(ctx, func() bool {
		return workflow.GetInfo(ctx).GetContinueAsNewSuggested() || c.sinceCAN >= checklistMaxRuns
	}); err != nil {
		return err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, ChecklistWorkflowName, c.in)
}

// QuarterlyInput is what the quarterly Schedule starts
// ChecklistQuarterlyWorkflow with.
type QuarterlyInput struct {
	Checklist checklist.Checklist `json:"checklist"`
}

// ChecklistQuarterlyWorkflow applies the weight rule to a checklist's
// entity: the seed's quarterly review, run by a Temporal Schedule so items
// that were quiet all quarter lose weight even when no experiment ran.
func ChecklistQuarterlyWorkflow(ctx workflow.Context, in QuarterlyInput) ([]checklist.Change, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: retry(5)})
	var out activities.ChecklistResult
	err := workflow.ExecuteActivity(actx, a.EvaluateChecklist, activities.EvaluateChecklistInput{Checklist: in.Checklist}).Get(ctx, &out)
	return out.Changes, err
}
