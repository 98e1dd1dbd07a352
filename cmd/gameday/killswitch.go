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
	"github.com/gameday/gameday/killswitch"
)

func newFreezeCmd(a *app) *cobra.Command {
	var req killswitch.Request
	cmd := &cobra.Command{
		Use:   "freeze on|off|status --reason TEXT [--user NAME]",
		Short: "The kill switch: while frozen, every new run is refused in define and schedules' runs are skipped",
		Long: `Turn the kill switch on or off, or show it. While it is on, every new run on
this task queue (GAMEDAY_TASK_QUEUE) is refused in define, before anything is
looked at, with "frozen by USER at TIME: REASON": runs started by hand, from
Slack and by schedules alike (a schedule's run appears, refused, and pauses
nothing). Runs already going are not touched: ` + "`gameday abort --all`" + ` stops them.
With no worker polling the task queue the switch cannot turn (a worker runs
it) and the command says so at once.

The switch is a Temporal workflow (gameday-killswitch-<task queue>): it
survives restarts of the server and the workers. ` + "`gameday status`" + ` and the Slack
run message show it while it is on.`,
		Args:      args(cobra.ExactArgs(1)),
		ValidArgs: []string{"on", "off", "status"},
		RunE: func(cmd *cobra.Command, pos []string) error {
			switch pos[0] {
			case "on", "off":
				req.On = pos[0] == "on"
			case "status":
			default:
				return usageErr("freeze %s: want on, off or status", pos[0])
			}
			if pos[0] != "status" && strings.TrimSpace(req.Reason) == "" {
				return usageErr("--reason is required: say why")
			}
			if !cmd.Flags().Changed("user") {
				req.By = a.cfg.User
			}
			c, err := a.dial(cmd.Context(), nil)
			if err != nil {
				return err
			}
			defer c.Close()
			out := cmd.OutOrStdout()
			if pos[0] == "status" {
				// The state is read by a query, which a worker answers: with
				// none, it would wait for ever.
				ctx, cancel := context.WithTimeout(cmd.Context(), 20*time.Second)
				defer cancel()
				st, err := control.KillSwitch(ctx, c, a.cfg.TaskQueue)
				if err != nil {
					if control.NoWorker(cmd.Context(), c, a.cfg.TaskQueue) {
						return fmt.Errorf("read the kill switch: no worker polls task queue %s (a query needs one; start `gameday worker`): %w", a.cfg.TaskQueue, err)
					}
					return err
				}
				printSwitch(out, st)
				return nil
			}
			st, err := control.Freeze(cmd.Context(), c, a.cfg.TaskQueue, req)
			if err != nil {
				return fmt.Errorf("freeze %s refused: %w", pos[0], err)
			}
			printSwitch(out, st)
			if st.Frozen {
				fmt.Fprintln(out, "runs already going go on: `gameday abort --all --reason ...` stops them")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Reason, "reason", "", "why (shown in every refusal)")
	cmd.Flags().StringVar(&req.By, "user", "", "who freezes or unfreezes (default $USER)")
	return cmd
}

func printSwitch(out io.Writer, st killswitch.State) {
	if st.Frozen {
		fmt.Fprintf(out, "FROZEN: %s\n", st.Refusal())
	} else {
		fmt.Fprintln(out, "not frozen: new runs start")
	}
	if n := len(st.History); n > 0 {
		c := st.History[n-1]
		verb := map[bool]string{true: "froze", false: "unfroze"}[c.On]
		fmt.Fprintf(out, "last change: %s %s at %s: %s\n", c.By, verb, c.At.Local().Format(time.DateTime), c.Reason)
	}
}

// bannerTimeout bounds the kill switch read of commands that only show it:
// with no worker polling the task queue a query waits for one, and the
// command's own answer matters more.
const bannerTimeout = 3 * time.Second

// frozen reads the kill switch for a banner or a warning: false when off
// or when it cannot be read in time.
func frozen(ctx context.Context, c client.Client, taskQueue string) (killswitch.State, bool) {
	ctx, cancel := context.WithTimeout(ctx, bannerTimeout)
	defer cancel()
	st, err := control.KillSwitch(ctx, c, taskQueue)
	return st, err == nil && st.Frozen
}

// freezeBanner prints the kill switch's line when it is on.
func freezeBanner(ctx context.Context, out io.Writer, c client.Client, taskQueue string) {
	if st, on := frozen(ctx, c, taskQueue); on {
		fmt.Fprintln(out, st.Banner())
	}
}

// printFreezeBanner is freezeBanner with its own connection, for commands
// that dial later or not at all.
func printFreezeBanner(cmd *cobra.Command, a *app) {
	c, err := a.dial(cmd.Context(), nil)
	if err != nil {
		return
	}
	defer c.Close()
	freezeBanner(cmd.Context(), cmd.OutOrStdout(), c, a.cfg.TaskQueue)
}

// abortAll is `gameday abort --all`: every running experiment and game day
// of the task queue, through their abort updates.
func abortAll(ctx context.Context, a *app, out io.Writer, reason, by string) error {
	c, err := a.dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	runs, err := control.AbortAll(ctx, c, killswitch.Filter{TaskQueue: a.cfg.TaskQueue}, reason, by)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(out, "no experiment or game day is running on task queue %s\n", a.cfg.TaskQueue)
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tTYPE\tANSWER")
	for _, r := range runs {
		answer := "aborted during " + r.Phase + "; recovering"
		switch {
		case r.Refused != "":
			answer = "refused: " + r.Refused
		case r.GameDay != "":
			answer = "aborted with its game day " + r.GameDay
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.WorkflowID, r.Type, answer)
	}
	_ = tw.Flush()
	aborted, refused := killswitch.Counts(runs)
	fmt.Fprintf(out, "%d aborted, %d refused\n", aborted, refused)
	return nil
}
