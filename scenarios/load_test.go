package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/sli"

	"github.com/gameday/gameday/chaos"
)

// The fake back-end keeps these tests independent of any real driver.
func init() {
	chaos.Register(chaos.Driver{
		Name: "fake",
		Actions: map[string]func(map[string]any) error{
			"latency": func(params map[string]any) error {
				var p struct {
					Latency  chaos.Dur `json:"latency"`
					Toxicity *float64  `json:"toxicity"`
				}
				if err := chaos.DecodeParams(params, &p); err != nil {
					return err
				}
				if p.Latency <= 0 {
					return &errkind.FieldError{Field: "latency", Msg: "required"}
				}
				if p.Toxicity != nil && (*p.Toxicity < 0 || *p.Toxicity > 1) {
					return &errkind.FieldError{Field: "toxicity", Msg: "must be between 0 and 1"}
				}
				return nil
			},
			"timeout": func(params map[string]any) error {
				var p struct {
					Timeout chaos.Dur `json:"timeout"`
				}
				return chaos.DecodeParams(params, &p)
			},
			"kill": nil,
		},
		ValidateTarget: func(t chaos.Target) error {
			if t.Selector["proxy"] == "" {
				return &errkind.FieldError{Field: "selector.proxy", Msg: "required"}
			}
			return nil
		},
	})
}

