package chaosmesh

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/kubetarget"
	"github.com/gameday/gameday/internal/errkind"
)

// BackendName is the name scenarios use in target.backend / fault.backend.
const BackendName = "chaos-mesh"

// Group and Version of the Chaos Mesh API this back-end speaks.
const (
	Group   = "chaos-mesh.org"
	Version = "v1alpha1"
)

// Kind is one Chaos Mesh chaos kind the back-end creates.
type Kind struct {
	Kind     string // NetworkChaos
	Resource string // networkchaos (the plural: Chaos Mesh's plurals equal the singular)
}

// GVR is the kind's resource for the dynamic client.
func (k Kind) GVR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: Group, Version: Version, Resource: k.Resource}
}

// CRD is the name of the kind's CustomResourceDefinition.
func (k Kind) CRD() string { return k.Resource + "." + Group }

var (
	networkChaos = Kind{"NetworkChaos", "networkchaos"}
	stressChaos  = Kind{"StressChaos", "stresschaos"}
	podChaos     = Kind{"PodChaos", "podchaos"}
	dnsChaos     = Kind{"DNSChaos", "dnschaos"}
	timeChaos    = Kind{"TimeChaos", "timechaos"}
	httpChaos    = Kind{"HTTPChaos", "httpchaos"}
	ioChaos      = Kind{"IOChaos", "iochaos"}
)

// Kinds lists every kind this back-end creates (and List looks through):
// the kinds of the action table, in the order they first appear in it.
func Kinds() []Kind {
	var out []Kind
	for _, a := range actionTable {
		if !slices.Contains(out, a.kind) {
			out = append(out, a.kind)
		}
	}
	return out
}

// Resources lists the chaos-mesh.org resources the back-end uses, sorted
// (for the RBAC check against deploy/rbac.yaml).
func Resources() []string {
	var out []string
	for _, k := range Kinds() {
		out = append(out, k.Resource)
	}
	sort.Strings(out)
	return out
}

// ChaosVerbs are the verbs used on every chaos-mesh.org resource: create
// (inject, and the server-side dry run of Resolve), get (adopt an existing
// object on a retried inject, wait for deletion), list (List, for sweeps),
// delete (Recover) and watch (Recover waits for the object to go by
// watching it; without the verb it polls every kubetarget.FinePoll).
var ChaosVerbs = []string{"create", "get", "list", "delete", "watch"}

// Permissions is every (apiGroup, resource, verbs) the back-end uses, as
// listed in the package documentation.
func Permissions() []kubetarget.Permission {
	var out []kubetarget.Permission
	for _, r := range Resources() {
		out = append(out, kubetarget.Permission{Group: Group, Resource: r, Verbs: append([]string(nil), ChaosVerbs...)})
	}
	return append(out,
		kubetarget.Permission{Group: "", Resource: "pods", Verbs: []string{"list"}},      // kubetarget.SelectPods, the census
		kubetarget.Permission{Group: "", Resource: "namespaces", Verbs: []string{"get"}}, // opt-in label on the namespace
		// The census of the cumulative blast radius (kubetarget.TakeCensus):
		// pod-kill markers, cordoned nodes, the owners and their size.
		kubetarget.Permission{Group: "", Resource: "configmaps", Verbs: []string{"list"}},
		kubetarget.Permission{Group: "", Resource: "nodes", Verbs: []string{"list"}},
		kubetarget.Permission{Group: "apps", Resource: "deployments", Verbs: []string{"get"}},
		kubetarget.Permission{Group: "apps", Resource: "replicasets", Verbs: []string{"get"}},
		kubetarget.Permission{Group: "apps", Resource: "statefulsets", Verbs: []string{"get"}},
	)
}

// Action names this back-end accepts.
const (
	ActionNetworkDelay     = "network-delay"
	ActionNetworkLoss      = "network-loss"
	ActionNetworkDuplicate = "network-duplicate"
	ActionNetworkCorrupt   = "network-corrupt"
	ActionNetworkPartition = "network-partition"
	ActionNetworkBandwidth = "network-bandwidth"
	ActionStressCPU        = "stress-cpu"
	ActionStressMemory     = "stress-memory"
	ActionPodFailure       = "pod-failure"
	ActionPodKill          = "pod-kill"
	ActionContainerKill    = "container-kill"
	ActionDNSError         = "dns-error"
	ActionDNSRandom        = "dns-random"
	ActionTimeSkew         = "time-skew"
	ActionHTTPAbort        = "http-abort"
	ActionHTTPDelay        = "http-delay"
	ActionHTTPReplace      = "http-replace"
	ActionHTTPPatch        = "http-patch"
	ActionIOLatency        = "io-latency"
	ActionIOFault          = "io-fault"
	ActionIOAttrOverride   = "io-attr-override"
	ActionIOMistake        = "io-mistake"
)

