package promclient

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// FreshnessLabel tells the selectors of a multi-selector freshness query
// apart, so "or" keeps every one of them.
const FreshnessLabel = "gameday_selector"

var promql = parser.NewParser(parser.Options{EnableExperimentalFunctions: true})

// FreshnessQuery derives a guard's freshness query from its PromQL query:
// the newest raw sample time, in seconds, over every series the query
// reads, so a change in its answer means a new sample landed. It parses
// the query with Prometheus' own parser and keeps each distinct selector
// without its offset or @ modifier:
//
//	histogram_quantile(0.95, sum by (le) (rate(x_bucket{svc="a"}[10s])))
//	→ max(timestamp(x_bucket{svc="a"}))
//
// Several selectors are joined with "or", each tagged with FreshnessLabel
// so that series with the same labels (timestamp drops the metric name)
// are all kept. A query without a selector (vector(1)) has none, and
// neither has one with a selector whose metric name is not fixed
// ({__name__=~"a|b"}, {job="x"}): timestamp() drops the name, and two
// series that differ only by it make Prometheus refuse the whole query
// ("vector cannot contain metrics with the same labelset"), every 100 ms.
func FreshnessQuery(query string) (string, error) {
	expr, err := promql.ParseExpr(query)
	if err != nil {
		return "", fmt.Errorf("the query does not parse here: %v", err)
	}
	var sels []string
	var unnamed string
	seen := map[string]bool{}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		s := (&parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}).String()
		if !fixedName(vs) && unnamed == "" {
			unnamed = s
		}
		if !seen[s] {
			seen[s] = true
			sels = append(sels, s)
		}
		return nil
	})
	if unnamed != "" {
		return "", fmt.Errorf("the selector %s may read several metric names, which timestamp() cannot tell apart: name a freshness query", unnamed)
	}
	switch len(sels) {
	case 0:
		return "", errors.New("the query reads no series: nothing tells a new sample")
	case 1:
		return "max(timestamp(" + sels[0] + "))", nil
	}
	parts := make([]string, len(sels))
	for i, s := range sels {
		parts[i] = fmt.Sprintf("label_replace(timestamp(%s), %q, %s, \"\", \"\")", s, FreshnessLabel, strconv.Quote(strconv.Itoa(i)))
	}
	return "max(" + strings.Join(parts, " or ") + ")", nil
}

// fixedName reports whether vs reads one metric name (x{...} or
// {__name__="x", ...}).
func fixedName(vs *parser.VectorSelector) bool {
	if vs.Name != "" {
		return true
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual && m.Value != "" {
			return true
		}
	}
	return false
}
