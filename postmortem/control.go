package postmortem

import (
	"fmt"
	"strings"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// renderControl writes the run's pauses and notes: when each pause
// started and ended, who took and ended it and why, what was removed and
// re-injected; every observation and action item with its author and time.
func renderControl(b *strings.Builder, r experiment.Result) {
	if len(r.DriftBaselines) > 0 {
		b.WriteString("\n## Drift rules\n\n| guard | baseline | source | limit | earlier runs | off because |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, d := range r.DriftBaselines {
			runs := ""
			if d.Runs > 0 {
				runs = fmt.Sprint(d.Runs)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %g%% | %s | %s |\n", d.Guard, sli.Describe(d.Value, d.NoData), cell(d.Source), d.Limit, runs, cell(d.Off))
		}
	}
	if len(r.Pauses) > 0 {
		b.WriteString("\n## Pauses\n\n| from | to | paused by | reason | ended | ended by | faults removed | removed after | re-injected as |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, p := range r.Pauses {
			by := p.By
			if p.Drift {
				by += " (drift)"
			}
			ended := p.Ended
			if ended == experiment.PauseRunning {
				ended = "still paused"
			}
			removed := ""
			if !p.Removed.IsZero() {
				removed = p.Removed.Sub(p.From).Round(100 * time.Millisecond).String()
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", ts(p.From), ts(p.To), cell(by), cell(p.Reason), ended, cell(p.EndedBy),
				strings.Join(p.Faults, ", "), removed, strings.Join(p.Reinjected, ", "))
		}
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n## Notes\n\n| at | by | kind | note |\n| --- | --- | --- | --- |\n")
		for _, n := range r.Notes {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", ts(n.At), cell(n.By), n.Kind, cell(n.Text))
		}
	}
}

// actionItems are the notes marked as something to do afterwards.
func actionItems(r experiment.Result) []experiment.Note {
	var out []experiment.Note
	for _, n := range r.Notes {
		if n.Kind == experiment.NoteAction {
			out = append(out, n)
		}
	}
	return out
}
