package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/killswitch"
	"github.com/gameday/gameday/workflows"
)

func newSignoffCmd(a *app) *cobra.Command {
	var req workflows.SignoffRequest
	var items []string
	cmd := &cobra.Command{
		Use:   "signoff RUN --role ROLE --user NAME [--item ID=pass|fail[@EVIDENCE]]... [--reject --reason TEXT]",
		Short: "Sign off (or reject) a run waiting at its sign-off gate",
		Long: `Sign a run's checklist for one role (dev, test or sre). The workflow
validates the request and rejects, with a reason, a role the scenario does not
require, a role already signed, or a gate that is closed. With a checklist,
each role signs all of its own items at once, for example:

  gameday signoff RUN --role sre --user sam \
    --item kafka-isr-stable=pass@https://grafana/d/isr \
    --item consumer-offset-delta=fail@https://ci/run/812

The user must hold the role in the worker's role map (GAMEDAY_ROLES on the
worker, not on this machine): an empty map means nobody can sign. Where the
worker requires distinct signers (GAMEDAY_DISTINCT_SIGNERS, production by
default), one user cannot sign two roles of one run. ` + "`gameday status RUN`" + `
shows who may sign each pending role.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if req.Role == "" || req.User == "" {
				return usageErr("--role and --user are required")
			}
			if req.Reject && strings.TrimSpace(req.Reason) == "" {
				return usageErr("--reject needs --reason")
			}
			for _, it := range items {
				is, err := parseItem(it)
				if err != nil {
					return usageErr("--item %q: %v", it, err)
				}
				req.Items = append(req.Items, is)
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := control.Signoff(cmd.Context(), c, pos[0], req)
			if err != nil {
				return fmt.Errorf("sign-off refused: %w", err)
			}
			if req.Reject {
				fmt.Fprintf(cmd.OutOrStdout(), "%s rejected as %s; the run ends aborted without injecting\n", req.User, req.Role)
				return nil
			}
			pending := "none: the gate is open, injecting"
			if len(resp.Pending) > 0 {
				pending = strings.Join(resp.Pending, ", ")
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s signed as %s; pending: %s\n", req.User, req.Role, pending)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Role, "role", "", "role to sign for: dev, test or sre")
	cmd.Flags().StringVar(&req.User, "user", "", "who signs")
	cmd.Flags().BoolVar(&req.Reject, "reject", false, "reject instead of approving (ends the run as aborted)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "reason (required with --reject)")
	cmd.Flags().StringArrayVar(&items, "item", nil, "checklist verdict ID=pass|fail[@EVIDENCE-LINK] (repeat for each of the role's items)")
	return cmd
}

// parseItem reads ID=pass|fail[@EVIDENCE].
func parseItem(s string) (workflows.ItemSign, error) {
	id, rest, ok := strings.Cut(s, "=")
	if !ok || id == "" {
		return workflows.ItemSign{}, fmt.Errorf("want ID=pass|fail[@EVIDENCE]")
	}
	verdict, evidence, _ := strings.Cut(rest, "@")
	switch verdict {
	case "pass":
		return workflows.ItemSign{ID: id, Pass: true, Evidence: evidence}, nil
	case "fail":
		return workflows.ItemSign{ID: id, Pass: false, Evidence: evidence}, nil
	}
	return workflows.ItemSign{}, fmt.Errorf("verdict %q is not pass or fail", verdict)
}

func newAbortCmd(a *app) *cobra.Command {
	var req workflows.AbortRequest
	var all bool
	cmd := &cobra.Command{
		Use:   "abort RUN|GAMEDAY --reason TEXT | abort --all --reason TEXT",
		Short: "Abort a run or a game day now (or every running one: --all); whatever was injected is removed",
		Long: `Abort a run or a game day now: its faults are removed and it ends aborted with
the reason (a game day passes the abort on to its running steps).

--all is the kill switch's other half: every running experiment and game day
on this task queue (GAMEDAY_TASK_QUEUE) gets the abort update at once, and the
answer of each is printed: aborted (in which phase), refused with the
workflow's reason (already recovering, say), or aborted with its game day (a
game day's steps; refused when their game day refused the abort or they
refused what it passed on). To keep new runs from starting too, ` + "`gameday freeze on`" + `.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if strings.TrimSpace(req.Reason) == "" {
				return usageErr("--reason is required")
			}
			if all == (len(pos) == 1) {
				return usageErr("give a RUN or --all, not both or neither")
			}
			if !cmd.Flags().Changed("by") {
				req.By = a.cfg.User
			}
			if all {
				return abortAll(cmd.Context(), a, cmd.OutOrStdout(), req.Reason, req.By)
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := control.Abort(cmd.Context(), c, pos[0], req)
			if err != nil {
				return fmt.Errorf("abort refused: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "abort accepted during %s; recovering\n", resp.Phase)
			// A game day passes the abort on to its running steps.
			printForwarded(cmd.OutOrStdout(), resp.Steps)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why (recorded in the run and the postmortem)")
	cmd.Flags().StringVar(&req.By, "by", "", "who aborts (default $USER)")
	cmd.Flags().BoolVar(&all, "all", false, "abort every running experiment and game day of the task queue")
	return cmd
}

func newStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [RUN|GAMEDAY]",
		Short: "Show the live state of a run or a game day (a Temporal query), or the kill switch and the runs going",
		Long: `With RUN or GAMEDAY, its live state (a Temporal query). Without, the kill
switch and the experiments and game days running on this task queue. Either
way a first line says so while the kill switch is on (gameday freeze).`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			if len(pos) == 0 {
				st, err := control.KillSwitch(cmd.Context(), c, a.cfg.TaskQueue)
				if err != nil {
					return err
				}
				runs, err := control.RunningRuns(cmd.Context(), c, killswitch.Filter{TaskQueue: a.cfg.TaskQueue})
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(out, map[string]any{"killswitch": st, "running": runs})
				}
				printSwitch(out, st)
				fmt.Fprintf(out, "%d run(s) going on task queue %s\n", len(runs), a.cfg.TaskQueue)
				for _, r := range runs {
					fmt.Fprintf(out, "  %s (%s)\n", r.WorkflowID, r.Type)
				}
				return nil
			}
			if typ, err := control.WorkflowType(cmd.Context(), c, pos[0]); err == nil && typ == workflows.GameDayWorkflowName {
				if !asJSON {
					freezeBanner(cmd.Context(), out, c, a.cfg.TaskQueue)
				}
				return showGameDay(cmd.Context(), out, c, pos[0], asJSON)
			}
			r, err := control.Status(cmd.Context(), c, pos[0])
			if err != nil {
				return fmt.Errorf("status of %s: %w", pos[0], err)
			}
			if asJSON {
				return writeJSON(out, r)
			}
			freezeBanner(cmd.Context(), out, c, a.cfg.TaskQueue)
			fmt.Fprintf(out, "%s: %s on %s, phase %s\n", r.WorkflowID, r.Scenario, r.Service, r.Phase)
			for _, p := range r.Phases {
				fmt.Fprintf(out, "  %-8s %-9s %s\n", p.Name, p.Status, p.Detail)
			}
			printResult(out, r)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
