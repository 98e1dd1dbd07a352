package control

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/workflows"
)

// stubClient answers the few calls these tests make; anything else panics
// (the embedded interface is nil).
type stubClient struct {
	client.Client
	queryErr error
	pollers  []*taskqueuepb.PollerInfo
	descErr  error
	queried  string
}

func (s *stubClient) QueryWorkflow(_ context.Context, id, _, _ string, _ ...any) (converter.EncodedValue, error) {
	s.queried = id
	return nil, s.queryErr
}

func (s *stubClient) DescribeTaskQueue(context.Context, string, enums.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	return &workflowservice.DescribeTaskQueueResponse{Pollers: s.pollers}, s.descErr
}

func TestChecklistStateBeforeAnyRunIsTheFile(t *testing.T) {
	all, err := checklists.Catalog()
	require.NoError(t, err)
	cl := all[0]
	c := &stubClient{queryErr: serviceerror.NewNotFound("no such workflow")}
	st, recorded, err := ChecklistState(t.Context(), c, cl)
	require.NoError(t, err)
	assert.False(t, recorded)
	assert.Equal(t, workflows.ChecklistWorkflowID(cl.Metadata.Name), c.queried)
	assert.Equal(t, cl.Metadata.Name, st.Checklist)
	assert.Len(t, st.Items, len(cl.Spec.Items))

	c = &stubClient{queryErr: errors.New("unavailable")}
	_, _, err = ChecklistState(t.Context(), c, cl)
	assert.ErrorContains(t, err, "query checklist "+cl.Metadata.Name+": unavailable")
}

func TestNoWorkerOnlyWhenTheServerSaysSo(t *testing.T) {
	assert.True(t, NoWorker(t.Context(), &stubClient{}, "q"))
	assert.False(t, NoWorker(t.Context(), &stubClient{pollers: []*taskqueuepb.PollerInfo{{Identity: "w"}}}, "q"))
	assert.False(t, NoWorker(t.Context(), &stubClient{descErr: errors.New("unavailable")}, "q"), "unknown is not a warning")
}

// A freeze with no worker on the task queue is refused at once: nothing
// would run the entity's update, and the command waited for ever.
func TestFreezeWithoutAWorkerIsRefused(t *testing.T) {
	_, err := Freeze(t.Context(), &stubClient{}, "q", killswitch.Request{On: true, Reason: "incident", By: "sam"})
	assert.ErrorContains(t, err, "no worker polls task queue q")
}
