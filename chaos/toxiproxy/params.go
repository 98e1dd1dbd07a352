package toxiproxy

import (
	"fmt"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/errkind"
)

// Action names this back-end accepts.
const (
	ActionLatency = "latency"
	ActionTimeout = "timeout"
)

// BackendName is the name scenarios use in target.backend / fault.backend.
const BackendName = "toxiproxy"

// SelectorProxy is the target selector key naming the toxiproxy proxy (the
// network link) a fault is applied to.
const SelectorProxy = "proxy"

func init() {
	chaos.Register(chaos.Driver{
		Name: BackendName,
		Actions: map[string]func(map[string]any) error{
			ActionLatency: func(p map[string]any) error { _, err := parseToxic(ActionLatency, p); return err },
			ActionTimeout: func(p map[string]any) error { _, err := parseToxic(ActionTimeout, p); return err },
		},
		ValidateTarget: validateTarget,
		Describe:       describe,
	})
}

// describe says what a fault does to its link: "add latency 1.2s to
// inventory (100% of downstream)", and removing it.
func describe(f chaos.Fault, _ []string) chaos.Description {
	spec, err := parseToxic(f.Action, f.Params)
	if err != nil {
		return chaos.Description{}
	}
	proxy := f.Target.Selector[SelectorProxy]
	return chaos.Description{
		Inject:  fmt.Sprintf("add %s to %s (%s of %s)", spec.what, proxy, pct(spec.toxicity), spec.stream),
		Recover: fmt.Sprintf("remove %s from %s", spec.what, proxy),
	}
}

func validateTarget(t chaos.Target) error {
	if t.Selector[SelectorProxy] == "" {
		return &errkind.FieldError{Field: "selector." + SelectorProxy, Msg: "required: name of the toxiproxy proxy to degrade"}
	}
	return nil
}

// latencyParams are the params of the latency action.
type latencyParams struct {
	Latency  chaos.Dur `json:"latency"`
	Jitter   chaos.Dur `json:"jitter"`
	Toxicity *float64  `json:"toxicity"`
	Stream   string    `json:"stream"`
}

// timeoutParams are the params of the timeout action. Timeout 0 is allowed
// and means toxiproxy holds the data until the toxic is removed.
type timeoutParams struct {
	Timeout  chaos.Dur `json:"timeout"`
	Toxicity *float64  `json:"toxicity"`
	Stream   string    `json:"stream"`
}

// toxicSpec is a validated action, ready to be sent to the toxiproxy API.
type toxicSpec struct {
	typ      string
	attrs    map[string]any
	toxicity float32
	stream   string
	summary  string // human description for Resolve
	what     string // the toxic alone: "latency 1.2s", for Describe
}

// parseToxic validates params for an action and turns them into a toxic.
// Every failure is a *errkind.FieldError naming the offending param, so the
// scenario loader can point at it.
func parseToxic(action string, params map[string]any) (toxicSpec, error) {
	switch action {
	case ActionLatency:
		var p latencyParams
		if err := chaos.DecodeParams(params, &p); err != nil {
			return toxicSpec{}, err
		}
		lat, jit := time.Duration(p.Latency), time.Duration(p.Jitter)
		if _, ok := params["latency"]; !ok {
			return toxicSpec{}, &errkind.FieldError{Field: "latency", Msg: "required (e.g. \"500ms\")"}
		}
		// toxiproxy works in whole milliseconds: anything smaller would be
		// silently rounded to "no latency".
		if lat < time.Millisecond {
			return toxicSpec{}, &errkind.FieldError{Field: "latency", Msg: fmt.Sprintf("must be at least 1ms, got %s", lat)}
		}
		if jit < 0 {
			return toxicSpec{}, &errkind.FieldError{Field: "jitter", Msg: fmt.Sprintf("must not be negative, got %s", jit)}
		}
		tox, st, err := common(p.Toxicity, p.Stream)
		if err != nil {
			return toxicSpec{}, err
		}
		what := "latency " + lat.String()
		if jit > 0 {
			what += " ±" + jit.String()
		}
		return toxicSpec{
			typ:      "latency",
			attrs:    map[string]any{"latency": lat.Milliseconds(), "jitter": jit.Milliseconds()},
			toxicity: tox,
			stream:   st,
			summary:  fmt.Sprintf("latency %s ±%s on %s of %s", lat, jit, pct(tox), st),
			what:     what,
		}, nil
	case ActionTimeout:
		var p timeoutParams
		if err := chaos.DecodeParams(params, &p); err != nil {
			return toxicSpec{}, err
		}
		// Required even though 0 is valid: "hold forever" must be a
		// deliberate choice, not a forgotten field.
		if _, ok := params["timeout"]; !ok {
			return toxicSpec{}, &errkind.FieldError{Field: "timeout", Msg: "required (e.g. \"5s\"; \"0s\" holds data until the fault is recovered)"}
		}
		to := time.Duration(p.Timeout)
		if to < 0 {
			return toxicSpec{}, &errkind.FieldError{Field: "timeout", Msg: fmt.Sprintf("must not be negative, got %s", to)}
		}
		tox, st, err := common(p.Toxicity, p.Stream)
		if err != nil {
			return toxicSpec{}, err
		}
		what := fmt.Sprintf("timeout %s (close connection after)", to)
		if to == 0 {
			what = "timeout 0s (hold data until recovered)"
		}
		return toxicSpec{
			typ:      "timeout",
			attrs:    map[string]any{"timeout": to.Milliseconds()},
			toxicity: tox,
			stream:   st,
			summary:  fmt.Sprintf("%s on %s of %s", what, pct(tox), st),
			what:     what,
		}, nil
	default:
		return toxicSpec{}, &errkind.FieldError{Field: "action", Msg: fmt.Sprintf("unknown toxiproxy action %q (known: %s, %s)", action, ActionLatency, ActionTimeout)}
	}
}

func toxicity(p *float64) (float32, error) {
	if p == nil {
		return 1, nil
	}
	if *p < 0 || *p > 1 {
		return 0, &errkind.FieldError{Field: "toxicity", Msg: fmt.Sprintf("must be between 0 and 1 (fraction of connections affected), got %v", *p)}
	}
	return float32(*p), nil
}

func streamOf(s string) (string, error) {
	switch s {
	case "":
		return "downstream", nil
	case "upstream", "downstream":
		return s, nil
	}
	return "", &errkind.FieldError{Field: "stream", Msg: fmt.Sprintf("must be \"upstream\" or \"downstream\", got %q", s)}
}

func pct(t float32) string { return fmt.Sprintf("%.4g%%", float64(t)*100) }

// common validates the fields every action shares.
func common(t *float64, stream string) (float32, string, error) {
	tox, err := toxicity(t)
	if err != nil {
		return 0, "", err
	}
	st, err := streamOf(stream)
	return tox, st, err
}
