package gameday_test

// The layout rules of docs/design.md ("Where things live"), checked on the
// real import graph (`go list -deps`, non-test code: tests may use
// whatever they need):
//
//   - TestPurePackagesDoNotImportTemporal: only the packages in
//     temporalSide may depend on go.temporal.io/..., directly or not.
//     Every other package of the module is pure, a new one included; add
//     it to temporalSide only if it really is Temporal code.
//   - TestAdaptersDoNotImportEachOther: a package of one adapter (the code
//     that talks to one outside system) never depends on a package of
//     another; the packages that connect them are in wiring.
//
// Both lists name packages that must exist, so a rename shows up here.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/gameday/gameday"

// temporalSide are the packages that are Temporal code: the workflows and
// activities, the worker that runs them, the client side (control) and
// its Slack bridge, the local dev stack that starts a Temporal server, the
// binary and the end-to-end tests. Everything else (experiment, scenarios,
// checklist, signoff, lease, safety, sli, chaos and its back-ends, config,
// notify, postmortem, ticket, slackbot, demo, internal/...) is pure: it
// can be read, tested and reused without Temporal.
var temporalSide = []string{
	"workflows",
	"activities",
	"worker",
	"control",
	"slackbot/slacktemporal",
	"internal/devstack",
	"cmd/gameday",
	"integration",
}

// adapters: each talks to one outside system and is wired to the others
// only by the wiring packages. sli (the guard and its rules; its Querier
// is the port sli/promclient implements, its Prober the port of sli/probe)
// and postmortem (its Sink is the
// port ticket implements) are the core's words, not adapters, and may be
// imported by adapters.
var adapters = map[string][]string{
	"Slack":                {"slackbot"},
	"Jira":                 {"ticket", "ticket/jiratest"},
	"toxiproxy":            {"chaos/toxiproxy"},
	"Kubernetes API":       {"chaos/kubetarget", "chaos/kubernetes", "chaos/chaosmesh"}, // Chaos Mesh is driven through the Kubernetes API, with the shared helpers
	"Prometheus":           {"sli/promclient"},
	"probed services":      {"sli/probe"}, // probe guards: HTTP and TCP to the services under test
	"Temporal (as client)": {"control"},
}

// wiring may import several adapters: that is their job.
var wiring = []string{
	"cmd/gameday",            // the binary
	"worker",                 // builds the activities from the configured back-ends
	"chaos/all",              // registers every back-end
	"slackbot/slacktemporal", // slackbot.Engine on control
	"demo",                   // the demo shop embeds toxiproxy and its reaper
	"integration",
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

var graphOnce = sync.OnceValues(func() (map[string]pkg, error) {
	if err := readSources(); err != nil {
		return nil, err
	}
	cmd := exec.Command("go", "list", "-e", "-deps", "-json=ImportPath,Imports,Deps,Error", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w\n%s", err, stderr.String())
	}
	graph := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return graph, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		graph[p.ImportPath] = p
	}
})

// readSources reads go.mod and every .go file of the module. go list runs
// in a child process, whose reads the test cache does not see: without
// this, `go test ./...` would answer a cached PASS after an import was
// added elsewhere. Files the test reads are part of its cache key.
func readSources() error {
	if _, err := os.ReadFile("go.mod"); err != nil {
		return err
	}
	return filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, ".go"):
			_, err = os.ReadFile(path)
			return err
		}
		return nil
	})
}

// loadGraph lists every package of the module with its imports and
// transitive dependencies (once per test binary).
func loadGraph(t *testing.T) map[string]pkg {
	t.Helper()
	graph, err := graphOnce()
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// ours are the module's own packages, relative to the module root, sorted.
func ours(graph map[string]pkg) []string {
	var out []string
	for path := range graph {
		if rel, ok := strings.CutPrefix(path, module+"/"); ok {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// chain is the import chain from one package to the first package that
// matches, for a message that says where to cut: "a -> b -> c".
func chain(graph map[string]pkg, from string, match func(string) bool) string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, next := range graph[cur].Imports {
			if _, seen := prev[next]; seen {
				continue
			}
			prev[next] = cur
			if match(next) {
				var path []string
				for p := next; p != ""; p = prev[p] {
					path = append(path, strings.TrimPrefix(p, module+"/"))
				}
				slices.Reverse(path)
				return strings.Join(path, " -> ")
			}
			queue = append(queue, next)
		}
	}
	return "?"
}

func mustExist(t *testing.T, graph map[string]pkg, list string, rels ...string) {
	t.Helper()
	for _, rel := range rels {
		if _, ok := graph[module+"/"+rel]; !ok {
			t.Errorf("layout_test.go: %s names %s, which is not a package of the module: update the list", list, rel)
		}
	}
}

func TestPurePackagesDoNotImportTemporal(t *testing.T) {
	graph := loadGraph(t)
	mustExist(t, graph, "temporalSide", temporalSide...)
	isTemporal := func(path string) bool { return strings.HasPrefix(path, "go.temporal.io/") }
	pure := 0
	for _, rel := range ours(graph) {
		if slices.Contains(temporalSide, rel) {
			continue
		}
		pure++
		p := graph[module+"/"+rel]
		if slices.ContainsFunc(p.Deps, isTemporal) {
			t.Errorf("pure package %s depends on Temporal: %s (move the Temporal code out, or list %s in temporalSide if it is Temporal code)",
				rel, chain(graph, p.ImportPath, isTemporal), rel)
		}
	}
	if pure == 0 {
		t.Fatal("no pure package found: the graph is empty?")
	}
}

func TestAdaptersDoNotImportEachOther(t *testing.T) {
	graph := loadGraph(t)
	mustExist(t, graph, "wiring", wiring...)
	owner := map[string]string{} // import path -> adapter
	for name, rels := range adapters {
		mustExist(t, graph, "adapters["+name+"]", rels...)
		for _, rel := range rels {
			if slices.Contains(wiring, rel) {
				t.Errorf("%s is both an adapter (%s) and wiring", rel, name)
			}
			owner[module+"/"+rel] = name
		}
	}
	for path, name := range owner {
		other := func(dep string) bool { o, ok := owner[dep]; return ok && o != name }
		if slices.ContainsFunc(graph[path].Deps, other) {
			t.Errorf("adapter %s (%s) depends on another adapter: %s; connect them in a wiring package instead",
				strings.TrimPrefix(path, module+"/"), name, chain(graph, path, other))
		}
	}
}
