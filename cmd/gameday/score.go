package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/resilience"
)

type historyFlags struct {
	json bool
	days int
}

func (f *historyFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
	cmd.Flags().IntVar(&f.days, "days", int(resilience.Horizon/(24*time.Hour)), "read the runs that ended in the last DAYS days")
}

// history reads the runs the score and maturity commands judge.
func (f historyFlags) history(ctx context.Context, a *app, service string) ([]resilience.Run, map[string]float64, []string, time.Time, error) {
	now := time.Now()
	if f.days <= 0 {
		return nil, nil, nil, now, usageErr("--days must be at least 1")
	}
	c, err := a.dial(ctx, nil)
	if err != nil {
		return nil, nil, nil, now, err
	}
	defer c.Close()
	runs, skipped, err := control.History(ctx, c, control.HistoryQuery{Service: service, Since: now.Add(-time.Duration(f.days) * 24 * time.Hour)})
	if err != nil {
		return nil, nil, nil, now, err
	}
	weights, notes := control.ChecklistWeights(ctx, c, runs)
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d run(s) ended without a result (terminated, timed out) and were left out", skipped))
	}
	return runs, weights, notes, now, nil
}

func newScoreCmd(a *app) *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "score [SERVICE] [--json] [--days N]",
		Short: "Resilience score per service (0-100) from run history, weighted by the learned checklist weights",
		Long: `Score services from the runs that ended in the last --days days (Temporal
visibility: GamedayService, then each run's result):

  run score      = 100 x held x checklist
                   held: 1 when the guards held and steady state came back,
                   0 on a breach or a failed verify; checklist: the share of
                   the checklist's learned weight signed as passing (1 without
                   one). Dry runs, runs that injected nothing, unguarded runs,
                   a person's abort, a cancel or a platform failure are not
                   scored.
  service score  = sum(W x D x S) / sum(W) over the service's scenarios:
                   S the latest scored run's score, W the learned weight of
                   the checklist items of its fault class (10 when none),
                   D = 1 up to 30 days after that run, then halving every 30.

docs/scoring.md compares this with LitmusChaos, Krkn and Gremlin.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			service := ""
			if len(pos) == 1 {
				service = pos[0]
			}
			runs, weights, notes, now, err := f.history(cmd.Context(), a, service)
			if err != nil {
				return err
			}
			services := []string{service}
			if service == "" {
				services = resilience.Services(runs)
			}
			var scores []resilience.ServiceScore
			for _, s := range services {
				scores = append(scores, resilience.ScoreService(s, runs, weights, now))
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"services": scores, "weights": weights, "notes": notes, "days": f.days})
			}
			printScores(out, scores, service != "", notes, f.days)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printScores(out io.Writer, scores []resilience.ServiceScore, detail bool, notes []string, days int) {
	if len(scores) == 0 {
		fmt.Fprintf(out, "no experiment run ended in the last %d days\n", days)
		return
	}
	tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
	if !detail {
		fmt.Fprintln(tw, "SERVICE\tSCORE\tSCENARIOS\tRUNS")
		for _, s := range scores {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", s.Service, s.String(), len(s.Scenarios), s.Runs)
		}
		_ = tw.Flush()
	} else {
		s := scores[0]
		fmt.Fprintf(out, "%s: resilience score %s (%d run(s) in the last %d days)\n\n", s.Service, s.String(), s.Runs, days)
		if len(s.Scenarios) > 0 {
			fmt.Fprintln(tw, "SCENARIO\tWEIGHT\tLATEST RUN\tOUTCOME\tRUN SCORE\tAGE\tDECAY\tCOUNTS")
			for _, sc := range s.Scenarios {
				fmt.Fprintf(tw, "%s\t%g\t%s\t%s\t%.0f\t%.1fd\t%.2f\t%.1f\n", sc.Scenario, sc.Weight, sc.Latest, sc.Outcome, sc.Run.Score, sc.AgeDays, sc.Decay, sc.Weighted)
			}
			_ = tw.Flush()
			fmt.Fprintln(out)
			for _, sc := range s.Scenarios {
				fmt.Fprintf(out, "  %s: %s; weight: %s\n", sc.Scenario, sc.Run.Why, sc.WeightFrom)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(s.Unscored)) {
			fmt.Fprintf(out, "  not scored: %s (latest run: %s)\n", name, s.Unscored[name])
		}
	}
	for _, n := range notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
}

func newMaturityCmd(a *app) *cobra.Command {
	var f historyFlags
	cmd := &cobra.Command{
		Use:   "maturity [SERVICE] [--json] [--days N]",
		Short: "Chaos maturity level L1-L5 per service, with the criteria met and what is missing",
		Long: `Place services on the seed's five maturity levels from run history (levels
are cumulative; docs/scoring.md defines every criterion):

  L1 Reactive               an experiment injected faults into the service
  L2 Planned                a guarded run in the last 90 days; every failing run has a postmortem
  L3 Active validation      automated injection (Schedule or game day) on core paths
                            (scenarios labelled core: "true", or all) in each of the last 3 months
  L4 Continuous resilience  3 fault classes passing, each within 30 days; every release
                            (runs with a release ticket) had 3 classes pass
  L5 Antifragile            score >= 90, no scenario's latest run failing, an automated pass
                            in production in 30 days, a game day in 90 days

Read --days of history (at least 90 for L2-L4 to see their windows).`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			service := ""
			if len(pos) == 1 {
				service = pos[0]
			}
			runs, weights, notes, now, err := f.history(cmd.Context(), a, service)
			if err != nil {
				return err
			}
			services := []string{service}
			if service == "" {
				services = resilience.Services(runs)
			}
			var ms []resilience.Maturity
			for _, s := range services {
				ms = append(ms, resilience.Assess(s, runs, resilience.ScoreService(s, runs, weights, now), now))
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"services": ms, "notes": notes, "days": f.days})
			}
			if len(ms) == 0 {
				fmt.Fprintf(out, "no experiment run ended in the last %d days\n", f.days)
				return nil
			}
			for i, m := range ms {
				if i > 0 {
					fmt.Fprintln(out)
				}
				printMaturity(out, m)
			}
			for _, n := range notes {
				fmt.Fprintf(out, "note: %s\n", n)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func printMaturity(out io.Writer, m resilience.Maturity) {
	name := "not started"
	if m.Level > 0 {
		name = m.Levels[m.Level-1].Name
	}
	fmt.Fprintf(out, "%s: L%d %s\n", m.Service, m.Level, name)
	for _, l := range m.Levels {
		state := "met"
		if !l.Met {
			state = "not met"
		}
		fmt.Fprintf(out, "  L%d %s: %s\n", l.Level, l.Name, state)
		for _, c := range l.Criteria {
			mark, more := "[x]", c.Evidence
			if !c.Met {
				mark, more = "[ ]", "missing: "+c.Missing
			}
			fmt.Fprintf(out, "    %s %s\n", mark, c.Text)
			if more = strings.TrimSpace(more); more != "" {
				fmt.Fprintf(out, "        %s\n", more)
			}
		}
	}
}
