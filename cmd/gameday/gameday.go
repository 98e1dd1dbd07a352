package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	gd "github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/plans"
	"github.com/gameday/gameday/workflows"
)

func newGameDayCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gameday",
		Short: "Game days: plans of experiments run together (start, status, list, validate)",
		Long: `A game day runs a plan (apiVersion gameday/v1, kind GameDay): pre-flight
guards that must be healthy before anything starts, then experiments in order,
parallel groups started and awaited together, a pause between steps, and
on_failure: stop | continue. Every experiment is its own run (a child
workflow of the game day), listed in the Temporal UI by
GamedayGameDay="<plan>". ` + "`gameday pause|resume|note|abort|status GAMEDAY`" + `
work on a game day as on a run. README.md, "Game days", describes the plan
format.`,
	}
	cmd.AddCommand(newGameDayStartCmd(a), newGameDayStatusCmd(a), newGameDayListCmd(), newGameDayValidateCmd())
	return cmd
}

type gameDayFlags struct {
	dryRun, wait, json bool
	id, by             string
}

func newGameDayStartCmd(a *app) *cobra.Command {
	var f gameDayFlags
	cmd := &cobra.Command{
		Use:   "start FILE|NAME",
		Short: "Start a game day from a plan file or a catalog plan",
		Long: `Start a game day.

  --dry-run  run every step's experiment as a dry run: print each step's
             blast radius, then the targets define resolved and the
             pre-flight values; nothing is injected (implies --wait)
  --wait     follow the game day, printing each step as it starts and ends
  --json     print one JSON object with the final result

Exit codes: 0 every step passed (or dry run), 3 a step did not pass (or the
pre-flight refused, or the game day was aborted or cancelled), 1 error,
2 usage.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !cmd.Flags().Changed("by") {
				f.by = a.cfg.User
			}
			return startGameDay(cmd.Context(), a, cmd.OutOrStdout(), cmd.ErrOrStderr(), pos[0], f)
		},
	}
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "every step stops after define; show targets and blast radius")
	cmd.Flags().BoolVar(&f.wait, "wait", false, "follow the game day until it ends")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result as one JSON object")
	cmd.Flags().StringVar(&f.id, "id", "", "workflow id (default: gameday-day-<plan>-<time>-<random>); each step's run is <id>-<step>")
	cmd.Flags().StringVar(&f.by, "by", "", "who starts the game day (recorded in history; default $USER)")
	return cmd
}

func startGameDay(ctx context.Context, a *app, out, errw io.Writer, ref string, f gameDayFlags) error {
	if err := a.cfg.Validate(); err != nil {
		return err
	}
	// A wrong plan is reported before any connection.
	if _, _, err := plans.Find(ref); err != nil {
		return err
	}
	c, err := a.dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	l := control.Launcher{Client: c, Config: a.cfg}
	opts := control.GameDayOptions{ID: f.id, DryRun: f.dryRun, By: f.by}
	in, err := l.PrepareGameDay(ctx, ref, opts)
	if err != nil {
		return err
	}
	if f.dryRun && !f.json {
		printBlast(out, in)
	}
	if st, on := frozen(ctx, c, a.cfg.TaskQueue); on {
		fmt.Fprintf(errw, "warning: %s; the game day's steps are refused (`gameday freeze off` lifts it)\n", st.Refusal())
	}
	wr, err := l.StartGameDay(ctx, in, opts)
	if err != nil {
		return err
	}
	ui := l.UIURL(wr)
	warnIfNoWorker(ctx, c, a.cfg.TaskQueue, errw)
	if !f.json {
		fmt.Fprintf(out, "started game day %s (run %s)\n  %s\n  runs: GamedayGameDay=%q\n  ui: %s\n", wr.GetID(), wr.GetRunID(), control.GameDaySummary(in), in.Plan.Metadata.Name, ui)
	}
	return followStarted(out, wr, ui, f.wait || f.dryRun, f.json,
		func(progress io.Writer) (gd.Result, error) { return followGameDay(ctx, c, wr, progress) },
		func(r *gd.Result) error {
			if r.UIURL == "" {
				r.UIURL = ui
			}
			return nil
		},
		printGameDay,
		func(r gd.Result) bool { return r.Outcome == experiment.Passed || r.Outcome == experiment.DryRun })
}

// printBlast shows, before anything runs, what each step would act on.
func printBlast(out io.Writer, in workflows.GameDayInput) {
	fmt.Fprintf(out, "dry run of game day %s: every step stops after define, nothing is injected\n", in.Plan.Metadata.Name)
	for i, st := range in.Stages {
		for _, s := range st.Steps {
			sc := s.Experiment.Scenario
			name := s.Name
			if st.Group {
				name = st.Name + " / " + s.Name
			}
			fmt.Fprintf(out, "  %d. %s: %s\n     blast radius: %s\n", i+1, name, sc.Metadata.Name, gd.Blast(sc.Spec.Target, len(sc.Spec.Faults), sc.HoldDuration()))
		}
	}
}

// followGameDay follows a game day, printing the pre-flight, each step as
// it starts and ends, and each pause and note as they come.
func followGameDay(ctx context.Context, c client.Client, wr client.WorkflowRun, out io.Writer) (gd.Result, error) {
	printed := map[string]bool{}
	once := func(key string, at time.Time, format string, args ...any) {
		if printed[key] {
			return
		}
		printed[key] = true
		line := fmt.Sprintf("%s  "+format, append([]any{at.Local().Format("15:04:05")}, args...)...)
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	return control.FollowGameDay(ctx, c, wr, func(r gd.Result) {
		if len(r.Preflight) > 0 {
			once("preflight", r.Started, "pre-flight  %s", readings(r.Preflight))
		}
		for i, p := range r.Pauses {
			once(fmt.Sprintf("pause/%d", i), p.From, "paused by %s: %s", p.By, p.Reason)
			if p.Ended != "" {
				once(fmt.Sprintf("pause/%d/end", i), p.To, "pause %s %s", p.Ended, p.EndedBy)
			}
		}
		for i, n := range r.Notes {
			once(fmt.Sprintf("note/%d", i), n.At, "note (%s) by %s: %s", n.Kind, n.By, n.Text)
		}
		for _, s := range r.Steps {
			switch s.Status {
			case gd.StepRunning:
				once("step/"+s.Name+"/run", s.Started, "step %-24s started  %s", stepName(s), s.WorkflowID)
			case gd.StepDone:
				once("step/"+s.Name+"/run", s.Started, "step %-24s started  %s", stepName(s), s.WorkflowID)
				once("step/"+s.Name+"/done", s.Ended, "step %-24s %-8s %s", stepName(s), verdict(s), s.Reason)
			case gd.StepSkipped:
				once("step/"+s.Name+"/skip", time.Now(), "step %-24s skipped  %s", stepName(s), s.Reason)
			}
		}
	})
}

func stepName(s gd.StepResult) string {
	if s.Group != "" {
		return s.Group + "/" + s.Name
	}
	return s.Name
}

func verdict(s gd.StepResult) string {
	switch {
	case s.Status != gd.StepDone:
		return s.Status
	case s.Passed:
		return string(s.Outcome)
	case s.Outcome == "":
		return "failed"
	}
	return string(s.Outcome)
}

func readings(vals []experiment.GuardValue) string {
	var out []string
	for _, v := range vals {
		state := "healthy"
		if !v.Healthy {
			state = "UNHEALTHY"
		}
		out = append(out, fmt.Sprintf("%s = %s (%s)", v.Guard, v.Reading(), state))
	}
	return strings.Join(out, ", ")
}

// printGameDay prints a game day's state: its outcome, each step with its
// run, targets and blast radius, the pauses and notes.
func printGameDay(out io.Writer, r gd.Result) {
	passed, notPassed, skipped, open := r.Counts()
	fmt.Fprintf(out, "\ngame day %s: plan %s", r.WorkflowID, r.Plan)
	if r.Environment != "" {
		fmt.Fprintf(out, " in %s", r.Environment)
	}
	fmt.Fprintf(out, "\noutcome: %s (%d passed, %d not passed, %d skipped, %d to go)\n", r.Outcome, passed, notPassed, skipped, open)
	if r.Reason != "" {
		fmt.Fprintf(out, "reason:  %s\n", r.Reason)
	}
	pp := r.People
	fmt.Fprintf(out, "people:  owner %s", pp.Owner)
	for _, x := range []struct{ role, who string }{{"coordinator", pp.Coordinator}, {"reporter", pp.Reporter}} {
		if x.who != "" {
			fmt.Fprintf(out, ", %s %s", x.role, x.who)
		}
	}
	if len(pp.Observers) > 0 {
		fmt.Fprintf(out, ", observers %s", strings.Join(pp.Observers, ", "))
	}
	fmt.Fprintln(out)
	if len(r.Preflight) > 0 {
		fmt.Fprintf(out, "pre-flight: %s\n", readings(r.Preflight))
	}
	if p, paused := r.Paused(); paused {
		fmt.Fprintf(out, "PAUSED by %s since %s: %s\n", p.By, p.From.Local().Format(time.TimeOnly), p.Reason)
	}
	fmt.Fprintln(out, "steps:")
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, s := range r.Steps {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", s.Stage+1, stepName(s), s.Scenario, verdict(s), s.WorkflowID)
	}
	_ = tw.Flush()
	for _, s := range r.Steps {
		var lines []string
		if s.Reason != "" && s.Status != gd.StepSkipped {
			lines = append(lines, "reason: "+s.Reason)
		}
		if r.DryRun || len(s.Targets) > 0 {
			lines = append(lines, "blast radius: "+s.Blast)
			for _, t := range s.Targets {
				lines = append(lines, "target: "+t)
			}
		}
		if len(s.Gated) > 0 {
			lines = append(lines, "sign-off gate: "+strings.Join(s.Gated, ", ")+" (gameday signoff "+s.WorkflowID+" ...)")
		}
		for _, o := range s.Overrides {
			lines = append(lines, "changed: "+o.String())
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(out, "  %s:\n", stepName(s))
		for _, l := range lines {
			fmt.Fprintf(out, "    %s\n", l)
		}
	}
	for _, p := range r.Pauses {
		fmt.Fprintf(out, "pause: %s by %s (%s)", p.From.Local().Format(time.TimeOnly), p.By, p.Reason)
		if p.Ended != "" {
			fmt.Fprintf(out, ", %s %s at %s", p.Ended, p.EndedBy, p.To.Local().Format(time.TimeOnly))
		}
		fmt.Fprintln(out)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(out, "note: %s %s (%s): %s\n", n.At.Local().Format(time.TimeOnly), n.By, n.Kind, n.Text)
	}
	if r.Report != nil {
		if r.Report.HTML != "" {
			fmt.Fprintf(out, "report: %s\n", r.Report.HTML)
		}
		if r.Report.Error != "" {
			fmt.Fprintf(out, "report: not written in full: %s\n", r.Report.Error)
		}
	}
	if r.UIURL != "" {
		fmt.Fprintf(out, "ui: %s\n", r.UIURL)
	}
}

func newGameDayStatusCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status GAMEDAY",
		Short: "Show the live state of a game day (a Temporal query)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			return a.withClient(cmd.Context(), func(c client.Client) error {
				return showGameDay(cmd.Context(), cmd.OutOrStdout(), c, pos[0], asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func showGameDay(ctx context.Context, out io.Writer, c client.Client, id string, asJSON bool) error {
	r, err := control.GameDayStatus(ctx, c, id)
	if err != nil {
		return fmt.Errorf("status of game day %s: %w", id, err)
	}
	if asJSON {
		return writeJSON(out, r)
	}
	printGameDay(out, r)
	return nil
}

func newGameDayListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the game-day plans built into this binary",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := plans.Catalog()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tENVIRONMENT\tSTEPS\tEXPERIMENTS\tPRE-FLIGHT\tON FAILURE\tOWNER")
			for _, p := range all {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", p.Metadata.Name, p.Spec.Environment, len(p.Spec.Steps), p.Experiments(), len(p.Spec.Preflight), p.Spec.OnFailure, p.Spec.People.Owner)
			}
			return tw.Flush()
		},
	}
}

func newGameDayValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE|NAME...",
		Short: "Validate game-day plan files or catalog plans (and every scenario they name); errors name the file, line and field",
		Args:  args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, files []string) error {
			return validateFiles(cmd, files, func(f string) (string, error) {
				p, _, err := plans.Find(f) // a file, or a catalog plan's name as start takes it
				return fmt.Sprintf("%s in %s, %d step(s), %d experiment(s)", p.Metadata.Name, p.Spec.Environment, len(p.Spec.Steps), p.Experiments()), err
			})
		},
	}
}

// forGameDay sends a pause or resume to id when id is a game day, and
// prints where the plan stands and what each running step answered; it
// reports whether id was a game day (else the caller sends the run its own).
func forGameDay(cmd *cobra.Command, a *app, id, what, done string, send func(context.Context, client.Client) (workflows.GameDayResponse, error)) (bool, error) {
	handled := false
	err := a.withClient(cmd.Context(), func(c client.Client) error {
		if typ, err := control.WorkflowType(cmd.Context(), c, id); err != nil || typ != workflows.GameDayWorkflowName {
			return nil // a run, or nothing: the run's command says which
		}
		handled = true
		resp, err := send(cmd.Context(), c)
		if err != nil {
			return fmt.Errorf("%s refused: %w", what, err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "game day %s (%s)\n", done, resp.Where)
		printForwarded(cmd.OutOrStdout(), resp.Steps)
		return nil
	})
	return handled, err
}

// printForwarded prints what each running step answered to a message the
// game day passed on.
func printForwarded(out io.Writer, fw []gd.Forwarded) {
	for _, f := range fw {
		fmt.Fprintf(out, "  step %s\n", f)
	}
}
