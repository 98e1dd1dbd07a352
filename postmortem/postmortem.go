// Package postmortem renders a run that did not pass into a postmortem and
// files it. One renderer, several sinks: a local Markdown file (Dir) by
// default, Jira (ticket.Jira) when the worker has a Jira configuration.
package postmortem

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
)

// Sink files a postmortem and returns a reference to it (a path, a ticket
// key). Filing the same run twice must not create two postmortems.
type Sink interface {
	File(ctx context.Context, r experiment.Result) (string, error)
}

// Attacher is a Sink that can attach a file to what it filed (Jira: the
// report's chart PNG on the postmortem issue). Attaching a name that is
// already there must not attach it twice.
type Attacher interface {
	Attach(ctx context.Context, ref, name string, data []byte) error
}

// Linker is a Sink whose references can be turned into a link people open
// (Jira: the browse URL).
type Linker interface {
	Link(ref string) string
}

// Render produces the Markdown postmortem of a run.
func Render(r experiment.Result) string {
	var b strings.Builder
	title := fmt.Sprintf("Game day %s: %s", r.Scenario, r.Outcome)
	if r.Breach != nil {
		title += " (" + r.Breach.Guard + ")"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "- Workflow: `%s` run `%s`\n", r.WorkflowID, r.RunID)
	fmt.Fprintf(&b, "- Service: %s\n", r.Service)
	fmt.Fprintf(&b, "- Outcome: **%s**\n", r.Outcome)
	if r.Unguarded {
		b.WriteString("- **Unguarded**: the scenario had no guard (`spec.unguarded: true`); nothing could abort it on an outage\n")
	}
	for _, m := range r.RecoverAlarms {
		fmt.Fprintf(&b, "- Recover alarm: %s\n", m)
	}
	if r.AbortReason != "" {
		fmt.Fprintf(&b, "- Reason: %s\n", r.AbortReason)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "- Error: %s\n", r.Error)
	}
	if r.UIURL != "" {
		fmt.Fprintf(&b, "- Temporal UI: %s\n", r.UIURL)
	}
	if r.TraceID != "" {
		fmt.Fprintf(&b, "- Trace: `%s` (the run, its activities and the requests its faults hurt, in your tracing backend)\n", r.TraceID)
	}
	if rl := r.Report; rl != nil {
		// The report has what a postmortem table cannot: each guard's
		// chart over the run, values with units, notes and pauses.
		if rl.HTML != "" {
			fmt.Fprintf(&b, "- Report (charts of every guard): %s\n", rl.HTML)
		}
		if rl.Markdown != "" {
			fmt.Fprintf(&b, "- Report (Markdown): %s\n", rl.Markdown)
		}
		if rl.Chart != "" {
			fmt.Fprintf(&b, "- Charts (PNG): %s\n", rl.Chart)
		}
	}
	b.WriteString("\n## Timeline\n\n| phase | status | started | ended | detail |\n| --- | --- | --- | --- | --- |\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", p.Name, p.Status, ts(p.Started), ts(p.Ended), cell(p.Detail))
	}
	renderControl(&b, r) // pauses and notes (control.go)
	if br := r.Breach; br != nil {
		b.WriteString("\n## SLI evidence\n\n")
		label := map[string]string{"query": "Query", "probe": "Probe"}[br.SourceLabel()]
		fmt.Fprintf(&b, "- Guard: %s\n- %s: `%s`\n- Value: %s (healthy when %s)\n- At: %s\n", br.Guard, label, br.Query, br.Reading(), br.Condition(), ts(br.At))
		if br.QueryError != "" {
			fmt.Fprintf(&b, "- %s error: %s\n", label, br.QueryError)
		}
	}
	if len(r.Baseline) > 0 {
		b.WriteString("\n## Baseline\n\n| guard | value | healthy |\n| --- | --- | --- |\n")
		for _, g := range r.Baseline {
			fmt.Fprintf(&b, "| %s | %s | %t |\n", g.Guard, cell(g.Reading()), g.Healthy)
		}
	}
	if len(r.Targets) > 0 {
		b.WriteString("\n## Targets hit\n\n")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "- %s\n", t)
		}
	}
	b.WriteString("\n## Faults\n\n| fault | removed | already gone | at | recovery |\n| --- | --- | --- | --- | --- |\n")
	for _, f := range r.RecoverLog {
		rec := f.Detail
		if f.RecoveryTime > 0 && rec == "" {
			rec = "healed in " + f.RecoveryTime.Round(100*time.Millisecond).String()
		}
		fmt.Fprintf(&b, "| %s | %t | %t | %s | %s |\n", f.FaultID, f.Removed, f.AlreadyGone, ts(f.At), cell(rec))
	}
	if len(r.Signoffs) > 0 {
		b.WriteString("\n## Sign-off\n\n| role | user | approved | reason | at |\n| --- | --- | --- | --- | --- |\n")
		for _, s := range r.Signoffs {
			fmt.Fprintf(&b, "| %s | %s | %t | %s | %s |\n", s.Role, s.User, s.Approved, cell(s.Reason), ts(s.At))
		}
	}
	if g := r.Gate; g != nil {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED: " + g.Reason
		}
		fmt.Fprintf(&b, "\n## Release checklist %s\n\nGate %s (score %.1f%%, threshold %.1f%%)\n\n", g.Checklist, verdict, g.Score, g.Threshold)
		b.WriteString("| item | owner | weight | blocking | result | signed by | evidence | alerted |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		var checks []checklist.CheckResult
		for _, it := range g.Items {
			result, by := "unsigned", signer(it.User, it.At)
			switch {
			case it.Pending:
				result, by = "pending", "evidence"
			case it.Decided():
				result = map[bool]string{true: "pass", false: "FAIL"}[it.Pass]
			}
			if it.Verified {
				by = "evidence"
			}
			fmt.Fprintf(&b, "| %s: %s | %s | %g%% | %t | %s | %s | %s | %t |\n", it.ID, cell(it.Title), it.Owner, it.Weight, it.StrongBlocking, result, cell(by), cell(it.Evidence), it.Alerted)
			checks = append(checks, it.Checks...)
		}
		if len(checks) > 0 {
			b.WriteString("\nEvidence (judged after the run; nobody signs these items):\n\n| item | check | value | healthy when | reduce | window | from | to | verdict | query |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
			for _, c := range checks {
				verdict := map[bool]string{true: "pass", false: "FAIL"}[c.Pass]
				fmt.Fprintf(&b, "| %s | %s | %s | %s %g | %s | %s | %s | %s | %s | `%s` |\n", c.Item, c.Check, cell(c.Reading()), c.Op, c.Threshold, c.Reduce, c.Window, ts(c.From), ts(c.To), verdict, cell(c.Query))
			}
		}
	}
	if len(r.WeightChanges) > 0 {
		b.WriteString("\n## Weight changes\n\n| item | weight | strong-blocking | rule | why |\n| --- | --- | --- | --- | --- |\n")
		for _, c := range r.WeightChanges {
			fmt.Fprintf(&b, "| %s | %g%% → %g%% | %t → %t | %s | %s |\n", c.ItemID, c.OldWeight, c.NewWeight, c.OldBlocking, c.NewBlocking, c.Rule, cell(c.Reason))
		}
	}
	if len(r.Verify) > 0 {
		b.WriteString("\n## Verify (steady state)\n\n| guard | value | healthy |\n| --- | --- | --- |\n")
		for _, g := range r.Verify {
			fmt.Fprintf(&b, "| %s | %s | %t |\n", g.Guard, cell(g.Reading()), g.Healthy)
		}
	}
	return b.String()
}

