package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/schedules"
)

func newScheduleCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Schedules files: when scenarios run by themselves, and the blackout windows in which none may",
		Long: `A schedules file (apiVersion gameday/v1, kind Schedules) says when scenarios
run by themselves (cron or an interval, time zone, jitter, overlap, catch-up
window, pause on failure) and the blackout windows in which none of them may.
Its metadata.name is the set: apply manages exactly the Temporal Schedules of
that set (ids gameday-schedule.SET.NAME and gameday-blackout.SET.WINDOW, memo
gameday.schedules=SET) and never touches any other schedule, gameday's own
gameday-sweep and checklist reviews included.

schedules/seed.yaml is the seed's cadence; schedules/demo.yaml is what
` + "`make run`" + ` applies to the demo shop.`,
	}
	cmd.AddCommand(newScheduleApplyCmd(a), newScheduleListCmd(a), newScheduleTriggerCmd(a),
		newSchedulePauseCmd(a, true), newSchedulePauseCmd(a, false), newScheduleDeleteCmd(a), newScheduleValidateCmd())
	return cmd
}

func newScheduleApplyCmd(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply FILE|NAME [--dry-run]",
		Short: "Make the set's Temporal Schedules match a schedules file (create, update, delete only its own)",
		Long: `Make the Temporal Schedules of the file's set match the file: create what is
new, update what changed, delete what the file no longer has; schedules the set
does not own are never touched (a file entry whose id another schedule has is
refused before anything changes). Running it twice changes nothing the second
time ("3 unchanged").

Each run a schedule starts is prepared now, exactly as ` + "`gameday run`" + ` prepares
it (scenario, overrides, checklist with the weights learned so far); apply
again to pick up a changed catalog or new weights. The pause state is the
file's when a schedule is created and whenever the file's paused/note change;
otherwise a schedule paused by hand (or on failure) stays paused.

Exit codes: 0 applied (or nothing to change), 3 --dry-run found changes to
make, 1 error, 2 usage.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			f, src, err := schedules.Open(pos[0])
			if err != nil {
				return err
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			l := control.Launcher{Client: c, Config: a.cfg}
			res, err := l.ApplySchedules(cmd.Context(), f, src, dryRun)
			if res.Plan != nil {
				printPlan(cmd.OutOrStdout(), src.File, a.cfg.TaskQueue, res)
			}
			if err != nil {
				return err
			}
			if dryRun && schedules.Changed(res.Plan) {
				return &exitErr{code: exitNotPassd}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change, change nothing (exit 3 when something would)")
	return cmd
}

// printPlan prints one line per schedule and the summary.
func printPlan(out io.Writer, file, queue string, res control.Applied) {
	fmt.Fprintf(out, "schedules %s (%s), task queue %s:\n", res.Set, file, queue)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, ch := range res.Plan {
		detail := res.What[ch.ID]
		if len(ch.Why) > 0 {
			if detail != "" {
				detail += " "
			}
			detail += "(" + strings.Join(ch.Why, "; ") + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", ch.Verb, ch.ID, detail)
	}
	_ = tw.Flush()
	switch {
	case res.DryRun && schedules.Changed(res.Plan):
		fmt.Fprintf(out, "dry run, nothing changed; apply would leave: %s\n", schedules.Summary(res.Plan))
	case res.DryRun:
		fmt.Fprintf(out, "dry run: nothing to change (%s)\n", schedules.Summary(res.Plan))
	case !schedules.Changed(res.Plan):
		fmt.Fprintf(out, "nothing to change: %s\n", schedules.Summary(res.Plan))
	default:
		fmt.Fprintf(out, "applied: %s\n", schedules.Summary(res.Plan))
	}
	for _, w := range res.Aborting {
		fmt.Fprintf(out, "blackout window %s is open now: its runs still going are being aborted\n", w)
	}
}

func newScheduleListCmd(a *app) *cobra.Command {
	var set string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--set SET] [--json]",
		Short: "The schedules gameday files own: what, when, next runs, last run's outcome",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			list, err := control.ListSchedules(cmd.Context(), c, set)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			printFreezeBanner(cmd, a)
			printSchedules(cmd.OutOrStdout(), list)
			return nil
		},
	}
	cmd.Flags().StringVar(&set, "set", "", "only the schedules of this set (a schedules file's metadata.name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printSchedules(out io.Writer, list []control.ScheduleStatus) {
	if len(list) == 0 {
		fmt.Fprintln(out, "no schedules from a gameday schedules file (gameday schedule apply FILE)")
		return
	}
	for _, s := range list {
		state := "active"
		if s.Paused {
			state = "PAUSED: " + s.Note
		}
		fmt.Fprintf(out, "%s  (%s)\n", s.ID, state)
		fmt.Fprintf(out, "  what: %s\n  when: %s\n", s.What, s.When)
		if len(s.Next) > 0 {
			var next []string
			for _, t := range s.Next[:min(3, len(s.Next))] {
				next = append(next, t.Local().Format("2006-01-02 15:04:05 MST"))
			}
			if s.Paused {
				// The server lists due times whatever the pause: none of
				// them starts a run until it is unpaused.
				fmt.Fprintf(out, "  next: none while paused (due: %s)\n", strings.Join(next, ", "))
			} else {
				fmt.Fprintf(out, "  next: %s\n", strings.Join(next, ", "))
			}
		}
		if l := s.Last; l != nil {
			outcome := l.Status
			switch {
			case l.Status == "running" && l.Phase != "":
				outcome = "running, phase " + l.Phase
			case l.Outcome != "" && l.Outcome != string(experiment.Running):
				outcome = l.Outcome
			}
			if l.Reason != "" {
				outcome += ": " + l.Reason
			}
			fmt.Fprintf(out, "  last: %s at %s: %s\n", l.WorkflowID, l.At.Local().Format("2006-01-02 15:04:05"), outcome)
		} else {
			fmt.Fprintln(out, "  last: no run yet")
		}
	}
}

func newScheduleTriggerCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "trigger NAME",
		Short: "Start one run of a schedule now (SET/NAME, NAME when unique, or the schedule id)",
		Long: `Start one run of a schedule now, as if it were due: its overlap policy applies
(with skip, nothing starts while its last run still goes), and the kill switch
and its blackout windows refuse the run in define like any other.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := control.ResolveSchedule(cmd.Context(), c, pos[0])
			if err != nil {
				return err
			}
			printFreezeBanner(cmd, a)
			wid, err := control.TriggerSchedule(cmd.Context(), c, id, 15*time.Second)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "triggered %s: started %s\n  ui: %s\n  follow it: gameday status %s\n",
				id, wid, experiment.UIURL(a.cfg.UIURL, a.cfg.Namespace, wid, ""), wid)
			return nil
		},
	}
}

