package ticket

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWiki(t *testing.T) {
	md := strings.Join([]string{
		"# Game day x: aborted (p99)",
		"",
		"- Workflow: `wf-1` run `r-1`",
		"- Outcome: **aborted**",
		"- Temporal UI: http://t.example/ns/default/workflows/wf-1/history",
		"",
		"## Timeline",
		"",
		"| phase | status | detail |",
		"| --- | --- | --- |",
		"| inject | done |  |",
		"| observe | failed | a \\| b [x] |",
		"",
		"- Query: `sum(rate(x{code=~\"5..\"}[5m])) * 100`",
	}, "\n")
	got := wiki(md)
	want := strings.Join([]string{
		"h1. Game day x: aborted (p99)",
		"",
		"* Workflow: {{wf-1}} run {{r-1}}",
		"* Outcome: *aborted*",
		"* Temporal UI: http://t.example/ns/default/workflows/wf-1/history",
		"",
		"h2. Timeline",
		"",
		"||phase||status||detail||",
		"|inject|done| |",
		"|observe|failed|a \\| b \\[x\\]|",
		"",
		"* Query: {{sum(rate(x\\{code=\\~\"5..\"\\}\\[5m\\])) \\* 100}}",
	}, "\n")
	assert.Equal(t, want, got)
}

func TestSplitRow(t *testing.T) {
	assert.Equal(t, []string{" a ", " b \\| c ", " "}, splitRow(`| a | b \| c | |`))
}
