package yamlx

import (
	"errors"
	"strings"
	"testing"
)

type inner struct {
	Name string `yaml:"name"`
}

type extra struct {
	Note string `yaml:"note"`
}

type doc struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Metadata   inner            `yaml:"metadata"`
	Spec       spec             `yaml:"spec"`
	Skipped    string           `yaml:"-"`
	hidden     string           //nolint:unused // unexported: never a key
	ByName     map[string]inner `yaml:"by_name"`
}

type spec struct {
	extra `yaml:",inline"`
	Count int
	Items []*inner `yaml:"items,omitempty"`
}

var testSchema = Schema{APIVersion: "gameday/v1", Kind: "Doc"}

func TestDecode(t *testing.T) {
	src := "apiVersion: gameday/v1\nkind: Doc\nmetadata:\n  name: a\nspec:\n  note: n\n  count: 2\n  items:\n    - name: x\n    - nme: y\nby_name:\n  k: {name: 1, age: 2}\n"
	var d doc
	_, err := testSchema.Decode("d.yaml", []byte(src), &d)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("got %v", err)
	}
	want := []string{
		"d.yaml:10: spec.items[1].nme: unknown field (known: name)",
		"d.yaml:12: by_name.k.age: unknown field (known: name)",
	}
	for i, w := range want {
		if errs[i].Error() != w {
			t.Errorf("error %d = %s, want %s", i, errs[i], w)
		}
	}

	_, err = testSchema.Decode("d.yaml", []byte("spec:\n  cont: 1\n"), &d)
	if want := "d.yaml:2: spec.cont: unknown field (known: note, count, items)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	_, err = testSchema.Decode("d.yaml", []byte("hidden: 1\n"), &d)
	if want := "d.yaml:1: hidden: unknown field (known: apiVersion, kind, metadata, spec, by_name)"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}

	root, err := testSchema.Decode("d.yaml", []byte("kind: Doc\nspec:\n  items:\n    - name: x\n"), &d)
	if err != nil || d.Kind != "Doc" || d.Spec.Items[0].Name != "x" {
		t.Fatalf("decode: %+v, %v", d, err)
	}
	if LineOf(root, "spec.items[0].name") != 4 || LineOf(root, "spec.items[3]") != 3 || LineOf(nil, "kind") != 0 {
		t.Errorf("LineOf wrong")
	}
}

func TestShapeErrors(t *testing.T) {
	for src, want := range map[string]string{
		"":                  "d.yaml:1: empty file: want a gameday/v1 Doc document",
		"a: 1\n---\nb: 2\n": "d.yaml:2: multiple YAML documents: want exactly one doc per file",
		"42\n":              "d.yaml:1: top level must be a mapping with apiVersion, kind, metadata and spec",
		"a: [1\n":           "d.yaml:2: did not find expected ',' or ']'",
	} {
		var d doc
		if _, err := testSchema.Decode("d.yaml", []byte(src), &d); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", src, err, want)
		}
	}
}

func TestCollector(t *testing.T) {
	var c Collector
	if err := c.Err(); err != nil {
		t.Fatalf("empty collector: %v", err)
	}
	c.Header(testSchema, "gameday/v2", "Doc", "Bad_Name")
	err := c.Err()
	if err == nil || !strings.Contains(err.Error(), `apiVersion: must be "gameday/v1", got "gameday/v2"`) ||
		!strings.Contains(err.Error(), "metadata.name: must be a DNS-1123 label") || strings.Contains(err.Error(), "kind") {
		t.Errorf("got %v", err)
	}
	for s, ok := range map[string]bool{"a": true, "a-1": true, "-a": false, "a-": false, "A": false, "": false, strings.Repeat("a", 64): false} {
		if IsDNSLabel(s) != ok {
			t.Errorf("IsDNSLabel(%q) = %t", s, !ok)
		}
	}
}
