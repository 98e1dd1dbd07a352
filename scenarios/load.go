package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

// Defaults applied by Parse and Validate. They live here, not in the
// workflow, so the resolved scenario recorded in history says what ran.
const (
	DefaultGuardFor           = 1
	MinGuardInterval          = 100 * time.Millisecond
	DefaultSteadyStateTimeout = 2 * time.Minute
	DefaultSignoffTimeout     = 24 * time.Hour
)

var schema = yamlx.Schema{APIVersion: APIVersion, Kind: Kind}

// Load reads and parses a scenario file; see Parse.
func Load(path string) (Scenario, error) { return loader.Load(path) }

// Parse strictly decodes and validates one scenario and returns it with
// defaults applied. Strictness matters because a typo such as "treshold"
// would otherwise silently disable a guard during a live experiment. Any
// error is an Errors value whose entries name file, line and field.
func Parse(file string, data []byte) (Scenario, error) { return loader.Parse(file, data) }

// Validate applies defaults to a scenario that did not come from a file
// (e.g. one submitted as JSON) and checks it by the same rules as Parse.
func Validate(s *Scenario) error { return loader.Validate(s) }

// parseNode reads the document as a node tree (see yamlx.Schema.ParseNode).
func parseNode(file string, data []byte) (*yaml.Node, *errkind.FieldError) {
	return schema.ParseNode(file, data)
}

// lineOf finds the line of the field at path (see yamlx.LineOf).
func lineOf(root *yaml.Node, path string) int { return yamlx.LineOf(root, path) }

// validator collects every problem rather than stopping at the first; its
// Root is nil when the scenario was not parsed from a file.
type validator struct{ *yamlx.Collector }

func (v *validator) scenario(s *Scenario) {
	v.Header(schema, s.APIVersion, s.Kind, s.Metadata.Name)
	if s.Metadata.Service == "" {
		v.Add("metadata.service", "required")
	}
	v.target(&s.Spec.Target)
	v.faults(s.Spec.Target.Backend, s.Spec.Faults)
	v.guards("spec.guards", s.Spec.Guards)
	v.guarded(&s.Spec)
	v.guardsFitHold(s.HoldDuration(), s.Spec.Guards)
	v.steadyState(&s.Spec.SteadyState)
	v.signoff(&s.Spec.Signoff)
	v.links(&s.Spec)
	v.overlap(s.Spec.Overlap)
	v.control(&s.Spec) // control.go: pause timeout, drift rules
}

// overlap checks spec.overlap: a typo must not silently mean refuse (or
// allow).
func (v *validator) overlap(o string) {
	switch o {
	case "", OverlapAllow, OverlapRefuse:
	default:
		v.Add("spec.overlap", "must be %s or %s, got %q (runs on overlapping targets are refused unless both scenarios say allow)", OverlapAllow, OverlapRefuse, o)
	}
}

// links checks the fields that tie a scenario to a release checklist. A
// fault_class that differs from the items' by case or spacing would
// silently never match, so it must be a plain lowercase token.
func (v *validator) links(sp *Spec) {
	if sp.FaultClass != "" && !yamlx.IsDNSLabel(sp.FaultClass) {
		v.Add("spec.fault_class", "%q must be lowercase letters, digits and '-' (e.g. network-delay)", sp.FaultClass)
	}
	if sp.Checklist == "" || strings.HasSuffix(sp.Checklist, ".yaml") || strings.HasSuffix(sp.Checklist, ".yml") {
		return // a file is resolved when the run starts, relative to where it starts
	}
	cl, err := checklists.Find(sp.Checklist)
	if err != nil {
		v.Add("spec.checklist", "%v", err)
		return
	}
	// Its evidence may name this scenario's guards: they must be here.
	guards := (&Scenario{Spec: *sp}).EvidenceGuards()
	if _, err := checklist.ResolveEvidence(cl, guards); err != nil {
		v.Add("spec.checklist", "%v", err)
	}
	if err := checklist.RefuseProbeEvidence(cl, guards); err != nil {
		v.Add("spec.checklist", "%v", err)
	}
}

func (v *validator) target(t *chaos.Target) {
	if t.Backend == "" {
		v.Add("spec.target.backend", "required (known back-ends: %s)", strings.Join(chaos.Names(), ", "))
		return
	}
	d, ok := chaos.Lookup(t.Backend)
	if !ok {
		v.Add("spec.target.backend", "unknown back-end %q (known: %s)", t.Backend, strings.Join(chaos.Names(), ", "))
		return
	}
	if d.ValidateTarget != nil {
		v.driverErr("spec.target", d.ValidateTarget(*t))
	}
}

