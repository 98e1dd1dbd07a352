package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

// rangeProm answers range queries from a script keyed by query text (the
// query as sent, $window replaced), and records what it was asked.
type rangeProm struct {
	mu      sync.Mutex
	series  map[string][]float64
	instant map[string]float64
	errs    map[string]error
	asked   []string
	windows [][2]time.Time
}

func (p *rangeProm) Query(_ context.Context, q string, at time.Time) (float64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, q)
	p.windows = append(p.windows, [2]time.Time{at, at})
	if err := p.errs[q]; err != nil {
		return math.NaN(), err
	}
	return p.instant[q], nil
}

func (p *rangeProm) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) ([]sli.Point, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked = append(p.asked, q)
	p.windows = append(p.windows, [2]time.Time{start, end})
	if !end.After(start) || step <= 0 { // as promclient.QueryRange refuses it
		return nil, fmt.Errorf("range query %q: empty window %s..%s or step %s", q, start, end, step)
	}
	if err := p.errs[q]; err != nil {
		return nil, err
	}
	var out []sli.Point
	for i, v := range p.series[q] {
		out = append(out, sli.Point{At: start.Add(time.Duration(i) * step), Value: v})
	}
	if len(out) == 0 {
		return nil, sli.ErrNoData
	}
	return out, nil
}

func zero() *float64 { v := 0.0; return &v }

func evidenceItems() []checklist.Item {
	return []checklist.Item{{ID: "cb-fallback", VerifiedBy: []checklist.Check{
		{Name: "fallback", Query: "sum(increase(f[$window]))", Op: sli.OpGT, Threshold: zero(), Reduce: checklist.ReduceLast, Window: checklist.WindowObserve},
		{Name: "no-5xx", Query: "errors", Op: sli.OpEQ, Threshold: zero(), Reduce: checklist.ReduceWorst, Window: checklist.WindowObserve},
		{Name: "fast", Query: "nan", Op: sli.OpLT, Threshold: zero(), Reduce: checklist.ReduceMax, Window: checklist.WindowRun, Within: duration.Duration(3 * time.Second)},
		{Name: "bad", Query: "rate(x[", Op: sli.OpLT, Threshold: zero()},
		{Name: "empty", Query: "nothing", Op: sli.OpLT, Threshold: zero()},
	}}}
}

// The activity asks Prometheus for each check's own window, with $window
// replaced, and judges the answers; NaN, no data and a refused query are
// failed checks with their reason, never an error that hides the others.
func TestEvidenceJudgesEachCheckOverItsWindow(t *testing.T) {
	h := newHarness(t)
	p := &rangeProm{
		series:  map[string][]float64{"errors": {0, 0, 2, 0}, "nan": {0.1, math.NaN()}},
		instant: map[string]float64{"sum(increase(f[20s]))": 12},
		errs:    map[string]error{"rate(x[": &sli.BadQueryError{Query: "rate(x[", Msg: "parse error"}},
	}
	h.acts.Prom = p
	fault := time.Now().Add(-40 * time.Second)
	tl := checklist.Timeline{FaultAt: fault, HoldEnd: fault.Add(20 * time.Second), RunEnd: fault.Add(35 * time.Second)}
	v, err := h.env.ExecuteActivity(h.acts.Evidence, EvidenceInput{Items: evidenceItems(), Timeline: tl})
	require.NoError(t, err)
	var res EvidenceResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Checks, 5)
	by := map[string]checklist.CheckResult{}
	for _, c := range res.Checks {
		assert.Equal(t, "cb-fallback", c.Item)
		by[c.Check] = c
	}

	f := by["fallback"]
	assert.True(t, f.Pass)
	assert.Equal(t, sli.Float(12), f.Value)
	assert.Equal(t, "sum(increase(f[20s]))", f.Query, "recorded as sent")
	assert.True(t, f.To.Equal(tl.HoldEnd), "last: one instant query at the window's end")

	e := by["no-5xx"]
	assert.False(t, e.Pass)
	assert.Equal(t, sli.Float(2), e.Value, "the first failing sample")
	assert.Equal(t, 4, e.Samples)
	assert.True(t, e.From.Equal(fault) && e.To.Equal(tl.HoldEnd))

	n := by["fast"]
	assert.False(t, n.Pass, "NaN is never a pass")
	assert.Equal(t, sli.KindNaN, n.Value.Kind())
	assert.True(t, n.To.Equal(fault.Add(3*time.Second)), "within 3s of the fault")
	assert.Equal(t, "first 3s of run", n.Window)

	b := by["bad"]
	assert.False(t, b.Pass)
	assert.Contains(t, b.Error, "parse error")
	assert.True(t, strings.HasPrefix(b.Reading(), "not computed: "))

	em := by["empty"]
	assert.False(t, em.Pass)
	assert.True(t, em.NoData)
	assert.Equal(t, "no data", em.Reading())
}

