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

// maxDays bounds --days: ten years is more history than anyone keeps, and
// far more days overflow a time.Duration (about 292 years), wrapping the
// window into the future.
const maxDays = 3650

// judged is the history the score and maturity commands read, scored.
type judged struct {
	runs  []resilience.Run
	notes []string
	now   time.Time
	// scores: one per service asked for (every service of the history when
	// none was named).
	scores []resilience.ServiceScore
	named  bool
	days   int
}

// judge reads the runs that ended in the last f.days days (of the service
// named in pos, or all) and scores their services.
func (f historyFlags) judge(ctx context.Context, a *app, pos []string) (judged, error) {
	j := judged{now: time.Now(), named: len(pos) == 1, days: f.days}
	if f.days <= 0 || f.days > maxDays {
		return j, usageErr("--days must be between 1 and %d", maxDays)
	}
	service := ""
	if j.named {
		service = pos[0]
	}
	c, err := a.dial(ctx, nil)
	if err != nil {
		return j, err
	}
	defer c.Close()
	runs, skipped, dropped, err := control.History(ctx, c, control.HistoryQuery{Service: service, Since: j.now.Add(-time.Duration(f.days) * 24 * time.Hour)})
	if err != nil {
		return j, err
	}
	weights, notes := control.ChecklistWeights(ctx, c, runs)
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d run(s) ended without a result (terminated, timed out) and were left out", skipped))
	}
	if dropped > 0 {
		notes = append(notes, fmt.Sprintf("only the newest %d runs were read; %d older run(s) of the last %d days were left out (name a SERVICE, or fewer --days): criteria that look back that far may be missing runs", len(runs)+skipped, dropped, f.days))
	}
	j.runs, j.notes = runs, notes
	services := []string{service}
	if !j.named {
		services = resilience.Services(runs)
	}
	for _, s := range services {
		j.scores = append(j.scores, resilience.ScoreService(s, runs, weights, j.now))
	}
	return j, nil
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
                   the checklist's learned weight that passed, signed or
                   verified by evidence (1 without one). Dry runs, runs that
                   injected nothing, unguarded runs, a person's abort, a
                   cancel or a platform failure are not scored.
  service score  = sum(W x D x S) / sum(W) over the service's scenarios:
                   S the latest scored run's score, W the learned weight of
                   the checklist items of its fault class (10 when none),
                   D = 1 up to 30 days after that run, then halving every 30.

docs/scoring.md compares this with LitmusChaos, Krkn and Gremlin.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			j, err := f.judge(cmd.Context(), a, pos)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"services": j.scores, "notes": j.notes, "days": j.days})
			}
			printScores(out, j)
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

func printScores(out io.Writer, j judged) {
	scores, detail, notes, days := j.scores, j.named, j.notes, j.days
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
			j, err := f.judge(cmd.Context(), a, pos)
			if err != nil {
				return err
			}
			var ms []resilience.Maturity
			for _, s := range j.scores {
				ms = append(ms, resilience.Assess(s.Service, j.runs, s, j.now))
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, map[string]any{"services": ms, "notes": j.notes, "days": j.days})
			}
			if len(ms) == 0 {
				fmt.Fprintf(out, "no experiment run ended in the last %d days\n", j.days)
				return nil
			}
			for i, m := range ms {
				if i > 0 {
					fmt.Fprintln(out)
				}
				printMaturity(out, m)
			}
			for _, n := range j.notes {
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
