package plans

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/gameday/gameday/chaos/all" // the catalog scenarios' back-ends
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/scenarios"
)

// base is a valid plan; tests replace lines of it (1-based) to break it.
const base = `# a valid plan
apiVersion: gameday/v1
kind: GameDay
metadata:
  name: shop-day
spec:
  environment: demo
  people:
    owner: dana
  preflight:
    - name: errors
      query: sum(rate(x[1m]))
      op: "<"
      threshold: 0.001
  pause_between: 10s
  steps:
    - name: first
      scenario: demo-inventory-latency-harmless
      set: {duration: 5s}
    - name: together
      parallel:
        - scenario: demo-seed-payment-timeout
          set: {duration: 5s}
        - scenario: demo-seed-cache-slow
          on_failure: continue
`

// edit replaces lines of base (1-based; "" deletes a line).
func edit(lines map[int]string) []byte {
	ls := strings.Split(base, "\n")
	for n, l := range lines {
		ls[n-1] = l
	}
	var out []string
	for _, l := range ls {
		if l != "\x00" {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

func TestBasePlanResolves(t *testing.T) {
	p, err := Parse("plan.yaml", ".", edit(nil))
	require.NoError(t, err)
	assert.Equal(t, gameday.OnFailureStop, p.Spec.OnFailure, "default")
	assert.Equal(t, 10*time.Second, p.Spec.PauseBetween.D())
	assert.Equal(t, 1, p.Spec.Preflight[0].For, "guard defaults applied as in scenarios")
	assert.Equal(t, 3, p.Experiments())

	stages, err := Resolve(p, ".")
	require.NoError(t, err)
	require.Len(t, stages, 2)
	assert.Equal(t, "first", stages[0].Name)
	assert.False(t, stages[0].Group)
	first := stages[0].Steps[0]
	assert.Equal(t, 5*time.Second, first.Scenario.HoldDuration(), "overrides applied")
	assert.Equal(t, "duration=5s (scenario: 20s)", first.Overrides[0].String())
	assert.Equal(t, "demo-inventory-latency-harmless", first.Source)

	g := stages[1]
	assert.True(t, g.Group)
	require.Len(t, g.Steps, 2)
	// Members without a name are named after their scenario.
	assert.Equal(t, "demo-seed-payment-timeout", g.Steps[0].Name)
	assert.Equal(t, gameday.OnFailureStop, g.Steps[0].OnFailure, "the plan's policy")
	assert.Equal(t, gameday.OnFailureContinue, g.Steps[1].OnFailure, "the member's own")
	assert.Equal(t, 60*time.Second, g.Steps[1].Scenario.HoldDuration(), "no override: as written")

	// Resolve does not touch the caller's plan.
	p2, err := Parse("plan.yaml", ".", edit(map[int]string{22: "        - scenario: demo-seed-payment-timeout"}))
	require.NoError(t, err)
	before := p2.Spec.Steps[1].Parallel[0].Name
	_, err = Resolve(p2, ".")
	require.NoError(t, err)
	assert.Equal(t, before, p2.Spec.Steps[1].Parallel[0].Name)
}

func TestBadPlansNameLineAndField(t *testing.T) {
	cases := []struct {
		name  string
		lines map[int]string
		want  []string
	}{
		{"unknown scenario suggests the closest", map[int]string{18: "      scenario: demo-inventroy-latency-harmless"},
			[]string{`plan.yaml:18: spec.steps[0].scenario: unknown scenario "demo-inventroy-latency-harmless": did you mean demo-inventory-latency-harmless`}},
		{"unknown scenario far from any lists the catalog", map[int]string{18: "      scenario: zookeeper"},
			[]string{`plan.yaml:18: spec.steps[0].scenario: unknown scenario "zookeeper": not in the catalog (`, "demo-seed-cache-slow"}},
		{"duplicate step names", map[int]string{20: "    - name: first"},
			[]string{`plan.yaml:20: spec.steps[1].name: duplicate step name "first" (also spec.steps[0].name)`}},
		{"duplicate default names", map[int]string{24: "        - scenario: demo-seed-payment-timeout"},
			[]string{`plan.yaml:24: spec.steps[1].parallel[1].name: duplicate step name "demo-seed-payment-timeout"`}},
		{"override of a fault that does not exist", map[int]string{19: "      set: {nope.latency: 1s}"},
			[]string{`plan.yaml:19: spec.steps[0].set.nope.latency: override nope.latency: no fault named "nope" (faults: inventory-latency)`}},
		{"override with a bad value", map[int]string{19: "      set: {duration: soon, toxicity: 3}"},
			[]string{`plan.yaml:19: spec.steps[0].set.duration: override duration=soon: want a positive duration`, `plan.yaml:19: spec.steps[0].set.toxicity:`}},
		{"override that breaks the guards' hold", map[int]string{19: "      set: {duration: 1s}"},
			[]string{`plan.yaml:19: spec.steps[0].set.duration: scenario demo-inventory-latency-harmless with overrides:`, "could never breach"}},
		{"empty group", map[int]string{21: "      parallel: []", 22: "\x00", 23: "\x00", 24: "\x00", 25: "\x00"},
			[]string{`plan.yaml:21: spec.steps[1].parallel: empty parallel group`}},
		{"nested group", map[int]string{24: "        - parallel: [{scenario: demo-seed-cache-down}]", 25: "\x00"},
			[]string{`plan.yaml:24: spec.steps[1].parallel[1].parallel: parallel groups cannot be nested`}},
		{"scenario and group at once", map[int]string{20: "    - scenario: demo-inventory-timeout"},
			[]string{`spec.steps[1].parallel: a step is either one scenario or a parallel group, not both`}},
		{"on_failure typo", map[int]string{25: "          on_failure: carry-on"},
			[]string{`plan.yaml:25: spec.steps[1].parallel[1].on_failure: must be stop or continue, got "carry-on"`}},
		{"plan on_failure typo", map[int]string{15: "  on_failure: halt"},
			[]string{`plan.yaml:15: spec.on_failure: must be stop or continue, got "halt"`}},
		{"no step", map[int]string{16: "  steps: []", 17: "\x00", 18: "\x00", 19: "\x00", 20: "\x00", 21: "\x00", 22: "\x00", 23: "\x00", 24: "\x00", 25: "\x00"},
			[]string{`plan.yaml:16: spec.steps: at least one step is required`}},
		{"missing scenario", map[int]string{18: "      set: {duration: 5s}", 19: "\x00"},
			[]string{`plan.yaml:17: spec.steps[0].scenario: required`}},
		{"unknown field, with the known ones", map[int]string{19: "      sets: {duration: 5s}"},
			[]string{`plan.yaml:19: spec.steps[0].sets: unknown field (known: name, scenario, set, on_failure, parallel)`}},
		{"owner and environment required", map[int]string{7: "  environment: ''", 9: "    owner: ''"},
			[]string{`plan.yaml:7: spec.environment: required`, `plan.yaml:9: spec.people.owner: required`}},
		{"pre-flight guards by the scenario rules", map[int]string{13: `      op: "=<"`, 14: "      threshold: .nan"},
			[]string{`plan.yaml:13: spec.preflight[0].op: unknown operator "=<"`, `plan.yaml:14: spec.preflight[0].threshold: must be a finite number`}},
		{"negative pause", map[int]string{15: "  pause_between: -1s"},
			[]string{`plan.yaml:15: spec.pause_between: must be >= 0`}},
		{"step name not a DNS label", map[int]string{17: "    - name: First Step"},
			[]string{`plan.yaml:17: spec.steps[0].name: must be a DNS label`}},
		{"two members on one link", map[int]string{24: "        - scenario: demo-seed-inventory-delay", 22: "        - scenario: demo-inventory-latency"},
			[]string{`spec.steps[1].parallel: steps demo-inventory-latency and demo-seed-inventory-delay act on the same target (toxiproxy proxy=inventory)`}},
		{"scenario of another environment", map[int]string{18: "      scenario: order-pod-kill", 19: "\x00"},
			[]string{`plan.yaml:18: spec.steps[0].scenario: scenario order-pod-kill is for environment staging, the plan for demo`}},
		{"a gate nobody in the plan signs", map[int]string{7: "  environment: staging", 18: "      scenario: inventory-network-delay", 19: "\x00"},
			[]string{`plan.yaml:18: spec.steps[0].scenario: scenario inventory-network-delay waits for sign-off by dev, test, sre: name who signs in spec.people.signoff (dev, test, sre)`}},
		{"sign-off people of an unknown role", map[int]string{9: "    owner: dana\n    signoff: {ops: [olga]}"},
			[]string{`plan.yaml:10: spec.people.signoff.ops: unknown sign-off role "ops" (valid: dev, test, sre)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("plan.yaml", ".", edit(tc.lines))
			require.Error(t, err)
			require.NoError(t, yamlx.WellFormed(err, "plan.yaml"))
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestPlanSizeIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: gameday/v1\nkind: GameDay\nmetadata: {name: big}\nspec:\n  environment: demo\n  people: {owner: dana}\n  steps:\n")
	for i := range gameday.MaxSteps + 1 {
		b.WriteString("    - {name: s" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ", scenario: demo-inventory-latency-harmless}\n")
	}
	_, err := Parse("big.yaml", ".", []byte(b.String()))
	assert.ErrorContains(t, err, "big.yaml:7: spec.steps: 31 experiments: at most 30 in one plan")

	b.Reset()
	b.WriteString("apiVersion: gameday/v1\nkind: GameDay\nmetadata: {name: wide}\nspec:\n  environment: demo\n  people: {owner: dana}\n  steps:\n    - parallel:\n")
	for i := range gameday.MaxParallel + 1 {
		b.WriteString("      - {name: p" + string(rune('a'+i)) + ", scenario: demo-inventory-latency-harmless}\n")
	}
	_, err = Parse("wide.yaml", ".", []byte(b.String()))
	assert.ErrorContains(t, err, "wide.yaml:8: spec.steps[0].parallel: 9 steps: at most 8 run at once")
}

// A step file is found relative to the plan, wherever the plan is started
// from; a catalog plan may not name files at all.
func TestStepFilesAreRelativeToThePlan(t *testing.T) {
	dir := t.TempDir()
	sc, err := scenarios.Find("demo-inventory-latency-harmless")
	require.NoError(t, err)
	sc.Metadata.Name = "my-latency"
	b, err := json.Marshal(sc) // JSON is YAML
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sc", "mine.yaml"), b, 0o644))
	plan := filepath.Join(dir, "plan.yaml")
	require.NoError(t, os.WriteFile(plan, edit(map[int]string{18: "      scenario: sc/mine.yaml"}), 0o644))

	p, d, err := Find(plan)
	require.NoError(t, err)
	assert.Equal(t, dir, d)
	stages, err := Resolve(p, d)
	require.NoError(t, err)
	assert.Equal(t, "my-latency", stages[0].Steps[0].Scenario.Metadata.Name)
	assert.Equal(t, "sc/mine.yaml", stages[0].Steps[0].Source)

	_, err = Parse("plans/x.yaml", "", edit(map[int]string{18: "      scenario: sc/mine.yaml"}))
	assert.ErrorContains(t, err, "plans/x.yaml:18: spec.steps[0].scenario: catalog plans name catalog scenarios only, not files (sc/mine.yaml)")

	require.NoError(t, os.WriteFile(plan, edit(map[int]string{18: "      scenario: sc/missing.yaml"}), 0o644))
	_, _, err = Find(plan)
	assert.ErrorContains(t, err, "plan.yaml:18: spec.steps[0].scenario: open "+filepath.Join(dir, "sc", "missing.yaml"))
}

func TestCatalog(t *testing.T) {
	all, err := Catalog()
	require.NoError(t, err)
	names := map[string]gameday.Plan{}
	for _, p := range all {
		names[p.Metadata.Name] = p
		stages, err := Resolve(p, "")
		require.NoError(t, err, p.Metadata.Name)
		require.NotEmpty(t, stages)
	}
	// One plan runs against the demo shop: short demo-* scenarios, one
	// parallel group.
	demo, ok := names["demo-shop"]
	require.True(t, ok, "demo-shop in the catalog")
	stages, err := Resolve(demo, "")
	require.NoError(t, err)
	groups := 0
	for _, st := range stages {
		if st.Group {
			groups++
		}
		for _, s := range st.Steps {
			assert.True(t, strings.HasPrefix(s.Scenario.Metadata.Name, "demo-"), s.Name)
			assert.LessOrEqual(t, s.Scenario.HoldDuration(), time.Minute, s.Name)
			assert.Empty(t, s.Scenario.Spec.Signoff.Roles, "the demo runs without a gate")
		}
	}
	assert.Equal(t, 1, groups)
	assert.NotEmpty(t, demo.Spec.Preflight)

	// One mirrors the seed's cadence on Kubernetes.
	seed, ok := names["seed-staging"]
	require.True(t, ok)
	stages, err = Resolve(seed, "")
	require.NoError(t, err)
	var seen []string
	for _, st := range stages {
		for _, s := range st.Steps {
			assert.Equal(t, "true", s.Scenario.Metadata.Labels["seed"], s.Name)
			seen = append(seen, s.Scenario.Metadata.Name)
		}
	}
	assert.ElementsMatch(t, []string{"order-pod-kill", "payment-cpu-stress", "inventory-network-delay"}, seen)

	_, _, err = Find("demo-shp")
	assert.ErrorContains(t, err, `unknown game-day plan "demo-shp"`)
}

func FuzzParse(f *testing.F) {
	files, _ := catalogFS.ReadDir(".")
	for _, e := range files {
		data, _ := catalogFS.ReadFile(e.Name())
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add(edit(nil))
	f.Add(edit(map[int]string{21: "      parallel: []"}))
	f.Add(edit(map[int]string{22: "        - &m {scenario: demo-seed-cache-down}\n        - *m"}))
	f.Add(edit(map[int]string{15: "  pause_between: 1e400h", 14: "      threshold: .inf"}))
	f.Add(edit(map[int]string{19: "      set: {duration: 0s, '': x, .: y}"}))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("spec: {steps: [{parallel: [{parallel: []}]}]}"))

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", "", data)
		if err != nil {
			if bad := yamlx.WellFormed(err, "fuzz.yaml"); bad != nil {
				t.Fatal(bad)
			}
			return
		}
		// It must fit in a workflow input.
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("parsed plan is not JSON: %v", err)
		}
		// A parsed plan is resolved: validating again finds nothing and
		// changes nothing.
		again := p
		again.Spec.Steps = cloneSteps(p.Spec.Steps)
		if err := Validate(&again, ""); err != nil {
			t.Fatalf("parsed plan does not validate: %v", err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("Validate changed a parsed plan")
		}
		// And it resolves to a bounded number of experiments, every one
		// with a unique name.
		stages, err := Resolve(p, "")
		if err != nil {
			t.Fatalf("parsed plan does not resolve: %v", err)
		}
		seen := map[string]bool{}
		n := 0
		for _, st := range stages {
			for _, s := range st.Steps {
				if seen[s.Name] || !yamlx.IsDNSLabel(s.Name) {
					t.Fatalf("step name %q twice or not a label", s.Name)
				}
				seen[s.Name] = true
				n++
			}
		}
		if n != p.Experiments() || n > gameday.MaxSteps {
			t.Fatalf("%d experiments resolved, plan says %d", n, p.Experiments())
		}
	})
}

// The README's commented plan is a plan that loads: the documentation
// cannot drift from the format.
func TestReadmePlanLoads(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(b), "\n## Game days\n")
	require.True(t, ok, "README has a Game days section")
	_, rest, ok := strings.Cut(section, "```yaml\n")
	require.True(t, ok, "with a plan")
	doc, _, _ := strings.Cut(rest, "```")
	p, err := Parse("README.md", "", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, 3, p.Experiments())
	assert.Equal(t, []string{"sam"}, p.Spec.People.Signoff["sre"])
}
