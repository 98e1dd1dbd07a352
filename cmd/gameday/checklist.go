package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/config"
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
			var st workflows.ChecklistState
			v, err := c.QueryWorkflow(cmd.Context(), workflows.ChecklistWorkflowID(cl.Metadata.Name), "", workflows.QueryChecklistState)
			var nf *serviceerror.NotFound
			switch {
			case errors.As(err, &nf):
				st = workflows.ChecklistState{Checklist: cl.Metadata.Name, Items: checklist.NewState(cl, time.Now()), AsOf: time.Now()}
				fmt.Fprintln(cmd.ErrOrStderr(), "no run has recorded results yet: weights as in the checklist file")
			case err != nil:
				return fmt.Errorf("query checklist %s: %w", cl.Metadata.Name, err)
			default:
				if err := v.Get(&st); err != nil {
					return err
				}
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
			cfg := a.cfg
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			id, created, err := ensureChecklistSchedule(cmd.Context(), c, cfg, cl, every)
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

// ensureChecklistSchedule creates the quarterly review, or updates its
// interval and checklist when it exists: running it twice is safe.
func ensureChecklistSchedule(ctx context.Context, c client.Client, cfg config.Config, cl checklist.Checklist, every time.Duration) (string, bool, error) {
	id := workflows.ChecklistScheduleID(cl.Metadata.Name)
	return ensureSchedule(ctx, c, id, every, &client.ScheduleWorkflowAction{
		ID:        id + "-review",
		Workflow:  workflows.ChecklistQuarterlyWorkflowName,
		Args:      []any{workflows.QuarterlyInput{Checklist: cl}},
		TaskQueue: cfg.TaskQueue,
	})
}

// ensureSchedule creates a Schedule running action every interval, or
// updates the interval and action of the existing one: idempotent.
func ensureSchedule(ctx context.Context, c client.Client, id string, every time.Duration, action *client.ScheduleWorkflowAction) (string, bool, error) {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: id, Spec: spec, Action: action})
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		var exists *serviceerror.AlreadyExists
		if !errors.As(err, &exists) {
			return id, false, fmt.Errorf("create schedule %s: %w", id, err)
		}
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		in.Description.Schedule.Spec = &spec
		in.Description.Schedule.Action = action
		return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
	}})
	if err != nil {
		return id, false, fmt.Errorf("update schedule %s: %w", id, err)
	}
	return id, false, nil
}

func printChecklistState(out io.Writer, cl checklist.Checklist, st workflows.ChecklistState) {
	fmt.Fprintf(out, "checklist %s: %d run(s) recorded, threshold %g%%\n\n", st.Checklist, st.Runs, cl.Spec.Threshold)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tOWNER\tWEIGHT\tBLOCKING\tPASS STREAK\tLAST FAULT\tALERTING RELEASES")
	owner := map[string]string{}
	for _, it := range cl.Spec.Items {
		owner[it.ID] = it.Owner
	}
	for _, it := range st.Items {
		last := "never"
		if !it.LastFault.IsZero() {
			last = it.LastFault.UTC().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%g%%\t%t\t%d\t%s\t%d\n", it.ItemID, owner[it.ItemID], it.Weight, it.StrongBlocking, it.ConsecutivePasses, last, len(it.AlertReleases))
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
