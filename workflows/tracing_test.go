package workflows_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/telemetry"
	"github.com/gameday/gameday/workflows"
)

var acts *activities.Activities

func quiet() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// tracedEnv is a test environment whose worker has gameday's tracing
// interceptor, recording spans in memory.
func tracedEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *tracetest.InMemoryExporter) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet())
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	i, err := control.TracingInterceptor(telemetry.Tracing{Provider: tp, On: true})
	require.NoError(t, err)
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{i}})
	env.RegisterActivity(acts)
	env.OnActivity(acts.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{Targets: []string{"lat: proxy inventory"}}, nil)
	env.OnActivity(acts.Report, mock.Anything, mock.Anything).Return(activities.ReportResult{}, nil)
	return env, exp
}

func dryRun() workflows.ExperimentInput {
	return workflows.ExperimentInput{DryRun: true, Scenario: scenarios.Scenario{
		APIVersion: scenarios.APIVersion, Kind: scenarios.Kind,
		Metadata: scenarios.Metadata{Name: "latency", Service: "order-service"},
		Spec: scenarios.Spec{
			Target: chaos.Target{Backend: "toxiproxy", Selector: map[string]string{"proxy": "inventory"}},
			Faults: []scenarios.Fault{{Name: "lat", Backend: "toxiproxy", Action: "latency", Duration: duration.Duration(time.Minute), Params: map[string]any{"latency": "1s"}}},
			Guards: []sli.Guard{{Name: "p95", Query: "q", Op: sli.OpLE, Threshold: 0.8, For: 1, Interval: duration.Duration(time.Second)}},
		},
	}}
}

// spanNames are the recorded spans' names with their trace ids. The run's
// span is "RunWorkflow:" and the workflow's registered name (the test
// environment registers it under its function name).
func spanNames(exp *tracetest.InMemoryExporter) map[string]trace.TraceID {
	out := map[string]trace.TraceID{}
	for _, s := range exp.GetSpans() {
		name := s.Name
		if strings.HasPrefix(name, "RunWorkflow:") {
			name = "RunWorkflow"
		}
		out[name] = s.SpanContext.TraceID()
	}
	return out
}

// A run started without trace context (the UI, a Schedule) is put in the
// trace derived from its workflow and run id, and records that id: the
// same on every worker and every replay, never from a clock or a random
// source.
func TestRunWithoutTraceContextGetsItsDerivedTrace(t *testing.T) {
	env, exp := tracedEnv(t)
	env.ExecuteWorkflow(workflows.ExperimentWorkflow, dryRun())
	require.NoError(t, env.GetWorkflowError())
	var r experiment.Result
	require.NoError(t, env.GetWorkflowResult(&r))
	assert.Equal(t, experiment.DryRun, r.Outcome)

	want, _ := telemetry.RunTraceID(r.WorkflowID, r.RunID)
	assert.Equal(t, want.String(), r.TraceID)
	spans := spanNames(exp)
	require.Contains(t, spans, "RunWorkflow")
	require.Contains(t, spans, "StartActivity:Define", "activities are children of the run")
	for name, tid := range spans {
		assert.Equal(t, want, tid, "span %s is in the run's trace", name)
	}
}

// A run started by a traced client (gameday run, the Slack bot) stays in
// the client's trace: the trace context is in the start event's header.
func TestRunStartedByATracedClientKeepsItsTrace(t *testing.T) {
	env, exp := tracedEnv(t)
	client := trace.TraceID{0xca, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	header, err := json.Marshal(map[string]string{"traceparent": telemetry.TraceParent(client, trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8})})
	require.NoError(t, err)
	p, err := converter.GetDefaultDataConverter().ToPayload(json.RawMessage(header))
	require.NoError(t, err)
	env.SetHeader(&commonpb.Header{Fields: map[string]*commonpb.Payload{"_tracer-data": p}})
	env.ExecuteWorkflow(workflows.ExperimentWorkflow, dryRun())
	require.NoError(t, env.GetWorkflowError())
	var r experiment.Result
	require.NoError(t, env.GetWorkflowResult(&r))
	assert.Equal(t, client.String(), r.TraceID)
	assert.Equal(t, client, spanNames(exp)["RunWorkflow"])
}

// Without a tracing interceptor there is no trace, and no id is shown.
func TestNoTracingNoTraceID(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(quiet())
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(acts)
	env.OnActivity(acts.Define, mock.Anything, mock.Anything).Return(activities.DefineResult{}, nil)
	env.OnActivity(acts.Report, mock.Anything, mock.Anything).Return(activities.ReportResult{}, nil)
	env.ExecuteWorkflow(workflows.ExperimentWorkflow, dryRun())
	var r experiment.Result
	require.NoError(t, env.GetWorkflowResult(&r))
	assert.Empty(t, r.TraceID)
}

// A traced worker replays every recorded history (recorded by untraced
// workers, with other summaries): the interceptor's headers and spans and
// the activity and timer summaries are not commands.
func TestReplayRecordedHistoriesWithTracing(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	i, err := control.TracingInterceptor(telemetry.Tracing{Provider: tp, On: true})
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: []interceptor.WorkerInterceptor{i}})
			require.NoError(t, err)
			workflows.Register(r)
			require.NoError(t, workflows.ReplayHistoryFile(r, quiet(), f))
		})
	}
}