func signer(user string, at time.Time) string {
	if user == "" {
		return ""
	}
	return user + " " + ts(at)
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func cell(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ") }

// Dir writes one Markdown file per run under a directory. The file name is
// derived from the run's key (workflow id and run id, Result.RunKey), so
// filing one run twice overwrites, never duplicates, and a reused workflow
// id gets a file of its own.
type Dir struct{ Path string }

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (d Dir) File(_ context.Context, r experiment.Result) (string, error) {
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return "", fmt.Errorf("postmortem dir %s: %w", d.Path, err)
	}
	p := filepath.Join(d.Path, unsafe.ReplaceAllString(r.RunKey(), "_")+".md")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(Render(r)), 0o644); err != nil {
		return "", fmt.Errorf("write postmortem %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return "", fmt.Errorf("write postmortem %s: %w", p, err)
	}
	return p, nil
}

// ReleaseEvidence appends a run's evidence to release-<KEY>.md: the local
// stand-in for a comment on a release ticket. A run is written once, however
// often the activity is retried.
func (d Dir) ReleaseEvidence(_ context.Context, key string, r experiment.Result, postmortemRef string) error {
	if err := os.MkdirAll(d.Path, 0o755); err != nil {
		return fmt.Errorf("postmortem dir %s: %w", d.Path, err)
	}
	p := filepath.Join(d.Path, "release-"+unsafe.ReplaceAllString(key, "_")+".md")
	marker := "[gameday-run " + r.RunKey() + "]"
	old, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read %s: %w", p, err)
	}
	if strings.Contains(string(old), marker) {
		return nil
	}
	var b strings.Builder
	if len(old) == 0 {
		fmt.Fprintf(&b, "# Release %s: game day evidence\n", key)
	}
	fmt.Fprintf(&b, "\n## %s %s\n\n", marker, r.Scenario)
	fmt.Fprintf(&b, "- Outcome: %s\n", r.Outcome)
	if g := r.Gate; g != nil {
		fmt.Fprintf(&b, "- Release gate: passed=%t, score %.1f%% (threshold %.1f%%) %s\n", g.Passed, g.Score, g.Threshold, g.Reason)
		for _, it := range g.Items {
			for _, c := range it.Checks {
				fmt.Fprintf(&b, "- Evidence for %s: %s\n", it.ID, c)
			}
		}
	}
	if postmortemRef != "" {
		fmt.Fprintf(&b, "- Postmortem: %s\n", postmortemRef)
	}
	if len(r.Pauses) > 0 {
		fmt.Fprintf(&b, "- Paused %d time(s): %s\n", len(r.Pauses), r.Pauses[len(r.Pauses)-1])
	}
	for _, n := range actionItems(r) {
		fmt.Fprintf(&b, "- Action item: %s\n", n)
	}
	if r.UIURL != "" {
		fmt.Fprintf(&b, "- Temporal UI: %s\n", r.UIURL)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
