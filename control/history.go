package control

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/resilience"
	"github.com/gameday/gameday/workflows"
)

// StillRunningError: a report was asked of a run that has not ended.
type StillRunningError struct {
	WorkflowID string
	Phase      string
}

func (e *StillRunningError) Error() string {
	s := "run " + e.WorkflowID + " is still going"
	if e.Phase != "" {
		s += " (phase " + e.Phase + ")"
	}
	return s + ": its report is written when it ends (follow it with `gameday status " + e.WorkflowID + "`)"
}

// Execution is what `gameday report` needs to know of a workflow before
// reading it: its type and whether it is still running.
type Execution struct {
	WorkflowID, RunID, Type string
	Running                 bool
}

// Describe reads a workflow's type and status.
func Describe(ctx context.Context, c client.Client, workflowID string) (Execution, error) {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return Execution{}, fmt.Errorf("run %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	return Execution{
		WorkflowID: workflowID, RunID: info.GetExecution().GetRunId(), Type: info.GetType().GetName(),
		Running: info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING,
	}, nil
}

// FinalResult is the result of an experiment run that has ended (the
// latest run of the workflow id when runID is empty). A run still going is
// a *StillRunningError naming its phase; a run that ended without a result
// (terminated, timed out) says so.
func FinalResult(ctx context.Context, c client.Client, workflowID, runID string) (experiment.Result, error) {
	var r experiment.Result
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return r, fmt.Errorf("run %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	switch st := info.GetStatus(); st {
	case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		e := &StillRunningError{WorkflowID: workflowID}
		if live, err := Status(ctx, c, workflowID); err == nil {
			e.Phase = live.Phase
		}
		return r, e
	case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
	default:
		return r, fmt.Errorf("run %s ended %s without a result (nothing to report; `gameday status` or the Temporal UI show its history)", workflowID, strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_")))
	}
	if err := c.GetWorkflow(ctx, workflowID, info.GetExecution().GetRunId()).Get(ctx, &r); err != nil {
		return r, fmt.Errorf("run %s: read its result: %w", workflowID, err)
	}
	return r, nil
}

// InputOf reads the input one run (runID; the latest when empty) was
// started with: its first history event.
func InputOf(ctx context.Context, c client.Client, workflowID, runID string) (workflows.ExperimentInput, error) {
	var in workflows.ExperimentInput
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return in, fmt.Errorf("run %s has no history", workflowID)
	}
	ev, err := it.Next()
	if err != nil {
		return in, err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil || len(attrs.GetInput().GetPayloads()) == 0 {
		return in, fmt.Errorf("run %s: first event carries no input", workflowID)
	}
	// The default converter: gameday configures no custom one.
	return in, converter.GetDefaultDataConverter().FromPayload(attrs.GetInput().GetPayloads()[0], &in)
}

// GameDayRuns lists the experiment runs a game day started (its child
// workflows), oldest first.
func GameDayRuns(ctx context.Context, c client.Client, gameDayID string) ([]Execution, error) {
	q := fmt.Sprintf("WorkflowType = '%s' AND ParentWorkflowId = '%s'", workflows.ExperimentWorkflowName, quote(gameDayID))
	var out []Execution
	err := list(ctx, c, q, func(ex *workflowExecutionInfo) {
		out = append(out, Execution{WorkflowID: ex.GetExecution().GetWorkflowId(), RunID: ex.GetExecution().GetRunId(), Type: ex.GetType().GetName(),
			Running: ex.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING})
	})
	// Visibility lists newest first.
	slices.Reverse(out)
	return out, err
}

// quote escapes a value for a visibility query string literal.
func quote(s string) string { return strings.ReplaceAll(s, "'", `\'`) }

// HistoryQuery selects runs for scores and maturity.
type HistoryQuery struct {
	// Service limits to one service (GamedayService); empty: all.
	Service string
	// Since: runs closed after it.
	Since time.Time
	// Limit bounds how many runs are read (newest first); 0: 2000.
	Limit int
}

// historyWorkers bounds the result and input reads in flight.
const historyWorkers = 8

// History reads the experiment runs that ended since q.Since from
// visibility (GamedayService, close time), then each run's result and
// input (fault class, labels). A run started by a Temporal Schedule
// (TemporalScheduledById) or by a game day (a parent workflow, or
// GamedayGameDay) is automated. Runs whose result cannot be read
// (terminated, timed out) are counted in skipped and left out; runs past
// q.Limit (the oldest) are counted in dropped and not read.
func History(ctx context.Context, c client.Client, q HistoryQuery) (runs []resilience.Run, skipped, dropped int, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 2000
	}
	query := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus != 'Running' AND CloseTime > '%s'", workflows.ExperimentWorkflowName, q.Since.UTC().Format(time.RFC3339))
	if q.Service != "" {
		query += fmt.Sprintf(" AND %s = '%s'", workflows.SAService.GetName(), quote(q.Service))
	}
	type item struct {
		id, runID string
		automated bool
	}
	var items []item
	err = list(ctx, c, query, func(ex *workflowExecutionInfo) {
		if len(items) >= limit {
			dropped++
			return
		}
		sa := ex.GetSearchAttributes().GetIndexedFields()
		_, scheduled := sa["TemporalScheduledById"]
		_, inGameDay := sa[workflows.SAGameDay.GetName()]
		items = append(items, item{id: ex.GetExecution().GetWorkflowId(), runID: ex.GetExecution().GetRunId(),
			automated: scheduled || inGameDay || ex.GetParentExecution().GetWorkflowId() != ""})
	})
	if err != nil {
		return nil, 0, 0, err
	}
	out := make([]*resilience.Run, len(items))
	var wg sync.WaitGroup
	sem := make(chan struct{}, historyWorkers)
	for i, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r, err := FinalResult(ctx, c, it.id, it.runID)
			if err != nil {
				return
			}
			run := resilience.Run{Result: r, Automated: it.automated || r.GameDay != ""}
			if in, err := InputOf(ctx, c, it.id, it.runID); err == nil {
				run.FaultClass, run.Labels = in.Scenario.Spec.FaultClass, in.Scenario.Metadata.Labels
				run.Automated = run.Automated || in.GameDay != ""
			}
			out[i] = &run
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, 0, err
	}
	for _, r := range out {
		if r == nil {
			skipped++
			continue
		}
		runs = append(runs, *r)
	}
	return runs, skipped, dropped, nil
}