// base is a valid scenario; cases edit it by line number (1-based), so the
// numbers in comments are the ones the assertions use.
var base = strings.Split(`apiVersion: gameday/v1
kind: Scenario
metadata:
  name: test-scenario
  service: order-service
spec:
  target:
    backend: fake
    selector:
      proxy: inventory
  faults:
    - name: slow
      action: latency
      duration: 30s
      params:
        latency: 100ms
        toxicity: 0.5
  guards:
    - name: p95
      query: up
      op: "<="
      threshold: 0.8
    - name: errors
      query: errors
      op: "<"
      threshold: 0.01
      for: 3
      interval: 2s
      on_error: ignore
  signoff:
    roles: [dev, sre]
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
		{"checklist evidence names a guard the scenario lacks", edit(map[int]string{31: "    roles: [dev, sre]\n  checklist: demo-seed"}),
			[]want{{32, "spec.checklist", `checklist demo-seed: spec.items[1].verified_by[0].guard: item breaker-recovers names guard "circuit-breaker-closed", which the scenario does not have (its guards: p95, errors)`}}},
		{"unknown field", edit(map[int]string{22: "      treshold: 0.8"}),
			[]want{{22, "spec.guards[0].treshold", "unknown field (known: name, query, op, threshold"}}},
		{"unknown field flow style", edit(map[int]string{10: "      proxy: inventory\n    mde: {a: 1}"}),
			[]want{{11, "spec.target.mde", "unknown field"}}},
		{"wrong type", edit(map[int]string{22: `      threshold: "abc"`}),
			[]want{{22, "spec.guards[0].threshold", "cannot unmarshal !!str `abc` into float64"}}},
		{"wrong type in flow sequence", edit(map[int]string{31: "    roles: [dev, {a: 1}]"}),
			[]want{{31, "spec.signoff.roles[1]", "cannot unmarshal !!map into string"}}},
		{"invalid duration", edit(map[int]string{14: "      duration: 30 seconds"}),
			[]want{{14, "spec.faults[0].duration", `invalid duration "30 seconds"`}}},
		{"duration not a scalar", edit(map[int]string{14: "      duration: [30s]"}),
			[]want{{14, "spec.faults[0].duration", "want a duration"}}},
		{"missing service", edit(map[int]string{5: "-"}),
			[]want{{3, "metadata.service", "required"}}},
		{"bad name", edit(map[int]string{4: "  name: Test_Scenario"}),
			[]want{{4, "metadata.name", "DNS-1123"}}},
		{"bad apiVersion", edit(map[int]string{1: "apiVersion: gameday/v2"}),
			[]want{{1, "apiVersion", `must be "gameday/v1"`}}},
		{"unknown back-end", edit(map[int]string{8: "    backend: nope"}),
			[]want{{8, "spec.target.backend", `unknown back-end "nope" (known: `}}},
		{"missing back-end", edit(map[int]string{8: "-"}),
			[]want{{7, "spec.target.backend", "required"}}},
		{"target rejected by driver", edit(map[int]string{10: "-"}),
			[]want{{9, "spec.target.selector.proxy", "required"}}},
		{"unknown overlap", edit(map[int]string{30: "  overlap: yes please\n  signoff:"}),
			[]want{{30, "spec.overlap", `must be allow or refuse, got "yes please"`}}},
		{"unknown fault back-end", edit(map[int]string{13: "      backend: nope\n      action: latency"}),
			[]want{{13, "spec.faults[0].backend", `unknown back-end "nope"`}}},
		{"unknown action", edit(map[int]string{13: "      action: explode"}),
			[]want{{13, "spec.faults[0].action", `unknown action "explode" for back-end fake (valid: kill, latency, timeout)`}}},
		{"missing action", edit(map[int]string{13: "-"}),
			[]want{{12, "spec.faults[0].action", "required"}}},
		{"bad param", edit(map[int]string{17: "        toxicity: 2"}),
			[]want{{17, "spec.faults[0].params.toxicity", "must be between 0 and 1"}}},
		{"unknown param", edit(map[int]string{17: "        toxcity: 0.5"}),
			[]want{{17, "spec.faults[0].params.toxcity", "unknown field"}}},
		{"missing param", edit(map[int]string{16: "-"}),
			[]want{{15, "spec.faults[0].params.latency", "required"}}},
		{"missing duration", edit(map[int]string{14: "-"}),
			[]want{{12, "spec.faults[0].duration", "required"}}},
		{"no faults", edit(map[int]string{11: "  faults: []", 12: "-", 13: "-", 14: "-", 15: "-", 16: "-", 17: "-"}),
			[]want{{11, "spec.faults", "at least one"}}},
		{"duplicate fault name", edit(map[int]string{17: "        toxicity: 0.5\n    - name: slow\n      action: kill\n      duration: 10s"}),
			[]want{{18, "spec.faults[1].name", `duplicate fault name "slow"`}}},
		{"bad op", edit(map[int]string{21: `      op: "=<"`}),
			[]want{{21, "spec.guards[0].op", `unknown operator "=<"`}}},
		{"duplicate guard name", edit(map[int]string{23: "    - name: p95"}),
			[]want{{23, "spec.guards[1].name", "duplicate guard name"}}},
		{"missing query", edit(map[int]string{20: "-"}),
			[]want{{19, "spec.guards[0].query", "required"}}},
		{"negative for", edit(map[int]string{27: "      for: -1"}),
			[]want{{27, "spec.guards[1].for", "must be >= 1"}}},
		{"infinite threshold", edit(map[int]string{22: "      threshold: .inf"}),
			[]want{{22, "spec.guards[0].threshold", "must be a finite number, got +Inf"}}},
		{"params not JSON", edit(map[int]string{13: "      action: kill", 15: "      params: {a: {1: b}}", 16: "-", 17: "-"}),
			[]want{{15, "spec.faults[0].params", "must be plain values"}}},
		{"interval too short", edit(map[int]string{28: "      interval: 10ms"}),
			[]want{{28, "spec.guards[1].interval", "must be >= 100ms"}}},
		{"bad on_error", edit(map[int]string{29: "      on_error: retry"}),
			[]want{{29, "spec.guards[1].on_error", "must be abort or ignore"}}},
		{"bad steady-state guard", edit(map[int]string{30: "  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \">>\"\n  signoff:"}),
			[]want{{34, "spec.steady_state.guards[0].op", "unknown operator"}}},
		{"bad role", edit(map[int]string{31: "    roles: [dev, ops]"}),
			[]want{{31, "spec.signoff.roles[1]", `unknown role "ops" (valid: dev, test, sre)`}}},
		{"duplicate role", edit(map[int]string{31: "    roles:\n      - dev\n      - dev"}),
			[]want{{33, "spec.signoff.roles[1]", `duplicate role "dev"`}}},
		{"reminder not before timeout", edit(map[int]string{31: "    roles: [dev]\n    timeout: 1h\n    reminder: 1h"}),
			[]want{{33, "spec.signoff.reminder", "must be shorter than the timeout"}}},
		{"nan threshold", edit(map[int]string{22: "      threshold: .nan"}),
			[]want{{22, "spec.guards[0].threshold", "must be a finite number, got NaN"}}},
		{"negative infinite threshold", edit(map[int]string{26: "      threshold: -.inf"}),
			[]want{{26, "spec.guards[1].threshold", "must be a finite number, got -Inf"}}},
		{"infinite steady-state threshold", edit(map[int]string{30: "  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \"<\"\n        threshold: .Inf\n  signoff:"}),
			[]want{{35, "spec.steady_state.guards[0].threshold", "must be a finite number, got +Inf"}}},
		{"bad on_no_data", edit(map[int]string{29: "      on_error: ignore\n      on_no_data: skip"}),
			[]want{{30, "spec.guards[1].on_no_data", `must be breach or ignore, got "skip"`}}},
		{"unknown unit", edit(map[int]string{22: "      threshold: 0.8\n      unit: milliseconds"}),
			[]want{{23, "spec.guards[0].unit", `unknown unit "milliseconds" (one of seconds, ms, ratio, percent, bytes, count, or leave it out`}}},
		{"on_no_data wrong case", edit(map[int]string{22: "      threshold: 0.8\n      on_no_data: Breach"}),
			[]want{{23, "spec.guards[0].on_no_data", `must be breach or ignore, got "Breach"`}}},
		{"bad steady-state on_no_data", edit(map[int]string{30: "  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \">\"\n        on_no_data: zero\n  signoff:"}),
			[]want{{35, "spec.steady_state.guards[0].on_no_data", `must be breach or ignore, got "zero"`}}},
		{"no guards", edit(map[int]string{18: "-", 19: "-", 20: "-", 21: "-", 22: "-", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"}),
			[]want{{6, "spec.guards", "a scenario needs at least one guard to abort on an outage; add spec.guards or set spec.unguarded: true"}}},
		{"empty guards", edit(map[int]string{18: "  guards: []", 19: "-", 20: "-", 21: "-", 22: "-", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"}),
			[]want{{18, "spec.guards", "a scenario needs at least one guard"}}},
		{"explicitly guarded", edit(map[int]string{17: "        toxicity: 0.5\n  unguarded: false", 19: "-", 20: "-", 21: "-", 22: "-", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"}),
			[]want{{19, "spec.guards", "a scenario needs at least one guard"}}},
		{"steady-state guards do not guard the hold", edit(map[int]string{18: "  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \">\"", 19: "-", 20: "-", 21: "-", 22: "-", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"}),
			[]want{{6, "spec.guards", "a scenario needs at least one guard"}}},
		{"unguarded with guards", edit(map[int]string{17: "        toxicity: 0.5\n  unguarded: true"}),
			[]want{{18, "spec.unguarded", "is true but spec.guards lists 2 guard(s)"}}},
		{"for × interval longer than the hold", edit(map[int]string{27: "      for: 20"}),
			[]want{{27, "spec.guards[1].for", "for 20 × interval 2s = 40s does not fit in the hold of 30s (the longest fault duration): the guard could never breach"}}},
		{"defaults longer than the hold", edit(map[int]string{14: "      duration: 900ms"}),
			[]want{
				// guard 0 has no for: the line is the guard's.
				{19, "spec.guards[0].for", "for 1 × interval 1s = 1s does not fit in the hold of 900ms"},
				{27, "spec.guards[1].for", "for 3 × interval 2s = 6s does not fit in the hold of 900ms"},
			}},
		{"interval longer than the hold", edit(map[int]string{22: "      threshold: 0.8\n      interval: 1m"}),
			[]want{{19, "spec.guards[0].for", "for 1 × interval 1m0s = 1m0s does not fit in the hold of 30s"}}},
		{"huge for", edit(map[int]string{27: "      for: 9223372036854775807"}),
			[]want{{27, "spec.guards[1].for", "for 9223372036854775807 × interval 2s = more than 290 years does not fit"}}},
		{"hold is the longest fault", edit(map[int]string{17: "        toxicity: 0.5\n    - name: quick\n      action: kill\n      duration: 1s", 27: "      for: 16"}),
			[]want{{30, "spec.guards[1].for", "for 16 × interval 2s = 32s does not fit in the hold of 30s"}}},
		{"no hold reported once", edit(map[int]string{14: "      duration: 0s", 27: "      for: 100"}),
			[]want{{14, "spec.faults[0].duration", "must be > 0"}}},
		{"bad interval not also too long", edit(map[int]string{27: "      for: 1000", 28: "      interval: 10ms"}),
			[]want{{28, "spec.guards[1].interval", "must be >= 100ms"}}},
		{"multiple validation errors", edit(map[int]string{31: "    roles: [ops]", 2: "kind: Scenari", 21: `      op: "=<"`}),
			[]want{
				{2, "kind", `must be "Scenario"`},
				{21, "spec.guards[0].op", "unknown operator"},
				{31, "spec.signoff.roles[0]", "unknown role"},
			}},
		{"multiple decode errors", edit(map[int]string{27: "      foo: 1", 14: "      duration: 30 seconds", 22: `      threshold: "abc"`}),
			[]want{
				{14, "spec.faults[0].duration", "invalid duration"},
				{22, "spec.guards[0].threshold", "cannot unmarshal"},
				{27, "spec.guards[1].foo", "unknown field"},
			}},
		{"duplicate key", edit(map[int]string{5: "  service: a\n  service: b"}),
			[]want{{6, "metadata.service", `mapping key "service" already defined at line 5`}}},
		{"empty file", []byte("# nothing here\n"), []want{{1, "", "empty file"}}},
		{"top level not a mapping", []byte("- a\n- b\n"), []want{{1, "", "top level must be a mapping"}}},
		{"null document", []byte("---\n"), []want{{1, "", "empty document"}}},
		{"multiple documents", []byte(strings.Join(base, "\n") + "---\nkind: Scenario\n"), []want{{32, "", "multiple YAML documents"}}},
		{"syntax error", edit(map[int]string{4: "  name: [unclosed"}), []want{{4, "", "did not find expected ',' or ']'"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", tt.data)
			var errs yamlx.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %T %v", err, err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("want %d errors, got %d:\n%v", len(tt.want), len(errs), err)
			}
			for i, w := range tt.want {
				e := errs[i]
				if e.File != "x.yaml" || e.Line != w.line || e.Field != w.field || !strings.Contains(e.Msg, w.msg) {
					t.Errorf("error %d:\n got %s\nwant x.yaml:%d: %s: ...%s...", i, e, w.line, w.field, w.msg)
				}
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("scenarios/x.yaml", edit(map[int]string{22: `      threshold: "abc"`, 31: "    roles: [ops]"}))
	want := "scenarios/x.yaml:22: spec.guards[0].threshold: cannot unmarshal !!str `abc` into float64"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var fe *errkind.FieldError
	if !errors.As(err, &fe) || fe.Line != 22 {
		t.Fatalf("errors.As(*errkind.FieldError) = %v", fe)
	}

	_, err = Parse("x.yaml", edit(map[int]string{31: "    roles: [ops, dev, dev]"}))
	want = "x.yaml:31: spec.signoff.roles[0]: unknown role \"ops\" (valid: dev, test, sre)\n" +
		"x.yaml:31: spec.signoff.roles[2]: duplicate role \"dev\""
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("x.yaml", edit(nil))
	if err != nil {
		t.Fatal(err)
	}
	g0, g1 := s.Spec.Guards[0], s.Spec.Guards[1]
	checks := []struct {
		name      string
		got, want any
	}{
		{"fault backend from target", s.Spec.Faults[0].Backend, "fake"},
		{"guard for", g0.For, 1},
		{"guard interval", g0.Interval.D(), time.Second},
		{"guard on_error", g0.OnError, sli.OnErrorAbort},
		{"guard on_no_data", g0.OnNoData, sli.OnNoDataBreach},
		{"unguarded", s.Spec.Unguarded, false},
		{"explicit for kept", g1.For, 3},
		{"explicit interval kept", g1.Interval.D(), 2 * time.Second},
		{"explicit on_error kept", g1.OnError, sli.OnErrorIgnore},
		{"steady-state timeout", s.Spec.SteadyState.Timeout.D(), 2 * time.Minute},
		{"signoff timeout", s.Spec.Signoff.Timeout.D(), 24 * time.Hour},
		{"params", s.Spec.Faults[0].Params, map[string]any{"latency": "100ms", "toxicity": 0.5}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}

	// No roles means no gate, so no sign-off deadline either.
	s, err = Parse("x.yaml", edit(map[int]string{31: "    roles: []"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Spec.Signoff.Timeout != 0 {
		t.Errorf("signoff timeout without roles = %s, want 0", s.Spec.Signoff.Timeout)
	}
}

// The guard rules accept what they should: each document here parses.
func TestGuardRulesAccept(t *testing.T) {
	noGuards := map[int]string{18: "-", 19: "-", 20: "-", 21: "-", 22: "-", 23: "-", 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"}
	with := func(m map[int]string, k int, v string) map[int]string {
		out := map[int]string{k: v}
		for kk, vv := range m {
			if kk != k {
				out[kk] = vv
			}
		}
		return out
	}
	for _, c := range []struct {
		name  string
		data  []byte
		check func(t *testing.T, s Scenario)
	}{
		{"unguarded", edit(with(noGuards, 17, "        toxicity: 0.5\n  unguarded: true")), func(t *testing.T, s Scenario) {
			if !s.Spec.Unguarded || len(s.Spec.Guards) != 0 {
				t.Errorf("unguarded %v, guards %v", s.Spec.Unguarded, s.Spec.Guards)
			}
		}},
		{"unguarded with steady-state guards", edit(with(noGuards, 18, "  unguarded: true\n  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \">\"")), func(t *testing.T, s Scenario) {
			if g := s.VerifyGuards(); len(g) != 1 || g[0].OnNoData != sli.OnNoDataBreach {
				t.Errorf("verify guards %+v", g)
			}
		}},
		{"explicit on_no_data kept", edit(map[int]string{22: "      threshold: 0.8\n      on_no_data: ignore", 29: "      on_error: ignore\n      on_no_data: breach"}), func(t *testing.T, s Scenario) {
			if s.Spec.Guards[0].OnNoData != sli.OnNoDataIgnore || s.Spec.Guards[1].OnNoData != sli.OnNoDataBreach {
				t.Errorf("on_no_data %q %q", s.Spec.Guards[0].OnNoData, s.Spec.Guards[1].OnNoData)
			}
		}},
		// 1 × 6s and 3 × 2s both equal the 6s hold: the first evaluation is at
		// once, so the last one a breach needs is due before the hold ends.
		{"overlap allowed", edit(map[int]string{30: "  overlap: allow\n  signoff:"}), func(t *testing.T, s Scenario) {
			if !s.AllowsOverlap() {
				t.Errorf("overlap %q not allowed", s.Spec.Overlap)
			}
		}},
		{"overlap refused by default", edit(nil), func(t *testing.T, s Scenario) {
			if s.AllowsOverlap() {
				t.Error("overlap allowed without spec.overlap")
			}
		}},
		{"for × interval equal to the hold", edit(map[int]string{14: "      duration: 6s", 22: "      threshold: 0.8\n      interval: 6s"}), nil},
		{"a long steady-state guard is not held to the hold", edit(map[int]string{30: "  steady_state:\n    guards:\n      - name: up\n        query: up\n        op: \">\"\n        for: 100\n  signoff:"}), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("x.yaml", c.data)
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, s)
			}
		})
	}
}

func TestValidateWithoutFile(t *testing.T) {
	s := Scenario{APIVersion: APIVersion, Kind: Kind, Metadata: Metadata{Name: "x"}}
	err := Validate(&s)
	var errs yamlx.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	got := err.Error()
	for _, w := range []string{"metadata.service: required", "spec.target.backend: required", "spec.faults: at least one", "spec.guards: a scenario needs at least one guard"} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in\n%s", w, got)
		}
	}
	if errs[0].Line != 0 || errs[0].File != "" {
		t.Errorf("want no position, got %s", errs[0])
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s, err := Parse("x.yaml", edit(map[int]string{31: "    roles: [dev]\n    reminder: 30m"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"duration":"30s"`, `"interval":"1s"`, `"timeout":"2m0s"`, `"timeout":"24h0m0s"`, `"reminder":"30m0s"`} {
		if !strings.Contains(string(b), w) {
			t.Errorf("JSON lacks %s:\n%s", w, b)
		}
	}
	var back Scenario
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("round trip changed the scenario:\n got %+v\nwant %+v", back, s)
	}
	// A resolved scenario stays valid and unchanged when validated again,
	// which is what a worker does with workflow input.
	if err := Validate(&back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, s) {
		t.Errorf("Validate changed a resolved scenario")
	}
}

