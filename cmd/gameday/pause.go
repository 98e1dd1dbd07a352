package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/workflows"
)

func newPauseCmd(a *app) *cobra.Command {
	var req workflows.PauseRequest
	cmd := &cobra.Command{
		Use:   "pause RUN|GAMEDAY --reason TEXT [--timeout D]",
		Short: "Pause a run (remove its faults and hold, guards still watching) or a game day",
		Long: `Pause a running experiment. Its faults are removed (an inject in flight is
settled first) and the run holds in phase paused while its guards keep
watching: a breach while paused still aborts it. ` + "`gameday resume RUN`" + ` re-injects
what was left of each fault's hold (under fresh fault ids) and goes on
observing; ` + "`gameday abort RUN`" + ` ends it. A pause nobody answers within its
timeout (--timeout, else the scenario's spec.pause_timeout, else 10m; at most
24h) aborts the run with that reason.

A run can be paused while it injects or observes, not before (nothing is
injected yet: abort it) nor after (its faults are being removed anyway).
The command answers once the pause took effect.

A game day paused holds before its next step, and passes the pause on to
its running steps (each step's answer is printed); nobody resuming within
the timeout aborts it.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if strings.TrimSpace(req.Reason) == "" {
				return usageErr("--reason is required")
			}
			if req.Timeout < 0 || (req.Timeout > 0 && req.Timeout < time.Second) || req.Timeout > workflows.MaxPauseTimeout {
				return usageErr("--timeout %s: want between 1s and %s", req.Timeout, workflows.MaxPauseTimeout)
			}
			if !cmd.Flags().Changed("by") {
				req.By = a.cfg.User
			}
			if done, err := forGameDay(cmd, a, pos[0], "pause", "paused", func(ctx context.Context, c client.Client) (workflows.GameDayResponse, error) {
				return control.PauseGameDay(ctx, c, pos[0], req)
			}); done || err != nil {
				return err
			}
			resp, err := call(cmd, a, "pause", func(ctx context.Context, c client.Client) (workflows.PauseResponse, error) {
				return control.Pause(ctx, c, pos[0], req)
			})
			if err != nil {
				return err
			}
			p := resp.Pause
			fmt.Fprintf(cmd.OutOrStdout(), "paused (phase %s): removing %s; guards watching\n", resp.Phase, idsOrNothing(p.Faults))
			fmt.Fprintf(cmd.OutOrStdout(), "%s of hold left; `gameday resume %s` or `gameday abort %s --reason ...` before %s, or the run is aborted\n",
				p.Remaining, pos[0], pos[0], p.Deadline.Local().Format(time.DateTime))
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why (recorded in the run, the postmortem and the ticket)")
	cmd.Flags().DurationVar(&req.Timeout, "timeout", 0, "abort the run if nobody resumes it within this (default: the scenario's spec.pause_timeout, else 10m)")
	cmd.Flags().StringVar(&req.By, "by", "", "who pauses (default $USER)")
	return cmd
}

func newResumeCmd(a *app) *cobra.Command {
	var req workflows.ResumeRequest
	cmd := &cobra.Command{
		Use:     "resume RUN|GAMEDAY",
		Aliases: []string{"continue"},
		Short:   "Resume a paused run (continue after a drift pause): re-inject and observe what is left",
		Long: `Resume a paused run. Once every fault removed for the pause is gone, the run
re-injects each fault for what was left of its hold, under fresh fault ids,
and observes the rest. ` + "`gameday continue RUN`" + ` is the same command: the answer a
drift pause asks for (a guard drifted from its baseline while still inside
its threshold); continuing turns that guard's drift rule off for the rest
of the run, its hard threshold still applies. A game day resumed resumes the
steps it paused and goes on with its plan.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !cmd.Flags().Changed("by") {
				req.By = a.cfg.User
			}
			if done, err := forGameDay(cmd, a, pos[0], cmd.CalledAs(), "resumed", func(ctx context.Context, c client.Client) (workflows.GameDayResponse, error) {
				return control.ResumeGameDay(ctx, c, pos[0], req)
			}); done || err != nil {
				return err
			}
			resp, err := call(cmd, a, cmd.CalledAs(), func(ctx context.Context, c client.Client) (workflows.ResumeResponse, error) {
				return control.Resume(ctx, c, pos[0], req)
			})
			if err != nil {
				return err
			}
			p := resp.Pause
			fmt.Fprintf(cmd.OutOrStdout(), "resumed after %s: re-injecting for %s of hold (faults removed for the pause: %s)\n",
				p.To.Sub(p.From).Round(time.Second), p.Remaining, idsOrNothing(p.Faults))
			return nil
		},
	}
	cmd.Flags().StringVar(&req.By, "by", "", "who resumes (default $USER)")
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why it is safe to go on (optional; recorded)")
	return cmd
}

