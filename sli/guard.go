package sli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/internal/duration"
)

// The guard as written in a scenario's spec.guards: the scenario loader
// reads it, the rules in this package evaluate it, the run's result
// records it. It lives here so none of those needs the loader.

// Op is the healthy condition of a guard: value OP threshold must hold.
type Op string

const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// Ops lists the valid ops, for the loaders.
var Ops = []Op{OpLT, OpLE, OpGT, OpGE, OpEQ, OpNE}

// OpList is Ops for messages: "< <= > >= == !=".
func OpList() string {
	s := make([]string, len(Ops))
	for i, o := range Ops {
		s[i] = string(o)
	}
	return strings.Join(s, " ")
}

// Guard is an SLI check watched while the fault is held: a PromQL query
// (kind prometheus, the default) or a direct probe of the service (kind
// http or tcp), judged by the same rules (for, on_error, on_no_data).
type Guard struct {
	Name      string            `json:"name" yaml:"name"`
	Query     string            `json:"query" yaml:"query"`
	Op        Op                `json:"op" yaml:"op"`
	Threshold float64           `json:"threshold" yaml:"threshold"`
	For       int               `json:"for" yaml:"for"`           // consecutive bad samples before a breach; default 1
	Interval  duration.Duration `json:"interval" yaml:"interval"` // default DefaultGuardInterval
	OnError   string            `json:"on_error" yaml:"on_error"` // abort (default) | ignore
	// OnNoData says what an empty answer or NaN means: breach (default: it
	// counts as a bad sample, an outage often looks like no data) or ignore
	// (for a query that is legitimately empty; the sample counts neither way).
	OnNoData string `json:"on_no_data,omitempty" yaml:"on_no_data"`
	// Kind is what the guard reads: KindPrometheus (empty means it too),
	// KindHTTP or KindTCP. Guards recorded before probes existed have none.
	Kind string `json:"kind,omitempty" yaml:"kind,omitempty"`
	// Freshness (prometheus guards) says how the watch learns that a new
	// sample landed, so it evaluates the guard at once rather than on its
	// next interval: empty derives `max(timestamp(<the query's
	// selectors>))` from the query; "off" evaluates on the interval only;
	// anything else is a PromQL expression returning the newest sample's
	// Unix time in seconds.
	Freshness string `json:"freshness,omitempty" yaml:"freshness,omitempty"`
	// HTTP and TCP describe a probe guard (kind http, kind tcp).
	HTTP *HTTPProbe `json:"http,omitempty" yaml:"http,omitempty"`
	TCP  *TCPProbe  `json:"tcp,omitempty" yaml:"tcp,omitempty"`
	// Baseline and Drift are the seed's drift rule (drift.go): a value
	// that drifts more than Drift percent (DefaultDriftLimit when a
	// baseline is declared and no limit) from the baseline, while still
	// inside the threshold, pauses the run and asks a person.
	Baseline *Baseline `json:"baseline,omitempty" yaml:"baseline"`
	Drift    float64   `json:"drift,omitempty" yaml:"drift"`
	// Armed is the baseline value define resolved for this run, set by the
	// workflow on the guards it hands a watch (nil: no drift rule in this
	// watch). Never written in a scenario.
	Armed *Float `json:"armed,omitempty" yaml:"-"`
	// Unit of the query's value, for reports (see Units); empty: inferred
	// from the query (UnitOf).
	Unit string `json:"unit,omitempty" yaml:"unit"`
}

// Guard kinds.
const (
	KindPrometheus = "prometheus"
	KindHTTP       = "http"
	KindTCP        = "tcp"
)

// FreshnessOff in Guard.Freshness turns freshness checks off.
const FreshnessOff = "off"

// HTTPProbe is one HTTP request per interval. Its sample's value is the
// answer's latency in seconds; an answer whose status is out of range or
// whose body does not match is a bad sample whatever its latency; no
// answer at all (refused, reset, unresolvable) is no data; no answer
// within Latency is a bad sample (+Inf).
type HTTPProbe struct {
	// Method is GET (default), HEAD or OPTIONS: a probe must change nothing.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	URL    string `json:"url" yaml:"url"`
	// Status lists the healthy status codes: "200-399" (default), "200",
	// "2xx", or a comma list of those. Redirects are not followed.
	Status string `json:"status,omitempty" yaml:"status,omitempty"`
	// Body, when set, is a regular expression (RE2) the first
	// MaxProbeBody bytes of the answer must match.
	Body string `json:"body,omitempty" yaml:"body,omitempty"`
	// Latency is the slowest healthy answer (default DefaultProbeLatency).
	Latency duration.Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
}

// TCPProbe is one TCP connect per interval; the value is the connect time
// in seconds.
type TCPProbe struct {
	Address string `json:"address" yaml:"address"` // host:port
	// Latency is the slowest healthy connect (default DefaultProbeLatency).
	Latency duration.Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
}

