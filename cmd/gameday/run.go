package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
)

type runFlags struct {
	dryRun, wait, json bool
	id, by             string
	releaseTicket      string
	set                []string
	junit              string
}

func newRunCmd(a *app) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run FILE|NAME",
		Short: "Start an experiment from a scenario file or a catalog name",
		Long: `Start an experiment workflow.

  --dry-run  stop after define: print exactly which targets would be hit and
             the baseline SLI values, inject nothing
  --wait     follow the run, printing each phase as it happens
  --json     print one JSON object with the final result
  --junit F  when the run ends, write it to F as JUnit XML (a test case, each
             guard a property with its reading from PROMETHEUS_URL); implies --wait

A scenario that names a checklist (spec.checklist) waits at the sign-off gate
for each role to sign its items; the release gate then passes when every
strong-blocking item passes and the weighted score reaches the threshold.

Exit codes: 0 passed (or dry run), 3 not passed (aborted, failed, cancelled,
expired) or release gate failed, 1 error, 2 usage.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !cmd.Flags().Changed("by") {
				f.by = a.cfg.User
			}
			if f.junit != "" {
				f.wait = true
			}
			return runExperiment(cmd.Context(), a, cmd.OutOrStdout(), cmd.ErrOrStderr(), pos[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "stop after define; show targets and baseline")
	cmd.Flags().BoolVar(&f.wait, "wait", false, "follow the run until it ends")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result as one JSON object")
	cmd.Flags().StringVar(&f.id, "id", "", "workflow id (default: gameday-<scenario>-<time>-<random>)")
	cmd.Flags().StringVar(&f.by, "by", "", "who starts the run (recorded in history; default $USER)")
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "override: duration=D, signoff.timeout=D, <param>=V (all faults) or <fault>.<param>=V; repeatable")
	cmd.Flags().StringVar(&f.junit, "junit", "", "write the finished run as JUnit XML to FILE (implies --wait)")
	cmd.Flags().StringVar(&f.releaseTicket, "release-ticket", "", "release ticket (e.g. REL-42) that gets the run's evidence; a passing gate moves it to the ready status")
	return cmd
}

func runExperiment(ctx context.Context, a *app, out, errw io.Writer, ref string, f runFlags) error {
	if err := a.cfg.Validate(); err != nil {
		return err
	}
	set, err := parseSet(f.set)
	if err != nil {
		return err
	}
	// A wrong scenario or override is reported before any connection.
	if _, err := control.LoadScenario(ref, set); err != nil {
		return err
	}
	cfg := a.cfg
	c, err := a.dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	l := control.Launcher{Client: c, Config: cfg}
	// A dry run while frozen shows the refusal a real run would meet (and
	// meets it too: define refuses every new run).
	if st, on := frozen(ctx, c, cfg.TaskQueue); on {
		fmt.Fprintf(errw, "warning: %s; define refuses this run (`gameday freeze off` lifts it)\n", st.Refusal())
	}
	opts := control.Options{ID: f.id, DryRun: f.dryRun, By: f.by, ReleaseTicket: f.releaseTicket, Set: set}
	in, err := l.Prepare(ctx, ref, opts)
	if err != nil {
		return err
	}
	sc := in.Scenario
	wr, err := l.Start(ctx, in, opts)
	if err != nil {
		return err
	}
	ui := l.UIURL(wr)
	warnIfNoWorker(ctx, c, cfg.TaskQueue, errw)
	if !f.json {
		fmt.Fprintf(out, "started %s (run %s)\n  scenario: %s on %s\n  ui: %s\n", wr.GetID(), wr.GetRunID(), sc.Metadata.Name, sc.Metadata.Service, ui)
	}
	return followStarted(out, wr, ui, f.wait || f.dryRun, f.json,
		func(progress io.Writer) (experiment.Result, error) { return follow(ctx, c, wr, progress) },
		func(r *experiment.Result) error {
			if r.UIURL == "" {
				r.UIURL = ui
			}
			if f.junit != "" {
				// The outcome is known; a file that cannot be written is still an
				// error (CI would read a stale one), naming the outcome.
				if err := writeJUnit(ctx, cfg, *r, sc.Spec.Guards, f.junit); err != nil {
					return fmt.Errorf("run %s ended %s, but --junit: %w", r.WorkflowID, r.Outcome, err)
				}
			}
			return nil
		},
		printResult,
		func(r experiment.Result) bool {
			return (r.Outcome == experiment.Passed || r.Outcome == experiment.DryRun) && (r.Gate == nil || r.Gate.Passed)
		})
}

// followStarted is what run and gameday start do once the workflow has
// started: without wait, print its ids (--json) and return; with it,
// follow it (progress on out, unless --json), complete the result (finish:
// the UI link, files written from it), print it (one JSON object with
// --json) and exit 3 when it did not pass.
func followStarted[R any](out io.Writer, wr client.WorkflowRun, ui string, wait, asJSON bool,
	follow func(progress io.Writer) (R, error), finish func(*R) error, print func(io.Writer, R), passed func(R) bool) error {
	if !wait {
		if asJSON {
			return json.NewEncoder(out).Encode(map[string]string{"workflow_id": wr.GetID(), "run_id": wr.GetRunID(), "ui_url": ui})
		}
		return nil
	}
	var progress io.Writer = out
	if asJSON {
		progress = io.Discard
	}
	res, err := follow(progress)
	if err != nil {
		return err
	}
	if err := finish(&res); err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(out, res); err != nil {
			return err
		}
	} else {
		print(out, res)
	}
	if !passed(res) {
		return &exitErr{code: exitNotPassd}
	}
	return nil
}

// parseSet reads repeated --set key=value flags.
func parseSet(kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErr("--set %q: want key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

// follow follows the run until it ends, printing each phase change; then
// returns the workflow's result.
func follow(ctx context.Context, c client.Client, wr client.WorkflowRun, out io.Writer) (experiment.Result, error) {
	printed := map[string]bool{}
	return control.Follow(ctx, c, wr, func(r experiment.Result) {
		for i, p := range r.Phases {
			key := fmt.Sprintf("%d/%s", i, p.Status)
			if printed[key] {
				continue
			}
			printed[key] = true
			at := p.Started
			if !p.Ended.IsZero() {
				at = p.Ended
			}
			fmt.Fprintf(out, "%s  %-8s %-9s %s\n", at.Local().Format("15:04:05"), p.Name, p.Status, p.Detail)
		}
	})
}

func printResult(out io.Writer, r experiment.Result) {
	fmt.Fprintf(out, "\noutcome: %s\n", r.Outcome)
	if r.Unguarded {
		fmt.Fprintln(out, "UNGUARDED: no guard watched this run; nothing aborts it on an outage")
	}
	for _, m := range r.RecoverAlarms {
		fmt.Fprintf(out, "recover alarm: %s\n", m)
	}
	if r.AbortReason != "" {
		fmt.Fprintf(out, "reason:  %s\n", r.AbortReason)
	}
	if r.Error != "" {
		fmt.Fprintf(out, "error:   %s\n", r.Error)
	}
	if len(r.Overrides) > 0 {
		fmt.Fprintln(out, "changed from the scenario:")
		for _, o := range r.Overrides {
			fmt.Fprintf(out, "  - %s\n", o)
		}
	}
	if len(r.RequiredRoles) > 0 {
		fmt.Fprintln(out, "sign-off:")
		for _, role := range r.RequiredRoles {
			state := "pending"
			s, signed := r.SignoffFor(role)
			if signed {
				state = map[bool]string{true: "approved by ", false: "rejected by "}[s.Approved] + s.User
			}
			if !signed && r.Signers != nil {
				may := strings.Join(r.MaySign(role), ", ")
				if may == "" {
					may = "nobody"
				}
				state += " (" + may + " may sign)"
			}
			fmt.Fprintf(out, "  - %s: %s\n", role, state)
		}
		if r.DistinctSigners {
			fmt.Fprintln(out, "  (distinct users must sign distinct roles)")
		}
	}
	if len(r.Targets) > 0 {
		fmt.Fprintln(out, "targets:")
		for _, t := range r.Targets {
			fmt.Fprintf(out, "  - %s\n", t)
		}
	}
	if len(r.Baseline) > 0 {
		fmt.Fprintln(out, "baseline:")
		for _, g := range r.Baseline {
			fmt.Fprintf(out, "  - %s = %s (healthy: %t)\n", g.Guard, g.Reading(), g.Healthy)
		}
	}
	if b := r.Breach; b != nil {
		fmt.Fprintf(out, "breach:  %s at %s\n", b.String(), b.At.Local().Format(time.TimeOnly))
	}
	printControl(out, r) // pauses and notes
	if len(r.Injected) > 0 {
		fmt.Fprintf(out, "injected:  %s\nrecovered: %s\n", strings.Join(r.Injected, ", "), strings.Join(r.Recovered, ", "))
		// What the back-end saw while recovering, e.g. how long the owner
		// of killed pods took to be Ready again.
		for _, f := range r.RecoverLog {
			if f.Detail != "" {
				fmt.Fprintf(out, "  %s: %s\n", f.FaultID, f.Detail)
			}
		}
	}
	if g := r.Gate; g != nil {
		verdict := "PASSED"
		switch {
		case len(g.Pending) > 0:
			verdict = "PROVISIONAL (" + g.Reason + ")"
		case !g.Passed:
			verdict = "FAILED (" + g.Reason + ")"
		}
		fmt.Fprintf(out, "release gate %s: %s, score %.1f%% (threshold %.1f%%)\n", g.Checklist, verdict, g.Score, g.Threshold)
		for _, it := range g.Items {
			state := "unsigned"
			switch {
			case it.Pending:
				state = "pending: judged by its evidence after the run"
			case it.Verified:
				state = map[bool]string{true: "pass", false: "FAIL"}[it.Pass] + " by evidence"
			case it.Signed:
				state = map[bool]string{true: "pass", false: "FAIL"}[it.Pass] + " by " + it.User
			}
			blocking := ""
			if it.StrongBlocking {
				blocking = " [blocking]"
			}
			fmt.Fprintf(out, "  - %-28s %-4s %5.1f%%%s %s\n", it.ID, it.Owner, it.Weight, blocking, state)
			// What the evidence measured, so the verdict can be checked.
			for _, c := range it.Checks {
				fmt.Fprintf(out, "      %s\n        query: %s\n        window: %s to %s\n", c, c.Query, ts(c.From), ts(c.To))
			}
		}
	}
	for _, c := range r.WeightChanges {
		fmt.Fprintf(out, "weight change: %s %g%% -> %g%% (%s: %s)\n", c.ItemID, c.OldWeight, c.NewWeight, c.Rule, c.Reason)
	}
	if r.Postmortem != "" {
		fmt.Fprintf(out, "postmortem: %s\n", r.Postmortem)
	}
	if rl := r.Report; rl != nil {
		if rl.HTML != "" {
			fmt.Fprintf(out, "report: %s\n", rl.HTML)
		}
		if rl.Error != "" {
			fmt.Fprintf(out, "report problem: %s\n", rl.Error)
		}
	}
	if r.UIURL != "" {
		fmt.Fprintf(out, "ui: %s\n", r.UIURL)
	}
}

// ts is a time for the result's text: local time of day, or "-".
func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.TimeOnly)
}

// warnIfNoWorker tells the user why a run would sit still: nothing polls
// its task queue. The run still starts; a worker started later picks it up.
func warnIfNoWorker(ctx context.Context, c client.Client, queue string, errw io.Writer) {
	if control.NoWorker(ctx, c, queue) {
		fmt.Fprintf(errw, "warning: no worker is polling task queue %q; the run waits until one starts (`gameday worker`)\n", queue)
	}
}
