package chaosmesh_test

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/chaos/kubetarget"
)

// docTable returns the rows of the indented table in doc.go that starts
// with a header line beginning with header.
func docTable(t *testing.T, header string) [][]string {
	t.Helper()
	data, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var rows [][]string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		body, ok := strings.CutPrefix(line, "//\t")
		switch {
		case !in && ok && strings.HasPrefix(body, header):
			in = true
		case in && !ok:
			return rows
		case in:
			rows = append(rows, regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(body), -1))
		}
	}
	require.True(t, in, "no table %q in doc.go", header)
	return rows
}

// The RBAC list in the package documentation is what Permissions returns
// (a later test compares it with deploy/rbac.yaml).
func TestDocRBACMatchesPermissions(t *testing.T) {
	var doc []kubetarget.Permission
	for _, r := range docTable(t, "apiGroup") {
		require.Len(t, r, 3, "row %q", r)
		group := r[0]
		if group == `""` {
			group = ""
		}
		doc = append(doc, kubetarget.Permission{Group: group, Resource: r[1], Verbs: strings.Split(r[2], ", ")})
	}
	assert.Equal(t, chaosmesh.Permissions(), doc)
}

func TestDocActionsMatchActions(t *testing.T) {
	rows := docTable(t, "action ")
	paren := regexp.MustCompile(`\s*\([^)]*\)`)
	var doc []chaosmesh.Action
	for _, r := range rows {
		require.Len(t, r, 4, "row %q", r)
		a := chaosmesh.Action{Name: r[0], SpecAction: r[2]}
		if a.SpecAction == "-" {
			a.SpecAction = ""
		}
		a.Kind.Kind = r[1]
		if req := strings.TrimSpace(paren.ReplaceAllString(r[3], "")); req != "" {
			a.Required = strings.Split(req, ", ")
			sort.Strings(a.Required)
		}
		doc = append(doc, a)
	}
	sort.Slice(doc, func(i, j int) bool { return doc[i].Name < doc[j].Name })
	var want []chaosmesh.Action
	for _, a := range chaosmesh.Actions() {
		want = append(want, chaosmesh.Action{Name: a.Name, Kind: chaosmesh.Kind{Kind: a.Kind.Kind}, SpecAction: a.SpecAction, Required: a.Required})
	}
	assert.Equal(t, want, doc)
}
