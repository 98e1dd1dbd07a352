package kubernetes

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/internal/errkind"
)

// BackendName is the name scenarios use in target.backend / fault.backend.
const BackendName = "kubernetes"

// Action names this back-end accepts.
const (
	ActionPodKill      = "pod-kill"
	ActionNodeNotReady = "node-notready"
)

// DefaultReadyTimeout is how long, by default, recover of a pod-kill waits
// after the kill for the owners to be Ready again before it gives up and
// reports them not Ready.
const DefaultReadyTimeout = 5 * time.Minute

// MaxReadyTimeout is the largest ready_timeout a pod-kill accepts. Recover
// waits (retried, heartbeating) until the owners are Ready or ready_timeout
// has passed since the kill, so a typo like 1000h would hold the run's
// recovery, and every fault recovered after it, for that long.
const MaxReadyTimeout = 30 * time.Minute

// MaxGracePeriod is the largest grace_period pod-kill and node-notready
// accept. gameday does not wait for it itself, but a pod deleted or evicted
// with a grace period lingers (Terminating, still holding a StatefulSet's
// name and its node) that long: with 1000h the fault would outlive its
// recovery by weeks, and nothing recover does could end it.
const MaxGracePeriod = 30 * time.Minute

func init() {
	chaos.Register(chaos.Driver{
		Name: BackendName,
		Actions: map[string]func(map[string]any) error{
			ActionPodKill:      func(p map[string]any) error { _, err := parsePodKill(p); return err },
			ActionNodeNotReady: func(p map[string]any) error { _, err := parseNodeNotReady(p); return err },
		},
		ValidateTarget: validateTarget,
		Describe:       describe,
	})
}

// describe says what a fault does, with the counts define resolved: "delete
// 2 of 4 pods in shop app=order (mode fixed 2): order-a, order-b", "cordon
// node n1 (hosts 2 matched pods), then evict …".
func describe(f chaos.Fault, resolved []string) chaos.Description {
	where := chaos.TargetString(f.Target)
	mode := chaos.ModeString(f.Target.Mode, f.Target.Value)
	var lines []string
	for _, r := range resolved {
		if rest, ok := strings.CutPrefix(r, f.Action+": would "); ok {
			lines = append(lines, rest)
		}
	}
	switch f.Action {
	case ActionPodKill:
		d := chaos.Description{
			Inject:  fmt.Sprintf("delete pods in %s (mode %s)", where, mode),
			Recover: fmt.Sprintf("wait until the pods deleted in %s are Ready again", where),
		}
		if len(lines) == 1 {
			// "delete 2 of 4 pods in shop (mode …): …" + the selector.
			d.Inject = strings.Replace(lines[0], " in "+f.Target.Namespace+" (", " in "+where+" (", 1)
		}
		return d
	case ActionNodeNotReady:
		d := chaos.Description{
			Inject:  fmt.Sprintf("cordon the nodes of pods in %s (mode %s)", where, mode),
			Recover: fmt.Sprintf("uncordon the nodes cordoned for %s", where),
		}
		if len(lines) > 0 {
			d.Inject = strings.Join(lines, "; ")
		}
		return d
	}
	return chaos.Description{}
}

// validateTarget checks what every action needs: a namespace (the safety
// allow-list is per namespace), a non-empty, valid label selector (an empty
// one would match every pod) and a valid blast-radius mode.
func validateTarget(t chaos.Target) error {
	if t.Namespace == "" {
		return &errkind.FieldError{Field: "namespace", Msg: "required: the namespace of the pods to target"}
	}
	if len(t.Selector) == 0 {
		return &errkind.FieldError{Field: "selector", Msg: "required: a label selector for the target pods (e.g. app: order); an empty one would match every pod"}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Selector)) {
		if _, err := labels.ValidatedSelectorFromSet(map[string]string{k: t.Selector[k]}); err != nil {
			return &errkind.FieldError{Field: "selector." + k, Msg: "not a valid label selector: " + err.Error()}
		}
	}
	return chaos.ValidateMode(t.Mode, t.Value)
}

