// Package safety holds the limits every fault back-end enforces before it
// touches anything: which namespaces may be targeted, the opt-in label a
// target (or its namespace) must carry, and the largest blast radius per
// environment. Pure: back-ends call it with what they found, define refuses
// with the reason, and the refusal names what is missing.
package safety

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/config"
)

// DefaultOptIn is the label a target workload or its namespace must carry.
const DefaultOptIn = "gameday.io/chaos=enabled"

// DefaultMaxRadius applies to environments without their own limit: never
// more than half of what a selector matches.
const DefaultMaxRadius = "50%"

// AnyEnvironment keys the limit for environments not listed.
const AnyEnvironment = "*"

// Policy is the worker's safety configuration.
type Policy struct {
	// Namespaces that may be targeted. Empty refuses every namespaced target:
	// a worker must be told where chaos is allowed.
	Namespaces []string
	// OptInKey=OptInValue must be on each target or on its namespace.
	OptInKey, OptInValue string
	// MaxRadius by environment (the scenario's environment label);
	// AnyEnvironment is the fallback.
	MaxRadius map[string]Limit
	// MaxDuration caps how long one fault may be held, by environment like
	// MaxRadius; DefaultMaxDuration applies when nobody set one.
	MaxDuration map[string]time.Duration
}

// DefaultMaxDuration is the longest a fault may be held where the worker's
// configuration says nothing: long enough for every seed scenario, short
// enough that `duration=1000h` from a chat command is refused.
const DefaultMaxDuration = time.Hour

// Limit caps how many targets one fault may hit: a count, or a percentage of
// what the selector matched.
type Limit struct {
	Count   int
	Percent float64
}

func (l Limit) String() string {
	if l.Count > 0 {
		return strconv.Itoa(l.Count)
	}
	return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
}

// Refusal is a safety rule saying no. Back-ends return it wrapped as a
// permanent error: retrying cannot make an unsafe fault safe.
type Refusal struct {
	Rule string // namespace, opt-in, blast-radius
	Msg  string
}

func (r *Refusal) Error() string { return "refused by safety rule " + r.Rule + ": " + r.Msg }

// Environment variables of the policy (read and documented by config).
const (
	EnvNamespaces  = config.EnvNamespaces
	EnvOptIn       = config.EnvOptInLabel
	EnvMaxRadius   = config.EnvMaxBlastRadius
	EnvMaxDuration = config.EnvMaxFaultDuration
)

// FromConfig builds the policy from its inputs: GAMEDAY_NAMESPACES (comma
// list), GAMEDAY_OPTIN_LABEL (key=value, default gameday.io/chaos=enabled),
// GAMEDAY_MAX_BLAST_RADIUS (env=limit list, e.g. "prod=1,staging=50%,*=2";
// default *=50%) and GAMEDAY_MAX_FAULT_DURATION. The error names the
// variable.
func FromConfig(c config.Safety) (Policy, error) {
	p := Policy{Namespaces: c.Namespaces}
	optIn := c.OptInLabel
	if optIn == "" {
		optIn = DefaultOptIn
	}
	k, v, ok := strings.Cut(optIn, "=")
	if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
		return Policy{}, fmt.Errorf("%s: %q: want key=value, e.g. %s", EnvOptIn, optIn, DefaultOptIn)
	}
	p.OptInKey, p.OptInValue = strings.TrimSpace(k), strings.TrimSpace(v)
	radius := c.MaxBlastRadius
	if radius == "" {
		radius = AnyEnvironment + "=" + DefaultMaxRadius
	}
	var err error
	if p.MaxRadius, err = ParseRadius(radius); err != nil {
		return Policy{}, fmt.Errorf("%s: %w", EnvMaxRadius, err)
	}
	if p.MaxDuration, err = ParseDurations(c.MaxFaultDuration); err != nil {
		return Policy{}, fmt.Errorf("%s: %w", EnvMaxDuration, err)
	}
	return p, nil
}

// ParseDurations reads "env=duration,..." (a bare duration means every
// environment); the fallback is *=DefaultMaxDuration.
func ParseDurations(s string) (map[string]time.Duration, error) {
	return parseByEnvironment(s, func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("want a positive duration like 30m or 1h")
		}
		return d, nil
	}, DefaultMaxDuration)
}

// CheckDuration refuses a fault held longer than its environment allows.
// As with the blast radius, a scenario without an environment label or with
// one the policy does not list gets the strictest limit.
func (p Policy) CheckDuration(env string, d time.Duration) error {
	limits := p.MaxDuration
	if len(limits) == 0 {
		limits = map[string]time.Duration{AnyEnvironment: DefaultMaxDuration}
	}
	name := "environment " + strconv.Quote(env)
	limit, listed := limits[env]
	if env == "" || !listed {
		name = "a scenario without an environment label"
		if env != "" {
			name = "environment " + strconv.Quote(env) + ", which the policy does not list,"
		}
		for _, k := range slices.Sorted(maps.Keys(limits)) {
			if l := limits[k]; limit == 0 || l < limit {
				limit = l
			}
		}
	}
	if d > limit {
		return &Refusal{Rule: "max-duration", Msg: fmt.Sprintf("the fault would be held %s; the longest allowed for %s is %s (%s)", d, name, limit, EnvMaxDuration)}
	}
	return nil
}

