package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
	"gopkg.in/yaml.v3"
)

// Defaults applied by Parse and Validate. They live here, not in the
// workflow, so the resolved scenario recorded in history says what ran.
const (
	DefaultGuardFor           = 1
	DefaultGuardInterval      = 5 * time.Second
	MinGuardInterval          = 100 * time.Millisecond
	DefaultSteadyStateTimeout = 2 * time.Minute
	DefaultSignoffTimeout     = 24 * time.Hour
)

// FieldError is one problem in a scenario file. It carries the line so an
// operator can jump straight to it instead of bisecting a YAML file under
// time pressure. Line is 0 when the scenario did not come from a file.
type FieldError struct {
	File  string
	Line  int
	Field string // path such as spec.guards[1].threshold; empty if none applies
	Msg   string
}

// Error renders "FILE:LINE: FIELD: MSG", the format editors and CI
// annotators understand; empty parts are left out.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one scenario, so a user fixes them in a
// single pass rather than one per run.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a *FieldError inside.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// Load reads and parses a scenario file; see Parse.
func Load(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, err
	}
	return Parse(path, data)
}

// Parse strictly decodes and validates one scenario and returns it with
// defaults applied. Strictness matters because a typo such as "treshold"
// would otherwise silently disable a guard during a live experiment. Any
// error is an Errors value whose entries name file, line and field.
func Parse(file string, data []byte) (Scenario, error) {
	root, fe := parseNode(file, data)
	if fe != nil {
		return Scenario{}, Errors{fe}
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Scenario{}, decodeErrors(file, root, err).sorted()
	}
	v := validator{file: file, root: root}
	v.scenario(&s)
	if len(v.errs) > 0 {
		return Scenario{}, v.errs.sorted()
	}
	return s, nil
}

