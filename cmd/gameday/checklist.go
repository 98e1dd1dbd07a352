package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/workflows"
)

// quarter is the seed's review period for checklist weights.
const quarter = 91 * 24 * time.Hour

func newChecklistCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checklist",
		Short: "Release checklists: list, validate, show learned weights, schedule the quarterly review",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the checklists built into this binary",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := checklists.Catalog()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tITEMS\tTHRESHOLD\tDESCRIPTION")
			for _, c := range all {
				fmt.Fprintf(tw, "%s\t%d\t%g%%\t%s\n", c.Metadata.Name, len(c.Spec.Items), c.Spec.Threshold, firstLine(c.Metadata.Description))
			}
			return tw.Flush()
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE...",
		Short: "Validate checklist files; errors name the file, line and field",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			return validateFiles(cmd, files, func(f string) (string, error) {
				c, err := checklists.Load(f)
				return fmt.Sprintf("%s, %d item(s)", c.Metadata.Name, len(c.Spec.Items)), err
			})
		},
	})
	var asJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a checklist's current weights, the audit trail of changes and pending changes",
		Long: `Show a checklist's learned state (a query on its entity workflow): each item's
weight, strong-blocking flag, pass streak, last fault and alerting releases;
every weight change so far with the rule that made it; and the changes the
rule would make if evaluated now. Before any run recorded results, shows the
weights from the checklist file.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			cl, err := checklists.Find(pos[0])
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			st, recorded, err := control.ChecklistState(cmd.Context(), c, cl)
			if err != nil {
				return err
			}
			if !recorded {
				fmt.Fprintln(cmd.ErrOrStderr(), "no run has recorded results yet: weights as in the checklist file")
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printChecklistState(cmd.OutOrStdout(), cl, st)
			return nil
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(show)

	var every time.Duration
	sched := &cobra.Command{
		Use:   "schedule NAME",
		Short: "Create (or update) the Temporal Schedule that reviews a checklist's weights every quarter",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			cl, err := checklists.Find(pos[0])
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			id, created, err := control.EnsureChecklistSchedule(cmd.Context(), c, a.cfg.TaskQueue, cl, every)
			if err != nil {
				return err
			}
			verb := "updated"
			if created {
				verb = "created"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "schedule %s %s: reviews checklist %s every %s\n", id, verb, cl.Metadata.Name, every)
			return nil
		},
	}
	sched.Flags().DurationVar(&every, "every", quarter, "review interval (a quarter by default)")
	cmd.AddCommand(sched)
	return cmd
}

func printChecklistState(out io.Writer, cl checklist.Checklist, st workflows.ChecklistState) {
	fmt.Fprintf(out, "checklist %s: %d run(s) recorded, threshold %g%%\n\n", st.Checklist, st.Runs, cl.Spec.Threshold)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tOWNER\tVERDICT BY\tWEIGHT\tBLOCKING\tPASSED\tFAILED\tPASS STREAK\tLAST FAULT\tALERTING RELEASES")
	owner := map[string]string{}
	by := map[string]string{}
	for _, it := range cl.Spec.Items {
		owner[it.ID] = it.Owner
		by[it.ID] = "signature"
		if it.Verified() {
			by[it.ID] = "evidence"
		}
	}
	for _, it := range st.Items {
		last := "never"
		if !it.LastFault.IsZero() {
			last = it.LastFault.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%g%%\t%t\t%d\t%d\t%d\t%s\t%d\n", it.ItemID, owner[it.ItemID], by[it.ItemID], it.Weight, it.StrongBlocking, it.Passed, it.Failed, it.ConsecutivePasses, last, len(it.AlertReleases))
	}
	_ = tw.Flush()
	printChanges(out, "history", st.Audit)
	printChanges(out, "pending (if evaluated now)", st.Pending)
}

func printChanges(out io.Writer, title string, cs []checklist.Change) {
	fmt.Fprintf(out, "\n%s:\n", title)
	if len(cs) == 0 {
		fmt.Fprintln(out, "  none")
	}
	for _, c := range cs {
		fmt.Fprintf(out, "  %s  %s %g%% -> %g%%  blocking %t -> %t  [%s] %s\n", c.At.UTC().Format(time.DateOnly), c.ItemID, c.OldWeight, c.NewWeight, c.OldBlocking, c.NewBlocking, c.Rule, c.Reason)
	}
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
