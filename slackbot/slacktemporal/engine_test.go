package slacktemporal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	_ "github.com/gameday/gameday/chaos/all" // registers every back-end
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/workflows"
)

// fakeClient records starts and serves ListWorkflow pages; anything else
// it is asked panics (the embedded interface is nil). Its starts play the
// Temporal server and the Go SDK (see ExecuteWorkflow).
type fakeClient struct {
	client.Client
	mu       sync.Mutex
	starts   []client.StartWorkflowOptions // every start asked for
	runs     map[string]*fakeExecution     // by workflow id: the executions the server has
	accepted []acceptedStart               // the starts that made a run
	pages    []*workflowservice.ListWorkflowExecutionsResponse
	listErr  error // answered after the pages
	listReqs []listReq
}

type fakeExecution struct {
	runID  string
	closed bool
}

type acceptedStart struct {
	opts  client.StartWorkflowOptions
	input workflows.ExperimentInput
}

// closeRun ends a run (as a finished dry run would).
func (f *fakeClient) closeRun(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs[id].closed = true
}

func (f *fakeClient) acceptedStarts() []acceptedStart {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]acceptedStart(nil), f.accepted...)
}

func (f *fakeClient) startCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts)
}

// listReq is a ListWorkflow request as sent (the caller reuses its request
// for the next page).
type listReq struct {
	query string
	token []byte
}

type fakeRun struct {
	client.WorkflowRun
	id, runID string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return r.runID }

// ExecuteWorkflow plays the server: a start under an id in use is refused
// while that run is running (conflict policy FAIL, also the server's
// default) and, once it has closed, under reuse policy REJECT_DUPLICATE
// (the default, ALLOW_DUPLICATE, starts a new run). And the SDK
// (internal_workflow_client.go, v1.51): it returns the refusal, a
// *serviceerror.WorkflowExecutionAlreadyStarted, only when
// WorkflowExecutionErrorWhenAlreadyStarted is set, and otherwise hands back
// the existing run with no error, as if it had just started.
func (f *fakeClient) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, o)
	if ex := f.runs[o.ID]; ex != nil && (!ex.closed || o.WorkflowIDReusePolicy == enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE) {
		if !o.WorkflowExecutionErrorWhenAlreadyStarted {
			return fakeRun{id: o.ID, runID: ex.runID}, nil
		}
		return nil, serviceerror.NewWorkflowExecutionAlreadyStarted("Workflow execution is already running. WorkflowId: "+o.ID, "", ex.runID)
	}
	if f.runs == nil {
		f.runs = map[string]*fakeExecution{}
	}
	runID := fmt.Sprintf("run-%d", len(f.starts))
	f.runs[o.ID] = &fakeExecution{runID: runID}
	in, _ := args[0].(workflows.ExperimentInput)
	f.accepted = append(f.accepted, acceptedStart{opts: o, input: in})
	return fakeRun{id: o.ID, runID: runID}, nil
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

// catalogScenario is a catalog entry as Engine.Scenarios serves it.
func catalogScenario(t *testing.T, name string) scenarios.Scenario {
	t.Helper()
	all, err := Engine{}.Scenarios()
	require.NoError(t, err)
	for _, sc := range all {
		if sc.Metadata.Name == name {
			return sc
		}
	}
	t.Fatalf("no catalog scenario %s", name)
	return scenarios.Scenario{}
}

