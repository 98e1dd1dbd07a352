package chaosmesh_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/chaosmesh"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/scenarios"
)

// EnvChaosMeshDir overrides where the Chaos Mesh reference data (crd.yaml,
// examples/) is read from.
const EnvChaosMeshDir = "GAMEDAY_CHAOS_MESH_DIR"

// chaosMeshDir finds the reference data: $GAMEDAY_CHAOS_MESH_DIR, or
// ../shared/chaos-mesh next to the repository (the package is
// chaos/chaosmesh, three levels below that). Skips when absent, since the
// data is not part of the repository, except in CI (see skipUnlessCI).
func chaosMeshDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(EnvChaosMeshDir)
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "chaos-mesh")
	}
	if _, err := os.Stat(filepath.Join(dir, "examples")); err != nil {
		skipUnlessCI(t, "Chaos Mesh reference data not found at %s (set %s to a folder with crd.yaml and examples/ from github.com/chaos-mesh/chaos-mesh): %v", dir, EnvChaosMeshDir, err)
	}
	return dir
}

// skipUnlessCI skips a test whose reference data is missing, with the
// message, on a developer's machine. With CI set (CI=true, as CI runs) the
// data is expected, and its absence fails the test instead: a CI run that
// silently skipped these tests would pass without having run them.
func skipUnlessCI(t testing.TB, format string, args ...any) {
	t.Helper()
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("CI=%s: required test data missing: "+format, append([]any{ci}, args...)...)
	}
	t.Skipf(format, args...)
}

func readObject(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, k8syaml.Unmarshal(data, &m), path) // numbers as int64/float64, like a server
	return &unstructured.Unstructured{Object: m}
}

const exampleNamespace = "chaos-testing"

// TestExamplesRoundTrip reads each of Chaos Mesh's own examples as a gameday
// fault, validates it as a scenario would be, and builds it back: the spec
// must equal the example's, except where gameday fills a field itself
// (checked to agree with the example) or the example relies on something
// gameday refuses (a whole-namespace selector: a label selector is added).
func TestExamplesRoundTrip(t *testing.T) {
	dir := chaosMeshDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "examples", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	d := driver(t)
	schemas := loadCRDSchemas(t, filepath.Join(dir, "crd.yaml"))

	var roundTripped, skipped []string
	for _, path := range files {
		file := filepath.Base(path)
		ex := readObject(t, path)
		action, dur, params, target, err := chaosmesh.FaultFromObject(ex)
		if errors.Is(err, chaosmesh.ErrUnsupportedKind) {
			skipped = append(skipped, file+" ("+ex.GetKind()+")")
			t.Run(file, func(t *testing.T) {
				t.Skipf("%s is not a single chaos kind this back-end creates: %v", ex.GetKind(), err)
			})
			continue
		}
		ok := t.Run(file, func(t *testing.T) {
			require.NoError(t, err, "a %s example must convert to a fault", ex.GetKind())
			exSpec := ex.Object["spec"].(map[string]any)

			if target.Namespace == "" {
				target.Namespace = exampleNamespace // the example relies on kubectl -n
			}
			if len(target.Selector) == 0 {
				// Chaos Mesh may target a whole namespace; gameday refuses.
				var fe *errkind.FieldError
				require.ErrorAs(t, d.ValidateTarget(target), &fe)
				assert.Equal(t, "selector", fe.Field)
				target.Selector = map[string]string{"app": "example"}
			}
			require.NoError(t, d.ValidateTarget(target))
			require.NoError(t, d.Actions[action](params))

			// Through the scenario loader, as a user would write it.
			duration := dur
			if duration == 0 {
				duration = 30 * time.Second // gameday faults always have one
			}
			doc := map[string]any{
				"apiVersion": scenarios.APIVersion, "kind": scenarios.Kind,
				"metadata": map[string]any{"name": "example-" + strings.TrimSuffix(file, ".yaml"), "service": "example"},
				"spec": map[string]any{
					"target":    target,
					"faults":    []any{map[string]any{"name": "fault", "action": action, "duration": duration.String(), "params": params}},
					"unguarded": true, // the round trip is about the object, not guards
				},
			}
			data, err := yaml.Marshal(doc)
			require.NoError(t, err)
			s, err := scenarios.Parse(file, data)
			require.NoError(t, err, "scenario:\n%s", data)
			faults := s.ChaosFaults("wf-example")
			require.Len(t, faults, 1)
			f := faults[0]
			assert.Equal(t, chaosmesh.BackendName, f.Backend)

			u, err := chaosmesh.Object(f, time.Now().Add(time.Hour))
			require.NoError(t, err)
			assert.Equal(t, ex.GetKind(), u.GetKind())
			assert.Equal(t, ex.GetAPIVersion(), u.GetAPIVersion())
			got := u.Object["spec"].(map[string]any)
			specSchema := schemas[u.GetKind()]["properties"].(map[string]any)["spec"].(map[string]any)
			assert.Empty(t, checkSchema("spec", specSchema, got), "the built object must fit the CRD schema")

			// What gameday fills must agree with the example...
			want := deepCopy(exSpec)
			if a, ok := exSpec["action"]; ok {
				assert.Equal(t, a, got["action"])
			}
			assert.Equal(t, modeOr(exSpec["mode"]), got["mode"])
			assert.Equal(t, exSpec["value"], got["value"])
			if ds, ok := exSpec["duration"].(string); ok {
				exDur, err := time.ParseDuration(ds)
				require.NoError(t, err)
				gotDur, err := time.ParseDuration(got["duration"].(string))
				require.NoError(t, err)
				assert.Equal(t, exDur, gotDur)
			}
			sel, _ := exSpec["selector"].(map[string]any)
			if nss, ok := sel["namespaces"]; ok {
				assert.Equal(t, nss, got["selector"].(map[string]any)["namespaces"])
			}
			if ls, ok := sel["labelSelectors"]; ok {
				assert.Equal(t, ls, got["selector"].(map[string]any)["labelSelectors"])
			}
			// ... and the rest must be the example's, unchanged.
			for _, k := range []string{"action", "mode", "value", "duration", "selector"} {
				delete(want, k)
				delete(got, k)
			}
			assert.Equal(t, want, got)
		})
		if ok {
			roundTripped = append(roundTripped, file+" ("+ex.GetKind()+" "+action+")")
		}
	}
	sort.Strings(roundTripped)
	t.Logf("round-tripped %d examples:\n  %s", len(roundTripped), strings.Join(roundTripped, "\n  "))
	t.Logf("skipped %d examples of other kinds:\n  %s", len(skipped), strings.Join(skipped, "\n  "))
	assert.NotEmpty(t, roundTripped)
}