type workflowExecutionInfo = workflowpb.WorkflowExecutionInfo

// list pages through a visibility query.
func list(ctx context.Context, c client.Client, query string, each func(*workflowExecutionInfo)) error {
	req := &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 200}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return fmt.Errorf("list runs (%s): %w", query, err)
		}
		for _, ex := range resp.GetExecutions() {
			each(ex)
		}
		if len(resp.GetNextPageToken()) == 0 {
			return nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

// ChecklistWeights are the learned weights per fault class for the score
// (resilience.ClassWeights) of the checklists the runs used: each
// checklist entity's current weights when it answers within a few seconds
// (it needs a worker), else the weights the latest run recorded (its gate
// with its weight changes applied). notes say which source each checklist
// came from.
func ChecklistWeights(ctx context.Context, c client.Client, runs []resilience.Run) (map[string]float64, []string) {
	learned := resilience.LearnedItems(runs)
	var items []checklist.Item
	var notes []string
	for _, name := range sortedKeys(learned) {
		its := learned[name]
		cl := checklist.Checklist{Metadata: checklist.Metadata{Name: name}}
		if file, err := checklists.Find(name); err == nil {
			cl = file
		} else {
			cl.Spec.Items = append(cl.Spec.Items, its...)
		}
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		st, recorded, err := ChecklistState(qctx, c, cl)
		cancel()
		if err != nil || !recorded {
			why := "no entity yet"
			if err != nil {
				why = "entity did not answer (no worker?)"
			}
			notes = append(notes, fmt.Sprintf("checklist %s: weights as its latest run recorded them (%s)", name, why))
			items = append(items, its...)
			continue
		}
		notes = append(notes, fmt.Sprintf("checklist %s: learned weights from its entity (%d runs recorded)", name, st.Runs))
		for _, it := range its {
			for _, s := range st.Items {
				if s.ItemID == it.ID {
					it.Weight = s.Weight
				}
			}
			items = append(items, it)
		}
	}
	return resilience.ClassWeights(items), notes
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