func newSchedulePauseCmd(a *app, pause bool) *cobra.Command {
	var note, by string
	verb := map[bool]string{true: "pause", false: "unpause"}[pause]
	cmd := &cobra.Command{
		Use:   verb + " NAME --note TEXT",
		Short: map[bool]string{true: "Pause a schedule, saying why (a later apply leaves it paused)", false: "Unpause a schedule, saying why"}[pause],
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if strings.TrimSpace(note) == "" {
				return usageErr("--note is required: say why")
			}
			if !cmd.Flags().Changed("by") {
				by = a.cfg.User
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := control.ResolveSchedule(cmd.Context(), c, pos[0])
			if err != nil {
				return err
			}
			text := note
			if by != "" {
				text = verb + "d by " + by + ": " + note
			}
			if err := control.PauseSchedule(cmd.Context(), c, id, pause, text); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%sd %s (%s)\n", verb, id, text)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why (shown by schedule list and the Temporal UI)")
	cmd.Flags().StringVar(&by, "by", "", "who (default $USER)")
	return cmd
}

func newScheduleDeleteCmd(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "delete SET [--dry-run]",
		Short: "Delete every schedule of a set (what applying an empty file would do)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			l := control.Launcher{Client: c, Config: a.cfg}
			res, err := l.DeleteScheduleSet(cmd.Context(), pos[0], dryRun)
			if err != nil {
				return err
			}
			printPlan(cmd.OutOrStdout(), "delete", a.cfg.TaskQueue, res)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be deleted")
	return cmd
}

func newScheduleValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Strictly validate schedules files (no server needed); errors name file, line and field",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			bad := 0
			for _, p := range pos {
				f, err := schedules.Load(p)
				if err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (set %s: %d schedule(s), %d blackout window(s))\n", p, f.Metadata.Name, len(f.Spec.Schedules), len(f.Spec.Blackouts))
			}
			if bad > 0 {
				return &exitErr{code: exitError, err: fmt.Errorf("%d of %d file(s) invalid", bad, len(pos))}
			}
			return nil
		},
	}
}
