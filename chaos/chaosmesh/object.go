package chaosmesh

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
)

// ErrUnsupportedKind is wrapped by FaultFromObject for objects that are not
// one of Kinds() (a Schedule, a Workflow, a StatusCheck, another API).
var ErrUnsupportedKind = errors.New("not a chaos kind the chaos-mesh back-end supports")

// Object builds the Chaos Mesh object for fault f: kind and spec.action from
// the action, the action's params as the rest of the spec (Chaos Mesh's own
// field names), and what gameday owns filled from the fault: selector
// (namespaces: [target.namespace], labelSelectors: target.selector), mode
// (one when empty) and value from the target, duration from the fault's
// duration, so Chaos Mesh ends the fault by itself even if gameday dies.
// The object is named after the fault id in the target namespace and
// carries kubetarget.Labels and kubetarget.Annotations (expires: when a sweep may
// remove it). Pure; errors wrap a *errkind.FieldError where one applies.
func Object(f chaos.Fault, expires time.Time) (*unstructured.Unstructured, error) {
	u, _, err := build(f, expires)
	return u, err
}

func build(f chaos.Fault, expires time.Time) (*unstructured.Unstructured, *actionDef, error) {
	a, err := lookupAction(f.Action)
	if err != nil {
		return nil, nil, err
	}
	if err := ValidateTarget(f.Target); err != nil {
		return nil, nil, fmt.Errorf("spec.target: %w", err)
	}
	if err := checkName(f.ID); err != nil {
		return nil, nil, err
	}
	if f.Duration <= 0 {
		return nil, nil, fmt.Errorf("fault %s: duration must be > 0, got %s (Chaos Mesh runs a fault without a duration until its object is deleted)", f.ID, f.Duration)
	}
	spec, err := validateParams(a, f.Params)
	if err != nil {
		return nil, nil, fmt.Errorf("params: %w", err)
	}
	labelSelectors := map[string]any{}
	for k, v := range f.Target.Selector {
		labelSelectors[k] = v
	}
	spec["selector"] = map[string]any{
		"namespaces":     []any{f.Target.Namespace},
		"labelSelectors": labelSelectors,
	}
	spec["mode"] = chaos.DefaultMode(f.Target.Mode)
	if f.Target.Value != "" {
		spec["value"] = strings.TrimSuffix(f.Target.Value, "%")
	}
	spec["duration"] = f.Duration.String()
	if a.specAction != "" {
		spec["action"] = a.specAction
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": Group + "/" + Version,
		"kind":       a.kind.Kind,
		"spec":       spec,
	}}
	u.SetName(f.ID)
	u.SetNamespace(f.Target.Namespace)
	u.SetLabels(kubetarget.Labels(f))
	u.SetAnnotations(kubetarget.Annotations(f, expires))
	return u, a, nil
}

// checkName keeps the fault id usable as the object name (a DNS subdomain)
// and as the fault-id label value.
func checkName(id string) error {
	if id == "" {
		return errors.New("fault has no id")
	}
	errs := validation.IsDNS1123Subdomain(id)
	errs = append(errs, validation.IsValidLabelValue(id)...)
	if len(errs) > 0 {
		return fmt.Errorf("fault id %q cannot name a Kubernetes object: %s", id, strings.Join(errs, "; "))
	}
	return nil
}

// FaultFromObject is the inverse of Object: it reads a Chaos Mesh object (a
// user's YAML, one of Chaos Mesh's examples) as a gameday fault: the action,
// the duration (0 when the object has none), the params (the spec without
// the fields gameday fills) and the target (namespace from
// selector.namespaces or the object's namespace, labels from
// selector.labelSelectors, mode, value). The params are validated as the
// driver would; a selector gameday cannot express (pods, nodes,
// expressions, several namespaces...) is an error naming the field.
// Objects of other kinds wrap ErrUnsupportedKind.
func FaultFromObject(u *unstructured.Unstructured) (action string, duration time.Duration, params map[string]any, target chaos.Target, err error) {
	gvk := u.GroupVersionKind()
	if gvk.Group != Group {
		return "", 0, nil, chaos.Target{}, fmt.Errorf("%w: apiVersion %q (want %s/%s)", ErrUnsupportedKind, u.GetAPIVersion(), Group, Version)
	}
	k, ok := kindByName(gvk.Kind)
	if !ok {
		return "", 0, nil, chaos.Target{}, fmt.Errorf("%w: kind %s (supported: %s)", ErrUnsupportedKind, gvk.Kind, strings.Join(kindNames(), ", "))
	}
	if gvk.Version != Version {
		return "", 0, nil, chaos.Target{}, fmt.Errorf("%s: apiVersion %s: only %s/%s is supported", k.Kind, u.GetAPIVersion(), Group, Version)
	}
	rawSpec, _ := u.Object["spec"].(map[string]any)
	spec, err := normalize(rawSpec)
	if err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	if spec == nil {
		return "", 0, nil, chaos.Target{}, fmt.Errorf("%s %s: no spec", k.Kind, u.GetName())
	}

	target = chaos.Target{Backend: BackendName, Namespace: u.GetNamespace()}
	if sel, present := spec["selector"]; present {
		sm, ok := sel.(map[string]any)
		if !ok {
			return "", 0, nil, chaos.Target{}, &errkind.FieldError{Field: "selector", Msg: "want a map"}
		}
		if err := readSelector(sm, &target); err != nil {
			return "", 0, nil, chaos.Target{}, err
		}
	}
	if target.Mode, err = specString(spec, "mode"); err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	if target.Value, err = specString(spec, "value"); err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	d, err := specString(spec, "duration")
	if err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	if d != "" {
		if duration, err = time.ParseDuration(d); err != nil || duration < 0 {
			return "", 0, nil, chaos.Target{}, &errkind.FieldError{Field: "duration", Msg: fmt.Sprintf("invalid duration %q", d)}
		}
	}
	specAction, err := specString(spec, "action")
	if err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	for key := range platformOwned {
		delete(spec, key)
	}
	a, err := actionOf(k, specAction, spec)
	if err != nil {
		return "", 0, nil, chaos.Target{}, err
	}
	if _, err := validateParams(a, spec); err != nil {
		return "", 0, nil, chaos.Target{}, fmt.Errorf("%s %s: %w", k.Kind, a.name, err)
	}
	return a.name, duration, spec, target, nil
}