func newNoteCmd(a *app) *cobra.Command {
	var req workflows.NoteRequest
	var action bool
	cmd := &cobra.Command{
		Use:   "note RUN|GAMEDAY TEXT [--action] [--user NAME]",
		Short: "Record an observation or action item on a run or a game day",
		Long: `Record a note on a run: what you saw, or with --action something somebody must
do afterwards. It is kept with its author and time and shown by
` + "`gameday status`" + `, in the run's Slack thread, the postmortem and the ticket.
Notes are taken in any phase until the run's report starts. A game day takes
notes until it ends, shown by its status.`,
		Args: args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			req.Text = strings.TrimSpace(pos[1])
			if req.Text == "" {
				return usageErr("the note's text is empty")
			}
			if n := utf8.RuneCountInString(req.Text); n > experiment.MaxNoteLength {
				return usageErr("a note is at most %d characters; this one has %d", experiment.MaxNoteLength, n)
			}
			if !cmd.Flags().Changed("user") {
				req.By = a.cfg.User
			}
			if strings.TrimSpace(req.By) == "" {
				return usageErr("--user is required ($USER is not set)")
			}
			if action {
				req.Kind = experiment.NoteAction
			}
			resp, err := call(cmd, a, "note", func(ctx context.Context, c client.Client) (workflows.NoteResponse, error) {
				return control.Note(ctx, c, pos[0], req)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "noted (%d so far): %s\n", resp.Notes, resp.Note)
			return nil
		},
	}
	cmd.Flags().BoolVar(&action, "action", false, "an action item (something to do afterwards), not an observation")
	cmd.Flags().StringVar(&req.By, "user", "", "author (default $USER)")
	return cmd
}

// call dials Temporal, sends one request and says whose refusal an error is.
func call[T any](cmd *cobra.Command, a *app, what string, send func(context.Context, client.Client) (T, error)) (T, error) {
	var zero T
	c, err := a.dial(cmd.Context(), nil)
	if err != nil {
		return zero, err
	}
	defer c.Close()
	resp, err := send(cmd.Context(), c)
	if err != nil {
		return zero, fmt.Errorf("%s refused: %w", what, err)
	}
	return resp, nil
}

func idsOrNothing(ids []string) string {
	if len(ids) == 0 {
		return "nothing (no fault injected yet)"
	}
	return strings.Join(ids, ", ")
}

// printControl prints a run's pauses and notes (status, run --wait), and
// what a paused run is waiting for.
func printControl(out io.Writer, r experiment.Result) {
	if p, ok := r.CurrentPause(); ok && !r.Finished() {
		what := "PAUSED"
		if p.Drift {
			what = "PAUSED BY THE DRIFT RULE"
		}
		fmt.Fprintf(out, "%s: %s\n  `gameday resume %s` (continue) or `gameday abort %s --reason ...` before %s, or the run is aborted\n",
			what, p.Reason, r.WorkflowID, r.WorkflowID, p.Deadline.Local().Format(time.DateTime))
	}
	if len(r.DriftBaselines) > 0 {
		fmt.Fprintln(out, "drift rules:")
		for _, d := range r.DriftBaselines {
			fmt.Fprintf(out, "  - %s\n", d)
		}
	}
	if len(r.Pauses) > 0 {
		fmt.Fprintln(out, "pauses:")
		for _, p := range r.Pauses {
			fmt.Fprintf(out, "  - %s\n", p)
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(out, "notes:")
		for _, n := range r.Notes {
			fmt.Fprintf(out, "  - %s\n", n)
		}
	}
}
