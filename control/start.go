// Package control is gameday's Temporal client side: everything the CLI
// and the Slack bot ask of the Temporal server. It dials the server,
// prepares and starts experiment runs, follows them, queries their status,
// sends sign-off and abort, reads a checklist's learned state, starts
// sweeps, creates the checklist and sweep Schedules and checks that a
// worker polls the task queue. cmd/gameday only parses flags and prints;
// the Slack bot reaches it through slackbot/slacktemporal.
//
// The CLI and the Slack bot both start runs through it, so a run started
// from Slack carries exactly what the same run started from a terminal
// would: the resolved scenario, its checklist with learned weights, the
// role map.
package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/workflows"
)

// Launcher starts experiments on one Temporal namespace and task queue.
type Launcher struct {
	Client client.Client
	Config config.Config
}

// Options of one start.
type Options struct {
	ID            string            // workflow id; generated when empty
	DryRun        bool              // stop after define
	By            string            // who starts it (recorded in history)
	ReleaseTicket string            // gets the run's evidence
	Set           map[string]string // overrides, see ApplyOverrides
	// RejectDuplicate makes ID name one request (a Slack command): the
	// server refuses to start a second run under it, whether the first
	// is running or has ended (conflict policy FAIL, reuse policy
	// REJECT_DUPLICATE), and Start returns its refusal, a
	// *serviceerror.WorkflowExecutionAlreadyStarted, instead of the SDK's
	// default of handing back the existing run as if it had started.
	RejectDuplicate bool
	// Memo is recorded on the workflow by the client at start (not in its
	// input, so the workflow code does not see it) and comes back with
	// every listing; the Slack bot records the run's channel there. Nil
	// for the CLI.
	Memo map[string]any
}

// Prepare loads the scenario (catalog name or file), applies overrides and
// resolves its checklist (catalog name or file). The CLI's way: what a
// user types may name a file.
func (l Launcher) Prepare(ctx context.Context, ref string, o Options) (workflows.ExperimentInput, error) {
	sc, err := scenarios.Find(ref)
	if err != nil {
		return workflows.ExperimentInput{}, err
	}
	ov := DescribeOverrides(sc, o.Set)
	if err := ApplyOverrides(&sc, o.Set); err != nil {
		return workflows.ExperimentInput{}, err
	}
	cl, err := l.resolveChecklist(ctx, &sc, checklists.Find)
	if err != nil {
		return workflows.ExperimentInput{}, err
	}
	return l.input(sc, ref, cl, ov, o), nil
}

// PrepareCatalog prepares a catalog scenario already looked up (the one
// the Slack bot checked access against): overrides are applied to a copy
// of exactly that value, and its checklist comes from the embedded catalog
// only. Nothing is looked up by name in the working directory, so a file
// named like a catalog scenario or checklist can never stand in for it.
func (l Launcher) PrepareCatalog(ctx context.Context, sc scenarios.Scenario, o Options) (workflows.ExperimentInput, error) {
	if sc.Metadata.Name == "" {
		return workflows.ExperimentInput{}, fmt.Errorf("no scenario to start")
	}
	sc = scenarios.Clone(sc)
	ov := DescribeOverrides(sc, o.Set)
	if err := ApplyOverrides(&sc, o.Set); err != nil {
		return workflows.ExperimentInput{}, err
	}
	cl, err := l.resolveChecklist(ctx, &sc, catalogChecklist)
	if err != nil {
		return workflows.ExperimentInput{}, err
	}
	return l.input(sc, sc.Metadata.Name, cl, ov, o), nil
}

// input builds the workflow input. The sign-off role map is not in it: the
// worker resolves who may sign (workflow version worker-signers), so the
// starter's configuration cannot choose its approvers.
func (l Launcher) input(sc scenarios.Scenario, source string, cl *checklist.Checklist, ov []experiment.Override, o Options) workflows.ExperimentInput {
	return workflows.ExperimentInput{
		Scenario: sc, Source: source, DryRun: o.DryRun, StartedBy: o.By, UIBase: l.Config.UIURL,
		Checklist: cl, ReleaseTicket: o.ReleaseTicket, Overrides: ov,
	}
}

// DescribeOverrides is scenarios.DescribeOverrides: what set changes in
// sc, with the value sc had (call it before ApplyOverrides).
func DescribeOverrides(sc scenarios.Scenario, set map[string]string) []experiment.Override {
	return scenarios.DescribeOverrides(sc, set)
}

// ApplyOverrides is scenarios.ApplyOverrides: the key=value overrides of
// `gameday run --set`, validated again after they are applied.
func ApplyOverrides(sc *scenarios.Scenario, set map[string]string) error {
	return scenarios.ApplyOverrides(sc, set)
}

