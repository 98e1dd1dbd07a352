package yamlx

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/internal/errkind"
)

// Schema names the document kind a file must hold; it is only used in the
// messages for files of the wrong shape.
type Schema struct {
	APIVersion string // e.g. gameday/v1
	Kind       string // e.g. Scenario
}

// Decode strictly decodes the one document in data into out (a pointer to
// the kind's struct) and returns its node tree, which validation needs to
// map field paths back to lines. Strictness matters because a typo such as
// "treshold" would otherwise silently disable a check. Any error is an
// Errors value, sorted by line, naming file, line and field.
func (s Schema) Decode(file string, data []byte, out any) (*yaml.Node, error) {
	root, fe := s.ParseNode(file, data)
	if fe != nil {
		return nil, Errors{fe}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return root, decodeErrors(file, root, reflect.TypeOf(out), err).Sorted()
	}
	return root, nil
}

// ParseNode reads the document as a node tree: it is what maps a field path
// found during validation back to a line, and it catches the file-shape
// problems (empty, several documents, not a mapping) the typed decoder would
// report only vaguely. It returns the top-level mapping.
func (s Schema) ParseNode(file string, data []byte) (*yaml.Node, *errkind.FieldError) {
	want := strings.TrimSpace(s.APIVersion + " " + s.Kind)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &errkind.FieldError{File: file, Line: 1, Msg: "empty file: want a " + want + " document"}
		}
		line, msg := syntaxError(err)
		return nil, &errkind.FieldError{File: file, Line: line, Msg: msg}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &errkind.FieldError{File: file, Line: max(next.Line, 1), Msg: "multiple YAML documents: want exactly one " + strings.ToLower(s.Kind) + " per file"}
	case err != io.EOF:
		line, msg := syntaxError(err)
		return nil, &errkind.FieldError{File: file, Line: line, Msg: msg}
	}
	if len(doc.Content) == 1 && doc.Content[0].Tag == "!!null" {
		return nil, &errkind.FieldError{File: file, Line: max(doc.Line, 1), Msg: "empty document: want a " + want}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		line := doc.Line
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		// Every gameday/v1 kind has this shape.
		return nil, &errkind.FieldError{File: file, Line: max(line, 1), Msg: "top level must be a mapping with apiVersion, kind, metadata and spec"}
	}
	return doc.Content[0], nil
}

var lineRE = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// parserProblems are the messages of libyaml's parser (as opposed to its
// scanner). yaml.v3 reports their line zero-based, so they need one added
// to point at the right line.
var parserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

// syntaxError splits a yaml.v3 parse error into a 1-based line and message.
func syntaxError(err error) (int, string) {
	line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	if parserProblems[msg] {
		line++ // also right when yaml.v3 left the line out: it was line 0
	}
	return line, msg
}

// splitLine pulls the "line N: " prefix yaml.v3 puts in its messages.
func splitLine(s string) (int, string) {
	m := lineRE.FindStringSubmatch(s)
	if m == nil {
		return 0, s
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

var (
	notFoundRE   = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	alreadySetRE = regexp.MustCompile(`^field (\S+) already set in type \S+$`)
	dupKeyRE     = regexp.MustCompile(`^mapping key "((?:[^"\\]|\\.)*)" already defined at line \d+$`)
	unmarshalRE  = regexp.MustCompile("(?s)^cannot unmarshal (\\S+)(?: `(.*?)(?:\\.\\.\\.)?`)? into ")
)

// decodeErrors turns yaml.v3's line-prefixed strings into FieldErrors,
// recovering the field path from the node tree since yaml.v3 only gives
// the line. target is the type decoded into, for the unknown-field hint.
func decodeErrors(file string, root *yaml.Node, target reflect.Type, err error) Errors {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var out Errors
	for _, s := range msgs {
		line, msg := splitLine(s)
		fe := &errkind.FieldError{File: file, Line: line, Msg: msg}
		if m := notFoundRE.FindStringSubmatch(msg); m != nil {
			fe.Field = orName(pathAt(root, line, hint{key: m[1]}), m[1])
			fe.Msg = "unknown field" + knownFields(target, m[2])
		} else if m := alreadySetRE.FindStringSubmatch(msg); m != nil {
			fe.Field = orName(pathAt(root, line, hint{key: m[1]}), m[1])
			fe.Msg = "set twice"
		} else if m := dupKeyRE.FindStringSubmatch(msg); m != nil {
			key, _ := strconv.Unquote(`"` + m[1] + `"`)
			fe.Field = orName(pathAt(root, line, hint{key: key}), key)
		} else if m := unmarshalRE.FindStringSubmatch(msg); m != nil {
			fe.Field = pathAt(root, line, hint{tag: m[1], value: m[2]})
		} else if line > 0 {
			fe.Field = pathAt(root, line, hint{})
		}
		out = append(out, fe)
	}
	return out
}

func orName(path, name string) string {
	if path == "" {
		return name
	}
	return path
}

// knownFields lists the fields the struct named typeName (as yaml.v3 prints
// it, e.g. sli.Guard) accepts, so an unknown-field message tells the
// user what is allowed instead of sending them to the docs. The struct is
// looked up among the types reachable from target, which is what the
// decoder could have been filling.
func knownFields(target reflect.Type, typeName string) string {
	t := findStruct(target, typeName, map[reflect.Type]bool{})
	if t == nil {
		return ""
	}
	names := fieldNames(t, nil)
	if len(names) == 0 {
		return ""
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

func findStruct(t reflect.Type, name string, seen map[reflect.Type]bool) reflect.Type {
	if t == nil || seen[t] {
		return nil
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return findStruct(t.Elem(), name, seen)
	case reflect.Map:
		if k := findStruct(t.Key(), name, seen); k != nil {
			return k
		}
		return findStruct(t.Elem(), name, seen)
	case reflect.Struct:
		if t.String() == name {
			return t
		}
		for i := 0; i < t.NumField(); i++ {
			if f := findStruct(t.Field(i).Type, name, seen); f != nil {
				return f
			}
		}
	}
	return nil
}

// fieldNames are the keys yaml.v3 maps onto t's fields, in field order,
// with inlined structs flattened.
func fieldNames(t reflect.Type, names []string) []string {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		inline := strings.Contains(","+opts+",", ",inline,")
		// Like yaml.v3: unexported fields are skipped unless embedded.
		if name == "-" || !f.IsExported() && !(f.Anonymous && inline) {
			continue
		}
		if inline {
			if ft := f.Type; ft.Kind() == reflect.Struct {
				names = fieldNames(ft, names)
			} else if ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct {
				names = fieldNames(ft.Elem(), names)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		names = append(names, name)
	}
	return names
}