// DefaultGuardInterval is the interval of a guard that names none. A
// prometheus guard is evaluated as soon as a new sample lands whatever its
// interval (see Guard.Freshness); the interval is how often it is
// evaluated when freshness cannot tell, and a probe's period.
const DefaultGuardInterval = time.Second

const (
	// DefaultProbeLatency is a probe's latency limit when it names none;
	// MaxProbeLatency the largest allowed (a probe waits this long for
	// an answer).
	DefaultProbeLatency = time.Second
	MaxProbeLatency     = 10 * time.Second
	// MaxProbeBody is how much of an HTTP answer a probe reads.
	MaxProbeBody = 64 << 10
	// DefaultHTTPStatus is the healthy status range of an HTTP probe that
	// names none (as Kubernetes' httpGet probes).
	DefaultHTTPStatus = "200-399"
)

const (
	OnErrorAbort  = "abort"
	OnErrorIgnore = "ignore"
	// MaxQueryErrors is how many consecutive query errors abort a run when
	// on_error is abort.
	MaxQueryErrors = 3

	OnNoDataBreach = "breach"
	OnNoDataIgnore = "ignore"
)

// GuardKind is g's kind, KindPrometheus for guards that name none.
func (g Guard) GuardKind() string {
	if g.Kind == "" {
		return KindPrometheus
	}
	return g.Kind
}

// IsProbe reports whether g probes the service directly (http, tcp).
func (g Guard) IsProbe() bool { k := g.GuardKind(); return k == KindHTTP || k == KindTCP }

// ProbeLatency is a probe's latency limit (DefaultProbeLatency when unset);
// zero for a prometheus guard.
func (g Guard) ProbeLatency() time.Duration {
	var d duration.Duration
	switch {
	case g.GuardKind() == KindHTTP && g.HTTP != nil:
		d = g.HTTP.Latency
	case g.GuardKind() == KindTCP && g.TCP != nil:
		d = g.TCP.Latency
	default:
		return 0
	}
	if d <= 0 {
		return DefaultProbeLatency
	}
	return d.D()
}

// Source says what the guard reads, for people: the PromQL query, or the
// probe ("GET http://shop/healthz, status 200-399, within 300ms"). URLs
// are redacted (no userinfo, token-like parameters hidden): it is shown in
// status, reports, tickets and Slack.
func (g Guard) Source() string {
	switch g.GuardKind() {
	case KindHTTP:
		if g.HTTP == nil {
			return "http probe (no http: block)"
		}
		m := g.HTTP.Method
		if m == "" {
			m = "GET"
		}
		st := g.HTTP.Status
		if st == "" {
			st = DefaultHTTPStatus
		}
		s := fmt.Sprintf("%s %s, status %s", m, config.RedactURL(g.HTTP.URL), st)
		if g.HTTP.Body != "" {
			s += fmt.Sprintf(", body matching %q", g.HTTP.Body)
		}
		return s + ", within " + g.ProbeLatency().String()
	case KindTCP:
		if g.TCP == nil {
			return "tcp probe (no tcp: block)"
		}
		return fmt.Sprintf("tcp connect %s within %s", g.TCP.Address, g.ProbeLatency())
	}
	return g.Query
}

// SourceLabel names what Source shows: "query" or "probe".
func (g Guard) SourceLabel() string { return sourceLabel(g.GuardKind()) }

func sourceLabel(kind string) string {
	if kind == KindHTTP || kind == KindTCP {
		return "probe"
	}
	return "query"
}

// StatusRanges is a parsed HTTPProbe.Status.
type StatusRanges [][2]int

// ParseStatus reads "200-399", "200", "2xx" or a comma list of those.
func ParseStatus(s string) (StatusRanges, error) {
	if strings.TrimSpace(s) == "" {
		s = DefaultHTTPStatus
	}
	var out StatusRanges
	for _, part := range strings.Split(s, ",") {
		p := strings.ToLower(strings.TrimSpace(part))
		var lo, hi int
		var err error
		switch {
		case len(p) == 3 && strings.HasSuffix(p, "xx") && p[0] >= '1' && p[0] <= '5':
			lo = int(p[0]-'0') * 100
			hi = lo + 99
		case strings.Contains(p, "-"):
			a, b, _ := strings.Cut(p, "-")
			if lo, err = strconv.Atoi(strings.TrimSpace(a)); err == nil {
				hi, err = strconv.Atoi(strings.TrimSpace(b))
			}
		default:
			lo, err = strconv.Atoi(p)
			hi = lo
		}
		if err != nil || lo < 100 || hi > 599 || lo > hi {
			return nil, fmt.Errorf("status %q: want codes between 100 and 599 like 200, 200-399, 2xx or a comma list of those", part)
		}
		out = append(out, [2]int{lo, hi})
	}
	return out, nil
}

// Contains reports whether code is in one of the ranges.
func (r StatusRanges) Contains(code int) bool {
	for _, x := range r {
		if code >= x[0] && code <= x[1] {
			return true
		}
	}
	return false
}
