package integration

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// recordHistory saves a real run's history for the replay test when
// GAMEDAY_RECORD_HISTORY names a file (workflows/testdata/*.json).
func recordHistory(t *testing.T, e *env, workflowID string) {
	recordHistoryTo(t, e, workflowID, "GAMEDAY_RECORD_HISTORY")
}

func recordHistoryTo(t *testing.T, e *env, workflowID, envVar string) {
	path := os.Getenv(envVar)
	if path == "" {
		return
	}
	h := e.history(context.Background(), workflowID)
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	t.Logf("history of %s (%d events) written to %s", workflowID, len(h.Events), path)
}

// history is the latest run's whole history of a workflow.
func (e *env) history(ctx context.Context, workflowID string) *historypb.History {
	it := e.client.GetWorkflowHistory(ctx, workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(e.t, err)
		h.Events = append(h.Events, ev)
	}
	return &h
}

// historyJSON is history as the Temporal UI downloads it.
func (e *env) historyJSON(ctx context.Context, workflowID string) string {
	b, err := protojson.Marshal(e.history(ctx, workflowID))
	require.NoError(e.t, err)
	return string(b)
}

// historyTypes counts a history's events by type.
func (e *env) historyTypes(ctx context.Context, workflowID string) map[string]int {
	out := map[string]int{}
	for _, ev := range e.history(ctx, workflowID).Events {
		out[ev.GetEventType().String()]++
	}
	return out
}

func (e *env) historyLen(ctx context.Context, workflowID string) int {
	return len(e.history(ctx, workflowID).Events)
}
