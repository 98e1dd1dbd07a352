package worker

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/workflows"
)

// PastRuns implements activities.PastRuns with the Temporal client: the
// drift rule's "baseline: {runs: N}". Earlier runs of a scenario are found
// through visibility (workflow type Experiment, GamedayScenario, closed as
// Completed: every run that returned a result, whatever its outcome, dry
// runs included), newest first as the server lists closed runs; each one's
// result (its define values, Result.Baseline) is read from its history.
// Values count when the same guard name and query recorded a healthy,
// finite value with data: a changed query is another SLI.
type PastRuns struct{ Client client.Client }

// maxPastRunsRead bounds the results read for one baseline, so a scenario
// whose runs rarely record the guard cannot make define read them all.
const maxPastRunsRead = 100

func (p PastRuns) GuardValues(ctx context.Context, scenario, guard, query string, n int) ([]float64, error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("WorkflowType = '%s' AND %s = '%s' AND ExecutionStatus = 'Completed'",
			workflows.ExperimentWorkflowName, workflows.SAScenario.GetName(), strings.ReplaceAll(scenario, "'", `\'`)),
		PageSize: int32(min(n*2, 100)),
	}
	var out []float64
	read := 0
	for {
		resp, err := p.Client.ListWorkflow(ctx, req)
		if err != nil {
			return out, fmt.Errorf("list earlier runs of %s: %w", scenario, err)
		}
		for _, ex := range resp.GetExecutions() {
			if len(out) >= n || read >= maxPastRunsRead {
				return out, nil
			}
			read++
			var r experiment.Result
			e := ex.GetExecution()
			if err := p.Client.GetWorkflow(ctx, e.GetWorkflowId(), e.GetRunId()).Get(ctx, &r); err != nil {
				continue // not a result this code reads (an older shape): skip it
			}
			for _, v := range r.Baseline {
				if v.Guard == guard && v.Query == query && v.Healthy && !v.NoData && v.Error == "" && v.Value.Finite() {
					out = append(out, float64(v.Value))
					break
				}
			}
		}
		if len(out) >= n || len(resp.GetNextPageToken()) == 0 {
			return out, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}

// Finished reads an ended experiment run for a game day's report: its
// result and the guards of the scenario it was started with.
func (p PastRuns) Finished(ctx context.Context, workflowID, runID string) (experiment.Result, []sli.Guard, error) {
	r, err := control.FinalResult(ctx, p.Client, workflowID, runID)
	if err != nil {
		return r, nil, err
	}
	in, err := control.InputOf(ctx, p.Client, workflowID, r.RunID)
	if err != nil {
		return r, nil, err
	}
	return r, in.Scenario.Spec.Guards, nil
}