// actionDef maps a gameday action to a Chaos Mesh kind and spec.
type actionDef struct {
	name       string
	kind       Kind
	specAction string // spec.action, "" for kinds without one
	params     []param
	// check runs after the field checks, for rules across fields.
	check func(p map[string]any) error
	// summary describes the fault for Resolve, e.g. "delay 100ms".
	summary func(p map[string]any) string
}

// Action describes one action for documentation and tests.
type Action struct {
	Name       string
	Kind       Kind
	SpecAction string   // Chaos Mesh's spec.action, "" if the kind has none
	Required   []string // required params, as dotted paths
	Known      []string // every top-level param key
}

// Actions lists every action, sorted by name.
func Actions() []Action {
	var out []Action
	for _, name := range actionNames() {
		a := actions[name]
		out = append(out, Action{Name: a.name, Kind: a.kind, SpecAction: a.specAction, Required: required("", a.params), Known: paramNames(a.params)})
	}
	return out
}

func required(base string, ps []param) []string {
	var out []string
	for _, p := range ps {
		if !p.required {
			continue
		}
		path := join(base, p.name)
		if sub := required(path, p.fields); len(sub) > 0 {
			out = append(out, sub...)
		} else {
			out = append(out, path)
		}
	}
	sort.Strings(out)
	return out
}

func paramNames(ps []param) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.name)
	}
	sort.Strings(out)
	return out
}

func actionNames() []string {
	return slices.Sorted(maps.Keys(actions))
}

// lookupAction returns the action's definition or a FieldError listing the
// known actions.
func lookupAction(name string) (*actionDef, error) {
	a, ok := actions[name]
	if !ok {
		return nil, &errkind.FieldError{Field: "action", Msg: fmt.Sprintf("unknown %s action %q (known: %s)", BackendName, name, strings.Join(actionNames(), ", "))}
	}
	return a, nil
}

// Parameter building blocks, named and typed as in Chaos Mesh's CRDs.
var (
	pContainerNames = param{name: "containerNames", typ: tStrings}
	modeEnum        = []string{chaos.ModeOne, chaos.ModeAll, chaos.ModeFixed, chaos.ModeFixedPercent, chaos.ModeRandomMaxPercent}

	networkCommon = []param{
		{name: "direction", typ: tString, enum: []string{"to", "from", "both"}},
		// The network peer: traffic to/from these pods is affected.
		{name: "target", typ: tObject, fields: []param{
			{name: "selector", typ: tAnyObject, required: true, hint: "e.g. {labelSelectors: {app: db}}"},
			{name: "mode", typ: tString, required: true, enum: modeEnum},
			{name: "value", typ: tString},
		}},
		{name: "externalTargets", typ: tStrings},
		{name: "device", typ: tString},
		{name: "targetDevice", typ: tString},
	}
	correlation = param{name: "correlation", typ: tPercent}

	httpCommon = []param{
		{name: "target", typ: tString, required: true, enum: []string{"Request", "Response"}},
		{name: "port", typ: tInt, min: i64(1), max: i64(65535)},
		{name: "path", typ: tString},
		{name: "method", typ: tString},
		{name: "code", typ: tInt},
		{name: "request_headers", typ: tStringMap},
		{name: "response_headers", typ: tStringMap},
		{name: "tls", typ: tAnyObject},
	}

	ioCommon = []param{
		{name: "volumePath", typ: tString, required: true, hint: "mount path of the volume to inject into, e.g. /var/lib/data"},
		{name: "path", typ: tString},
		{name: "percent", typ: tInt, min: i64(0), max: i64(100)},
		{name: "methods", typ: tStrings},
		pContainerNames,
	}
)

func with(common []param, extra ...param) []param {
	return append(append([]param(nil), extra...), common...)
}

