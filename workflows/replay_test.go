package workflows

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/experiment"
)

// Histories recorded from real runs on the dev server (see
// integration.recordHistory) must replay against the current code: a change
// that breaks them needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata/")
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			Register(r) // exactly what a worker registers
			require.NoError(t, replayHistoryFile(r, logger, f))
		})
	}
}

// The replay check has teeth: a workflow whose first command differs from
// the recorded one (a timer where define scheduled an activity) is refused.
func TestReplayDetectsNondeterminism(t *testing.T) {
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(func(ctx workflow.Context, in ExperimentInput) (experiment.Result, error) {
		return experiment.Result{}, workflow.Sleep(ctx, time.Second)
	}, workflow.RegisterOptions{Name: ExperimentWorkflowName})
	err := r.ReplayWorkflowHistoryFromJSONFile(logger, "testdata/experiment-breach.json")
	require.Error(t, err)
}

// replayHistoryFile replays a recorded history under the workflow id and
// run id it ran with (the replayer's default id is "ReplayId"): a game
// day's child workflow ids are derived from its own, so under another id
// its replay would not match.
func replayHistoryFile(r worker.WorkflowReplayer, logger log.Logger, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return err
	}
	start := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
	return r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: start.GetWorkflowId(), RunID: start.GetOriginalExecutionRunId()},
	})
}
