package ticket

import (
	"fmt"
	"strings"

	"github.com/gameday/gameday/experiment"
)

// controlComment adds a run's pauses and its notes to the release
// evidence comment (the postmortem issue has them in full: Description
// renders postmortem.Render's Pauses and Notes tables).
func controlComment(b *strings.Builder, r experiment.Result) {
	for _, p := range r.Pauses {
		fmt.Fprintf(b, "* Pause: %s\n", escapeWiki(p.String()))
	}
	for _, n := range r.Notes {
		what := "Note"
		if n.Kind == experiment.NoteAction {
			what = "Action item"
		}
		fmt.Fprintf(b, "* %s by %s: %s\n", what, escapeWiki(n.By), escapeWiki(strings.Join(strings.Fields(n.Text), " ")))
	}
}
