package chaosmesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/internal/errkind"
)

// The static half of validation: per action, the parameter keys that must
// be present and the types Chaos Mesh expects, so a typo or a missing field
// is reported by the scenario loader at the offending line, without a
// cluster. Deeper checks (every nested field of a pass-through object,
// Chaos Mesh's admission webhook) are the API server's, asked with a
// server-side dry run in Resolve.

// typ is the shape a parameter must have.
type typ int

const (
	tString      typ = iota
	tNetDuration     // NetworkChaos delay: unsigned Go duration matching netDurationRE
	tDuration        // non-negative Go duration (time.ParseDuration)
	tOffset          // signed Go duration (TimeChaos timeOffset)
	tPercent         // a string holding a number in [0, 100], e.g. "25"
	tInt
	tBool
	tStrings   // list of strings
	tStringMap // map of string to string
	tObject    // map with the listed fields, nothing else
	tAnyObject // any map: its fields are left to the API server
)

func (t typ) String() string {
	switch t {
	case tString:
		return "a string"
	case tNetDuration:
		return `a duration string like "100ms" (a number and one unit: ns, us, ms, s, m, h)`
	case tDuration:
		return `a duration string like "100ms"`
	case tOffset:
		return `a signed duration string like "-10m" or "2160h"`
	case tPercent:
		return `a percentage as a string, like "25"`
	case tInt:
		return "an integer"
	case tBool:
		return "true or false"
	case tStrings:
		return "a list of strings"
	case tStringMap:
		return "a map of strings"
	default:
		return "a map"
	}
}

// param describes one key of a fault's params (or of a nested object).
type param struct {
	name     string
	typ      typ
	required bool
	fields   []param // tObject
	enum     []string
	min, max *int64
	nonEmpty bool   // tStrings: at least one element
	hint     string // appended to "required" messages, e.g. an example value
}

func i64(v int64) *int64 { return &v }

// netDurationRE is Chaos Mesh's own pattern for delay.latency and
// delay.jitter (from the NetworkChaos CRD): one number and one unit, so
// "1m30s" is refused by the API server and by us.
var netDurationRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h)$`)

// platformOwned are the spec fields gameday fills itself. A fault that
// tries to set them would bypass the safety checks (selector, mode, value)
// or the fault's own TTL (duration).
var platformOwned = map[string]string{
	"selector": "set by gameday from spec.target (namespace and selector); it is what the safety policy checks",
	"mode":     "set by gameday from spec.target.mode (the blast radius is checked against it)",
	"value":    "set by gameday from spec.target.value (the blast radius is checked against it)",
	"duration": "set by gameday from the fault's duration (the fault's own TTL)",
	"action":   "set by gameday from the fault's action",
}

// refused are Chaos Mesh fields gameday does not pass on at all.
var refused = map[string]string{
	"remoteCluster": "not supported: gameday injects only into the cluster it is connected to, where the safety policy is checked",
	"scheduler":     "not supported: gameday runs a fault once, for the fault's duration",
}

// validateParams checks params against an action's fields and returns them
// normalized (plain JSON values: string, bool, int64, float64, []any,
// map[string]any), ready to be copied into an unstructured spec.
func validateParams(a *actionDef, params map[string]any) (map[string]any, error) {
	norm, err := normalize(params)
	if err != nil {
		return nil, err
	}
	if norm == nil {
		norm = map[string]any{}
	}
	for _, k := range slices.Sorted(maps.Keys(norm)) {
		if msg, ok := platformOwned[k]; ok {
			return nil, &errkind.FieldError{Field: k, Msg: msg + "; remove it from the fault's params"}
		}
		if msg, ok := refused[k]; ok {
			return nil, &errkind.FieldError{Field: k, Msg: msg}
		}
	}
	if err := checkObject("", a.params, norm); err != nil {
		return nil, err
	}
	if a.check != nil {
		if err := a.check(norm); err != nil {
			return nil, err
		}
	}
	return norm, nil
}

func join(base, name string) string {
	if base == "" {
		return name
	}
	return base + "." + name
}

func knownNames(ps []param) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none: this action takes no params"
	}
	return strings.Join(names, ", ")
}

func checkObject(base string, ps []param, m map[string]any) error {
	byName := make(map[string]param, len(ps))
	for _, p := range ps {
		byName[p.name] = p
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := byName[k]; !ok {
			return &errkind.FieldError{Field: join(base, k), Msg: fmt.Sprintf("unknown field (known: %s)", knownNames(ps))}
		}
	}
	for _, p := range ps {
		v, ok := m[p.name]
		path := join(base, p.name)
		if !ok || v == nil {
			if p.required {
				msg := "required"
				if p.hint != "" {
					msg += " (" + p.hint + ")"
				}
				return &errkind.FieldError{Field: path, Msg: msg}
			}
			continue
		}
		if err := checkValue(path, p, v); err != nil {
			return err
		}
	}
	return nil
}

func wrongType(path string, p param, v any) error {
	msg := fmt.Sprintf("wrong type: want %s, got %s", p.typ, describe(v))
	if p.typ == tPercent || p.typ == tString {
		switch v.(type) {
		case int64, float64:
			msg += ` (quote it in YAML: Chaos Mesh's field is a string)`
		}
	}
	return &errkind.FieldError{Field: path, Msg: msg}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return "the number " + strconv.FormatInt(x, 10)
	case float64:
		return "the number " + strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}

