package control

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/resilience"
)

// describeClient describes one workflow in a given status and answers the
// status query with a result in phase.
type describeClient struct {
	client.Client
	status   enums.WorkflowExecutionStatus
	phase    string
	queryErr error
}

func (d *describeClient) DescribeWorkflowExecution(_ context.Context, id, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "r1"}, Type: &commonpb.WorkflowType{Name: "Experiment"}, Status: d.status,
	}}, nil
}

func (d *describeClient) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	if d.queryErr != nil {
		return nil, d.queryErr
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(experiment.Result{Phase: d.phase, Outcome: experiment.Running})
	if err != nil {
		return nil, err
	}
	return encoded{p}, nil
}

type encoded struct{ p *commonpb.Payloads }

func (e encoded) HasValue() bool { return true }
func (e encoded) Get(v any) error {
	return converter.GetDefaultDataConverter().FromPayloads(e.p, v)
}

// A report of a run still going says so and names its phase; a run that
// ended without a result (terminated) says that instead of an empty report.
func TestFinalResultOfARunNotFinished(t *testing.T) {
	_, err := FinalResult(t.Context(), &describeClient{status: enums.WORKFLOW_EXECUTION_STATUS_RUNNING, phase: experiment.PhaseObserve}, "wf-1", "")
	var still *StillRunningError
	require.True(t, errors.As(err, &still), "%v", err)
	assert.Equal(t, "run wf-1 is still going (phase observe): its report is written when it ends (follow it with `gameday status wf-1`)", err.Error())

	_, err = FinalResult(t.Context(), &describeClient{status: enums.WORKFLOW_EXECUTION_STATUS_TERMINATED}, "wf-2", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "run wf-2 ended terminated without a result")
	assert.False(t, errors.As(err, &still))

	ex, err := Describe(t.Context(), &describeClient{status: enums.WORKFLOW_EXECUTION_STATUS_COMPLETED}, "wf-3")
	require.NoError(t, err)
	assert.Equal(t, Execution{WorkflowID: "wf-3", RunID: "r1", Type: "Experiment"}, ex)
}

// Without a worker to answer the entity's query, the weights are those the
// latest run recorded, and the note says so.
func TestChecklistWeightsFallBackOnTheRuns(t *testing.T) {
	r := experiment.Result{Gate: &checklist.Gate{Checklist: "not-in-the-catalog", Items: []checklist.ItemResult{
		{Item: checklist.Item{ID: "lock", FaultClass: "redis", Weight: 15}},
	}}, WeightChanges: []checklist.Change{{ItemID: "lock", NewWeight: 50}}}
	w, notes := ChecklistWeights(t.Context(), &describeClient{queryErr: errors.New("context deadline exceeded")}, []resilience.Run{{Result: r}})
	assert.Equal(t, map[string]float64{"redis": 50}, w)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0], "checklist not-in-the-catalog: weights as its latest run recorded them (entity did not answer (no worker?))")
}

// listClient lists n closed experiment runs (newest first) whose results
// cannot be read.
type listClient struct {
	client.Client
	n int
}

func (l *listClient) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	start := 0
	if len(req.NextPageToken) > 0 {
		start = int(req.NextPageToken[0]) * int(req.PageSize)
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for i := start; i < l.n && i < start+int(req.PageSize); i++ {
		resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "wf", RunId: "r"}})
	}
	if start+int(req.PageSize) < l.n {
		resp.NextPageToken = []byte{byte(start/int(req.PageSize) + 1)}
	}
	return resp, nil
}

func (l *listClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, errors.New("not found")
}

// History reads at most Limit runs, newest first; the runs it leaves out
// are counted, so the score and maturity commands can say their history is
// cut (a service whose oldest month is cut away would miss L3's monthly
// runs with no word why).
func TestHistorySaysWhatItLeftOut(t *testing.T) {
	_, skipped, dropped, err := History(t.Context(), &listClient{n: 450}, HistoryQuery{Limit: 300})
	require.NoError(t, err)
	assert.Equal(t, 300, skipped, "the runs read (none had a result here)")
	assert.Equal(t, 150, dropped, "the runs past the limit")
}