// catalogChecklist finds a checklist in the embedded catalog by name, and
// nowhere else.
func catalogChecklist(name string) (checklist.Checklist, error) {
	all, err := checklists.Catalog() // err: some other entry is broken
	names := make([]string, 0, len(all))
	for _, cl := range all {
		if cl.Metadata.Name == name {
			return cl, nil
		}
		names = append(names, cl.Metadata.Name)
	}
	if err != nil {
		return checklist.Checklist{}, fmt.Errorf("checklist %q is not in the catalog: %w", name, err)
	}
	return checklist.Checklist{}, fmt.Errorf("checklist %q is not in the catalog (%s)", name, strings.Join(names, ", "))
}

// LoadScenario finds a scenario (catalog name or file) and applies
// overrides: everything that can be checked without a server.
func LoadScenario(ref string, set map[string]string) (scenarios.Scenario, error) {
	sc, err := scenarios.Find(ref)
	if err != nil {
		return sc, err
	}
	return sc, ApplyOverrides(&sc, set)
}

// Start starts the workflow for a prepared input.
func (l Launcher) Start(ctx context.Context, in workflows.ExperimentInput, o Options) (client.WorkflowRun, error) {
	sc := in.Scenario
	id := o.ID
	if id == "" {
		id = workflows.NewExperimentID(sc.Metadata.Name, time.Now())
	}
	summary := fmt.Sprintf("gameday %s on %s", sc.Metadata.Name, sc.Metadata.Service)
	if in.DryRun {
		summary += " (dry run)"
	}
	so := client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     l.Config.TaskQueue,
		StaticSummary: summary,
		StaticDetails: StaticDetails(sc),
		Memo:          o.Memo,
		// `gameday run --id X` while X still runs is an error, not the
		// running run handed back as if it had just started. A closed id
		// may be reused: fault ids include the run id.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}
	if o.RejectDuplicate {
		so.WorkflowIDConflictPolicy = enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL
		so.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
		so.WorkflowExecutionErrorWhenAlreadyStarted = true
	}
	run, err := l.Client.ExecuteWorkflow(ctx, so, workflows.ExperimentWorkflowName, in)
	if err != nil {
		return nil, fmt.Errorf("start experiment %s: %w", sc.Metadata.Name, err)
	}
	return run, nil
}

// UIURL is the Temporal UI link of a run.
func (l Launcher) UIURL(run client.WorkflowRun) string {
	return experiment.UIURL(l.Config.UIURL, l.Config.Namespace, run.GetID(), run.GetRunID())
}

// StaticDetails is the Markdown the Temporal UI shows for a run
// (scenarios.Scenario.Describe).
func StaticDetails(sc scenarios.Scenario) string { return sc.Describe() }

// resolveChecklist loads the scenario's checklist so the workflow input
// carries exactly what is signed, scored with the weights it has learned.
// Its owners become the sign-off roles when the scenario sets none.
func (l Launcher) resolveChecklist(ctx context.Context, sc *scenarios.Scenario, find func(string) (checklist.Checklist, error)) (*checklist.Checklist, error) {
	if sc.Spec.Checklist == "" {
		return nil, nil
	}
	cl, err := find(sc.Spec.Checklist)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: spec.checklist: %w", sc.Metadata.Name, err)
	}
	if l.Client == nil {
		// No server (a test, a validation): the file's weights.
	} else if v, err := l.Client.QueryWorkflow(ctx, workflows.ChecklistWorkflowID(cl.Metadata.Name), "", workflows.QueryChecklistState); err == nil {
		var st workflows.ChecklistState
		if err := v.Get(&st); err == nil {
			cl = checklist.Apply(cl, st.Items)
		}
	}
	if l.Config.GateThreshold > 0 {
		cl.Spec.Threshold = l.Config.GateThreshold
	}
	// Here the scenario and the checklist meet: evidence naming a guard the
	// scenario does not have is refused before anything starts, and the
	// input carries the resolved queries, so the history shows what judged
	// each item.
	if cl, err = checklist.ResolveEvidence(cl, sc.EvidenceGuards()); err != nil {
		return nil, fmt.Errorf("scenario %s: spec.checklist %s: %w", sc.Metadata.Name, sc.Spec.Checklist, err)
	}
	if err := checklist.RefuseProbeEvidence(cl, sc.EvidenceGuards()); err != nil {
		return nil, fmt.Errorf("scenario %s: spec.checklist %s: %w", sc.Metadata.Name, sc.Spec.Checklist, err)
	}
	if len(sc.Spec.Signoff.Roles) == 0 {
		sc.Spec.Signoff.Roles = checklist.SigningRoles(cl)
		if sc.Spec.Signoff.Timeout == 0 {
			sc.Spec.Signoff.Timeout = duration.Duration(scenarios.DefaultSignoffTimeout)
		}
	}
	return &cl, nil
}