func TestLineOf(t *testing.T) {
	root, fe := parseNode("x.yaml", edit(nil))
	if fe != nil {
		t.Fatal(fe)
	}
	for path, want := range map[string]int{
		"spec.guards[1].threshold":        26,
		"spec.faults[0].params.latency":   16,
		"spec.faults[0].params.missing":   15,
		"spec.guards[7].name":             18,
		"metadata.nothing.deeper[3].x":    3,
		"spec.signoff.roles[1]":           31,
		"spec.target.selector.proxy.nope": 10,
		"":                                1,
	} {
		if got := lineOf(root, path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	files, _ := catalogFS.ReadDir(".")
	for _, e := range files {
		data, _ := catalogFS.ReadFile(e.Name())
		f.Add(data)
		// The same with the fake back-end, to get past back-end lookup.
		fake := strings.ReplaceAll(string(data), "backend: toxiproxy", "backend: fake")
		f.Add([]byte(fake))
		f.Add([]byte(fake[:len(fake)/2]))
		f.Add([]byte(strings.ReplaceAll(fake, "  ", "\t")))
	}
	f.Add(edit(nil))
	f.Add(edit(map[int]string{22: `      threshold: "abc"`, 14: "      duration: x", 27: "      foo: 1"}))
	f.Add(edit(map[int]string{15: "      params: &p {latency: *p}"}))
	f.Add(edit(map[int]string{15: "      params: {<<: {latency: 1ms}, 1: [2]}"}))
	f.Add(edit(map[int]string{12: "    - &f {name: a, action: kill, duration: 1s}\n    - *f"}))
	f.Add([]byte(""))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("spec: {faults: [{params: {x: .nan}}], guards: [{threshold: .nan}]}"))
	f.Add(edit(map[int]string{27: "      for: 9223372036854775807", 28: "      interval: 100ms"}))
	f.Add(edit(map[int]string{17: "        toxicity: 0.5\n  unguarded: true", 29: "      on_error: ignore\n      on_no_data: ignore"}))
	f.Add(edit(map[int]string{22: "      threshold: 0.8\n      baseline: {query: 'avg_over_time(up[7d])'}", 29: "      on_error: ignore\n      baseline: {runs: 5}\n      drift: .inf"}))
	f.Add(edit(map[int]string{22: "      threshold: 0.8\n      baseline: {query: 'avg by (x) (y[1d])', runs: 0}\n      drift: 1e308", 31: "  pause_timeout: 1ns"}))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			if bad := yamlx.WellFormed(err, "fuzz.yaml"); bad != nil {
				t.Fatal(bad)
			}
			return
		}
		// What the guard rules promise of every scenario that loads.
		if (len(s.Spec.Guards) > 0) == s.Spec.Unguarded {
			t.Fatalf("%d guards with unguarded %v", len(s.Spec.Guards), s.Spec.Unguarded)
		}
		for _, g := range append(append([]sli.Guard(nil), s.Spec.Guards...), s.Spec.SteadyState.Guards...) {
			if g.OnNoData != sli.OnNoDataBreach && g.OnNoData != sli.OnNoDataIgnore {
				t.Fatalf("guard %s: on_no_data %q", g.Name, g.OnNoData)
			}
		}
		for _, g := range s.Spec.Guards {
			// A loaded drift rule has one source and a usable limit.
			if b := g.Baseline; b != nil && ((b.Query == "") == (b.Runs == 0) || !(g.Drift > 0 && g.Drift <= MaxDriftLimit)) {
				t.Fatalf("guard %s: baseline %+v drift %g", g.Name, *b, g.Drift)
			}
			if g.Armed != nil {
				t.Fatalf("guard %s armed by a file", g.Name)
			}
			if int64(g.For) > int64(s.HoldDuration()/g.Interval.D()) {
				t.Fatalf("guard %s: for %d × interval %s does not fit in the hold of %s", g.Name, g.For, g.Interval, s.HoldDuration())
			}
		}
		// It must fit in a workflow input.
		if _, err := json.Marshal(s); err != nil {
			t.Fatalf("resolved scenario is not JSON: %v", err)
		}
		// A parsed scenario is resolved: validating again finds nothing
		// and changes nothing.
		again := s
		again.Spec.Faults = append([]Fault(nil), s.Spec.Faults...)
		again.Spec.Guards = append([]sli.Guard(nil), s.Spec.Guards...)
		again.Spec.SteadyState.Guards = append([]sli.Guard(nil), s.Spec.SteadyState.Guards...)
		if err := Validate(&again); err != nil {
			t.Fatalf("resolved scenario does not validate: %v", err)
		}
		if fmt.Sprint(again) != fmt.Sprint(s) {
			t.Fatalf("Validate changed a resolved scenario")
		}
	})
}
