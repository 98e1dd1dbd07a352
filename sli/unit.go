package sli

import (
	"regexp"
	"strings"
)

// Units a guard's value can be in, for reports: the value Prometheus
// returns is always a plain number, and "0.009166666666666667" says
// nothing until someone knows it is a ratio. A guard may name its unit
// (spec.guards[].unit); otherwise UnitOf infers it from the query.
const (
	UnitSeconds = "seconds" // shown in ms below 10 s, in s above
	UnitMillis  = "ms"      // the query already answers in milliseconds
	UnitRatio   = "ratio"   // 0..1, shown as a percentage
	UnitPercent = "percent" // the query already answers 0..100
	UnitBytes   = "bytes"   // shown in KiB, MiB, GiB
	UnitCount   = "count"   // a plain number (goroutines, offsets, breaker state)
)

// Units lists the accepted values of spec.guards[].unit.
var Units = []string{UnitSeconds, UnitMillis, UnitRatio, UnitPercent, UnitBytes, UnitCount}

// ValidUnit reports whether u is empty (infer it) or one of Units.
func ValidUnit(u string) bool {
	if u == "" {
		return true
	}
	for _, k := range Units {
		if u == k {
			return true
		}
	}
	return false
}

var (
	// A histogram's _count and _bucket series count observations: they
	// are not seconds.
	secondsMetric = regexp.MustCompile(`[A-Za-z0-9_:]*_seconds(_sum|_total)?\b`)
	// rate() of a seconds counter is seconds spent per second: a share
	// (CPU, time in GC).
	rateOfSeconds = regexp.MustCompile(`(?:^|[^A-Za-z0-9_:])i?rate\(\s*[A-Za-z0-9_:]*_seconds_(?:total|sum)\b`)
	// A number that multiplies or divides the value (`* 1000`, `100 *`,
	// `/ 1024`), not one that is an argument or part of a name.
	scaledBy    = regexp.MustCompile(`(?:([*/])\s*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:[^A-Za-z0-9_.]|$))|(?:(?:^|[^A-Za-z0-9_.:\]])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*\*)`)
	bytesMetric = regexp.MustCompile(`[A-Za-z0-9_:]*_bytes(_total)?\b`)
	ratioMetric = regexp.MustCompile(`[A-Za-z0-9_:]*_ratio\b`)
	divSumCount = regexp.MustCompile(`_seconds_sum\b[^/]*/[^/]*_seconds_count\b`)
	// PromQL string literals (label values such as path="/orders" hold
	// slashes that are no division) and comments.
	literals = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`|#[^\\n]*")
)

// UnitOf is the unit of g's value: g.Unit when set, seconds for a probe
// (its value is the answer's latency), else inferred from the query, first
// rule that matches (documented in docs/design.md, Reports):
//
//   - histogram_quantile over a *_seconds_bucket metric: seconds;
//   - *_seconds_sum / *_seconds_count (an average duration): seconds;
//   - any other division, a *_ratio metric, or rate() of a *_seconds_total
//     or *_seconds_sum counter (seconds spent per second): a ratio;
//   - a *_seconds, *_seconds_sum or *_seconds_total metric: seconds (not
//     *_seconds_count or *_seconds_bucket: those count observations);
//   - a *_bytes metric: bytes;
//   - anything else: a count;
//
// then a value multiplied or divided by a number is ms for ×1000 of
// seconds, a percentage for ×100 of a ratio, and a count for any other
// scaling (`/ 1024 / 1024`: the query no longer says its unit). A division
// of two counters is a ratio whatever the metrics are, which is why "le=0.2
// buckets / all requests" is not read as seconds.
func UnitOf(g Guard) string {
	if g.Unit != "" {
		return g.Unit
	}
	if g.IsProbe() {
		return UnitSeconds // a probe's value is its latency
	}
	q := literals.ReplaceAllString(g.Query, `""`)
	// A value scaled by a number is in the unit the scaling makes: ×1000
	// of seconds is ms, ×100 of a ratio a percentage; any other scaling
	// (`/ 1024 / 1024`, `* 60`) leaves a number the query does not name.
	scales := scaledBy.FindAllStringSubmatch(q, -1)
	base := unitOfQuery(scaledBy.ReplaceAllString(q, " "))
	if len(scales) == 0 {
		return base
	}
	if len(scales) == 1 {
		times := scales[0][1] == "*" || scales[0][3] != ""
		n := scales[0][2] + scales[0][3]
		switch {
		case times && base == UnitSeconds && n == "1000":
			return UnitMillis
		case times && base == UnitRatio && n == "100":
			return UnitPercent
		}
	}
	return UnitCount
}

func unitOfQuery(q string) string {
	switch {
	case strings.Contains(q, "histogram_quantile(") && strings.Contains(q, "_seconds_bucket"):
		return UnitSeconds
	case divSumCount.MatchString(q):
		return UnitSeconds
	case strings.Contains(q, "/") || ratioMetric.MatchString(q) || rateOfSeconds.MatchString(q):
		return UnitRatio
	case secondsMetric.MatchString(q):
		return UnitSeconds
	case bytesMetric.MatchString(q):
		return UnitBytes
	}
	return UnitCount
}