func checkValue(path string, p param, v any) error {
	switch p.typ {
	case tString, tNetDuration, tDuration, tOffset, tPercent:
		s, ok := v.(string)
		if !ok {
			return wrongType(path, p, v)
		}
		if err := checkString(p, s); err != nil {
			return &errkind.FieldError{Field: path, Msg: err.Error()}
		}
	case tInt:
		n, ok := v.(int64)
		if !ok {
			return wrongType(path, p, v)
		}
		if p.min != nil && n < *p.min {
			return &errkind.FieldError{Field: path, Msg: fmt.Sprintf("must be >= %d, got %d", *p.min, n)}
		}
		if p.max != nil && n > *p.max {
			return &errkind.FieldError{Field: path, Msg: fmt.Sprintf("must be <= %d, got %d", *p.max, n)}
		}
	case tBool:
		if _, ok := v.(bool); !ok {
			return wrongType(path, p, v)
		}
	case tStrings:
		l, ok := v.([]any)
		if !ok {
			return wrongType(path, p, v)
		}
		if p.nonEmpty && len(l) == 0 {
			return &errkind.FieldError{Field: path, Msg: "must list at least one entry"}
		}
		for i, e := range l {
			if _, ok := e.(string); !ok {
				return &errkind.FieldError{Field: fmt.Sprintf("%s[%d]", path, i), Msg: fmt.Sprintf("wrong type: want a string, got %s", describe(e))}
			}
		}
	case tStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, p, v)
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, ok := m[k].(string); !ok {
				return &errkind.FieldError{Field: join(path, k), Msg: fmt.Sprintf("wrong type: want a string, got %s", describe(m[k]))}
			}
		}
	case tObject:
		m, ok := v.(map[string]any)
		if !ok {
			return wrongType(path, p, v)
		}
		return checkObject(path, p.fields, m)
	case tAnyObject:
		if _, ok := v.(map[string]any); !ok {
			return wrongType(path, p, v)
		}
	}
	return nil
}

func checkString(p param, s string) error {
	if len(p.enum) > 0 {
		for _, e := range p.enum {
			if s == e {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s, got %q", strings.Join(p.enum, ", "), s)
	}
	switch p.typ {
	case tString:
		if p.required && strings.TrimSpace(s) == "" {
			return fmt.Errorf("must not be empty")
		}
	case tNetDuration:
		if !netDurationRE.MatchString(s) {
			return fmt.Errorf("want %s, got %q", p.typ, s)
		}
	case tDuration:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("want a non-negative duration string like \"100ms\", got %q", s)
		}
	case tOffset:
		if _, err := time.ParseDuration(s); err != nil {
			return fmt.Errorf("%s", offsetHint(s))
		}
	case tPercent:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f < 0 || f > 100 {
			return fmt.Errorf("want a percentage between 0 and 100 as a string, like \"25\", got %q", s)
		}
	}
	return nil
}

// offsetHint explains a timeOffset Go cannot parse. Chaos Mesh reads it with
// time.ParseDuration, which has no day unit: "-90d" would pass the CRD
// schema and then fail in the controller, so it is refused here with the
// hours to write instead.
func offsetHint(s string) string {
	msg := fmt.Sprintf("want a signed duration string like \"-10m\" or \"2160h\" (Chaos Mesh parses it as a Go duration: units ns, us, ms, s, m, h), got %q", s)
	if num, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		if days, err := strconv.ParseFloat(num, 64); err == nil {
			msg += fmt.Sprintf("; there is no day unit: write %q", strconv.FormatFloat(days*24, 'f', -1, 64)+"h")
		}
	}
	return msg
}

// normalize turns params into plain JSON values (the shapes unstructured
// objects hold): ints of any width and integral floats become int64, other
// floats stay float64, typed slices and maps become []any and
// map[string]any. Params arrive as YAML-decoded values (int), from Temporal
// history (float64) or from an object (int64); all compare and copy alike
// afterwards.
func normalize(params map[string]any) (map[string]any, error) {
	if params == nil {
		return nil, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, &errkind.FieldError{Field: "", Msg: "params must be plain values (strings, numbers, lists, maps with string keys): " + err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, &errkind.FieldError{Field: "", Msg: err.Error()}
	}
	out, _ := fromJSON(raw).(map[string]any)
	return out, nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
		return x
	}
	return v
}

// get walks a dotted path through nested maps.
func get(m map[string]any, path string) any {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[part]
	}
	return cur
}

func str(m map[string]any, path string) string {
	s, _ := get(m, path).(string)
	return s
}

func strList(m map[string]any, path string) []string {
	l, _ := get(m, path).([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func num(m map[string]any, path string) (int64, bool) {
	n, ok := get(m, path).(int64)
	return n, ok
}