func TestSlackStartRecordsTheChannel(t *testing.T) {
	fc := &fakeClient{}
	eng := Engine{control.Launcher{Client: fc, Config: config.Config{TaskQueue: "q"}}}
	demo := catalogScenario(t, "demo-inventory-latency")
	id, err := eng.Start(t.Context(), slackbot.StartRequest{Scenario: demo, By: "dana", Channel: "C0GAMEDAY"})
	require.NoError(t, err)
	require.Len(t, fc.starts, 1)
	assert.Equal(t, id, fc.starts[0].ID)
	assert.Equal(t, map[string]any{slackbot.MemoChannel: "C0GAMEDAY"}, fc.starts[0].Memo)

	// The CLI path (and a start without a channel) sets no memo.
	l := control.Launcher{Client: fc, Config: config.Config{TaskQueue: "q"}}
	in, err := l.Prepare(t.Context(), "demo-inventory-latency", control.Options{})
	require.NoError(t, err)
	_, err = l.Start(t.Context(), in, control.Options{})
	require.NoError(t, err)
	_, err = eng.Start(t.Context(), slackbot.StartRequest{Scenario: demo})
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
	eng := Engine{control.Launcher{Client: fc, Config: config.Config{TaskQueue: "gameday-prod"}}}
	runs, err := eng.SlackRuns(t.Context())
	assert.ErrorContains(t, err, "run wf-bad: memo "+slackbot.MemoChannel)
	assert.Equal(t, []slackbot.SlackRun{{WorkflowID: "wf-1", Channel: "C1"}, {WorkflowID: "wf-2", Channel: "C2"}}, runs)
	require.Len(t, fc.listReqs, 2)
	assert.Equal(t, "WorkflowType = '"+workflows.ExperimentWorkflowName+"' AND ExecutionStatus = 'Running' AND TaskQueue = 'gameday-prod'", fc.listReqs[0].query,
		"only the bot's own task queue: another queue's bot keeps its runs' messages")
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
	runs, err := Engine{control.Launcher{Client: fc}}.SlackRuns(t.Context())
	assert.ErrorContains(t, err, "list running experiments: unavailable")
	assert.Equal(t, []slackbot.SlackRun{{WorkflowID: "wf-1", Channel: "C1"}}, runs)
}

// A Slack start names its run by the request (StartRequest.WorkflowID) and
// asks Temporal to refuse that id a second time, running or ended; the
// refusal is an AlreadyStartedError linking the first run, not a failure,
// and starts nothing.
func TestSlackStartRefusesADuplicateRequest(t *testing.T) {
	fc := &fakeClient{}
	eng := Engine{control.Launcher{Client: fc, Config: config.Config{TaskQueue: "q", UIURL: "http://ui.test", Namespace: "default"}}}
	const id = "gameday-demo-inventory-latency-slack-00112233445566778899"
	req := slackbot.StartRequest{Scenario: catalogScenario(t, "demo-inventory-latency"), DryRun: true, By: "dana", Channel: "C0GAMEDAY", WorkflowID: id}
	got, err := eng.Start(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, id, got)
	require.Len(t, fc.starts, 1)
	o := fc.starts[0]
	assert.Equal(t, id, o.ID)
	assert.Equal(t, enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL, o.WorkflowIDConflictPolicy)
	assert.Equal(t, enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, o.WorkflowIDReusePolicy)
	assert.True(t, o.WorkflowExecutionErrorWhenAlreadyStarted, "else the SDK hands back the running run as if started")

	want := &slackbot.AlreadyStartedError{WorkflowID: id, RunID: "run-1", URL: "http://ui.test/namespaces/default/workflows/" + id + "/run-1/history"}
	_, err = eng.Start(t.Context(), req)
	dup, ok := errors.AsType[*slackbot.AlreadyStartedError](err)
	require.True(t, ok, "while running: %v", err)
	assert.Equal(t, want, dup)

	fc.closeRun(id) // the dry run is over: the request still started it
	_, err = eng.Start(t.Context(), req)
	dup, ok = errors.AsType[*slackbot.AlreadyStartedError](err)
	require.True(t, ok, "after the run closed: %v", err)
	assert.Equal(t, want, dup)
	assert.Len(t, fc.acceptedStarts(), 1, "one request, one run")

	// Without a WorkflowID (and from the CLI) the id is fresh and a closed
	// id may be reused; a running one is an error, never handed back.
	_, err = eng.Start(t.Context(), slackbot.StartRequest{Scenario: req.Scenario})
	require.NoError(t, err)
	last := fc.starts[len(fc.starts)-1]
	assert.NotEqual(t, id, last.ID)
	assert.Zero(t, last.WorkflowIDReusePolicy)
	assert.True(t, last.WorkflowExecutionErrorWhenAlreadyStarted)
}

