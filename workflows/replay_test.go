package workflows

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(logger, f))
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