func modeOr(m any) any {
	if m == nil {
		return chaos.ModeOne
	}
	return m
}

func deepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: m}).DeepCopy().Object
}

// TestObjectsMatchCRDSchema checks every action's object against the
// OpenAPI schema of its kind in Chaos Mesh's crd.yaml: known fields, types,
// required fields, enums, patterns and bounds.
func TestObjectsMatchCRDSchema(t *testing.T) {
	dir := chaosMeshDir(t)
	schemas := loadCRDSchemas(t, filepath.Join(dir, "crd.yaml"))
	for _, tc := range actionCases {
		f := delayFault()
		f.Action, f.Params = tc.action, tc.params
		f.Target.Mode, f.Target.Value = chaos.ModeFixed, "2"
		u, err := chaosmesh.Object(f, time.Now())
		require.NoError(t, err)
		s, ok := schemas[u.GetKind()]
		require.True(t, ok, "no CRD for %s", u.GetKind())
		spec := s["properties"].(map[string]any)["spec"].(map[string]any)
		for _, problem := range checkSchema("spec", spec, u.Object["spec"]) {
			t.Errorf("%s: %s", tc.action, problem)
		}
	}
	// The checker itself catches what matters.
	s := schemas["NetworkChaos"]["properties"].(map[string]any)["spec"].(map[string]any)
	bad := map[string]any{"action": "slow", "mode": "one", "selector": map[string]any{}, "delay": map[string]any{"latency": "1m30s", "jitter": 3}, "bogus": true}
	problems := strings.Join(checkSchema("spec", s, bad), "\n")
	for _, w := range []string{"spec.action", "spec.delay.latency", "spec.delay.jitter", "spec.bogus"} {
		assert.Contains(t, problems, w)
	}
}

var crdCache sync.Map // path -> map[string]map[string]any

// loadCRDSchemas reads the v1alpha1 OpenAPI schema of every chaos-mesh.org
// kind in crd.yaml (3 MB: read once per test binary).
func loadCRDSchemas(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	if s, ok := crdCache.Load(path); ok {
		return s.(map[string]map[string]any)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	out := map[string]map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var crd struct {
			Spec struct {
				Group string `yaml:"group"`
				Names struct {
					Kind string `yaml:"kind"`
				} `yaml:"names"`
				Versions []struct {
					Name   string `yaml:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
					} `yaml:"schema"`
				} `yaml:"versions"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&crd); err != nil {
			break
		}
		for _, v := range crd.Spec.Versions {
			if crd.Spec.Group == "chaos-mesh.org" && v.Name == "v1alpha1" {
				out[crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
			}
		}
	}
	require.NotEmpty(t, out)
	crdCache.Store(path, out)
	return out
}

// checkSchema is a small structural OpenAPI v3 validator, enough for the
// schemas of Chaos Mesh's CRDs.
func checkSchema(path string, s map[string]any, v any) []string {
	var out []string
	bad := func(format string, args ...any) { out = append(out, path+": "+sprintf(format, args...)) }
	if s["x-kubernetes-int-or-string"] == true {
		switch v.(type) {
		case string, int64:
		default:
			bad("want int or string, got %T", v)
		}
		return out
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return out
		}
		props, _ := s["properties"].(map[string]any)
		addl, _ := s["additionalProperties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				bad("missing required field %s", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch {
			case props[k] != nil:
				out = append(out, checkSchema(path+"."+k, props[k].(map[string]any), m[k])...)
			case addl != nil:
				out = append(out, checkSchema(path+"."+k, addl, m[k])...)
			case s["x-kubernetes-preserve-unknown-fields"] == true:
			default:
				out = append(out, path+"."+k+": unknown field")
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return out
		}
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range l {
				out = append(out, checkSchema(sprintf("%s[%d]", path, i), items, e)...)
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return out
		}
		if enum := asList(s["enum"]); len(enum) > 0 && !contains(enum, str) {
			bad("%q not in %v", str, enum)
		}
		if p, ok := s["pattern"].(string); ok && !matches(p, str) {
			bad("%q does not match %s", str, p)
		}
	case "integer":
		n, ok := v.(int64)
		if !ok {
			bad("want an integer, got %T", v)
			return out
		}
		if min, ok := number(s["minimum"]); ok && float64(n) < min {
			bad("%d < minimum %v", n, min)
		}
		if max, ok := number(s["maximum"]); ok && float64(n) > max {
			bad("%d > maximum %v", n, max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func contains(l []any, s string) bool {
	for _, e := range l {
		if reflect.DeepEqual(e, s) {
			return true
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func matches(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