// Validate applies defaults to a scenario that did not come from a file
// (e.g. one submitted as JSON) and checks it by the same rules as Parse.
func Validate(s *Scenario) error {
	v := validator{}
	v.scenario(s)
	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

// parseNode reads the document as a node tree: it is what maps a field path
// found during validation back to a line, and it catches the file-shape
// problems the typed decoder would report only vaguely.
func parseNode(file string, data []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, &FieldError{File: file, Line: 1, Msg: "empty file: want a " + APIVersion + " " + Kind + " document"}
		}
		line, msg := syntaxError(err)
		return nil, &FieldError{File: file, Line: line, Msg: msg}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, &FieldError{File: file, Line: max(next.Line, 1), Msg: "multiple YAML documents: want exactly one scenario per file"}
	case err != io.EOF:
		line, msg := syntaxError(err)
		return nil, &FieldError{File: file, Line: line, Msg: msg}
	}
	if len(doc.Content) == 1 && doc.Content[0].Tag == "!!null" {
		return nil, &FieldError{File: file, Line: max(doc.Line, 1), Msg: "empty document: want a " + APIVersion + " " + Kind}
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		line := doc.Line
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		return nil, &FieldError{File: file, Line: max(line, 1), Msg: "top level must be a mapping with apiVersion, kind, metadata and spec"}
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
// the line.
func decodeErrors(file string, root *yaml.Node, err error) Errors {
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
		fe := &FieldError{File: file, Line: line, Msg: msg}
		if m := notFoundRE.FindStringSubmatch(msg); m != nil {
			fe.Field = orName(pathAt(root, line, hint{key: m[1]}), m[1])
			fe.Msg = "unknown field" + knownFields(m[2])
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

// yamlTypes are the structs a scenario decodes into, so an unknown-field
// message can list what is accepted instead of sending the user to the docs.
var yamlTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{Scenario{}, Metadata{}, Spec{}, Fault{}, Guard{}, SteadyState{}, Signoff{}, chaos.Target{}} {
		t := reflect.TypeOf(v)
		yamlTypes[t.String()] = t
	}
}

func knownFields(typeName string) string {
	t, ok := yamlTypes[typeName]
	if !ok {
		return ""
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if n := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; n != "" && n != "-" {
			names = append(names, n)
		}
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// segment is one step of a field path: a mapping key, or a sequence index
// when key is empty.
type segment struct {
	key string
	idx int
}

// splitPath parses "spec.guards[1].threshold".
func splitPath(path string) []segment {
	var out []segment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, segment{key: key})
		}
		for rest != "" {
			num, tail, _ := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if err != nil {
				break
			}
			out = append(out, segment{idx: i})
			_, rest, _ = strings.Cut(tail, "[")
		}
	}
	return out
}

// lineOf finds the line of the field at path. A missing field (typically a
// required one) resolves to its nearest existing parent, which is where the
// user has to add it.
func lineOf(root *yaml.Node, path string) int {
	if root == nil {
		return 0
	}
	n, line := root, root.Line
	for _, seg := range splitPath(path) {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch {
		case seg.key != "" && n.Kind == yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg.key {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case seg.key == "" && n.Kind == yaml.SequenceNode && seg.idx >= 0 && seg.idx < len(n.Content):
			n = n.Content[seg.idx]
			line = n.Line
		default:
			return line
		}
	}
	return line
}

// hint is what a decoder message says about the node it failed on.
type hint struct {
	key   string // a mapping key
	tag   string // the node's tag, e.g. !!str or !!map
	value string // a scalar's value or its first characters
}

// pathAt is the reverse of lineOf, for decoder errors that only know a
// line. With several fields on one line (flow style) the hint picks the
// right one; without a usable hint the outermost field on the line wins.
func pathAt(root *yaml.Node, line int, h hint) string {
	if root == nil || line <= 0 {
		return ""
	}
	best, bestScore := "", 0
	consider := func(l int, path, key string, v *yaml.Node) {
		if l != line {
			return
		}
		score := 1
		switch {
		case h.key != "":
			if key == h.key {
				score = 2
			}
		case h.tag == "!!map" || h.tag == "!!seq":
			if v.ShortTag() == h.tag {
				score = 2
			}
		case h.tag != "":
			if v.Kind == yaml.ScalarNode && strings.HasPrefix(v.Value, h.value) {
				score = 2
			}
		}
		// Ties among matches go to the deepest, others to the outermost.
		if score > bestScore || score > 1 && score == bestScore {
			best, bestScore = path, score
		}
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				consider(k.Line, p, k.Value, v)
				if v.Line != k.Line {
					consider(v.Line, p, "", v)
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				consider(v.Line, p, "", v)
				walk(v, p)
			}
		}
	}
	walk(root, "")
	return best
}

// validator collects every problem rather than stopping at the first.
type validator struct {
	file string
	root *yaml.Node // nil when the scenario was not parsed from a file
	errs Errors
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.file, Line: lineOf(v.root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func (v *validator) scenario(s *Scenario) {
	if s.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q, got %q", APIVersion, s.APIVersion)
	}
	if s.Kind != Kind {
		v.add("kind", "must be %q, got %q", Kind, s.Kind)
	}
	// The name ends up in workflow ids and back-end object names.
	switch name := s.Metadata.Name; {
	case name == "":
		v.add("metadata.name", "required")
	case len(name) > 63 || !dnsLabel.MatchString(name):
		v.add("metadata.name", "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got %q", name)
	}
	if s.Metadata.Service == "" {
		v.add("metadata.service", "required")
	}
	v.target(&s.Spec.Target)
	v.faults(s.Spec.Target.Backend, s.Spec.Faults)
	v.guards("spec.guards", s.Spec.Guards)
	v.steadyState(&s.Spec.SteadyState)
	v.signoff(&s.Spec.Signoff)
}

func (v *validator) target(t *chaos.Target) {
	if t.Backend == "" {
		v.add("spec.target.backend", "required (known back-ends: %s)", strings.Join(chaos.Names(), ", "))
		return
	}
	d, ok := chaos.Lookup(t.Backend)
	if !ok {
		v.add("spec.target.backend", "unknown back-end %q (known: %s)", t.Backend, strings.Join(chaos.Names(), ", "))
		return
	}
	if d.ValidateTarget != nil {
		v.driverErr("spec.target", d.ValidateTarget(*t))
	}
}

// driverErr places a driver's *chaos.FieldError under base so the line
// points at the offending parameter, not just at the fault.
func (v *validator) driverErr(base string, err error) {
	if err == nil {
		return
	}
	var fe *chaos.FieldError
	if errors.As(err, &fe) {
		path := base
		if fe.Field != "" {
			path += "." + fe.Field
		}
		v.add(path, "%s", fe.Msg)
		return
	}
	v.add(base, "%s", err.Error())
}

func (v *validator) faults(defaultBackend string, fs []Fault) {
	if len(fs) == 0 {
		v.add("spec.faults", "at least one fault is required")
		return
	}
	seen := map[string]int{}
	for i := range fs {
		f := &fs[i]
		p := fmt.Sprintf("spec.faults[%d]", i)
		if f.Name == "" {
			v.add(p+".name", "required")
		} else if j, dup := seen[f.Name]; dup {
			v.add(p+".name", "duplicate fault name %q (also spec.faults[%d])", f.Name, j)
		} else {
			seen[f.Name] = i
		}
		if f.Duration <= 0 {
			v.add(p+".duration", "required and must be > 0, e.g. 60s")
		}
		explicit := f.Backend != ""
		if !explicit {
			f.Backend = defaultBackend
		}
		d, ok := chaos.Lookup(f.Backend)
		if !ok {
			// An inherited bad back-end is already reported on spec.target.
			if explicit {
				v.add(p+".backend", "unknown back-end %q (known: %s)", f.Backend, strings.Join(chaos.Names(), ", "))
			}
			continue
		}
		if f.Action == "" {
			v.add(p+".action", "required (%s actions: %s)", d.Name, strings.Join(d.ActionNames(), ", "))
			continue
		}
		check, ok := d.Actions[f.Action]
		if !ok {
			v.add(p+".action", "unknown action %q for back-end %s (valid: %s)", f.Action, d.Name, strings.Join(d.ActionNames(), ", "))
			continue
		}
		// Params travel as JSON in the workflow input; catch what JSON
		// cannot carry (non-string keys, NaN) here rather than at run time.
		if _, err := json.Marshal(f.Params); err != nil {
			v.add(p+".params", "must be plain values (strings, numbers, lists, maps with string keys): %v", err)
			continue
		}
		if check != nil {
			v.driverErr(p+".params", check(f.Params))
		}
	}
}

var ops = []Op{OpLT, OpLE, OpGT, OpGE, OpEQ, OpNE}

func (v *validator) guards(base string, gs []Guard) {
	seen := map[string]int{}
	for i := range gs {
		g := &gs[i]
		p := fmt.Sprintf("%s[%d]", base, i)
		if g.Name == "" {
			v.add(p+".name", "required")
		} else if j, dup := seen[g.Name]; dup {
			v.add(p+".name", "duplicate guard name %q (also %s[%d])", g.Name, base, j)
		} else {
			seen[g.Name] = i
		}
		if strings.TrimSpace(g.Query) == "" {
			v.add(p+".query", "required (a PromQL expression returning one value)")
		}
		switch {
		case g.Op == "":
			v.add(p+".op", "required (one of %s)", opList())
		case !validOp(g.Op):
			v.add(p+".op", "unknown operator %q (one of %s)", g.Op, opList())
		}
		// NaN compares false against everything, and neither NaN nor Inf
		// survives the JSON of the workflow input.
		if math.IsNaN(g.Threshold) || math.IsInf(g.Threshold, 0) {
			v.add(p+".threshold", "must be a finite number, got %v", g.Threshold)
		}
		switch {
		case g.For == 0:
			g.For = DefaultGuardFor
		case g.For < 0:
			v.add(p+".for", "must be >= 1, got %d", g.For)
		}
		switch {
		case g.Interval == 0:
			g.Interval = Duration(DefaultGuardInterval)
		case g.Interval.D() < MinGuardInterval:
			v.add(p+".interval", "must be >= %s, got %s", MinGuardInterval, g.Interval)
		}
		switch g.OnError {
		case "":
			g.OnError = OnErrorAbort
		case OnErrorAbort, OnErrorIgnore:
		default:
			v.add(p+".on_error", "must be %s or %s, got %q", OnErrorAbort, OnErrorIgnore, g.OnError)
		}
	}
}

func validOp(op Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func opList() string {
	s := make([]string, len(ops))
	for i, o := range ops {
		s[i] = string(o)
	}
	return strings.Join(s, " ")
}

func (v *validator) steadyState(ss *SteadyState) {
	switch {
	case ss.Timeout == 0:
		ss.Timeout = Duration(DefaultSteadyStateTimeout)
	case ss.Timeout < 0:
		v.add("spec.steady_state.timeout", "must be > 0, got %s", ss.Timeout)
	}
	v.guards("spec.steady_state.guards", ss.Guards)
}

func (v *validator) signoff(so *Signoff) {
	seen := map[string]bool{}
	for i, r := range so.Roles {
		p := fmt.Sprintf("spec.signoff.roles[%d]", i)
		switch {
		case !validRole(r):
			v.add(p, "unknown role %q (valid: %s)", r, strings.Join(Roles, ", "))
		case seen[r]:
			v.add(p, "duplicate role %q", r)
		}
		seen[r] = true
	}
	switch {
	case so.Timeout < 0:
		v.add("spec.signoff.timeout", "must be > 0, got %s", so.Timeout)
	case so.Timeout == 0 && len(so.Roles) > 0:
		so.Timeout = Duration(DefaultSignoffTimeout)
	}
	// A reminder at or after the deadline would never be sent.
	switch {
	case so.Reminder < 0:
		v.add("spec.signoff.reminder", "must be > 0, got %s", so.Reminder)
	case so.Reminder > 0 && so.Timeout > 0 && so.Reminder >= so.Timeout:
		v.add("spec.signoff.reminder", "must be shorter than the timeout (%s), got %s", so.Timeout, so.Reminder)
	}
}

func validRole(r string) bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}
