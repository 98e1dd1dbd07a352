package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/workflows"
)

func newSweepCmd(a *app) *cobra.Command {
	var dryRun, asJSON bool
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Find and remove faults left behind by runs that can no longer recover them",
		Long: `Lists every fault gameday created in every back-end the worker has (toxiproxy
toxics, Kubernetes pod-kill markers and cordoned nodes, Chaos Mesh objects)
and removes those whose workflow is closed or gone, or that outlived their
own expiry, and frees the target leases of runs that are closed or gone
(a terminated run never released them). Runs as a workflow on the worker, so it uses the worker's
credentials and its result is in the Temporal UI. --dry-run only lists.

Exit status: 0 nothing orphaned (or all removed), 1 a removal failed or a
back-end could not be listed, 3 --dry-run found orphans (faults or leases).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.cfg
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			warnIfNoWorker(cmd.Context(), c, cfg.TaskQueue, cmd.ErrOrStderr())
			sw, err := control.StartSweep(cmd.Context(), c, cfg.TaskQueue, activities.SweepInput{DryRun: dryRun, Grace: grace})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s started; waiting for the worker...\n", sw.ID)
			res, err := sw.Wait(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printSweep(cmd, res)
			}
			failed := len(res.Errors)
			for _, f := range res.Faults {
				if f.Outcome == "failed" {
					failed++
				}
			}
			for _, l := range res.Leases {
				if l.Outcome == "failed" {
					failed++
				}
			}
			switch {
			case failed > 0:
				return &exitErr{code: exitError, err: fmt.Errorf("sweep: %d problem(s); see above", failed)}
			case dryRun && res.Orphans() > 0:
				return &exitErr{code: exitNotPassd, err: fmt.Errorf("sweep: %d orphaned fault(s) would be removed", res.Orphans())}
			case dryRun && res.OrphanLeases() > 0:
				return &exitErr{code: exitNotPassd, err: fmt.Errorf("sweep: the target leases of %d closed run(s) would be freed", res.OrphanLeases())}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be removed, remove nothing")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().DurationVar(&grace, "grace", activities.DefaultSweepGrace, "leave an expired fault of a running workflow alone this long past its expiry")

	var every time.Duration
	sched := &cobra.Command{
		Use:   "schedule",
		Short: "Create (or update) the Temporal Schedule that sweeps periodically",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			id, created, err := control.EnsureSweepSchedule(cmd.Context(), c, a.cfg.TaskQueue, every)
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schedule %s %s: sweeps every %s\n", id, verb, every)
			return nil
		},
	}
	sched.Flags().DurationVar(&every, "every", workflows.DefaultSweepEvery, "sweep interval")
	cmd.AddCommand(sched)
	return cmd
}

func printSweep(cmd *cobra.Command, res activities.SweepResult) {
	out := cmd.OutOrStdout()
	if len(res.Faults) == 0 {
		fmt.Fprintln(out, "no gameday faults found")
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BACKEND\tFAULT\tACTION\tOBJECT\tOUTCOME\tREASON")
		for _, f := range res.Faults {
			reason := f.Reason
			if f.Detail != "" {
				reason += " (" + f.Detail + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Backend, f.FaultID, f.Action, f.Object, f.Outcome, reason)
		}
		_ = tw.Flush()
	}
	if len(res.Leases) > 0 {
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LEASE HOLDER\tRUN\tTARGETS\tOUTCOME\tREASON")
		for _, l := range res.Leases {
			reason := l.Reason
			if l.Detail != "" {
				reason += " (" + l.Detail + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.WorkflowID, l.RunID, strings.Join(l.Keys, "; "), l.Outcome, reason)
		}
		_ = tw.Flush()
	}
	for _, e := range res.Errors {
		if rest, ok := strings.CutPrefix(e, "leases: "); ok {
			fmt.Fprintf(cmd.ErrOrStderr(), "could not list the target leases: %s\n", rest)
			continue
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "could not list back-end %s\n", e)
	}
}