// Prometheus down: the activity fails (and is retried by the workflow's
// policy); no check is ever returned as a pass.
func TestEvidencePrometheusDownFails(t *testing.T) {
	h := newHarness(t)
	h.acts.Prom = &rangeProm{errs: map[string]error{"errors": errors.New("prometheus http://p:9090: connection refused")}}
	fault := time.Now().Add(-time.Minute)
	items := []checklist.Item{{ID: "cb-fallback", VerifiedBy: evidenceItems()[0].VerifiedBy[1:2]}}
	_, err := h.env.ExecuteActivity(h.acts.Evidence, EvidenceInput{Items: items, Timeline: checklist.Timeline{FaultAt: fault, HoldEnd: fault.Add(10 * time.Second), RunEnd: fault.Add(20 * time.Second)}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "item cb-fallback, check no-5xx: prometheus http://p:9090: connection refused")

	h.acts.Prom = &seqQuerier{} // instant queries only
	_, err = h.env.ExecuteActivity(h.acts.Evidence, EvidenceInput{Items: items})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot run range queries")
}

// A window that ended a moment ago is read once its last samples can have
// been scraped.
func TestEvidenceWaitsForTheLastScrape(t *testing.T) {
	h := newHarness(t)
	p := &rangeProm{series: map[string][]float64{"errors": {0}}}
	h.acts.Prom = p
	now := time.Now()
	items := []checklist.Item{{ID: "cb-fallback", VerifiedBy: evidenceItems()[0].VerifiedBy[1:2]}}
	v, err := h.env.ExecuteActivity(h.acts.Evidence, EvidenceInput{Items: items, Timeline: checklist.Timeline{FaultAt: now.Add(-5 * time.Second), HoldEnd: now, RunEnd: now}})
	require.NoError(t, err)
	var res EvidenceResult
	require.NoError(t, v.Get(&res))
	assert.True(t, res.Checks[0].Pass)
	assert.GreaterOrEqual(t, time.Since(now), EvidenceSettle, "waited for the scrape after the window")
}

// A run stopped the moment its fault took effect has a window of one
// instant (checklist.Check.Span). Prometheus refuses a range query over
// it, which the activity took for Prometheus being down: retried four
// times, then every check failed with "evidence could not be computed:
// empty window". The instant is judged from one instant query instead.
func TestEvidenceOfAnInstantWindow(t *testing.T) {
	h := newHarness(t)
	p := &rangeProm{instant: map[string]float64{"errors": 3}}
	h.acts.Prom = p
	at := time.Now().Add(-time.Minute)
	items := []checklist.Item{{ID: "cb-fallback", VerifiedBy: evidenceItems()[0].VerifiedBy[1:2]}}
	v, err := h.env.ExecuteActivity(h.acts.Evidence, EvidenceInput{Items: items, Timeline: checklist.Timeline{FaultAt: at, HoldEnd: at, RunEnd: at}})
	require.NoError(t, err, "not an error to retry: the window is what it is")
	var res EvidenceResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Checks, 1)
	c := res.Checks[0]
	assert.False(t, c.Pass)
	assert.Equal(t, sli.Float(3), c.Value, "judged from the value at that instant")
	assert.Equal(t, 1, c.Samples)
	assert.True(t, c.From.Equal(at) && c.To.Equal(at))
}