// rateRE is what Chaos Mesh's ConvertUnitToBytes accepts for bandwidth.rate.
var rateRE = regexp.MustCompile(`(?i)^\s*[0-9]+\s*(tbps|gbps|mbps|kbps|bps)\s*$`)

func checkRate(p map[string]any) error {
	if r := str(p, "bandwidth.rate"); !rateRE.MatchString(r) {
		return &errkind.FieldError{Field: "bandwidth.rate", Msg: fmt.Sprintf("want a whole number and a unit (bps, kbps, mbps, gbps, tbps), e.g. \"1mbps\", got %q", r)}
	}
	return nil
}

// checkNetworkTarget repeats the webhook's rule so define reports it.
func checkNetworkTarget(action string) func(p map[string]any) error {
	return func(p map[string]any) error {
		dir := str(p, "direction")
		if (dir == "from" || dir == "both") && get(p, "target") == nil {
			if action != "partition" {
				return &errkind.FieldError{Field: "direction", Msg: fmt.Sprintf("direction %s needs a target (the peer pods) for %s", dir, action)}
			}
			if get(p, "externalTargets") == nil {
				return &errkind.FieldError{Field: "direction", Msg: fmt.Sprintf("direction %s needs a target or externalTargets", dir)}
			}
		}
		if (dir == "from" || dir == "both") && get(p, "externalTargets") != nil && action != "partition" {
			return &errkind.FieldError{Field: "externalTargets", Msg: fmt.Sprintf("Chaos Mesh cannot use externalTargets with direction %s for %s", dir, action)}
		}
		if t, ok := get(p, "target").(map[string]any); ok {
			mode, _ := t["mode"].(string)
			value, _ := t["value"].(string)
			if err := checkModeValue(mode, value); err != nil {
				var fe *errkind.FieldError
				if errors.As(err, &fe) {
					return &errkind.FieldError{Field: "target." + fe.Field, Msg: fe.Msg}
				}
				return err
			}
		}
		return nil
	}
}

func withDetail(base string, p map[string]any, path, label string) string {
	if v := str(p, path); v != "" {
		return base + " " + label + " " + v
	}
	return base
}

func percentSummary(what string) func(p map[string]any) string {
	return func(p map[string]any) string {
		s := fmt.Sprintf("%s %s%%", what, str(p, what+"."+what))
		s = withDetail(s, p, what+".correlation", "correlation")
		return networkPeer(s, p)
	}
}

// networkPeer appends the direction and peer of a network fault.
func networkPeer(s string, p map[string]any) string {
	if d := str(p, "direction"); d != "" {
		s += " direction " + d
	}
	if t, ok := get(p, "target.selector").(map[string]any); ok {
		s += " peer " + selectorString(t)
	}
	if ext := strList(p, "externalTargets"); len(ext) > 0 {
		s += " external " + strings.Join(ext, ",")
	}
	return s
}

func selectorString(sel map[string]any) string {
	var parts []string
	if ns := strList(sel, "namespaces"); len(ns) > 0 {
		parts = append(parts, "namespaces="+strings.Join(ns, ","))
	}
	if ls, ok := sel["labelSelectors"].(map[string]any); ok {
		for _, k := range slices.Sorted(maps.Keys(ls)) {
			parts = append(parts, fmt.Sprintf("%s=%v", k, ls[k]))
		}
	}
	if len(parts) == 0 {
		return "(selector)"
	}
	return strings.Join(parts, ",")
}

func containers(s string, p map[string]any) string {
	if c := strList(p, "containerNames"); len(c) > 0 {
		s += " containers " + strings.Join(c, ",")
	}
	return s
}

func httpRule(s string, p map[string]any) string {
	s += " on " + str(p, "target")
	if port, ok := num(p, "port"); ok {
		s += " port " + strconv.FormatInt(port, 10)
	}
	if m := str(p, "method"); m != "" {
		s += " " + m
	}
	if path := str(p, "path"); path != "" {
		s += " path " + path
	}
	return s
}

func ioRule(s string, p map[string]any) string {
	s += " in " + str(p, "volumePath")
	if path := str(p, "path"); path != "" {
		s += " path " + path
	}
	if pct, ok := num(p, "percent"); ok {
		s += fmt.Sprintf(" (%d%% of operations)", pct)
	}
	return containers(s, p)
}

