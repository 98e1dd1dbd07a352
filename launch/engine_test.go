package launch

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/workflows"
)

// fakeClient records starts and serves ListWorkflow pages; anything else
// it is asked panics (the embedded interface is nil).
type fakeClient struct {
	client.Client
	starts   []client.StartWorkflowOptions
	pages    []*workflowservice.ListWorkflowExecutionsResponse
	listErr  error // answered after the pages
	listReqs []listReq
}

// listReq is a ListWorkflow request as sent (the caller reuses its request
// for the next page).
type listReq struct {
	query string
	token []byte
}

type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string { return r.id }

func (f *fakeClient) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	f.starts = append(f.starts, o)
	return fakeRun{id: o.ID}, nil
}

func (f *fakeClient) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, errors.New("no checklist workflow") // the checklist keeps its file weights
}

func (f *fakeClient) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.listReqs = append(f.listReqs, listReq{query: req.GetQuery(), token: req.GetNextPageToken()})
	n := len(f.listReqs) - 1
	if n >= len(f.pages) {
		return nil, f.listErr
	}
	return f.pages[n], nil
}

func TestSlackStartRecordsTheChannel(t *testing.T) {
	fc := &fakeClient{}
	eng := Engine{Launcher{Client: fc, Config: config.Config{TaskQueue: "q"}}}
	id, err := eng.Start(t.Context(), slackbot.StartRequest{Scenario: "demo-inventory-latency", By: "dana", Channel: "C0GAMEDAY"})
	require.NoError(t, err)
	require.Len(t, fc.starts, 1)
	assert.Equal(t, id, fc.starts[0].ID)
	assert.Equal(t, map[string]any{slackbot.MemoChannel: "C0GAMEDAY"}, fc.starts[0].Memo)

	// The CLI path (and a start without a channel) sets no memo.
	l := Launcher{Client: fc, Config: config.Config{TaskQueue: "q"}}
	in, err := l.Prepare(t.Context(), "demo-inventory-latency", Options{})
	require.NoError(t, err)
	_, err = l.Start(t.Context(), in, Options{})
	require.NoError(t, err)
	_, err = eng.Start(t.Context(), slackbot.StartRequest{Scenario: "demo-inventory-latency"})
	require.NoError(t, err)
	require.Len(t, fc.starts, 3)
	assert.Nil(t, fc.starts[1].Memo)
	assert.Nil(t, fc.starts[2].Memo)
}

func execution(t *testing.T, id string, memo map[string]any) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	ex := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run-" + id}}
	if memo != nil {
		ex.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{}}
		for k, v := range memo {
			p, err := converter.GetDefaultDataConverter().ToPayload(v)
			require.NoError(t, err)
			ex.Memo.Fields[k] = p
		}
	}
	return ex
}

func TestSlackRunsPagesAndReadsTheMemo(t *testing.T) {
	ch := func(c any) map[string]any { return map[string]any{slackbot.MemoChannel: c} }
	fc := &fakeClient{pages: []*workflowservice.ListWorkflowExecutionsResponse{
		{
			Executions: []*workflowpb.WorkflowExecutionInfo{
				execution(t, "wf-1", ch("C1")),
				execution(t, "wf-cli", nil),                             // started from the CLI
				execution(t, "wf-other-memo", map[string]any{"x": "y"}), // some other memo
			},
			NextPageToken: []byte("page-2"),
		},
		{
			Executions: []*workflowpb.WorkflowExecutionInfo{
				execution(t, "wf-2", ch("C2")),
				execution(t, "wf-1", ch("C1")), // listed twice across pages
				execution(t, "wf-bad", ch(42)), // not a string
			},
		},
	}}
	eng := Engine{Launcher{Client: fc}}
	runs, err := eng.SlackRuns(t.Context())
	assert.ErrorContains(t, err, "run wf-bad: memo "+slackbot.MemoChannel)
	assert.Equal(t, []slackbot.SlackRun{{WorkflowID: "wf-1", Channel: "C1"}, {WorkflowID: "wf-2", Channel: "C2"}}, runs)
	require.Len(t, fc.listReqs, 2)
	assert.Equal(t, "WorkflowType = '"+workflows.ExperimentWorkflowName+"' AND ExecutionStatus = 'Running'", fc.listReqs[0].query)
	assert.Empty(t, fc.listReqs[0].token)
	assert.Equal(t, []byte("page-2"), fc.listReqs[1].token)
}

func TestSlackRunsKeepsWhatWasListedBeforeAnError(t *testing.T) {
	fc := &fakeClient{
		pages: []*workflowservice.ListWorkflowExecutionsResponse{{
			Executions:    []*workflowpb.WorkflowExecutionInfo{execution(t, "wf-1", map[string]any{slackbot.MemoChannel: "C1"})},
			NextPageToken: []byte("page-2"),
		}},
		listErr: errors.New("unavailable"),
	}
	runs, err := Engine{Launcher{Client: fc}}.SlackRuns(t.Context())
	assert.ErrorContains(t, err, "list running experiments: unavailable")
	assert.Equal(t, []slackbot.SlackRun{{WorkflowID: "wf-1", Channel: "C1"}}, runs)
}