// driverErr places a driver's *errkind.FieldError under base so the line
// points at the offending parameter, not just at the fault.
func (v *validator) driverErr(base string, err error) {
	if err == nil {
		return
	}
	var fe *errkind.FieldError
	if errors.As(err, &fe) {
		path := base
		if fe.Field != "" {
			path += "." + fe.Field
		}
		v.Add(path, "%s", fe.Msg)
		return
	}
	v.Add(base, "%s", err.Error())
}

func (v *validator) faults(defaultBackend string, fs []Fault) {
	if len(fs) == 0 {
		v.Add("spec.faults", "at least one fault is required")
		return
	}
	seen := map[string]int{}
	for i := range fs {
		f := &fs[i]
		p := fmt.Sprintf("spec.faults[%d]", i)
		if f.Name == "" {
			v.Add(p+".name", "required")
		} else if j, dup := seen[f.Name]; dup {
			v.Add(p+".name", "duplicate fault name %q (also spec.faults[%d])", f.Name, j)
		} else {
			seen[f.Name] = i
		}
		if f.Duration <= 0 {
			v.Add(p+".duration", "required and must be > 0, e.g. 60s")
		}
		explicit := f.Backend != ""
		if !explicit {
			f.Backend = defaultBackend
		}
		d, ok := chaos.Lookup(f.Backend)
		if !ok {
			// An inherited bad back-end is already reported on spec.target.
			if explicit {
				v.Add(p+".backend", "unknown back-end %q (known: %s)", f.Backend, strings.Join(chaos.Names(), ", "))
			}
			continue
		}
		if f.Action == "" {
			v.Add(p+".action", "required (%s actions: %s)", d.Name, strings.Join(d.ActionNames(), ", "))
			continue
		}
		check, ok := d.Actions[f.Action]
		if !ok {
			v.Add(p+".action", "unknown action %q for back-end %s (valid: %s)", f.Action, d.Name, strings.Join(d.ActionNames(), ", "))
			continue
		}
		// Params travel as JSON in the workflow input; catch what JSON
		// cannot carry (non-string keys, NaN) here rather than at run time.
		if _, err := json.Marshal(f.Params); err != nil {
			v.Add(p+".params", "must be plain values (strings, numbers, lists, maps with string keys): %v", err)
			continue
		}
		if check != nil {
			v.driverErr(p+".params", check(f.Params))
		}
	}
}

// CheckGuards checks guards written in another kind of file (a game-day
// plan's pre-flight guards) by the rules of spec.guards, applying the same
// defaults, so a guard means one thing wherever it is written.
func CheckGuards(c *yamlx.Collector, path string, gs []sli.Guard) {
	(&validator{c}).guards(path, gs)
}

func (v *validator) guards(base string, gs []sli.Guard) {
	seen := map[string]int{}
	for i := range gs {
		g := &gs[i]
		p := fmt.Sprintf("%s[%d]", base, i)
		if g.Name == "" {
			v.Add(p+".name", "required")
		} else if j, dup := seen[g.Name]; dup {
			v.Add(p+".name", "duplicate guard name %q (also %s[%d])", g.Name, base, j)
		} else {
			seen[g.Name] = i
		}
		switch g.Kind {
		case "", sli.KindPrometheus:
			v.prometheusGuard(p, g)
		case sli.KindHTTP, sli.KindTCP:
			v.probeGuard(p, g)
		default:
			v.Add(p+".kind", "unknown kind %q (prometheus, the default, http or tcp)", g.Kind)
		}
		switch {
		case g.For == 0:
			g.For = DefaultGuardFor
		case g.For < 0:
			v.Add(p+".for", "must be >= 1, got %d", g.For)
		}
		switch {
		case g.Interval == 0:
			g.Interval = duration.Duration(sli.DefaultGuardInterval)
		case g.Interval.D() < MinGuardInterval:
			v.Add(p+".interval", "must be >= %s, got %s", MinGuardInterval, g.Interval)
		}
		switch g.OnError {
		case "":
			g.OnError = sli.OnErrorAbort
		case sli.OnErrorAbort, sli.OnErrorIgnore:
		default:
			v.Add(p+".on_error", "must be %s or %s, got %q", sli.OnErrorAbort, sli.OnErrorIgnore, g.OnError)
		}
		switch g.OnNoData {
		case "":
			g.OnNoData = sli.OnNoDataBreach
		case sli.OnNoDataBreach, sli.OnNoDataIgnore:
		default:
			v.Add(p+".on_no_data", "must be %s or %s, got %q", sli.OnNoDataBreach, sli.OnNoDataIgnore, g.OnNoData)
		}
		// Left empty, reports infer it from the query (sli.UnitOf).
		if !sli.ValidUnit(g.Unit) {
			v.Add(p+".unit", "unknown unit %q (one of %s, or leave it out to infer it from the query)", g.Unit, strings.Join(sli.Units, ", "))
		}
	}
}

