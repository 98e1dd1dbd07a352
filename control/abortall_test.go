package control

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/workflows"
)

// abortClient lists running runs and answers their abort updates.
type abortClient struct {
	client.Client
	runs    []*workflowpb.WorkflowExecutionInfo
	answers map[string]workflows.AbortResponse // accepted, by workflow id
	refuse  map[string]string                  // refused, by workflow id
	mu      sync.Mutex
	sent    []string
}

func (c *abortClient) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: c.runs}, nil
}

func (c *abortClient) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	c.mu.Lock()
	c.sent = append(c.sent, o.WorkflowID)
	c.mu.Unlock()
	if r, ok := c.refuse[o.WorkflowID]; ok {
		return nil, temporal.NewApplicationError(r, "refused")
	}
	return abortHandle(c.answers[o.WorkflowID]), nil
}

type abortHandle workflows.AbortResponse

func (h abortHandle) WorkflowID() string { return "" }
func (h abortHandle) RunID() string      { return "" }
func (h abortHandle) UpdateID() string   { return "" }
func (h abortHandle) Get(_ context.Context, v any) error {
	*v.(*workflows.AbortResponse) = workflows.AbortResponse(h)
	return nil
}

func runInfo(id, typ, parent string) *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: id + "-run"}, Type: &commonpb.WorkflowType{Name: typ}}
	if parent != "" {
		info.ParentExecution = &commonpb.WorkflowExecution{WorkflowId: parent}
	}
	return info
}

// A game day's steps are not sent a second abort, and each says what it
// really got: nothing when its game day refused the abort, its own refusal
// of the abort the game day passed on, else aborted with its game day.
func TestAbortAllStepsSayWhatTheirGameDayGot(t *testing.T) {
	c := &abortClient{
		runs: []*workflowpb.WorkflowExecutionInfo{
			runInfo("gd1", workflows.GameDayWorkflowName, ""),
			runInfo("gd1-a", workflows.ExperimentWorkflowName, "gd1"),
			runInfo("gd1-b", workflows.ExperimentWorkflowName, "gd1"),
			runInfo("gd2", workflows.GameDayWorkflowName, ""),
			runInfo("gd2-a", workflows.ExperimentWorkflowName, "gd2"),
			runInfo("x", workflows.ExperimentWorkflowName, ""),
		},
		answers: map[string]workflows.AbortResponse{
			"gd1": {Phase: "running step a", Steps: []gameday.Forwarded{
				{Step: "a", WorkflowID: "gd1-a", OK: true},
				{Step: "b", WorkflowID: "gd1-b", Refused: "already recovering"},
			}},
			"x": {Phase: "hold"},
		},
		refuse: map[string]string{"gd2": "already aborted"},
	}
	out, err := AbortAll(t.Context(), c, killswitch.Filter{TaskQueue: "q"}, "incident", "sam")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"gd1", "gd2", "x"}, c.sent, "steps are reached through their game day")
	got := map[string]killswitch.Aborted{}
	for _, a := range out {
		got[a.WorkflowID] = a
	}
	assert.Empty(t, got["gd1-a"].Refused)
	assert.Equal(t, "gd1", got["gd1-a"].GameDay)
	assert.Equal(t, "its game day passed the abort on: already recovering", got["gd1-b"].Refused)
	assert.Equal(t, "its game day gd2 refused the abort: already aborted", got["gd2-a"].Refused)
	aborted, refused := killswitch.Counts(out)
	assert.Equal(t, 3, aborted, "gd1, gd1-a and x")
	assert.Equal(t, 3, refused, "gd1-b, gd2 and its step")
}
