package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/control"
	"github.com/gameday/gameday/experiment"
	gd "github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/sli/promclient"
	"github.com/gameday/gameday/workflows"
)

var reportFormats = []string{"html", "md", "junit", "json"}

func newReportCmd(a *app) *cobra.Command {
	var format, outPath string
	cmd := &cobra.Command{
		Use:   "report RUN|GAMEDAY [--format html|md|junit|json] [-o FILE]",
		Short: "Write the report of a finished run or game day: charts of every guard, JUnit, JSON",
		Long: `Write the report of a run (or of a game day: every experiment it ran) that
has ended. Each guard's value over the run, from five minutes before it
started (before its sign-off wait ended, when it had one) to five minutes
after it ended, is read again from Prometheus
(PROMETHEUS_URL, range queries) and drawn with its threshold, the bad samples,
the breach, and the inject/pause/recover periods shaded.

  --format html   one self-contained file (inline SVG charts, nothing fetched)
  --format md     Markdown, values with units
  --format junit  JUnit XML: a run is a test case with each guard a property;
                  a game day is a suite with one case per experiment
  --format json   the result and every guard's samples (NaN/Inf as strings)

The worker also writes every run's report when it ends (GAMEDAY_DATA_DIR/
reports); this command is for later, with the minutes after the run, or on
another machine. A run still going, or one whose samples Prometheus no longer
has (retention), is an error saying so.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !validFormat(format) {
				return usageErr("--format %q: want one of %s", format, strings.Join(reportFormats, ", "))
			}
			if err := a.cfg.Validate(); err != nil {
				return err
			}
			ctx := cmd.Context()
			c, err := a.dial(ctx, nil)
			if err != nil {
				return err
			}
			defer c.Close()
			data, err := buildReport(ctx, c, a.cfg, pos[0], format)
			if err != nil {
				return err
			}
			return writeOut(cmd.OutOrStdout(), outPath, data)
		},
	}
	cmd.Flags().StringVar(&format, "format", "html", "html, md, junit or json")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

func validFormat(f string) bool {
	for _, k := range reportFormats {
		if f == k {
			return true
		}
	}
	return false
}

func writeOut(stdout io.Writer, path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := stdout.Write(data)
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// buildReport renders the run or game day id in format.
func buildReport(ctx context.Context, c client.Client, cfg config.Config, id, format string) ([]byte, error) {
	ex, err := control.Describe(ctx, c, id)
	if err != nil {
		return nil, err
	}
	prom, err := promclient.NewPrometheus(cfg.PrometheusURL, promclient.WithCredentials(cfg.PrometheusAuth), promclient.WithMaxAnswer(cfg.PrometheusMaxAnswer))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	switch ex.Type {
	case workflows.ExperimentWorkflowName:
		r, err := control.FinalResult(ctx, c, id, "")
		if err != nil {
			return nil, err
		}
		in, err := control.InputOf(ctx, c, id, r.RunID)
		if err != nil {
			return nil, err
		}
		rep, err := runReport(ctx, prom, cfg, r, in.Scenario.Spec.Guards, now, true)
		if err != nil {
			return nil, err
		}
		switch format {
		case "html":
			return report.HTML(rep)
		case "md":
			return report.Markdown(rep, false), nil
		case "junit":
			return report.JUnit(r.Scenario, rep), nil
		}
		return report.JSON(rep)
	case workflows.GameDayWorkflowName:
		if ex.Running {
			return nil, fmt.Errorf("game day %s is still going: its report covers every experiment once it ends (`gameday status %s`)", id, id)
		}
		// The game day's own result (outcome, skipped steps, its notes):
		// shown above the experiments when it can be read, and its steps
		// are the experiments. Visibility (ParentWorkflowId) is the
		// fallback: it also lists the steps of an earlier game day that
		// had the same id (--id).
		day := report.GameDay{ID: id}
		var g gd.Result
		if err := c.GetWorkflow(ctx, id, ex.RunID).Get(ctx, &g); err == nil {
			day.Result = &g
		}
		var runs []control.Execution
		if day.Result != nil {
			for _, s := range g.Ran() {
				runs = append(runs, control.Execution{WorkflowID: s.WorkflowID, RunID: s.RunID})
			}
		} else if runs, err = control.GameDayRuns(ctx, c, id); err != nil {
			return nil, err
		}
		if len(runs) == 0 && day.Result == nil {
			return nil, fmt.Errorf("game day %s started no experiment: nothing to report", id)
		}
		var reps []*report.Report
		for _, run := range runs {
			r, err := control.FinalResult(ctx, c, run.WorkflowID, run.RunID)
			if err != nil {
				return nil, fmt.Errorf("game day %s: %w", id, err)
			}
			in, err := control.InputOf(ctx, c, run.WorkflowID, run.RunID)
			if err != nil {
				return nil, fmt.Errorf("game day %s: %w", id, err)
			}
			rep, err := runReport(ctx, prom, cfg, r, in.Scenario.Spec.Guards, now, false)
			if err != nil {
				return nil, err
			}
			reps = append(reps, rep)
		}
		switch format {
		case "html":
			return report.HTMLGameDay(day, reps, now)
		case "md":
			return report.MarkdownGameDay(day, reps), nil
		case "junit":
			return report.JUnit(id, reps...), nil
		}
		return report.JSONGameDay(day, reps)
	}
	return nil, fmt.Errorf("%s is a %s workflow, not a run or a game day", id, ex.Type)
}

var issueKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*-[0-9]+$`)

// runReport queries the run's guards over its window and builds its
// report. With strict, a Prometheus that answers nothing at all for any
// guard is an error (the data is gone, or it is another server): a report
// of empty charts would look like a run nobody watched.
func runReport(ctx context.Context, prom *promclient.Prometheus, cfg config.Config, r experiment.Result, guards []sli.Guard, now time.Time, strict bool) (*report.Report, error) {
	w := report.WindowOf(r, now)
	series := report.Collect(ctx, prom, guards, w, report.QueryTimeout)
	if strict && len(series) > 0 {
		if err := lostData(cfg, r, series, w); err != nil {
			return nil, err
		}
	}
	links := report.Links{Trace: report.TraceLink(cfg.TraceURL, r.TraceID)}
	if cfg.Jira.URL != "" && issueKey.MatchString(r.Postmortem) {
		links.TicketURL = strings.TrimRight(cfg.Jira.URL, "/") + "/browse/" + r.Postmortem
	}
	return report.Build(report.Input{Result: r, Guards: guards, Series: series, Window: w, Links: links, Generated: now}), nil
}

// lostData is the error for a window Prometheus has nothing of: every query
// failed, or every guard came back empty. Probe guards are not queried and
// do not count.
func lostData(cfg config.Config, r experiment.Result, series []report.Series, w report.Window) error {
	var errs []error
	empty, queried := 0, 0
	for _, s := range series {
		if s.Probe {
			continue // nothing to read from Prometheus: the run has its answers
		}
		queried++
		switch {
		case s.Err != "":
			errs = append(errs, fmt.Errorf("guard %s: %s", s.Guard, s.Err))
		case len(s.Points) == 0:
			empty++
		}
	}
	where := config.RedactURL(cfg.PrometheusURL)
	saved := ""
	if r.Report != nil && r.Report.HTML != "" {
		saved = "; the report the worker wrote when the run ended is " + r.Report.HTML
	}
	switch {
	case queried == 0:
		return nil
	case len(errs) == queried:
		return fmt.Errorf("cannot read the guards from Prometheus %s (PROMETHEUS_URL): %w%s", where, errors.Join(errs...), saved)
	case empty == queried:
		return fmt.Errorf("prometheus %s has no samples of any guard of run %s between %s and %s: it no longer keeps them (retention, 15 days by default) or PROMETHEUS_URL is not the server the run used%s",
			where, r.WorkflowID, w.From.UTC().Format(time.RFC3339), w.To.UTC().Format(time.RFC3339), saved)
	}
	return nil
}

// writeJUnit writes a finished run's JUnit file (run --junit), its guards'
// readings from this machine's PROMETHEUS_URL; a guard Prometheus cannot
// answer for still has its property (saying so).
func writeJUnit(ctx context.Context, cfg config.Config, r experiment.Result, guards []sli.Guard, path string) error {
	prom, err := promclient.NewPrometheus(cfg.PrometheusURL, promclient.WithCredentials(cfg.PrometheusAuth), promclient.WithMaxAnswer(cfg.PrometheusMaxAnswer))
	if err != nil {
		return err
	}
	rep, err := runReport(ctx, prom, cfg, r, guards, time.Now(), false)
	if err != nil {
		return err
	}
	return writeOut(nil, path, report.JUnit(r.Scenario, rep))
}
