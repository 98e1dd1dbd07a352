// Package slacktemporal is the Slack bot's way into Temporal: Engine
// implements slackbot.Engine (and RunLister) on package control, the
// client side the CLI uses too. It lives with Slack, apart from both, so
// that slackbot stays free of Temporal and control free of Slack; cmd
// wires the two together here.
package slacktemporal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/workflows"
)

// Engine is the Slack bot's way into Temporal.
type Engine struct{ control.Launcher }

var (
	_ slackbot.Engine           = Engine{}
	_ slackbot.RunLister        = Engine{}
	_ slackbot.KillSwitchEngine = Engine{}
)

func (e Engine) Scenarios() ([]scenarios.Scenario, error) { return scenarios.Catalog() }

// Start starts exactly the scenario the bot authorized (req.Scenario, see
// PrepareCatalog): a name from Slack never reads a file. A request with a
// WorkflowID starts under that id or not at all: Temporal refuses a second
// start with it, running or ended, and that refusal comes back as a
// *slackbot.AlreadyStartedError naming the first run.
func (e Engine) Start(ctx context.Context, req slackbot.StartRequest) (string, error) {
	o := control.Options{ID: req.WorkflowID, RejectDuplicate: req.WorkflowID != "", DryRun: req.DryRun, By: req.By, Set: req.Params}
	if req.Channel != "" {
		// Where the run's message is: a restarted bot finds the run again
		// with SlackRuns.
		o.Memo = map[string]any{slackbot.MemoChannel: req.Channel}
	}
	in, err := e.PrepareCatalog(ctx, req.Scenario, o)
	if err != nil {
		return "", err
	}
	run, err := e.Launcher.Start(ctx, in, o)
	if dup, ok := errors.AsType[*serviceerror.WorkflowExecutionAlreadyStarted](err); ok && o.RejectDuplicate {
		return "", &slackbot.AlreadyStartedError{
			WorkflowID: o.ID, RunID: dup.RunId,
			URL: experiment.UIURL(e.Config.UIURL, e.Config.Namespace, o.ID, dup.RunId),
		}
	}
	if err != nil {
		return "", err
	}
	return run.GetID(), nil
}

func (e Engine) Status(ctx context.Context, workflowID string) (experiment.Result, error) {
	return control.Status(ctx, e.Client, workflowID)
}

func (e Engine) Abort(ctx context.Context, workflowID, reason, by string) error {
	_, err := control.Abort(ctx, e.Client, workflowID, workflows.AbortRequest{Reason: reason, By: by})
	return err
}

// AbortAll is `gameday abort --all`: the runs of the bot's task queue.
func (e Engine) AbortAll(ctx context.Context, reason, by string) ([]killswitch.Aborted, error) {
	return control.AbortAll(ctx, e.Client, killswitch.Filter{TaskQueue: e.Config.TaskQueue}, reason, by)
}

// Freeze is `gameday freeze on|off`, on the bot's task queue's switch.
func (e Engine) Freeze(ctx context.Context, on bool, reason, by string) (killswitch.State, error) {
	return control.Freeze(ctx, e.Client, e.Config.TaskQueue, killswitch.Request{On: on, Reason: reason, By: by})
}

func (e Engine) KillSwitch(ctx context.Context) (killswitch.State, error) {
	return control.KillSwitch(ctx, e.Client, e.Config.TaskQueue)
}

func (e Engine) Signoff(ctx context.Context, workflowID, role, user string, items []slackbot.ItemVerdict, reject bool, reason string) ([]string, error) {
	req := workflows.SignoffRequest{Role: role, User: user, Reject: reject, Reason: reason}
	for _, it := range items {
		req.Items = append(req.Items, workflows.ItemSign{ID: it.ID, Pass: it.Pass, Evidence: it.Evidence})
	}
	resp, err := control.Signoff(ctx, e.Client, workflowID, req)
	return resp.Pending, err
}

func (e Engine) Pause(ctx context.Context, workflowID, reason, by string) error {
	_, err := control.Pause(ctx, e.Client, workflowID, workflows.PauseRequest{Reason: reason, By: by})
	return err
}

func (e Engine) Resume(ctx context.Context, workflowID, by string) error {
	_, err := control.Resume(ctx, e.Client, workflowID, workflows.ResumeRequest{By: by, Reason: "resumed from Slack"})
	return err
}

func (e Engine) Note(ctx context.Context, workflowID, text, by, kind string) error {
	_, err := control.Note(ctx, e.Client, workflowID, workflows.NoteRequest{Text: text, By: by, Kind: kind})
	return err
}

func (e Engine) Checklist(ctx context.Context, workflowID string) (*checklist.Checklist, error) {
	in, err := control.Input(ctx, e.Client, workflowID)
	if err != nil {
		return nil, err
	}
	return in.Checklist, nil
}

// runningExperiments is the visibility query for the experiment runs in
// progress on the bot's task queue: bots of other task queues (a staging
// and a production worker sharing a namespace) keep their own runs'
// messages, and this one does not post duplicates of them.
func (e Engine) runningExperiments() string {
	q := fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = 'Running'", workflows.ExperimentWorkflowName)
	if tq := e.Config.TaskQueue; tq != "" {
		// The visibility parser reads backslash escapes (\n, \'): escape
		// the backslashes too, or a queue ending in one escapes the
		// closing quote and the bot's resume query is refused.
		q += " AND TaskQueue = '" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(tq) + "'"
	}
	return q
}

// listPageSize is how many runs one ListWorkflow page asks for.
const listPageSize = 100

// SlackRuns lists the experiment runs in progress on the bot's task queue
// that were started from Slack: those whose memo names their channel (slackbot.MemoChannel). It
// pages through the namespace's visibility, which is eventually
// consistent: a run started a moment ago may be missing. A memo that
// cannot be read is reported in the error, and the other runs are still
// returned; so are the runs listed before a page fails.
func (e Engine) SlackRuns(ctx context.Context) ([]slackbot.SlackRun, error) {
	var (
		out  []slackbot.SlackRun
		errs []error
		seen = map[string]bool{}
		dc   = converter.GetDefaultDataConverter() // gameday configures no custom one
		req  = &workflowservice.ListWorkflowExecutionsRequest{Query: e.runningExperiments(), PageSize: listPageSize}
	)
	for {
		resp, err := e.Client.ListWorkflow(ctx, req)
		if err != nil {
			return out, errors.Join(append(errs, fmt.Errorf("list running experiments: %w", err))...)
		}
		for _, ex := range resp.GetExecutions() {
			id := ex.GetExecution().GetWorkflowId()
			p := ex.GetMemo().GetFields()[slackbot.MemoChannel]
			if p == nil || seen[id] {
				continue // started from the CLI, or listed twice
			}
			var channel string
			if err := dc.FromPayload(p, &channel); err != nil {
				errs = append(errs, fmt.Errorf("run %s: memo %s: %w", id, slackbot.MemoChannel, err))
				continue
			}
			if channel == "" {
				errs = append(errs, fmt.Errorf("run %s: memo %s is empty", id, slackbot.MemoChannel))
				continue
			}
			seen[id] = true
			out = append(out, slackbot.SlackRun{WorkflowID: id, Channel: channel})
		}
		if len(resp.GetNextPageToken()) == 0 {
			return out, errors.Join(errs...)
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}