// actionTable is the Chaos Mesh action table: every gameday action, its
// Chaos Mesh kind and spec.action, its parameters and rules. Everything
// else reads it: validation (validateParams, the registered Driver), the
// objects (actionOf), the documentation and its test (Actions), the kinds
// List looks through and the RBAC the back-end needs (Kinds, Resources,
// Permissions). Adding an action is adding an entry.
var actionTable = []actionDef{
	{
		name: ActionNetworkDelay, kind: networkChaos, specAction: "delay",
		params: with(networkCommon, param{name: "delay", typ: tObject, required: true, hint: `e.g. {latency: "100ms", jitter: "10ms"}`, fields: []param{
			{name: "latency", typ: tNetDuration, required: true, hint: `e.g. "100ms"`},
			{name: "jitter", typ: tNetDuration},
			correlation,
			{name: "reorder", typ: tObject, fields: []param{
				{name: "reorder", typ: tPercent, required: true},
				correlation,
				{name: "gap", typ: tInt, required: true},
			}},
		}}),
		check: checkNetworkTarget("delay"),
		summary: func(p map[string]any) string {
			s := "delay " + str(p, "delay.latency")
			s = withDetail(s, p, "delay.jitter", "jitter")
			s = withDetail(s, p, "delay.correlation", "correlation")
			return networkPeer(s, p)
		},
	},
	percentAction(ActionNetworkLoss, "loss", "25"),
	percentAction(ActionNetworkDuplicate, "duplicate", "10"),
	percentAction(ActionNetworkCorrupt, "corrupt", "10"),
	{
		name: ActionNetworkPartition, kind: networkChaos, specAction: "partition",
		params:  with(networkCommon),
		check:   checkNetworkTarget("partition"),
		summary: func(p map[string]any) string { return networkPeer("partition", p) },
	},
	{
		name: ActionNetworkBandwidth, kind: networkChaos, specAction: "bandwidth",
		params: with(networkCommon, param{name: "bandwidth", typ: tObject, required: true, hint: `e.g. {rate: "1mbps", limit: 20971520, buffer: 10000}`, fields: []param{
			{name: "rate", typ: tString, required: true, hint: `e.g. "1mbps"`},
			{name: "limit", typ: tInt, required: true, min: i64(1), hint: "bytes that can be queued"},
			{name: "buffer", typ: tInt, required: true, min: i64(1), hint: "bucket size in bytes"},
			{name: "peakrate", typ: tInt, min: i64(0)},
			{name: "minburst", typ: tInt, min: i64(0)},
		}}),
		check: func(p map[string]any) error {
			if err := checkRate(p); err != nil {
				return err
			}
			return checkNetworkTarget("bandwidth")(p)
		},
		summary: func(p map[string]any) string { return networkPeer("bandwidth rate "+str(p, "bandwidth.rate"), p) },
	},

	{
		name: ActionStressCPU, kind: stressChaos,
		params: []param{stressor("cpu", param{name: "load", typ: tInt, min: i64(0), max: i64(100)}), pContainerNames},
		summary: func(p map[string]any) string {
			w, _ := num(p, "stressors.cpu.workers")
			s := fmt.Sprintf("cpu stress %d workers", w)
			if l, ok := num(p, "stressors.cpu.load"); ok {
				s += fmt.Sprintf(" at %d%% load", l)
			}
			return containers(s, p)
		},
	},
	{
		name: ActionStressMemory, kind: stressChaos,
		params: []param{stressor("memory",
			param{name: "size", typ: tString},
			param{name: "oomScoreAdj", typ: tInt, min: i64(-1000), max: i64(1000)},
		), pContainerNames},
		summary: func(p map[string]any) string {
			w, _ := num(p, "stressors.memory.workers")
			s := fmt.Sprintf("memory stress %d workers", w)
			s = withDetail(s, p, "stressors.memory.size", "size")
			return containers(s, p)
		},
	},

	{
		name: ActionPodFailure, kind: podChaos, specAction: "pod-failure",
		summary: func(map[string]any) string { return "pod-failure (pods unavailable for the duration)" },
	},
	{
		name: ActionPodKill, kind: podChaos, specAction: "pod-kill",
		params: []param{{name: "gracePeriod", typ: tInt, min: i64(0)}},
		summary: func(p map[string]any) string {
			if g, ok := num(p, "gracePeriod"); ok {
				return fmt.Sprintf("pod-kill grace period %ds", g)
			}
			return "pod-kill"
		},
	},
	{
		name: ActionContainerKill, kind: podChaos, specAction: "container-kill",
		params:  []param{{name: "containerNames", typ: tStrings, required: true, nonEmpty: true, hint: "the containers to kill, e.g. [app]"}},
		summary: func(p map[string]any) string { return containers("container-kill", p) },
	},

	{name: ActionDNSError, kind: dnsChaos, specAction: "error", params: dnsParams, summary: dnsSummary("error")},
	{name: ActionDNSRandom, kind: dnsChaos, specAction: "random", params: dnsParams, summary: dnsSummary("random answers")},

	{
		name: ActionTimeSkew, kind: timeChaos,
		params: []param{
			{name: "timeOffset", typ: tOffset, required: true, hint: `e.g. "-10m", or "2160h" for 90 days ahead`},
			{name: "clockIds", typ: tStrings},
			pContainerNames,
		},
		summary: func(p map[string]any) string {
			s := "time offset " + str(p, "timeOffset")
			if c := strList(p, "clockIds"); len(c) > 0 {
				s += " on " + strings.Join(c, ",")
			}
			return containers(s, p)
		},
	},

	{
		name: ActionHTTPAbort, kind: httpChaos,
		params: with(httpCommon, param{name: "abort", typ: tBool, required: true, hint: "true"}),
		check: func(p map[string]any) error {
			if b, _ := p["abort"].(bool); !b {
				return &errkind.FieldError{Field: "abort", Msg: "must be true for http-abort"}
			}
			return nil
		},
		summary: func(p map[string]any) string { return httpRule("http abort", p) },
	},
	{
		name: ActionHTTPDelay, kind: httpChaos,
		params:  with(httpCommon, param{name: "delay", typ: tDuration, required: true, hint: `e.g. "2s"`}),
		summary: func(p map[string]any) string { return httpRule("http delay "+str(p, "delay"), p) },
	},
	{
		name: ActionHTTPReplace, kind: httpChaos,
		params:  with(httpCommon, param{name: "replace", typ: tAnyObject, required: true, hint: "e.g. {code: 503}"}),
		summary: func(p map[string]any) string { return httpRule("http replace", p) },
	},
	{
		name: ActionHTTPPatch, kind: httpChaos,
		params:  with(httpCommon, param{name: "patch", typ: tAnyObject, required: true, hint: "e.g. {headers: [[X-Chaos, on]]}"}),
		summary: func(p map[string]any) string { return httpRule("http patch", p) },
	},

	{
		name: ActionIOLatency, kind: ioChaos, specAction: "latency",
		params:  with(ioCommon, param{name: "delay", typ: tDuration, required: true, hint: `e.g. "100ms"`}),
		summary: func(p map[string]any) string { return ioRule("io latency "+str(p, "delay"), p) },
	},
	{
		name: ActionIOFault, kind: ioChaos, specAction: "fault",
		params: with(ioCommon, param{name: "errno", typ: tInt, required: true, min: i64(1), hint: "e.g. 5 (EIO)"}),
		summary: func(p map[string]any) string {
			e, _ := num(p, "errno")
			return ioRule(fmt.Sprintf("io fault errno %d", e), p)
		},
	},
	{
		name: ActionIOAttrOverride, kind: ioChaos, specAction: "attrOverride",
		params:  with(ioCommon, param{name: "attr", typ: tAnyObject, required: true, hint: "e.g. {perm: 72}"}),
		summary: func(p map[string]any) string { return ioRule("io attribute override", p) },
	},
	{
		name: ActionIOMistake, kind: ioChaos, specAction: "mistake",
		params: with(ioCommon, param{name: "mistake", typ: tObject, required: true, hint: "e.g. {filling: zero, maxOccurrences: 1, maxLength: 10}", fields: []param{
			{name: "filling", typ: tString, enum: []string{"zero", "random"}},
			{name: "maxLength", typ: tInt, min: i64(1)},
			{name: "maxOccurrences", typ: tInt, min: i64(1)},
		}}),
		summary: func(p map[string]any) string { return ioRule("io mistake", p) },
	},
}

