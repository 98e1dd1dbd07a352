package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// ChartFile is the name of the charts' PNG next to the other files of a
// report; the Markdown shows it.
const ChartFile = "chart.png"

// Markdown renders the report as Markdown: the numbers with units, the
// charts as the PNG next to it (ChartFile), when withChart.
func Markdown(rep *Report, withChart bool) []byte {
	var b strings.Builder
	r := rep.Result
	fmt.Fprintf(&b, "# %s on %s: %s\n\n", r.Scenario, r.Service, r.Outcome)
	if br := BreachText(rep); br != "" {
		fmt.Fprintf(&b, "**Breach:** %s\n\n", br)
	} else if r.AbortReason != "" {
		fmt.Fprintf(&b, "**Reason:** %s\n\n", oneLine(r.AbortReason))
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "**Error:** %s\n\n", oneLine(r.Error))
	}
	if r.Unguarded {
		b.WriteString("**UNGUARDED**: no guard watched this run; nothing could abort it on an outage.\n\n")
	}
	for _, a := range r.RecoverAlarms {
		fmt.Fprintf(&b, "**Recover alarm:** %s\n\n", oneLine(a))
	}
	fmt.Fprintf(&b, "- Run: `%s` run `%s`\n", r.WorkflowID, r.RunID)
	fmt.Fprintf(&b, "- Started: %s\n", ts(r.Started))
	if !r.Ended.IsZero() {
		fmt.Fprintf(&b, "- Ended: %s (%s)\n", ts(r.Ended), r.Ended.Sub(r.Started).Round(1e9))
	}
	if rep.Score.Scored {
		fmt.Fprintf(&b, "- Resilience score: %.0f / 100 (%s)\n", rep.Score.Score, rep.Score.Why)
	} else {
		fmt.Fprintf(&b, "- Resilience score: not scored (%s)\n", rep.Score.Why)
	}
	if r.GameDay != "" {
		fmt.Fprintf(&b, "- Game day: `%s`\n", r.GameDay)
	}
	for _, o := range r.Overrides {
		fmt.Fprintf(&b, "- Changed: %s\n", o)
	}
	l := rep.Links
	if l.TemporalUI != "" {
		fmt.Fprintf(&b, "- Temporal UI: %s\n", l.TemporalUI)
	}
	if l.Ticket != "" {
		fmt.Fprintf(&b, "- Postmortem: %s\n", linkOr(l.Ticket, l.TicketURL))
	}
	if l.ReleaseTicket != "" {
		fmt.Fprintf(&b, "- Release ticket: %s\n", l.ReleaseTicket)
	}
	if r.TraceID != "" {
		fmt.Fprintf(&b, "- Trace: %s\n", linkOr(r.TraceID, l.Trace))
	}
	for _, name := range slices.Sorted(maps.Keys(l.Files)) {
		fmt.Fprintf(&b, "- %s: %s\n", name, l.Files[name])
	}

	b.WriteString("\n## Guards\n\n")
	if withChart && len(rep.Guards) > 0 {
		fmt.Fprintf(&b, "![guards](%s)\n\n", ChartFile)
	}
	if len(rep.Guards) == 0 {
		b.WriteString("No guards (the scenario is unguarded).\n")
	} else {
		b.WriteString("| guard | healthy when | baseline | min | max | last | bad samples | verify | breach |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, g := range rep.Guards {
			min, max, last := Format(g.Unit, g.Min), Format(g.Unit, g.Max), Format(g.Unit, g.Last)
			bad := fmt.Sprintf("%d of %d", g.Bad, len(g.Points))
			switch {
			case g.Err != "":
				min, max, last, bad = "", "", "", "query failed: "+g.Err
			case g.Probe:
				min, max, last, bad = "", "", "", "a probe: no series in Prometheus"
			case g.NoData():
				min, max, last, bad = "", "", "", "no data in the window"
			}
			if g.NonFinite > 0 {
				bad += fmt.Sprintf(" (%d NaN/±Inf)", g.NonFinite)
			}
			breach := ""
			if br := g.Breach; br != nil {
				breach = clock(br.At) + " " + breachValue(g)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", g.Guard.Name, FormatThreshold(g.Guard),
				gv(g, g.Baseline), min, max, last, cell(bad), gv(g, g.Verify), cell(breach))
		}
		b.WriteString("\n")
		for _, g := range rep.Guards {
			fmt.Fprintf(&b, "- `%s`: `%s`\n", g.Guard.Name, g.Guard.Source())
		}
	}
	fmt.Fprintf(&b, "\nWindow %s – %s, one sample every %s", ts(rep.Window.From), ts(rep.Window.To), rep.Window.Step)
	if rep.Window.Cut {
		fmt.Fprintf(&b, "; cut when the report was made (`gameday report %s` shows the minutes after the run)", r.WorkflowID)
	}
	b.WriteString(".\n")

	b.WriteString("\n## Timeline\n\n| time (UTC) | what | |\n| --- | --- | --- |\n")
	for _, e := range rep.Timeline {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", clock(e.At), e.Kind, cell(e.Text))
	}

	b.WriteString("\n## Faults\n\n")
	switch {
	case len(r.RecoverLog) > 0:
		b.WriteString("| fault | recovered at | recovery |\n| --- | --- | --- |\n")
		for _, f := range r.RecoverLog {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.FaultID, ts(f.At), cell(recoveryText(f)))
		}
	case len(r.Injected) > 0:
		fmt.Fprintf(&b, "Injected: %s (no recover log)\n", strings.Join(r.Injected, ", "))
	default:
		b.WriteString("Nothing was injected.\n")
	}

	if len(r.Signoffs) > 0 {
		b.WriteString("\n## Sign-off\n\n| role | user | decision | reason | at |\n| --- | --- | --- | --- | --- |\n")
		for _, s := range r.Signoffs {
			d := "approved"
			if !s.Approved {
				d = "rejected"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", s.Role, s.User, d, cell(s.Reason), ts(s.At))
		}
	}
	if g := r.Gate; g != nil {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED: " + g.Reason
		}
		fmt.Fprintf(&b, "\n## Release checklist %s\n\nGate %s (score %s%%, threshold %s%%)\n\n", g.Checklist, cell(verdict), checklist.PctApart(g.Score, g.Threshold), checklist.PctApart(g.Threshold, g.Threshold))
		b.WriteString("| item | owner | weight | blocking | verdict | signed by | evidence | alerted |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, it := range g.Items {
			v, by := itemVerdict(it)
			fmt.Fprintf(&b, "| %s: %s | %s | %g%% | %t | %s | %s | %s | %t |\n", it.ID, cell(it.Title), it.Owner, it.Weight, it.StrongBlocking, v, by, cell(it.Evidence), it.Alerted)
		}
		if rows := evidenceRows(g); len(rows) > 0 {
			b.WriteString("\nEvidence (judged after the run; nobody signs these items):\n\n| item | check | value | healthy when | reduce | window | verdict | query |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
			for _, e := range rows {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | `%s` |\n", e.Item, e.Check, cell(e.Value), e.Healthy, e.Reduce, e.Window, e.Verdict, cell(e.Query))
			}
		}
	}
	if len(r.WeightChanges) > 0 {
		b.WriteString("\n## Weight changes\n\n| item | weight | strong-blocking | rule | why |\n| --- | --- | --- | --- | --- |\n")
		for _, c := range r.WeightChanges {
			fmt.Fprintf(&b, "| %s | %g%% → %g%% | %t → %t | %s | %s |\n", c.ItemID, c.OldWeight, c.NewWeight, c.OldBlocking, c.NewBlocking, c.Rule, cell(c.Reason))
		}
	}
	if len(r.Pauses) > 0 {
		b.WriteString("\n## Pauses\n\n| from | to | by | reason | ended |\n| --- | --- | --- | --- | --- |\n")
		for _, p := range r.Pauses {
			by := p.By
			if p.Drift {
				by += " (drift)"
			}
			ended := p.Ended
			if p.EndedBy != "" {
				ended += " by " + p.EndedBy
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", ts(p.From), ts(p.To), by, cell(p.Reason), ended)
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- **%s** by %s at %s: %s\n", n.Kind, n.By, clock(n.At), oneLine(n.Text))
		}
	}
	return []byte(b.String())
}

// itemVerdict is a checklist item's verdict and who gave it: a signer, or
// the run's evidence for an evidence-verified item (nobody signs those;
// "pending" until it is judged after the run).
func itemVerdict(it checklist.ItemResult) (verdict, by string) {
	by = it.User
	switch {
	case it.Pending:
		return "pending", "evidence"
	case it.Verified:
		by = "evidence"
	}
	switch {
	case !it.Decided():
		return "unsigned", by
	case it.Pass:
		return "pass", by
	}
	return "FAIL", by
}

// evidenceRow is one check of an evidence-verified item as judged, in
// words and units.
type evidenceRow struct {
	Item, Check, Value, Healthy, Reduce, Window, Verdict, Query string
}

// evidenceRows lists what judged the gate's evidence-verified items: each
// check's value in the unit its query infers (sli.UnitOf), its condition,
// how and over which window it was reduced, and its verdict.
func evidenceRows(g *checklist.Gate) []evidenceRow {
	var out []evidenceRow
	for _, it := range g.Items {
		for _, c := range it.Checks {
			unit := sli.UnitOf(sli.Guard{Query: c.Query})
			v := FormatApart(unit, float64(c.Value), c.Threshold)
			switch {
			case c.Error != "":
				v = "not computed: " + c.Error
			case c.NoData:
				v = "no data"
			}
			out = append(out, evidenceRow{Item: cmp.Or(c.Item, it.ID), Check: c.Check, Value: v, Healthy: OpSymbol(c.Op) + " " + Format(unit, c.Threshold),
				Reduce: c.Reduce, Window: c.Window, Verdict: map[bool]string{true: "pass", false: "FAIL"}[c.Pass], Query: c.Query})
		}
	}
	return out
}

// gv is a define or verify reading of the guard in its unit.
func gv(g GuardReport, v *experiment.GuardValue) string {
	switch {
	case v == nil:
		return ""
	case v.Error != "":
		return "error: " + v.Error
	case probeAnswer(v.Kind, v.NoData, v.Reason):
		return v.Reading()
	case v.NoData:
		return "no data"
	}
	return Format(g.Unit, float64(v.Value))
}

func breachValue(g GuardReport) string {
	br := g.Breach
	switch {
	case br.QueryError != "":
		return br.SourceLabel() + " kept failing"
	case probeAnswer(br.Kind, br.NoData, br.Reason):
		return br.Reading()
	case br.NoData:
		return "no data"
	}
	return FormatApart(g.Unit, float64(br.Value), br.Threshold)
}

func linkOr(text, url string) string {
	if url == "" || url == text {
		return text
	}
	return "[" + text + "](" + url + ")"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

// MarkdownGameDay renders a game day: a table of its experiments, then each
// one's report.
func MarkdownGameDay(day GameDay, reps []*Report) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Game day %s\n\n", day.Name())
	if g := day.Result; g != nil {
		// The plan file's text on one line: a line break in it would
		// start a heading or a list of its own.
		fmt.Fprintf(&b, "**%s** · plan %s", g.Outcome, oneLine(g.Plan))
		if g.Environment != "" {
			fmt.Fprintf(&b, " in %s", oneLine(g.Environment))
		}
		if g.People.Owner != "" {
			fmt.Fprintf(&b, " · owner %s", oneLine(g.People.Owner))
		}
		fmt.Fprintf(&b, " · started %s", ts(g.Started))
		if !g.Ended.IsZero() {
			fmt.Fprintf(&b, " · ended %s", ts(g.Ended))
		}
		b.WriteString("\n\n")
		if g.Reason != "" {
			fmt.Fprintf(&b, "**Why:** %s\n\n", oneLine(g.Reason))
		}
		if len(g.Preflight) > 0 {
			b.WriteString("Pre-flight:\n\n| guard | value | healthy |\n| --- | --- | --- |\n")
			for _, v := range g.Preflight {
				healthy := "yes"
				if !v.Healthy {
					healthy = "**no**"
				}
				fmt.Fprintf(&b, "| %s | %s | %s |\n", cell(v.Guard), cell(v.Reading()), healthy)
			}
			b.WriteString("\n")
		}
		b.WriteString("| stage | step | scenario | status | outcome | reason |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, s := range g.Steps {
			name := s.Name
			if s.Group != "" {
				name = s.Group + " / " + s.Name
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s |\n", s.Stage+1, cell(name), cell(s.Scenario), s.Status, s.Outcome, cell(s.Reason))
		}
		if len(g.Notes) > 0 {
			b.WriteString("\n## Game-day notes\n\n| time (UTC) | by | kind | note |\n| --- | --- | --- | --- |\n")
			for _, n := range g.Notes {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", ts(n.At), cell(n.By), n.Kind, cell(n.Text))
			}
		}
		if len(g.Pauses) > 0 {
			b.WriteString("\n## Game-day pauses\n\n")
			for _, p := range g.Pauses {
				fmt.Fprintf(&b, "- %s\n", oneLine(p.String()))
			}
		}
		b.WriteString("\n## Experiments\n\n")
	}
	b.WriteString("| # | scenario | service | outcome | score | run |\n| --- | --- | --- | --- | --- | --- |\n")
	for i, rep := range reps {
		score := "not scored"
		if rep.Score.Scored {
			score = fmt.Sprintf("%.0f", rep.Score.Score)
		}
		r := rep.Result
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | `%s` |\n", i+1, r.Scenario, r.Service, r.Outcome, score, r.WorkflowID)
	}
	for _, rep := range reps {
		b.WriteString("\n---\n\n")
		// Each run's headings one level down, under the game day's.
		for _, line := range strings.SplitAfter(string(Markdown(rep, false)), "\n") {
			if strings.HasPrefix(line, "#") {
				line = "#" + line
			}
			b.WriteString(line)
		}
	}
	return []byte(b.String())
}