// ParseRadius reads "env=limit,..." where limit is a count ("1") or a
// percentage ("50%"). A bare limit ("2") means every environment.
func ParseRadius(s string) (map[string]Limit, error) {
	def, _ := ParseLimit(DefaultMaxRadius)
	return parseByEnvironment(s, ParseLimit, def)
}

// parseByEnvironment reads "env=value,..." (a bare value means every
// environment) with parse, and fills AnyEnvironment with def when unset.
func parseByEnvironment[T any](s string, parse func(string) (T, error), def T) (map[string]T, error) {
	out := map[string]T{}
	for _, entry := range config.SplitList(s) {
		env, v, ok := strings.Cut(entry, "=")
		if !ok {
			env, v = AnyEnvironment, entry
		}
		env, v = strings.TrimSpace(env), strings.TrimSpace(v)
		if env == "" {
			return nil, fmt.Errorf("%q: empty environment name", entry)
		}
		x, err := parse(v)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", entry, err)
		}
		out[env] = x
	}
	if _, ok := out[AnyEnvironment]; !ok {
		out[AnyEnvironment] = def
	}
	return out, nil
}

// ParseLimit reads "3" or "50%".
func ParseLimit(s string) (Limit, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f <= 0 || f > 100 {
			return Limit{}, fmt.Errorf("limit %q: want a percentage in (0, 100]", s)
		}
		return Limit{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return Limit{}, fmt.Errorf("limit %q: want a count >= 1 or a percentage like 50%%", s)
	}
	return Limit{Count: n}, nil
}

// OptIn renders the opt-in label as key=value.
func (p Policy) OptIn() string { return p.OptInKey + "=" + p.OptInValue }

// CheckNamespace refuses a namespace outside the allow-list.
func (p Policy) CheckNamespace(ns string) error {
	if ns == "" {
		return &Refusal{Rule: "namespace", Msg: "the target names no namespace (spec.target.namespace)"}
	}
	for _, n := range p.Namespaces {
		if n == ns {
			return nil
		}
	}
	if len(p.Namespaces) == 0 {
		return &Refusal{Rule: "namespace", Msg: fmt.Sprintf("namespace %q is not allowed: this worker allows no namespace (set %s)", ns, EnvNamespaces)}
	}
	return &Refusal{Rule: "namespace", Msg: fmt.Sprintf("namespace %q is not in the worker's allow-list (%s=%s)", ns, EnvNamespaces, strings.Join(p.Namespaces, ","))}
}

// OptedIn reports whether any of the label sets (the target's own, its
// owner's, its namespace's) carries the opt-in label.
func (p Policy) OptedIn(sets ...map[string]string) bool {
	for _, s := range sets {
		if v, ok := s[p.OptInKey]; ok && v == p.OptInValue {
			return true
		}
	}
	return false
}

// CheckOptIn refuses when some targets lack the opt-in label and their
// namespace does not carry it either; missing lists those targets.
func (p Policy) CheckOptIn(namespace string, missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	shown := missing
	if len(shown) > 5 {
		shown = append(append([]string{}, shown[:5]...), fmt.Sprintf("and %d more", len(missing)-5))
	}
	return &Refusal{Rule: "opt-in", Msg: fmt.Sprintf("%s lack the label %s, and namespace %q does not carry it either; label the workload (its pod template) or the namespace to allow chaos",
		strings.Join(shown, ", "), p.OptIn(), namespace)}
}

// CheckRadius refuses a fault that can hit more than the environment's
// limit: hit of matched targets. The environment label is written by the
// scenario's author, so a scenario without one, or with one the policy does
// not list (a typo, "production" for "prod"), must pass every configured
// limit: the strictest applies, never the loosest.
func (p Policy) CheckRadius(env string, hit, matched int) error {
	if _, listed := p.MaxRadius[env]; env != "" && listed {
		return p.checkLimit(p.MaxRadius[env], "environment "+strconv.Quote(env), hit, matched)
	}
	name := "environment " + strconv.Quote(env) + ", which the policy does not list,"
	if env == "" {
		name = "a scenario without an environment label"
	}
	limits := p.MaxRadius
	if len(limits) == 0 { // a Policy built without FromEnv: the default
		l, _ := ParseLimit(DefaultMaxRadius)
		limits = map[string]Limit{AnyEnvironment: l}
	}
	for _, k := range slices.Sorted(maps.Keys(limits)) {
		if err := p.checkLimit(limits[k], fmt.Sprintf("%s (every limit applies; %s=%s)", name, k, limits[k]), hit, matched); err != nil {
			return err
		}
	}
	return nil
}

func (p Policy) checkLimit(l Limit, name string, hit, matched int) error {
	switch {
	case l.Count > 0 && hit > l.Count:
		return &Refusal{Rule: "blast-radius", Msg: fmt.Sprintf("the fault can hit %d of %d targets; the limit for %s is %d (%s)", hit, matched, name, l.Count, EnvMaxRadius)}
	case l.Percent > 0 && matched > 0 && float64(hit)*100/float64(matched) > l.Percent+1e-9:
		return &Refusal{Rule: "blast-radius", Msg: fmt.Sprintf("the fault can hit %d of %d targets (%.0f%%); the limit for %s is %s (%s)", hit, matched, float64(hit)*100/float64(matched), name, l, EnvMaxRadius)}
	}
	return nil
}