// actions indexes actionTable by name.
var actions = func() map[string]*actionDef {
	m := make(map[string]*actionDef, len(actionTable))
	for i := range actionTable {
		m[actionTable[i].name] = &actionTable[i]
	}
	return m
}()

// percentAction is network-loss, -duplicate and -corrupt: they take the
// same shape, a percentage of packets under a field named like the action.
func percentAction(action, field, example string) actionDef {
	return actionDef{
		name: action, kind: networkChaos, specAction: field,
		params: with(networkCommon, param{name: field, typ: tObject, required: true, hint: fmt.Sprintf(`e.g. {%s: "%s"}`, field, example), fields: []param{
			{name: field, typ: tPercent, required: true, hint: fmt.Sprintf(`percent of packets, e.g. "%s"`, example)}, correlation,
		}}),
		check:   checkNetworkTarget(field),
		summary: percentSummary(field),
	}
}

// stressor is StressChaos's stressors.<name> parameter.
func stressor(name string, extra ...param) param {
	return param{name: "stressors", typ: tObject, required: true, hint: fmt.Sprintf("e.g. {%s: {workers: 1}}", name), fields: []param{
		{name: name, typ: tObject, required: true, fields: append([]param{
			{name: "workers", typ: tInt, required: true, min: i64(1), max: i64(8192), hint: "number of stress workers, e.g. 2"},
			{name: "options", typ: tStrings},
		}, extra...)},
	}}
}

