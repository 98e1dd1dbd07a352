package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/duration"
)

// Overrides are the key=value changes a run makes to a scenario as written
// (`gameday run --set`, Slack, a game-day plan's step `set:`). They live
// here, with the scenario, so the CLI, the Slack bot and the plan loader
// apply and refuse them by one rule.

// DescribeOverrides lists what set changes in sc, with the value sc had,
// sorted by key: what the approvers and the status show. Call it on the
// scenario before ApplyOverrides; keys ApplyOverrides would refuse are
// described as given (the refusal comes from ApplyOverrides).
func DescribeOverrides(sc Scenario, set map[string]string) []experiment.Override {
	var out []experiment.Override
	for _, k := range slices.Sorted(maps.Keys(set)) {
		o := experiment.Override{Key: k, Value: set[k]}
		var was []string
		add := func(v string) {
			if v != "" && !slices.Contains(was, v) {
				was = append(was, v)
			}
		}
		switch {
		case k == "duration":
			for _, f := range sc.Spec.Faults {
				add(f.Duration.D().String())
			}
		case k == "signoff.timeout":
			if sc.Spec.Signoff.Timeout > 0 {
				add(sc.Spec.Signoff.Timeout.D().String())
			}
		default:
			fault, param, scoped := strings.Cut(k, ".")
			for _, f := range sc.Spec.Faults {
				p := k
				if scoped {
					if f.Name != fault {
						continue
					}
					p = param
				}
				if v, ok := f.Params[p]; ok {
					add(fmt.Sprint(v))
				}
			}
		}
		o.Was = strings.Join(was, ", ")
		out = append(out, o)
	}
	return out
}

// Clone copies what preparing a scenario writes to (fault params by
// overrides, guard defaults by Validate, sign-off roles when a checklist
// names them), so the caller's value stays as it was checked.
func Clone(sc Scenario) Scenario {
	sc.Metadata.Labels = maps.Clone(sc.Metadata.Labels)
	sc.Spec.Faults = slices.Clone(sc.Spec.Faults)
	for i := range sc.Spec.Faults {
		sc.Spec.Faults[i].Params = maps.Clone(sc.Spec.Faults[i].Params)
	}
	sc.Spec.Guards = slices.Clone(sc.Spec.Guards)
	sc.Spec.SteadyState.Guards = slices.Clone(sc.Spec.SteadyState.Guards)
	sc.Spec.Signoff.Roles = slices.Clone(sc.Spec.Signoff.Roles)
	return sc
}

// ApplyOverrides sets key=value overrides on a scenario, then validates it
// again, so an override can never produce a scenario the loader would
// refuse. Keys:
//
//	duration=D            every fault's duration
//	signoff.timeout=D     the sign-off deadline
//	<fault>.<param>=V     one fault's back-end parameter
//	<param>=V             that parameter on every fault
func ApplyOverrides(sc *Scenario, set map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(set)) {
		v := set[k]
		switch {
		case k == "duration":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("override duration=%s: want a positive duration like 30s", v)
			}
			for i := range sc.Spec.Faults {
				sc.Spec.Faults[i].Duration = duration.Duration(d)
			}
		case k == "signoff.timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("override signoff.timeout=%s: want a positive duration like 1h", v)
			}
			sc.Spec.Signoff.Timeout = duration.Duration(d)
		default:
			fault, param, scoped := strings.Cut(k, ".")
			matched := false
			for i := range sc.Spec.Faults {
				f := &sc.Spec.Faults[i]
				if scoped && f.Name != fault {
					continue
				}
				p := k
				if scoped {
					p = param
				}
				if f.Params == nil {
					f.Params = map[string]any{}
				}
				f.Params[p] = scalar(v)
				matched = true
			}
			if !matched {
				return fmt.Errorf("override %s: no fault named %q (faults: %s)", k, fault, faultNames(*sc))
			}
		}
	}
	if err := Validate(sc); err != nil {
		return fmt.Errorf("scenario %s with overrides: %w", sc.Metadata.Name, err)
	}
	return nil
}

// scalar reads an override value the way YAML would (numbers, booleans,
// strings), so "toxicity=0.5" is a number and "latency=200ms" a string.
func scalar(v string) any {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	var out any
	if err := yaml.Unmarshal([]byte(v), &out); err == nil {
		if _, isMap := out.(map[string]any); !isMap && out != nil {
			return out
		}
	}
	return v
}

func faultNames(sc Scenario) string {
	var n []string
	for _, f := range sc.Spec.Faults {
		n = append(n, f.Name)
	}
	return strings.Join(n, ", ")
}
