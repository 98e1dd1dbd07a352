package checklists

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/internal/yamlx"
)

// base is a valid checklist; cases edit it by line number (1-based), so the
// numbers in comments are the ones the assertions use.
var base = strings.Split(`apiVersion: gameday/v1
kind: Checklist
metadata:
  name: test-list
spec:
  threshold: 75
  items:
    - id: cb-fallback
      title: Breakers configured
      verification: dashboard
      criterion: fallback within 30s
      owner: dev
      weight: 15
      strong_blocking: true
      fault_class: network-delay
    - id: trace-coloring
      title: Coloring covers the chain
      verification: jaeger
      criterion: 99% of spans tagged
      owner: sre
      weight: 10
`, "\n")

// edit replaces lines of base; "-" deletes a line, "\n" inside a
// replacement inserts lines.
func edit(changes map[int]string) []byte {
	var out []string
	for i, l := range base {
		if c, ok := changes[i+1]; ok {
			if c == "-" {
				continue
			}
			l = c
		}
		out = append(out, l)
	}
	return []byte(strings.Join(out, "\n"))
}

func TestParse(t *testing.T) {
	cl, err := Parse("x.yaml", edit(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := checklist.Checklist{
		APIVersion: checklist.APIVersion, Kind: checklist.Kind, Metadata: checklist.Metadata{Name: "test-list"},
		Spec: checklist.Spec{Threshold: 75, Items: []checklist.Item{
			{ID: "cb-fallback", Title: "Breakers configured", Verification: "dashboard", Criterion: "fallback within 30s",
				Owner: "dev", Weight: 15, StrongBlocking: true, FaultClass: "network-delay"},
			{ID: "trace-coloring", Title: "Coloring covers the chain", Verification: "jaeger", Criterion: "99% of spans tagged",
				Owner: "sre", Weight: 10},
		}},
	}
	if !reflect.DeepEqual(cl, want) {
		t.Fatalf("got  %+v\nwant %+v", cl, want)
	}

	cl, err = Parse("x.yaml", edit(map[int]string{6: "-"}))
	if err != nil || cl.Spec.Threshold != checklist.DefaultThreshold {
		t.Fatalf("default threshold: %v, %v", cl.Spec.Threshold, err)
	}
}

type want struct {
	line  int
	field string
	msg   string // substring
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []want
	}{
		{"unknown field", edit(map[int]string{14: "      strong_bloking: true"}),
			[]want{{14, "spec.items[0].strong_bloking", "unknown field (known: id, title, verification, criterion, owner, weight, strong_blocking, fault_class, verified_by)"}}},
		{"unknown top-level field", edit(map[int]string{5: "spec:\n  treshold: 80"}),
			[]want{{6, "spec.treshold", "unknown field (known: threshold, items)"}}},
		{"wrong type", edit(map[int]string{13: "      weight: high"}),
			[]want{{13, "spec.items[0].weight", "cannot unmarshal !!str `high` into float64"}}},
		{"wrong type bool", edit(map[int]string{14: "      strong_blocking: sometimes"}),
			[]want{{14, "spec.items[0].strong_blocking", "into bool"}}},
		{"items not a list", edit(map[int]string{7: "  items: {a: 1}", 8: "-", 9: "-", 10: "-", 11: "-", 12: "-", 13: "-", 14: "-", 15: "-",
			16: "-", 17: "-", 18: "-", 19: "-", 20: "-", 21: "-"}),
			[]want{{7, "spec.items", "cannot unmarshal !!map into []checklist.Item"}}},
		{"bad owner", edit(map[int]string{20: "      owner: ops"}),
			[]want{{20, "spec.items[1].owner", `unknown owner "ops" (one of dev, test, sre)`}}},
		{"missing owner", edit(map[int]string{20: "-"}),
			[]want{{16, "spec.items[1].owner", "required (one of dev, test, sre)"}}},
		{"duplicate id", edit(map[int]string{16: "    - id: cb-fallback"}),
			[]want{{16, "spec.items[1].id", `duplicate item id "cb-fallback" (also spec.items[0])`}}},
		{"bad id", edit(map[int]string{16: "    - id: Trace_Coloring"}),
			[]want{{16, "spec.items[1].id", "lowercase letters, digits and '-'"}}},
		{"missing id", edit(map[int]string{16: "    - title: Coloring covers the chain", 17: "-"}),
			[]want{{16, "spec.items[1].id", "required"}}},
		{"missing title", edit(map[int]string{9: "-"}),
			[]want{{8, "spec.items[0].title", "required"}}},
		{"blank criterion", edit(map[int]string{11: `      criterion: "  "`}),
			[]want{{11, "spec.items[0].criterion", "required"}}},
		{"missing verification", edit(map[int]string{18: "-"}),
			[]want{{16, "spec.items[1].verification", "required"}}},
		{"zero weight", edit(map[int]string{13: "      weight: 0"}),
			[]want{{13, "spec.items[0].weight", "required"}}},
		{"missing weight", edit(map[int]string{21: "-"}),
			[]want{{16, "spec.items[1].weight", "required"}}},
		{"negative weight", edit(map[int]string{13: "      weight: -5"}),
			[]want{{13, "spec.items[0].weight", "must be in (0, 100] percentage points, got -5"}}},
		{"weight over 100", edit(map[int]string{13: "      weight: 150"}),
			[]want{{13, "spec.items[0].weight", "got 150"}}},
		{"NaN weight", edit(map[int]string{13: "      weight: .nan"}),
			[]want{{13, "spec.items[0].weight", "got NaN"}}},
		{"bad fault class", edit(map[int]string{15: "      fault_class: Network Delay"}),
			[]want{{15, "spec.items[0].fault_class", "lowercase token"}}},
		{"threshold over 100", edit(map[int]string{6: "  threshold: 101"}),
			[]want{{6, "spec.threshold", "must be a percentage in (0, 100], got 101"}}},
		{"negative threshold", edit(map[int]string{6: "  threshold: -1"}),
			[]want{{6, "spec.threshold", "got -1"}}},
		{"no items", edit(map[int]string{7: "  items: []", 8: "-", 9: "-", 10: "-", 11: "-", 12: "-", 13: "-", 14: "-", 15: "-",
			16: "-", 17: "-", 18: "-", 19: "-", 20: "-", 21: "-"}),
			[]want{{7, "spec.items", "at least one item"}}},
		{"bad kind", edit(map[int]string{2: "kind: Scenario"}),
			[]want{{2, "kind", `must be "Checklist", got "Scenario"`}}},
		{"bad apiVersion", edit(map[int]string{1: "apiVersion: v1"}),
			[]want{{1, "apiVersion", `must be "gameday/v1"`}}},
		{"bad name", edit(map[int]string{4: "  name: Release Default"}),
			[]want{{4, "metadata.name", "DNS-1123"}}},
		{"missing name", edit(map[int]string{4: "  description: x"}),
			[]want{{3, "metadata.name", "required"}}},
		{"several problems sorted by line", edit(map[int]string{20: "      owner: ops", 2: "kind: List", 9: "-"}),
			[]want{
				{2, "kind", "must be"},
				{8, "spec.items[0].title", "required"},
				{19, "spec.items[1].owner", "unknown owner"},
			}},
		{"several decode errors", edit(map[int]string{21: "      weight: [1]", 10: "      verify: x"}),
			[]want{
				{10, "spec.items[0].verify", "unknown field"},
				{21, "spec.items[1].weight", "cannot unmarshal !!seq into float64"},
			}},
		{"duplicate key", edit(map[int]string{13: "      weight: 15\n      weight: 20"}),
			[]want{{14, "spec.items[0].weight", `mapping key "weight" already defined at line 13`}}},
		{"empty file", []byte("\n"), []want{{1, "", "empty file: want a gameday/v1 Checklist document"}}},
		{"multiple documents", []byte(strings.Join(base, "\n") + "---\nkind: Checklist\n"), []want{{22, "", "want exactly one checklist per file"}}},
		{"top level not a mapping", []byte("[a]\n"), []want{{1, "", "top level must be a mapping"}}},
		{"syntax error", edit(map[int]string{9: "      title: [unclosed"}), []want{{9, "", "did not find expected ',' or ']'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, tt.data, tt.want) })
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("checklist/x.yaml", edit(map[int]string{20: "      owner: ops"}))
	want := `checklist/x.yaml:20: spec.items[1].owner: unknown owner "ops" (one of dev, test, sre)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var fe *errkind.FieldError
	if !errors.As(err, &fe) || fe.Line != 20 {
		t.Fatalf("errors.As(*errkind.FieldError) = %v", fe)
	}
}

func TestValidateWithoutFile(t *testing.T) {
	cl := checklist.Checklist{APIVersion: checklist.APIVersion, Kind: checklist.Kind, Metadata: checklist.Metadata{Name: "x"},
		Spec: checklist.Spec{Items: []checklist.Item{{ID: "a", Owner: "dev", Weight: 10}}}}
	err := Validate(&cl)
	var errs yamlx.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	got := err.Error()
	for _, w := range []string{"spec.items[0].title: required", "spec.items[0].verification: required", "spec.items[0].criterion: required"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
	if errs[0].Line != 0 || errs[0].File != "" {
		t.Errorf("want no position, got %s", errs[0])
	}
	if cl.Spec.Threshold != checklist.DefaultThreshold {
		t.Errorf("threshold = %v, want the default", cl.Spec.Threshold)
	}
}

// A parsed checklist travels as JSON in workflow input and is validated
// again by the worker: that must change nothing.
func TestJSONRoundTrip(t *testing.T) {
	cl, err := Parse("x.yaml", edit(nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cl)
	if err != nil {
		t.Fatal(err)
	}
	var back checklist.Checklist
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := Validate(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cl) {
		t.Errorf("round trip changed the checklist:\n got %+v\nwant %+v", back, cl)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := catalogFS.ReadDir(".")
	for _, e := range files {
		data, _ := catalogFS.ReadFile(e.Name())
		f.Add(data)
		f.Add(data[:len(data)/2])
		f.Add([]byte(strings.ReplaceAll(string(data), "  ", "\t")))
	}
	f.Add(edit(nil))
	f.Add(edit(map[int]string{13: "      weight: high", 20: "      owner: ops", 10: "      verify: x"}))
	f.Add(edit(map[int]string{8: "    - &i {id: a, title: t, verification: v, criterion: c, owner: dev, weight: 1}\n    - *i"}))
	f.Add(edit(map[int]string{6: "  threshold: .nan", 13: "      weight: .inf"}))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("spec: {items: [{weight: 1e400}], threshold: -0}"))

	f.Fuzz(func(t *testing.T, data []byte) {
		cl, err := Parse("fuzz.yaml", data)
		if err != nil {
			if bad := yamlx.WellFormed(err, "fuzz.yaml"); bad != nil {
				t.Fatal(bad)
			}
			return
		}
		// It must fit in a workflow input.
		if _, err := json.Marshal(cl); err != nil {
			t.Fatalf("parsed checklist is not JSON: %v", err)
		}
		// A parsed checklist is resolved: validating again finds nothing
		// and changes nothing.
		again := cl
		again.Spec.Items = append([]checklist.Item(nil), cl.Spec.Items...)
		if err := Validate(&again); err != nil {
			t.Fatalf("parsed checklist does not validate: %v", err)
		}
		if !reflect.DeepEqual(again, cl) {
			t.Fatalf("Validate changed a parsed checklist")
		}
		// And it always yields a gate: an all-pass sign-off passes.
		// (Evidence-verified items: all their checks pass.)
		var signs []checklist.Sign
		var evidence []checklist.CheckResult
		for _, it := range cl.Spec.Items {
			signs = append(signs, checklist.Sign{ItemID: it.ID, Pass: true, Role: it.Owner})
			for _, c := range it.VerifiedBy {
				evidence = append(evidence, checklist.CheckResult{Item: it.ID, Check: c.Name, Pass: true})
			}
		}
		if g := checklist.EvaluateGate(cl, signs, evidence...); !g.Passed || g.Score != 100 {
			t.Fatalf("all-pass gate = %+v", g)
		}
	})
}

// An evidence-verified item: base with cb-fallback's lines 8-15 kept and
// its evidence on lines 16-27.
var evidenceBase = strings.Join(base[:15], "\n") + `
      verified_by:
        - name: fallback-ratio
          query: sum(increase(fallback_calls_total[$window]))
          op: ">"
          threshold: 0
          reduce: last
        - guard: error-rate
          window: run
        - name: breaker
          query: max(circuit_breaker_state{state="open"})
          op: "=="
          threshold: 0
` + strings.Join(base[15:], "\n")

func editEvidence(changes map[int]string) []byte {
	saved := base
	base = strings.Split(evidenceBase, "\n")
	defer func() { base = saved }()
	return edit(changes)
}

func TestParseEvidence(t *testing.T) {
	cl, err := Parse("x.yaml", editEvidence(nil))
	if err != nil {
		t.Fatal(err)
	}
	zero := 0.0
	wantChecks := []checklist.Check{
		{Name: "fallback-ratio", Query: "sum(increase(fallback_calls_total[$window]))", Op: ">", Threshold: &zero, Window: "observe", Reduce: "last", OnNoData: "fail"},
		{Name: "error-rate", Guard: "error-rate", Window: "run", Reduce: "worst"},
		{Name: "breaker", Query: `max(circuit_breaker_state{state="open"})`, Op: "==", Threshold: &zero, Window: "observe", Reduce: "worst", OnNoData: "fail"},
	}
	if got := cl.Spec.Items[0].VerifiedBy; !reflect.DeepEqual(got, wantChecks) {
		t.Fatalf("got  %+v\nwant %+v", got, wantChecks)
	}
	if !cl.Spec.Items[0].Verified() || cl.Spec.Items[1].Verified() {
		t.Fatal("Verified()")
	}

	tests := []struct {
		name string
		data []byte
		want []want
	}{
		{"guard and query", editEvidence(map[int]string{22: "        - guard: error-rate\n          query: x"}),
			[]want{{23, "spec.items[0].verified_by[1].query", "give guard (a guard of the scenario) or query, not both"}}},
		{"neither guard nor query", editEvidence(map[int]string{18: "-"}),
			[]want{{17, "spec.items[0].verified_by[0].query", "required: a PromQL query, or guard: NAME"}}},
		{"op next to a guard", editEvidence(map[int]string{23: `          op: "<"`}),
			[]want{{23, "spec.items[0].verified_by[1].op", "comes from guard error-rate: leave it out"}}},
		{"threshold next to a guard", editEvidence(map[int]string{23: "          threshold: 1"}),
			[]want{{23, "spec.items[0].verified_by[1].threshold", "comes from guard error-rate"}}},
		{"missing threshold", editEvidence(map[int]string{27: "-"}),
			[]want{{24, "spec.items[0].verified_by[2].threshold", "required (a finite number)"}}},
		{"infinite threshold", editEvidence(map[int]string{27: "          threshold: .inf"}),
			[]want{{27, "spec.items[0].verified_by[2].threshold", "must be a finite number, got +Inf"}}},
		{"bad op", editEvidence(map[int]string{26: `          op: "=<"`}),
			[]want{{26, "spec.items[0].verified_by[2].op", `must be one of < <= > >= == !=, got "=<"`}}},
		{"missing name", editEvidence(map[int]string{24: "        - op: \"==\"", 26: "-"}),
			[]want{{24, "spec.items[0].verified_by[2].name", "required for a query check"}}},
		{"duplicate name", editEvidence(map[int]string{24: "        - name: error-rate"}),
			[]want{{24, "spec.items[0].verified_by[2].name", `duplicate check name "error-rate" in this item (also verified_by[1])`}}},
		{"bad window", editEvidence(map[int]string{23: "          window: hold"}),
			[]want{{23, "spec.items[0].verified_by[1].window", `must be observe or run, got "hold"`}}},
		{"bad reduce", editEvidence(map[int]string{21: "          reduce: p99"}),
			[]want{{21, "spec.items[0].verified_by[0].reduce", `must be one of worst, max, min, avg, last, got "p99"`}}},
		{"bad within", editEvidence(map[int]string{23: "          within: soon"}),
			[]want{{23, "spec.items[0].verified_by[1].within", `invalid duration "soon"`}}},
		{"negative within", editEvidence(map[int]string{23: "          within: -3s"}),
			[]want{{23, "spec.items[0].verified_by[1].within", "must be a positive duration"}}},
		{"bad on_no_data", editEvidence(map[int]string{21: "          on_no_data: pass"}),
			[]want{{21, "spec.items[0].verified_by[0].on_no_data", `must be fail or ignore, got "pass"`}}},
		{"unknown check field", editEvidence(map[int]string{21: "          reduction: last"}),
			[]want{{21, "spec.items[0].verified_by[0].reduction", "unknown field (known: name, guard, query, op, threshold, window, within, reduce, on_no_data)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErrors(t, tt.data, tt.want) })
	}
}

// wantErrors parses data as x.yaml and checks the errors, in order.
func wantErrors(t *testing.T, data []byte, want []want) {
	t.Helper()
	_, err := Parse("x.yaml", data)
	var errs yamlx.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %T %v", err, err)
	}
	if len(errs) != len(want) {
		t.Fatalf("want %d errors, got %d:\n%v", len(want), len(errs), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.File != "x.yaml" || e.Line != w.line || e.Field != w.field || !strings.Contains(e.Msg, w.msg) {
			t.Errorf("error %d:\n got %s\nwant x.yaml:%d: %s: ...%s...", i, e, w.line, w.field, w.msg)
		}
	}
}