// podKillParams are the params of pod-kill. GracePeriod is only meaningful
// when present (absent = the pod's own terminationGracePeriodSeconds), so
// presence is read from the raw params, not from the zero value.
type podKillParams struct {
	GracePeriod  chaos.Dur `json:"grace_period"`
	ReadyTimeout chaos.Dur `json:"ready_timeout"`
}

// podKill is validated pod-kill params.
type podKill struct {
	grace        *int64 // nil: the pod's own grace period
	readyTimeout time.Duration
}

func parsePodKill(params map[string]any) (podKill, error) {
	var p podKillParams
	if err := chaos.DecodeParams(params, &p); err != nil {
		return podKill{}, err
	}
	out := podKill{readyTimeout: DefaultReadyTimeout}
	if _, ok := params["grace_period"]; ok {
		g, err := graceSeconds(time.Duration(p.GracePeriod))
		if err != nil {
			return podKill{}, err
		}
		out.grace = &g
	}
	if _, ok := params["ready_timeout"]; ok {
		rt := time.Duration(p.ReadyTimeout)
		// Under a second cannot be told apart from "do not wait", which is
		// what a typo like "5" (no unit) would otherwise turn into.
		if rt < time.Second {
			return podKill{}, &errkind.FieldError{Field: "ready_timeout", Msg: fmt.Sprintf("must be at least 1s, got %s", rt)}
		}
		if rt > MaxReadyTimeout {
			return podKill{}, &errkind.FieldError{Field: "ready_timeout", Msg: fmt.Sprintf("must be at most %s (recover waits that long for the owners), got %s", MaxReadyTimeout, rt)}
		}
		out.readyTimeout = rt
	}
	return out, nil
}

// nodeNotReadyParams are the params of node-notready.
type nodeNotReadyParams struct {
	Evict       bool      `json:"evict"`
	GracePeriod chaos.Dur `json:"grace_period"`
}

// nodeNotReady is validated node-notready params.
type nodeNotReady struct {
	evict bool
	grace *int64 // nil: each pod's own grace period
}

func parseNodeNotReady(params map[string]any) (nodeNotReady, error) {
	var p nodeNotReadyParams
	if err := chaos.DecodeParams(params, &p); err != nil {
		return nodeNotReady{}, err
	}
	out := nodeNotReady{evict: p.Evict}
	if _, ok := params["grace_period"]; ok {
		// A grace period without eviction would be silently ignored: say so
		// instead, the author most likely forgot evict: true.
		if !p.Evict {
			return nodeNotReady{}, &errkind.FieldError{Field: "grace_period", Msg: "only applies to evicted pods: set evict: true or remove grace_period"}
		}
		g, err := graceSeconds(time.Duration(p.GracePeriod))
		if err != nil {
			return nodeNotReady{}, err
		}
		out.grace = &g
	}
	return out, nil
}

// graceSeconds converts grace_period to the API's whole seconds. A fraction
// is refused rather than rounded: "1500ms" silently becoming 1s or 2s would
// not be what the scenario says.
func graceSeconds(d time.Duration) (int64, error) {
	if d < 0 {
		return 0, &errkind.FieldError{Field: "grace_period", Msg: fmt.Sprintf("must not be negative, got %s", d)}
	}
	if d%time.Second != 0 {
		return 0, &errkind.FieldError{Field: "grace_period", Msg: fmt.Sprintf("must be whole seconds (the API counts in seconds), got %s", d)}
	}
	if d > MaxGracePeriod {
		return 0, &errkind.FieldError{Field: "grace_period", Msg: fmt.Sprintf("must be at most %s (a pod stays Terminating that long), got %s", MaxGracePeriod, d)}
	}
	return int64(d / time.Second), nil
}
