package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

type DefineInput struct {
	Scenario   scenarios.Scenario `json:"scenario"`
	WorkflowID string             `json:"workflow_id"`
	// RunID, when set, is part of the fault ids (ChaosFaultsForRun), as the
	// workflow computes them; empty for runs started before that rule.
	RunID string `json:"run_id,omitempty"`
	// ResolveSigners asks define for the holders of the scenario's sign-off
	// roles from the worker's configuration, and to refuse a gate nobody can
	// complete. Set by workflows from version worker-signers 1; older runs
	// took the role map from their input.
	ResolveSigners bool `json:"resolve_signers,omitempty"`
	// Recheck is define run again right before the first inject, after a
	// sign-off gate: the same run, not a new one (metrics count it once).
	Recheck bool `json:"recheck,omitempty"`
	// ResolveDrift asks define for every guard's drift baseline (drift.go);
	// set by workflows from version drift 1.
	ResolveDrift bool `json:"resolve_drift,omitempty"`
}

type DefineResult struct {
	Targets  []string                `json:"targets"`
	Baseline []experiment.GuardValue `json:"baseline"`
	// Signers and DistinctSigners (ResolveSigners): who may sign which
	// required role, and whether one person may sign two.
	Signers         []signoff.Holders `json:"signers,omitempty"`
	DistinctSigners bool              `json:"distinct_signers,omitempty"`
	// Drift (ResolveDrift): each guard's drift baseline for this run.
	Drift []sli.DriftBaseline `json:"drift,omitempty"`
}

// Define proves the run can go ahead before anything is touched: every fault
// resolves to concrete targets (what a dry run shows), every guard query is
// valid PromQL with data behind it, every probe is one the worker's
// allow-list allows, and the guards are healthy now. Starting
// chaos on an already-unhealthy system teaches nothing and risks an outage.
func (a *Activities) Define(ctx context.Context, in DefineInput) (DefineResult, error) {
	if !in.Recheck && firstAttempt(ctx) {
		a.Metrics.ExperimentStarted(in.Scenario.Metadata.Name)
	}
	ctx, stop := withHeartbeat(ctx)
	defer stop()
	var res DefineResult
	// The kill switch and the blackout windows first: a refused run did
	// nothing and looks at nothing.
	if err := a.checkGate(ctx, in); err != nil {
		return res, err
	}
	env := in.Scenario.Metadata.Labels[scenarios.EnvironmentLabel]
	if in.ResolveSigners && a.RequiredSignoff != nil {
		// The scenario file comes from whoever starts the run: the worker
		// decides which gate an environment cannot go without.
		var missing []string
		for _, r := range a.RequiredSignoff(env) {
			if !slices.Contains(in.Scenario.Spec.Signoff.Roles, r) {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			where := "environment " + env
			if env == "" {
				where = "a scenario without an environment label"
			}
			return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
				"%s must be signed off by %s (GAMEDAY_REQUIRED_SIGNOFF on the worker); scenario %s does not require %s: add it to spec.signoff.roles",
				where, strings.Join(a.RequiredSignoff(env), ", "), in.Scenario.Metadata.Name, strings.Join(missing, ", ")), ErrTypePermanent, nil)
		}
	}
	if roles := in.Scenario.Spec.Signoff.Roles; in.ResolveSigners && len(roles) > 0 {
		res.Signers = signoff.Resolve(a.Signers, roles)
		res.DistinctSigners = a.DistinctSigners != nil && a.DistinctSigners(env)
		if err := signoff.Feasible(res.Signers, res.DistinctSigners); err != nil {
			// Refused before anything else: a gate nobody can complete
			// would hold the run until its sign-off timeout.
			return res, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("sign-off from %s can never be completed: %v", strings.Join(roles, ", "), err), ErrTypePermanent, nil, res)
		}
	}
	for _, f := range in.Scenario.ChaosFaultsForRun(in.WorkflowID, in.RunID) {
		if err := a.Safety.CheckDuration(f.Environment, f.Duration); err != nil {
			return res, temporal.NewNonRetryableApplicationError(fmt.Sprintf("fault %s: %v", f.Name, err), ErrTypePermanent, nil)
		}
		b, err := a.backend(f.Backend)
		if err != nil {
			return res, err
		}
		targets, err := b.Resolve(ctx, f)
		if err != nil {
			return res, classify(fmt.Errorf("fault %s: %w", f.Name, err))
		}
		for _, t := range targets {
			res.Targets = append(res.Targets, fmt.Sprintf("%s: %s", f.Name, t))
		}
	}
	// Another run holding an overlapping target refuses this one, naming
	// it (dry runs included: they show what a run would meet).
	if err := a.checkLeases(ctx, in, res); err != nil {
		return res, err
	}
	now := time.Now()
	seen := map[string]bool{}
	guards := append(append([]sli.Guard{}, in.Scenario.Spec.Guards...), in.Scenario.Spec.SteadyState.Guards...)
	if err := a.canWatch(guards); err != nil {
		return res, err
	}
	for _, g := range guards {
		key := g.Name + "\x00" + g.Source()
		if seen[key] {
			continue
		}
		seen[key] = true
		if g.IsProbe() {
			// The scenario comes from whoever starts the run: the worker
			// decides where its probes may go.
			if err := a.Probes.Allowed(ctx, g); err != nil {
				return res, temporal.NewNonRetryableApplicationError("refused: "+err.Error(), ErrTypeBadInput, nil)
			}
		}
		qctx, cancel := context.WithTimeout(ctx, sli.QueryTimeout(g))
		v, err := sli.Read(qctx, a.Prom, a.Probes, g, now)
		cancel()
		gv := guardValue(g, v, err)
		var bad *sli.BadAnswerError
		if err != nil && !errors.As(err, &bad) && !(errors.Is(err, sli.ErrNoData) && gv.Healthy) {
			if errors.Is(err, sli.ErrNoData) {
				// Retryable: a freshly started service may not be scraped yet.
				return res, fmt.Errorf("guard %s: %w (is the service scraped? query: %s; set on_no_data: ignore if it is legitimately empty)", g.Name, err, g.Query)
			}
			return res, classify(fmt.Errorf("guard %s: %w", g.Name, err))
		}
		res.Baseline = append(res.Baseline, gv)
		if !gv.Healthy {
			cond := fmt.Sprintf("healthy when %s %g", g.Op, g.Threshold)
			if g.IsProbe() {
				cond = "probe: " + g.Source()
			}
			return res, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("steady state not established before injecting: guard %s = %s, %s", g.Name, gv.Reading(), cond),
				ErrTypeNotSteady, nil, res)
		}
	}
	if in.ResolveDrift {
		var err error
		if res.Drift, err = a.driftBaselines(ctx, in, now); err != nil {
			return res, err
		}
	}
	// Once more at the end: reading the guards takes seconds, and a
	// freeze turned on meanwhile must stop a run that has no sign-off gate
	// (whose re-check would catch it) before it injects; `abort --all`
	// may not list a run visibility has not indexed yet.
	if err := a.checkGate(ctx, in); err != nil {
		return res, err
	}
	return res, nil
}