func specString(spec map[string]any, key string) (string, error) {
	v, ok := spec[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", &errkind.FieldError{Field: key, Msg: fmt.Sprintf("want a string, got %s", describe(v))}
	}
	return s, nil
}

func readSelector(sel map[string]any, t *chaos.Target) error {
	for _, k := range slices.Sorted(maps.Keys(sel)) {
		switch k {
		case "namespaces":
			ns, ok := sel[k].([]any)
			if !ok {
				return &errkind.FieldError{Field: "selector.namespaces", Msg: "want a list of namespaces"}
			}
			switch len(ns) {
			case 0:
			case 1:
				s, ok := ns[0].(string)
				if !ok {
					return &errkind.FieldError{Field: "selector.namespaces[0]", Msg: "want a string"}
				}
				t.Namespace = s
			default:
				return &errkind.FieldError{Field: "selector.namespaces", Msg: fmt.Sprintf("%d namespaces: a gameday target has exactly one (spec.target.namespace); split the fault", len(ns))}
			}
		case "labelSelectors":
			ls, ok := sel[k].(map[string]any)
			if !ok {
				return &errkind.FieldError{Field: "selector.labelSelectors", Msg: "want a map of labels"}
			}
			if len(ls) > 0 {
				t.Selector = make(map[string]string, len(ls))
			}
			for lk, lv := range ls {
				s, ok := lv.(string)
				if !ok {
					return &errkind.FieldError{Field: "selector.labelSelectors." + lk, Msg: fmt.Sprintf("want a string, got %s", describe(lv))}
				}
				t.Selector[lk] = s
			}
		default:
			return &errkind.FieldError{Field: "selector." + k, Msg: "not supported: gameday selects pods by namespace and labels only (spec.target.namespace, spec.target.selector), which is what its safety policy checks"}
		}
	}
	return nil
}

// actionOf finds the gameday action for an object of kind k: by spec.action
// where the kind has one, by the stressor (StressChaos), by the HTTP rule
// (HTTPChaos).
func actionOf(k Kind, specAction string, spec map[string]any) (*actionDef, error) {
	var candidates []*actionDef
	for _, name := range actionNames() {
		if a := actions[name]; a.kind == k {
			candidates = append(candidates, a)
		}
	}
	var supported []string
	for _, a := range candidates {
		if a.specAction != "" {
			supported = append(supported, a.specAction)
		}
	}
	switch k {
	case stressChaos:
		if _, ok := spec["stressngStressors"]; ok {
			return nil, &errkind.FieldError{Field: "stressngStressors", Msg: "not supported: use stressors.cpu or stressors.memory"}
		}
		st, _ := spec["stressors"].(map[string]any)
		_, cpu := st["cpu"]
		_, mem := st["memory"]
		switch {
		case cpu && mem:
			return nil, &errkind.FieldError{Field: "stressors", Msg: "both cpu and memory: a gameday fault has one action (stress-cpu or stress-memory); split it into two faults"}
		case cpu:
			return actions[ActionStressCPU], nil
		case mem:
			return actions[ActionStressMemory], nil
		}
		return nil, &errkind.FieldError{Field: "stressors", Msg: "required: cpu or memory"}
	case timeChaos:
		return actions[ActionTimeSkew], nil
	case httpChaos:
		var found []string
		for _, key := range []string{"abort", "delay", "replace", "patch"} {
			if _, ok := spec[key]; ok {
				found = append(found, key)
			}
		}
		switch len(found) {
		case 1:
			return actions["http-"+found[0]], nil
		case 0:
			return nil, &errkind.FieldError{Field: "abort", Msg: "an HTTPChaos needs one of abort, delay, replace, patch"}
		}
		return nil, &errkind.FieldError{Field: found[1], Msg: fmt.Sprintf("combines %s: a gameday fault has one action (http-abort, http-delay, http-replace, http-patch); split it", strings.Join(found, ", "))}
	}
	if specAction == "" {
		return nil, &errkind.FieldError{Field: "action", Msg: fmt.Sprintf("required for %s (supported: %s)", k.Kind, strings.Join(supported, ", "))}
	}
	for _, a := range candidates {
		if a.specAction == specAction {
			return a, nil
		}
	}
	return nil, &errkind.FieldError{Field: "action", Msg: fmt.Sprintf("%s action %q is not supported (supported: %s)", k.Kind, specAction, strings.Join(supported, ", "))}
}

func kindByName(kind string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

func kindNames() []string {
	var out []string
	for _, k := range Kinds() {
		out = append(out, k.Kind)
	}
	sort.Strings(out)
	return out
}
