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
	secondsMetric = regexp.MustCompile(`[A-Za-z0-9_:]*_seconds(_bucket|_sum|_count|_total)?\b`)
	bytesMetric   = regexp.MustCompile(`[A-Za-z0-9_:]*_bytes(_total)?\b`)
	ratioMetric   = regexp.MustCompile(`[A-Za-z0-9_:]*_ratio\b`)
	divSumCount   = regexp.MustCompile(`_seconds_sum\b[^/]*/[^/]*_seconds_count\b`)
	// PromQL string literals (label values such as path="/orders" hold
	// slashes that are no division) and comments.
	literals = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`|#[^\\n]*")
)

// UnitOf is the unit of g's value: g.Unit when set, else inferred from the
// query, first rule that matches (documented in docs/design.md, Reports):
//
//   - histogram_quantile over a *_seconds_bucket metric: seconds;
//   - *_seconds_sum / *_seconds_count (an average duration): seconds;
//   - any other division, or a *_ratio metric: a ratio;
//   - a *_seconds metric (a gauge or a summary quantile): seconds;
//   - a *_bytes metric: bytes;
//   - anything else: a count.
//
// A division of two counters is a ratio whatever the metrics are, which is
// why "le=0.2 buckets / all requests" is not read as seconds.
func UnitOf(g Guard) string {
	if g.Unit != "" {
		return g.Unit
	}
	q := literals.ReplaceAllString(g.Query, `""`)
	switch {
	case strings.Contains(q, "histogram_quantile(") && strings.Contains(q, "_seconds_bucket"):
		return UnitSeconds
	case divSumCount.MatchString(q):
		return UnitSeconds
	case strings.Contains(q, "/") || ratioMetric.MatchString(q):
		return UnitRatio
	case secondsMetric.MatchString(q):
		return UnitSeconds
	case bytesMetric.MatchString(q):
		return UnitBytes
	}
	return UnitCount
}