// trapDir makes the working directory hold files named like the catalog
// scenario demo-inventory-timeout and its checklist release-default, valid
// but different (service trap-service, threshold 1), and returns the
// catalog scenario.
func trapDir(t *testing.T) scenarios.Scenario {
	t.Helper()
	sc, err := os.ReadFile("../../scenarios/demo-inventory-timeout.yaml")
	require.NoError(t, err)
	cl, err := os.ReadFile("../../checklists/release-default.yaml")
	require.NoError(t, err)
	catalog := catalogScenario(t, "demo-inventory-timeout")
	t.Chdir(t.TempDir())
	trapSc := strings.Replace(string(sc), "service: order-service", "service: trap-service", 1)
	trapCl := strings.Replace(string(cl), "threshold: 80", "threshold: 1", 1)
	require.NotEqual(t, string(sc), trapSc)
	require.NotEqual(t, string(cl), trapCl)
	require.NoError(t, os.WriteFile("demo-inventory-timeout", []byte(trapSc), 0o600))
	require.NoError(t, os.WriteFile("release-default", []byte(trapCl), 0o600))
	return catalog
}

// A Slack start runs the scenario it was given (the one the bot
// authorized) and the catalog's checklist: files of the same names in the
// working directory are never read.
func TestSlackStartsTheCatalogScenarioNotAFile(t *testing.T) {
	catalog := trapDir(t)
	fc := &fakeClient{}
	l := control.Launcher{Client: fc, Config: config.Config{TaskQueue: "q"}}

	// The trap is live: the CLI, given the name, takes the files (a name
	// typed in a terminal may be a file on purpose).
	cli, err := l.Prepare(t.Context(), "demo-inventory-timeout", control.Options{})
	require.NoError(t, err)
	require.Equal(t, "trap-service", cli.Scenario.Metadata.Service)
	require.Equal(t, 1.0, cli.Checklist.Spec.Threshold)

	_, err = Engine{l}.Start(t.Context(), slackbot.StartRequest{Scenario: catalog, Params: map[string]string{"duration": "20s"}, By: "dana", Channel: "C0GAMEDAY"})
	require.NoError(t, err)
	got := fc.acceptedStarts()
	require.Len(t, got, 1)
	in := got[0].input
	assert.Equal(t, "order-service", in.Scenario.Metadata.Service, "the scenario is the catalog's")
	require.NotNil(t, in.Checklist)
	assert.Equal(t, 80.0, in.Checklist.Spec.Threshold, "the checklist is the catalog's")
	assert.Equal(t, "demo-inventory-timeout", in.Source)
	assert.Equal(t, 20*time.Second, in.Scenario.Spec.Faults[0].Duration.D(), "overrides are applied")
	assert.Equal(t, 30*time.Second, catalog.Spec.Faults[0].Duration.D(), "to a copy: the authorized value is unchanged")

	_, err = Engine{l}.Start(t.Context(), slackbot.StartRequest{})
	assert.ErrorContains(t, err, "no scenario to start", "a request without a scenario is not looked up by name")
}

// A task queue with quotes or backslashes stays one string literal in the
// visibility query (its parser reads backslash escapes).
func TestRunningExperimentsQuotesTheTaskQueue(t *testing.T) {
	eng := Engine{control.Launcher{Config: config.Config{TaskQueue: `it's\`}}}
	assert.Equal(t, "WorkflowType = '"+workflows.ExperimentWorkflowName+`' AND ExecutionStatus = 'Running' AND TaskQueue = 'it\'s\\'`, eng.runningExperiments())
}