var dnsParams = []param{{name: "patterns", typ: tStrings}, pContainerNames}

func dnsSummary(what string) func(p map[string]any) string {
	return func(p map[string]any) string {
		s := "dns " + what
		if pat := strList(p, "patterns"); len(pat) > 0 {
			s += " for " + strings.Join(pat, ", ")
		} else {
			s += " for every domain"
		}
		return containers(s, p)
	}
}

func init() {
	driverActions := make(map[string]func(map[string]any) error, len(actions))
	for name, a := range actions {
		a := a
		driverActions[name] = func(p map[string]any) error { _, err := validateParams(a, p); return err }
	}
	chaos.Register(chaos.Driver{Name: BackendName, Actions: driverActions, ValidateTarget: ValidateTarget})
}

// ValidateTarget checks spec.target for this back-end: a namespace, a
// non-empty label selector (gameday never targets a whole namespace), and a
// mode and value Chaos Mesh accepts.
func ValidateTarget(t chaos.Target) error {
	if t.Namespace == "" {
		return &errkind.FieldError{Field: "namespace", Msg: "required: the namespace of the pods to target (the Chaos Mesh object is created there too)"}
	}
	if errs := validation.IsDNS1123Label(t.Namespace); len(errs) > 0 {
		return &errkind.FieldError{Field: "namespace", Msg: fmt.Sprintf("%q is not a valid namespace name: %s", t.Namespace, strings.Join(errs, "; "))}
	}
	if len(t.Selector) == 0 {
		return &errkind.FieldError{Field: "selector", Msg: "required: labels of the pods to target, e.g. {app: checkout} (gameday never targets a whole namespace)"}
	}
	for _, k := range slices.Sorted(maps.Keys(t.Selector)) {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return &errkind.FieldError{Field: "selector." + k, Msg: "invalid label key: " + strings.Join(errs, "; ")}
		}
		if errs := validation.IsValidLabelValue(t.Selector[k]); len(errs) > 0 {
			return &errkind.FieldError{Field: "selector." + k, Msg: fmt.Sprintf("invalid label value %q: %s", t.Selector[k], strings.Join(errs, "; "))}
		}
	}
	return checkModeValue(t.Mode, t.Value)
}

// checkModeValue is chaos.ValidateMode plus Chaos Mesh's own rule: it reads
// percentages with strconv.Atoi, so "12.5" would be refused by its webhook.
// A trailing "%" is accepted and dropped when the object is built.
func checkModeValue(mode, value string) error {
	if err := chaos.ValidateMode(mode, value); err != nil {
		return err
	}
	if mode == chaos.ModeFixedPercent || mode == chaos.ModeRandomMaxPercent {
		if _, err := strconv.Atoi(strings.TrimSuffix(value, "%")); err != nil {
			return &errkind.FieldError{Field: "value", Msg: fmt.Sprintf("Chaos Mesh takes a whole percentage for mode %s, got %q", mode, value)}
		}
	}
	return nil
}
