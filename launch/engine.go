package launch

import (
	"context"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/slackbot"
	"github.com/gameday/gameday/workflows"
)

// Engine is the Slack bot's way into Temporal.
type Engine struct{ Launcher }

var _ slackbot.Engine = Engine{}

func (e Engine) Scenarios() ([]scenarios.Scenario, error) { return scenarios.Catalog() }

func (e Engine) Start(ctx context.Context, req slackbot.StartRequest) (string, error) {
	o := Options{DryRun: req.DryRun, By: req.By, Set: req.Params}
	in, err := e.Prepare(ctx, req.Scenario, o)
	if err != nil {
		return "", err
	}
	run, err := e.Launcher.Start(ctx, in, o)
	if err != nil {
		return "", err
	}
	return run.GetID(), nil
}

func (e Engine) Status(ctx context.Context, workflowID string) (experiment.Result, error) {
	return Status(ctx, e.Client, workflowID)
}

func (e Engine) Abort(ctx context.Context, workflowID, reason, by string) error {
	_, err := Abort(ctx, e.Client, workflowID, workflows.AbortRequest{Reason: reason, By: by})
	return err
}

func (e Engine) Signoff(ctx context.Context, workflowID, role, user string, items []slackbot.ItemVerdict, reject bool, reason string) ([]string, error) {
	req := workflows.SignoffRequest{Role: role, User: user, Reject: reject, Reason: reason}
	for _, it := range items {
		req.Items = append(req.Items, workflows.ItemSign{ID: it.ID, Pass: it.Pass, Evidence: it.Evidence})
	}
	resp, err := Signoff(ctx, e.Client, workflowID, req)
	return resp.Pending, err
}

func (e Engine) Checklist(ctx context.Context, workflowID string) (*checklist.Checklist, error) {
	in, err := Input(ctx, e.Client, workflowID)
	if err != nil {
		return nil, err
	}
	return in.Checklist, nil
}
