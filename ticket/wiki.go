package ticket

import (
	"regexp"
	"strings"
)

// wiki turns the Markdown that postmortem.Render writes into Jira wiki
// markup, the format REST v2 renders description and comment fields with.
// Jira would show the Markdown as-is (tables as rows of pipes and dashes),
// and a second renderer would drift from the local postmortem, so this only
// converts the small subset Render emits: headings, "- " bullets, **bold**,
// `code` and pipe tables whose header is followed by a | --- | line.
//
// Text is escaped where wiki markup would misread it: PromQL such as
// rate(x{code=~"5.."}[5m]) would otherwise open a {code} macro, a [5m] link
// and a ~subscript~.
func wiki(md string) string {
	lines := strings.Split(md, "\n")
	var b strings.Builder
	for i := 0; i < len(lines); i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "|"):
			header := i+1 < len(lines) && tableSep.MatchString(lines[i+1])
			sep := "|"
			if header {
				sep = "||"
				i++ // the | --- | line has no wiki equivalent
			}
			b.WriteString(sep)
			for _, c := range splitRow(l) {
				c = inline(strings.TrimSpace(c))
				if c == "" {
					c = " " // "||" would start a header cell
				}
				b.WriteString(c)
				b.WriteString(sep)
			}
		case heading.MatchString(l):
			n := strings.IndexByte(l, ' ')
			b.WriteString("h" + string(rune('0'+n)) + ". " + inline(strings.TrimSpace(l[n:])))
		case strings.HasPrefix(l, "- "):
			b.WriteString("* " + inline(l[2:]))
		default:
			b.WriteString(inline(l))
		}
	}
	return b.String()
}

var (
	tableSep = regexp.MustCompile(`^\|(\s*:?-{3,}:?\s*\|)+\s*$`)
	heading  = regexp.MustCompile(`^#{1,6} `)
)

// splitRow splits a Markdown table row on the pipes that are not escaped;
// an escaped pipe stays "\|", which wiki tables read the same way.
func splitRow(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var cells []string
	start := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++ // skip the escaped character
		case '|':
			cells = append(cells, row[start:i])
			start = i + 1
		}
	}
	return append(cells, row[start:])
}

// wikiSpecial are the characters that start wiki markup inside a line:
// macros, links, images and text effects. "-" and "_" are left alone: they
// only take effect at word boundaries and are everywhere in metric, host
// and workflow names.
const wikiSpecial = "{}[]!~^+*"

// inline converts `code` to {{monospace}} and **bold** to *bold*, escapes
// the rest, and leaves URLs untouched so Jira still links them.
func inline(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '`':
			if j := strings.IndexByte(s[i+1:], '`'); j > 0 {
				b.WriteString("{{" + escapeWiki(s[i+1:i+1+j]) + "}}")
				i += j + 2
				continue
			}
			b.WriteByte('`')
			i++
		case strings.HasPrefix(s[i:], "**"):
			b.WriteByte('*')
			i += 2
		case strings.HasPrefix(s[i:], "http://") || strings.HasPrefix(s[i:], "https://"):
			j := strings.IndexAny(s[i:], " \t")
			if j < 0 {
				j = len(s) - i
			}
			b.WriteString(s[i : i+j])
			i += j
		case s[i] == '\\' && i+1 < len(s):
			b.WriteString(s[i : i+2]) // already escaped (a table cell's \|)
			i += 2
		default:
			if strings.IndexByte(wikiSpecial, s[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String()
}

// escapeWiki backslash-escapes every wiki markup character in s. Pipes are
// left alone: outside a table they are plain text (PromQL's "500|502"), and
// inside one postmortem.Render has already escaped them.
func escapeWiki(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(wikiSpecial, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