// prometheusGuard checks a PromQL guard: a query and its healthy
// condition.
func (v *validator) prometheusGuard(p string, g *sli.Guard) {
	if strings.TrimSpace(g.Query) == "" {
		v.Add(p+".query", "required (a PromQL expression returning one value)")
	}
	switch {
	case g.Op == "":
		v.Add(p+".op", "required (one of %s)", opList())
	case !validOp(g.Op):
		v.Add(p+".op", "unknown operator %q (one of %s)", g.Op, opList())
	}
	// NaN compares false against everything, and neither NaN nor Inf
	// survives the JSON of the workflow input.
	if math.IsNaN(g.Threshold) || math.IsInf(g.Threshold, 0) {
		v.Add(p+".threshold", "must be a finite number, got %v", g.Threshold)
	}
	if g.HTTP != nil {
		v.Add(p+".http", "is for kind: http (this guard is a prometheus query)")
	}
	if g.TCP != nil {
		v.Add(p+".tcp", "is for kind: tcp (this guard is a prometheus query)")
	}
	if strings.TrimSpace(g.Freshness) != g.Freshness || (g.Freshness != "" && strings.TrimSpace(g.Freshness) == "") {
		v.Add(p+".freshness", "must be off, a PromQL expression returning the newest sample's time, or left out (derived from the query)")
	}
}

// probeMethods are the methods a probe may send: none changes anything.
var probeMethods = []string{"GET", "HEAD", "OPTIONS"}

// probeGuard checks a probe guard (kind http or tcp) and applies its
// defaults. Its healthy condition is the latency limit: op <= and the
// limit in seconds as threshold, filled in here so reports read the same
// as for a query (and written back as is, so a resolved scenario loads
// again).
func (v *validator) probeGuard(p string, g *sli.Guard) {
	if g.Query != "" {
		v.Add(p+".query", "a %s probe has no query (remove it, or drop kind: %s for a prometheus guard)", g.Kind, g.Kind)
	}
	if g.Freshness != "" {
		v.Add(p+".freshness", "is for prometheus guards; a probe runs every interval")
	}
	var lat *duration.Duration
	switch g.Kind {
	case sli.KindHTTP:
		if g.TCP != nil {
			v.Add(p+".tcp", "is for kind: tcp (this guard is kind: http)")
		}
		if g.HTTP == nil {
			v.Add(p+".http", "required for kind: http (url, and optionally method, status, body, latency)")
			return
		}
		v.httpProbe(p+".http", g.HTTP)
		lat = &g.HTTP.Latency
	case sli.KindTCP:
		if g.HTTP != nil {
			v.Add(p+".http", "is for kind: http (this guard is kind: tcp)")
		}
		if g.TCP == nil {
			v.Add(p+".tcp", "required for kind: tcp (address host:port, and optionally latency)")
			return
		}
		if h, port, err := net.SplitHostPort(g.TCP.Address); err != nil || h == "" || !validPort(port) {
			v.Add(p+".tcp.address", "want host:port, got %q", g.TCP.Address)
		}
		lat = &g.TCP.Latency
	}
	limitPath := p + "." + g.Kind + ".latency"
	switch {
	case *lat == 0:
		*lat = duration.Duration(sli.DefaultProbeLatency)
	case lat.D() < time.Millisecond || lat.D() > sli.MaxProbeLatency:
		v.Add(limitPath, "must be between 1ms and %s, got %s", sli.MaxProbeLatency, *lat)
		return
	}
	limit := lat.D().Seconds()
	switch g.Op {
	case "":
		g.Op = sli.OpLE
	case sli.OpLE:
	default:
		v.Add(p+".op", "a probe is healthy when it answers within %s.latency: leave op out (it is <=)", g.Kind)
	}
	switch {
	case g.Threshold == 0:
		g.Threshold = limit
	case math.Abs(g.Threshold-limit) > 1e-9:
		v.Add(p+".threshold", "a probe's limit is %s.latency (%s): leave threshold out", g.Kind, *lat)
	}
}

