package chaos

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/internal/errkind"
)

// DecodeParams strictly decodes a fault's params into a typed struct via
// JSON (params survive a trip through Temporal history as JSON, so ints may
// arrive as float64). Unknown keys and wrong types come back as *errkind.FieldError.
func DecodeParams(params map[string]any, out any) error {
	known := jsonFields(reflect.TypeOf(out).Elem())
	keys := slices.Sorted(maps.Keys(params))
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			return &errkind.FieldError{Field: k, Msg: fmt.Sprintf("unknown field (known: %s)", strings.Join(slices.Sorted(maps.Keys(known)), ", "))}
		}
	}
	for _, k := range keys {
		b, err := json.Marshal(params[k])
		if err != nil {
			return &errkind.FieldError{Field: k, Msg: err.Error()}
		}
		one, _ := json.Marshal(map[string]json.RawMessage{k: b})
		if err := json.Unmarshal(one, out); err != nil {
			return &errkind.FieldError{Field: k, Msg: fmt.Sprintf("wrong type: want %s", known[k])}
		}
	}
	return nil
}

func jsonFields(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		kind := f.Type.Kind().String()
		if f.Type == reflect.TypeOf(Dur(0)) {
			kind = "duration string like 100ms"
		}
		out[name] = kind
	}
	return out
}

// Dur is a time.Duration that reads and writes as a Go duration string.
type Dur time.Duration

func (d Dur) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Dur) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string like \"100ms\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	*d = Dur(v)
	return nil
}