// httpProbe checks an HTTP probe and applies its defaults. A URL must not
// carry a secret: the scenario travels in the run's Temporal history.
func (v *validator) httpProbe(p string, h *sli.HTTPProbe) {
	u, err := url.Parse(h.URL)
	switch {
	case strings.TrimSpace(h.URL) == "":
		v.Add(p+".url", "required (http:// or https://)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		v.Add(p+".url", "%s is not an http(s) URL with a host", config.RedactURL(h.URL))
	default:
		if u.User != nil {
			// A user name alone is a credential too (https://<token>@host):
			// the client sends it as basic auth.
			v.Add(p+".url", "%s carries credentials (user info before the host): they would be stored in the run's history; probe an endpoint that needs none", config.RedactURL(h.URL))
		}
		for name := range u.Query() {
			if config.TokenLike(name) {
				v.Add(p+".url", "%s carries a credential (query parameter %s): it would be stored in the run's history", config.RedactURL(h.URL), name)
				break
			}
		}
		if u.Port() != "" && !validPort(u.Port()) {
			v.Add(p+".url", "%s: bad port", config.RedactURL(h.URL))
		}
	}
	switch m := strings.ToUpper(h.Method); {
	case h.Method == "":
		h.Method = "GET"
	case slices.Contains(probeMethods, m):
		h.Method = m
	default:
		v.Add(p+".method", "must be %s: a probe must not change anything, got %q", strings.Join(probeMethods, ", "), h.Method)
	}
	if h.Status == "" {
		h.Status = sli.DefaultHTTPStatus
	} else if _, err := sli.ParseStatus(h.Status); err != nil {
		v.Add(p+".status", "%v", err)
	}
	if h.Body != "" {
		if _, err := regexp.Compile(h.Body); err != nil {
			v.Add(p+".body", "not a regular expression: %v", err)
		}
	}
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// guarded requires spec.guards: they are what aborts the run and recovers
// the faults on an outage. Running without any has to be asked for with
// spec.unguarded, and asking for it while listing guards is a contradiction
// (which of the two did the author mean?).
func (v *validator) guarded(sp *Spec) {
	switch {
	case len(sp.Guards) == 0 && !sp.Unguarded:
		v.Add("spec.guards", "a scenario needs at least one guard to abort on an outage; add spec.guards or set spec.unguarded: true")
	case len(sp.Guards) > 0 && sp.Unguarded:
		v.Add("spec.unguarded", "is true but spec.guards lists %d guard(s): remove unguarded, or the guards to run without any", len(sp.Guards))
	}
}

// guardsFitHold refuses a guard that needs more time than the faults are
// held to declare a breach: for consecutive bad evaluations, one interval
// apart, must fit in the hold or the guard could never abort the run. It
// runs after the defaults are applied. A hold of 0 (no fault, or none with a
// positive duration) and an invalid for or interval are reported elsewhere.
func (v *validator) guardsFitHold(hold time.Duration, gs []sli.Guard) {
	if hold <= 0 {
		return
	}
	for i, g := range gs {
		iv := g.Interval.D()
		if g.For < 1 || iv < MinGuardInterval {
			continue
		}
		// for × interval <= hold, by division so a huge for cannot overflow.
		if int64(g.For) <= int64(hold/iv) {
			continue
		}
		total := "more than 290 years"
		if int64(g.For) <= math.MaxInt64/int64(iv) {
			total = (time.Duration(g.For) * iv).String()
		}
		v.Add(fmt.Sprintf("spec.guards[%d].for", i), "for %d × interval %s = %s does not fit in the hold of %s (the longest fault duration): the guard could never breach", g.For, iv, total, hold)
	}
}

func validOp(op sli.Op) bool { return slices.Contains(sli.Ops, op) }

func opList() string { return sli.OpList() }

func (v *validator) steadyState(ss *SteadyState) {
	switch {
	case ss.Timeout == 0:
		ss.Timeout = duration.Duration(DefaultSteadyStateTimeout)
	case ss.Timeout < 0:
		v.Add("spec.steady_state.timeout", "must be > 0, got %s", ss.Timeout)
	}
	v.guards("spec.steady_state.guards", ss.Guards)
}

func (v *validator) signoff(so *Signoff) {
	seen := map[string]bool{}
	for i, r := range so.Roles {
		p := fmt.Sprintf("spec.signoff.roles[%d]", i)
		switch {
		case !validRole(r):
			v.Add(p, "unknown role %q (valid: %s)", r, strings.Join(signoff.Roles, ", "))
		case seen[r]:
			v.Add(p, "duplicate role %q", r)
		}
		seen[r] = true
	}
	switch {
	case so.Timeout < 0:
		v.Add("spec.signoff.timeout", "must be > 0, got %s", so.Timeout)
	case so.Timeout == 0 && len(so.Roles) > 0:
		so.Timeout = duration.Duration(DefaultSignoffTimeout)
	}
	// A reminder at or after the deadline would never be sent.
	switch {
	case so.Reminder < 0:
		v.Add("spec.signoff.reminder", "must be > 0, got %s", so.Reminder)
	case so.Reminder > 0 && so.Timeout > 0 && so.Reminder >= so.Timeout:
		v.Add("spec.signoff.reminder", "must be shorter than the timeout (%s), got %s", so.Timeout, so.Reminder)
	}
}

func validRole(r string) bool {
	for _, x := range signoff.Roles {
		if x == r {
			return true
		}
	}
	return false
}
