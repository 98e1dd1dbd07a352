package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/sli"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

var guards = []sli.Guard{
	{Name: "p95-latency", Query: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{service="order"}[10s])))`, Op: sli.OpLE, Threshold: 0.8, For: 2},
	{Name: "error-rate", Query: `(sum(rate(http_requests_total{service="order",status=~"5.."}[10s])) or vector(0)) / clamp_min(sum(rate(http_requests_total{service="order"}[10s])), 1e-9)`, Op: sli.OpLT, Threshold: 0.001, For: 2},
	{Name: "open-breakers", Query: `sum(circuit_breaker_state{state="open"})`, Op: sli.OpEQ, Threshold: 0},
	{Name: "goroutines", Query: `sum(go_goroutines{job="order"})`, Op: sli.OpLT, Threshold: 5000, Unit: sli.UnitCount},
}

// fixture is an aborted run with everything a report shows: sign-off, a
// checklist with a weight change, a pause, notes, a breach, a recovered
// fault, a trace id.
func fixture() Input {
	r := experiment.Result{
		WorkflowID: "gameday-demo-inventory-latency-20260504-100000-abc123", RunID: "0196a1b2-run",
		Scenario: "demo-inventory-latency", Service: "order-service", Outcome: experiment.Aborted,
		AbortReason: "guard p95-latency breached: value 1.213, healthy when <= 0.8",
		Phases: []experiment.Phase{
			{Name: "define", Status: "done", Started: at(0), Ended: at(2), Detail: "resolve targets, check guards, record baseline"},
			{Name: "signoff", Status: "done", Started: at(2), Ended: at(40)},
			{Name: "inject", Status: "done", Started: at(40), Ended: at(41), Detail: "1 fault(s)"},
			{Name: "observe", Status: "cancelled", Started: at(41), Ended: at(95), Detail: "holding 1m0s, 2 guard(s)"},
			{Name: "recover", Status: "done", Started: at(95), Ended: at(96)},
			{Name: "verify", Status: "done", Started: at(96), Ended: at(110), Detail: "steady state back after 13.9s"},
			{Name: "report", Status: "done", Started: at(110), Ended: at(111)},
		},
		Targets:  []string{"proxy inventory"},
		Baseline: []experiment.GuardValue{{Guard: "p95-latency", Value: 0.0123, Healthy: true}, {Guard: "error-rate", Value: 0, Healthy: true}, {Guard: "open-breakers", Value: 0, Healthy: true}, {Guard: "goroutines", Value: 212, Healthy: true}},
		Breach:   &sli.Breach{Guard: "p95-latency", Query: guards[0].Query, Op: "<=", Value: 1.213, Threshold: 0.8, At: at(90)},
		Signoffs: []experiment.Signoff{{Role: "sre", User: "sam", Approved: true, At: at(39)}},
		Injected: []string{"gd-0a1b2c3d4e5f-f0"}, Recovered: []string{"gd-0a1b2c3d4e5f-f0"},
		RecoverLog: []chaos.Recovered{{FaultID: "gd-0a1b2c3d4e5f-f0", Removed: true, At: at(96), RecoveryTime: 4100 * time.Millisecond}},
		Verify:     []experiment.GuardValue{{Guard: "p95-latency", Value: 0.015, Healthy: true}, {Guard: "error-rate", Value: sli.Float(math.NaN()), Healthy: false}},
		Postmortem: "GD-42",
		Gate: &checklist.Gate{Checklist: "release-default", Passed: false, Score: 75, Threshold: 80, Reason: "score 75% below 80%", Items: []checklist.ItemResult{
			{Item: checklist.Item{ID: "cb-fallback", Title: "Circuit breakers | fallbacks", Owner: "dev", Weight: 15, StrongBlocking: true, FaultClass: "network-delay"}, Signed: true, Pass: true, User: "dana", Evidence: "https://ci/1", Alerted: true},
			{Item: checklist.Item{ID: "trace-coloring", Title: "Traffic coloring", Owner: "sre", Weight: 5}, Signed: false},
		}},
		WeightChanges: []checklist.Change{{ItemID: "cb-fallback", OldWeight: 15, NewWeight: 50, OldBlocking: true, NewBlocking: true, Rule: checklist.RuleAlerting, Reason: "alerted in 3 releases"}},
		ReleaseTicket: "REL-9",
		UIURL:         "http://127.0.0.1:8233/namespaces/default/workflows/gameday-demo-inventory-latency-20260504-100000-abc123/0196a1b2-run/history",
		Notes: []experiment.Note{
			{Text: "p95 climbing | fallback not used", By: "sam", Kind: experiment.NoteObservation, At: at(60)},
			{Text: "add a timeout on the inventory client", By: "dana", Kind: experiment.NoteAction, At: at(100)},
		},
		Pauses:  []experiment.Pause{{Reason: "checking the dashboard", By: "sam", From: at(70), To: at(80), Ended: experiment.PauseResumed, EndedBy: "sam"}},
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		Started: at(0), Ended: at(111),
	}
	var p95, errs, goroutines []sli.Point
	for s := -300.0; s <= 111; s += 5 {
		v := 0.012
		if s >= 45 && s < 95 {
			v = 0.9 + (s-45)/100
		}
		p95 = append(p95, sli.Point{At: at(s), Value: v})
		// No requests at first (NaN: 0/0 before clamp), a +Inf, a gap.
		switch {
		case s < -280:
			errs = append(errs, sli.Point{At: at(s), Value: math.NaN()})
		case s == 50:
			errs = append(errs, sli.Point{At: at(s), Value: math.Inf(1)})
		case s > 60 && s < 80:
		default:
			errs = append(errs, sli.Point{At: at(s), Value: 0.0004})
		}
		goroutines = append(goroutines, sli.Point{At: at(s), Value: 210 + s/10})
	}
	return Input{
		Result: r, Guards: guards,
		Series: []Series{
			{Guard: "p95-latency", Points: p95},
			{Guard: "error-rate", Points: errs},
			{Guard: "open-breakers"}, // no data at all
			{Guard: "goroutines", Err: "prometheus http://prom:9090: 503 Service Unavailable"},
		},
		Window:    Window{From: at(-300), To: at(411), Step: 5 * time.Second},
		Links:     Links{TicketURL: "https://jira.example.com/browse/GD-42", Trace: TraceLink("http://jaeger:16686", r.TraceID), Files: map[string]string{"markdown": "report.md", "junit": "report.junit.xml"}},
		Generated: at(112),
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: go test ./report/ -run %s -update", t.Name())
	assert.Equal(t, string(want), string(got), "differs from %s (go test ./report/ -update rewrites it)", path)
}

func TestMarkdownGolden(t *testing.T) {
	md := Markdown(Build(fixture()), true)
	golden(t, "aborted.md", md)
	s := string(md)
	assert.Contains(t, s, "| p95-latency | ≤ 800 ms | 12.3 ms |")
	assert.Contains(t, s, "| error-rate | < 0.1 % | 0 % |")
	assert.NotContains(t, s, "0.0123", "values carry units, not raw floats")
	assert.Contains(t, s, "healed in 4.1s")
	assert.Contains(t, s, `p95 climbing \| fallback not used`, "a pipe in a note does not break the table")
}

func TestJUnitGolden(t *testing.T) {
	in := fixture()
	x := JUnit("demo-inventory-latency", Build(in))
	golden(t, "aborted.junit.xml", x)

	var doc junitSuites
	require.NoError(t, xml.Unmarshal(x, &doc))
	require.Len(t, doc.Suites, 1)
	c := doc.Suites[0].Cases[0]
	require.NotNil(t, c.Failure)
	assert.Equal(t, "breach", c.Failure.Type)
	props := map[string]string{}
	for _, p := range c.Properties.Props {
		props[p.Name] = p.Value
	}
	for _, g := range guards {
		assert.Contains(t, props, "guard:"+g.Name, "each guard is a property")
	}
	assert.Contains(t, props["guard:p95-latency"], "breached at 2026-05-04 10:01:30Z (1.21 s)")

	// A game day: one suite, a case per experiment, counted by kind.
	passed := fixture()
	passed.Result.Outcome, passed.Result.Breach, passed.Result.AbortReason = experiment.Passed, nil, ""
	passed.Result.Gate.Passed = true // its release gate too (see TestJUnitFailsARunWhoseReleaseGateFailed)
	dry := fixture()
	dry.Result.Outcome = experiment.DryRun
	cancelled := fixture()
	cancelled.Result.Outcome = experiment.Cancelled
	var gd junitSuites
	require.NoError(t, xml.Unmarshal(JUnit("seed-weekly", Build(in), Build(passed), Build(dry), Build(cancelled)), &gd))
	s := gd.Suites[0]
	assert.Equal(t, "seed-weekly", s.Name)
	assert.Equal(t, []int{4, 1, 1, 1}, []int{s.Tests, s.Failures, s.Errors, s.Skipped})
	assert.Nil(t, s.Cases[1].Failure)
	assert.Nil(t, s.Cases[1].Error)
}

func TestJSONIsValidWithNonFiniteSamples(t *testing.T) {
	b, err := JSON(Build(fixture()))
	require.NoError(t, err)
	assert.True(t, json.Valid(b))
	assert.NotRegexp(t, regexp.MustCompile(`:\s*(NaN|[+-]?Inf)\b`), string(b), "no bare NaN or Inf token")
	var back struct {
		Guards []struct {
			Name    string   `json:"name"`
			Unit    string   `json:"unit"`
			Min     *float64 `json:"min"`
			NoData  bool     `json:"no_data"`
			Error   string   `json:"error"`
			Samples []struct {
				V sli.Float `json:"v"`
			} `json:"samples"`
		} `json:"guards"`
	}
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Guards, 4)
	assert.Equal(t, sli.UnitRatio, back.Guards[1].Unit)
	assert.Equal(t, sli.KindNaN, back.Guards[1].Samples[0].V.Kind())
	assert.True(t, back.Guards[2].NoData)
	assert.Nil(t, back.Guards[2].Min, "no finite sample: null, not NaN")
	assert.Contains(t, back.Guards[3].Error, "503")
}

// The HTML is one file that fetches nothing: charts are inline SVG drawn by
// gonum/plot (one per guard, with the threshold and breach colours), the
// links and the timeline are there.
func TestHTMLSelfContained(t *testing.T) {
	h, err := HTML(Build(fixture()))
	require.NoError(t, err)
	s := string(h)
	assert.Equal(t, len(guards), strings.Count(s, "<svg"), "one chart per guard")
	assert.Contains(t, s, "Generated by SVGo and Plotinum VG", "drawn by gonum/plot")
	for _, bad := range []string{"<script", "<link", "@import", "src=\"http", "url(http"} {
		assert.NotContains(t, s, bad, "nothing external")
	}
	assert.Contains(t, s, `stroke:#FF7F00;stroke-width:2.5`, "threshold line")
	assert.Contains(t, s, `style="fill:#9400D3"`, "breach mark")
	assert.Contains(t, s, `style="fill:#FF0000;fill-opacity:0.11765"`, "faults injected, shaded")
	assert.Contains(t, s, `data-breach="2026-05-04 10:01:30Z"`)
	assert.Contains(t, s, `href="http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736"`)
	assert.Contains(t, s, `href="https://jira.example.com/browse/GD-42"`)
	assert.Contains(t, s, "add a timeout on the inventory client")
	assert.Contains(t, s, "checking the dashboard")
	assert.Contains(t, s, "cb-fallback")
	assert.Contains(t, s, "15% → 50%")
	assert.Contains(t, s, "no data in this window")
	assert.Contains(t, s, "503 Service Unavailable")
	assert.NotContains(t, s, "NaN</td>")
}

// The PNG for tickets stacks every guard; the threshold and the breach
// are drawn in their colours.
func TestPNGHasThresholdAndBreach(t *testing.T) {
	b, err := PNG(Build(fixture()))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, 9*96, img.Bounds().Dx())
	assert.InDelta(t, 4*3.2*96, img.Bounds().Dy(), 1)
	assert.Greater(t, CountColor(img, ColorThreshold, 12), 400, "threshold lines")
	assert.Greater(t, CountColor(img, ColorBreach, 12), 100, "breach line and dot")
	assert.Greater(t, CountColor(img, ColorSeries, 12), 200, "value lines")

	none, err := PNG(Build(Input{Result: experiment.Result{Outcome: experiment.Passed, Unguarded: true}}))
	require.NoError(t, err)
	assert.Nil(t, none, "no guard, no chart")
}

// A report of a run with every field empty, or every sample non-finite,
// renders in every format.
func TestDegenerateInputsRender(t *testing.T) {
	nan := []sli.Point{{At: at(0), Value: math.NaN()}, {At: at(5), Value: math.Inf(-1)}, {At: at(10), Value: math.Inf(1)}}
	for _, in := range []Input{
		{},
		{Result: experiment.Result{Scenario: "x", Outcome: experiment.Running, Started: at(0)}, Guards: guards[:1], Window: WindowOf(experiment.Result{Started: at(0)}, at(20))},
		{Result: experiment.Result{Scenario: "x", Outcome: experiment.Passed, Started: at(0), Ended: at(10)}, Guards: guards[:2], Series: []Series{{Guard: "p95-latency", Points: nan}, {Guard: "error-rate", Points: nan[:1]}}, Window: Window{From: at(-1), To: at(11), Step: time.Second}},
	} {
		rep := Build(in)
		_, err := HTML(rep)
		require.NoError(t, err)
		_, err = PNG(rep)
		require.NoError(t, err)
		j, err := JSON(rep)
		require.NoError(t, err)
		assert.True(t, json.Valid(j))
		assert.NotEmpty(t, Markdown(rep, true))
		assert.NotEmpty(t, JUnit("x", rep))
	}
}

func TestWindowOf(t *testing.T) {
	r := experiment.Result{Started: at(0), Ended: at(120)}
	w := WindowOf(r, at(125))
	assert.Equal(t, at(-300), w.From)
	assert.Equal(t, at(125), w.To, "cut at now")
	assert.True(t, w.Cut)
	assert.Equal(t, time.Second, w.Step)

	w = WindowOf(r, at(3600))
	assert.Equal(t, at(420), w.To)
	assert.False(t, w.Cut)

	long := experiment.Result{Started: at(0), Ended: at(6 * 3600)}
	w = WindowOf(long, at(7*3600))
	assert.LessOrEqual(t, int(w.To.Sub(w.From)/w.Step), MaxPoints)

	assert.Equal(t, "http://j/trace/abc", TraceLink("http://j/", "abc"))
	assert.Equal(t, "http://t/x?id=abc", TraceLink("http://t/x?id={trace_id}", "abc"))
	assert.Empty(t, TraceLink("", "abc"))
}

// CountColor counts the pixels of img within tol of c on every channel.
func CountColor(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(int(r>>8), int(c.R), tol) && near(int(g>>8), int(c.G), tol) && near(int(bl>>8), int(c.B), tol) {
				n++
			}
		}
	}
	return n
}

func near(a, b, tol int) bool { return a-b <= tol && b-a <= tol }

// A game day renders as one file in every format: its experiments in
// order, each with its charts.
func TestGameDayFormats(t *testing.T) {
	passed := fixture()
	passed.Result.Outcome, passed.Result.Breach, passed.Result.AbortReason = experiment.Passed, nil, ""
	passed.Result.Scenario = "demo-inventory-latency-harmless"
	reps := []*Report{Build(fixture()), Build(passed)}
	h, err := HTMLGameDay(GameDay{ID: "seed-weekly"}, reps, at(500))
	require.NoError(t, err)
	s := string(h)
	assert.Contains(t, s, "<h1>Game day seed-weekly</h1>")
	assert.Equal(t, 2*len(guards), strings.Count(s, "<svg"))
	assert.Less(t, strings.Index(s, `id="run-1"`), strings.Index(s, `id="run-2"`))
	md := string(MarkdownGameDay(GameDay{ID: "seed-weekly"}, reps))
	assert.Contains(t, md, "| 2 | demo-inventory-latency-harmless | order-service | passed | 75 |")
	assert.Contains(t, md, "\n## demo-inventory-latency on order-service: aborted\n")
	j, err := JSONGameDay(GameDay{ID: "seed-weekly"}, reps)
	require.NoError(t, err)
	var back struct {
		GameDay string            `json:"game_day"`
		Runs    []json.RawMessage `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(j, &back))
	assert.Len(t, back.Runs, 2)
}

// With the game day's own result, the report opens with it: outcome and
// why, plan and people, every step (a skipped one with its reason), the
// game day's notes and pauses; text people typed is escaped.
func TestGameDayReportShowsTheGameDay(t *testing.T) {
	reps := []*Report{Build(fixture())}
	day := gameday.Result{WorkflowID: "gd-7", Plan: "seed-weekly", Environment: "staging", Outcome: experiment.Failed,
		Reason: "1 of 2 step(s) did not pass: latency (aborted)", People: gameday.People{Owner: "dana", Observers: []string{"sam", "vic"}},
		Started: at(0), Ended: at(411), UIURL: "http://ui/gd-7",
		Steps: []gameday.StepResult{
			{Name: "latency", Scenario: "demo-inventory-latency", Status: gameday.StepDone, Outcome: experiment.Aborted, Reason: "guard p95 breached"},
			{Name: "outage", Group: "g", Stage: 1, Scenario: "demo-seed-inventory-outage", Status: gameday.StepSkipped, Reason: "step latency did not pass (on_failure: stop)"},
		},
		Notes:  []experiment.Note{{Text: "<b>p95</b> | flat", By: "tess", Kind: experiment.NoteAction, At: at(60)}},
		Pauses: []experiment.Pause{{By: "dana", Reason: "dashboards", From: at(100), To: at(130), Ended: experiment.PauseResumed, EndedBy: "dana"}},
	}
	h, err := HTMLGameDay(GameDay{Result: &day}, reps, at(500))
	require.NoError(t, err)
	s := string(h)
	assert.Contains(t, s, `<h1>Game day gd-7 <span class="badge bad" id="outcome">failed</span></h1>`)
	assert.Contains(t, s, "1 of 2 step(s) did not pass: latency (aborted)")
	assert.Contains(t, s, "observers sam, vic")
	assert.Contains(t, s, "step latency did not pass (on_failure: stop)")
	assert.Contains(t, s, "&lt;b&gt;p95&lt;/b&gt; | flat", "a note is text, not HTML")
	assert.Contains(t, s, `id="gameday-pauses"`)
	assert.Less(t, strings.Index(s, `id="gameday-notes"`), strings.Index(s, `id="run-1"`), "the game day before its experiments")
	md := string(MarkdownGameDay(GameDay{Result: &day}, reps))
	assert.Contains(t, md, "**failed** · plan seed-weekly in staging · owner dana")
	day.People.Owner = "dana\n# Approved by everyone"
	assert.Contains(t, string(MarkdownGameDay(GameDay{Result: &day}, reps)), "· owner dana # Approved by everyone ·", "text from the plan file stays on its line")
	assert.Contains(t, md, "| 2 | g / outage | demo-seed-inventory-outage | skipped |  | step latency did not pass (on_failure: stop) |")
	assert.Contains(t, md, `| tess | action | <b>p95</b> \| flat |`)
	j, err := JSONGameDay(GameDay{Result: &day}, reps)
	require.NoError(t, err)
	var back struct {
		GameDay string         `json:"game_day"`
		Result  gameday.Result `json:"result"`
	}
	require.NoError(t, json.Unmarshal(j, &back))
	assert.Equal(t, "gd-7", back.GameDay)
	assert.Len(t, back.Result.Notes, 1)
}

// BenchmarkWrite: every format of a 4-guard report (83 samples per guard)
// into a directory: what the report step adds to a run's end besides the
// range queries.
func BenchmarkWrite(b *testing.B) {
	rep := Build(fixture())
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Write(dir, rep); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range []string{HTMLFile, ChartFile, MarkdownFile, JUnitFile, JSONFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
			b.ReportMetric(float64(st.Size()), f+"-bytes")
		}
	}
}

type hungQuerier struct{}

func (hungQuerier) QueryRange(ctx context.Context, _ string, _, _ time.Time, _ time.Duration) ([]sli.Point, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// barrierQuerier answers only once every guard's query is in flight: run
// one after the other, the queries would all time out.
type barrierQuerier struct{ all *sync.WaitGroup }

func (b barrierQuerier) QueryRange(ctx context.Context, _ string, from, _ time.Time, _ time.Duration) ([]sli.Point, error) {
	b.all.Done()
	done := make(chan struct{})
	go func() { b.all.Wait(); close(done) }()
	select {
	case <-done:
		return []sli.Point{{At: from, Value: 1}}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// The queries run at once (a Prometheus that never answers costs one
// timeout, not one per guard), and each failure is the chart's message.
func TestCollectQueriesAtOnceAndBoundsEach(t *testing.T) {
	w := Window{From: at(0), To: at(60), Step: time.Second}
	var all sync.WaitGroup
	all.Add(len(guards))
	for _, s := range Collect(context.Background(), barrierQuerier{&all}, guards, w, time.Minute) {
		assert.Empty(t, s.Err, s.Guard)
		assert.Len(t, s.Points, 1)
	}
	series := Collect(context.Background(), hungQuerier{}, guards, w, 100*time.Millisecond)
	require.Len(t, series, len(guards))
	for i, s := range series {
		assert.Equal(t, guards[i].Name, s.Guard)
		assert.Contains(t, s.Err, "deadline exceeded")
	}
}

// Prometheus answers any float64: a finite sample near the float's limit
// (a counter reset gone wrong, an exporter's garbage) must not cost the
// run its HTML report and its ticket chart. Such a sample is marked at the
// chart's edge like ±Inf; the threshold keeps its line.
func TestHugeFiniteSamplesRender(t *testing.T) {
	in := fixture()
	in.Series[0].Points = append(in.Series[0].Points, sli.Point{At: at(100), Value: 1.7e308}, sli.Point{At: at(105), Value: -1.7e308})
	in.Series[1].Points = append(in.Series[1].Points, sli.Point{At: at(100), Value: 1e307}) // a ratio: ×100 to show it as %
	in.Result.Breach.Value = 1.7e308
	rep := Build(in)
	h, err := HTML(rep)
	require.NoError(t, err)
	assert.Equal(t, len(guards), strings.Count(string(h), "<svg"), "every guard still has its chart")
	assert.Contains(t, string(h), `stroke:#FF7F00;stroke-width:2.5`, "threshold line")
	b, err := PNG(rep)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Greater(t, CountColor(img, ColorThreshold, 12), 400, "threshold lines")
	assert.Greater(t, CountColor(img, ColorBreach, 12), 100, "breach line and dot")
	assert.Greater(t, CountColor(img, ColorSeries, 12), 200, "value lines: the huge samples do not flatten the others away")
}

// A JUnit file with a character XML 1.0 forbids is rejected whole by CI
// parsers: a note typed with a terminal's escape sequence, an error with a
// NUL or a byte that is not UTF-8 must not cost the run its test result.
func TestJUnitIsWellFormedWithControlCharacters(t *testing.T) {
	in := fixture()
	in.Result.Notes = append(in.Result.Notes, experiment.Note{Text: "pasted \x1b[31mred\x1b[0m and a bell \x07", By: "sam", Kind: experiment.NoteObservation, At: at(61)})
	in.Result.AbortReason = "inject: back-end said \x00\xff"
	in.Result.Breach = nil
	in.Result.Scenario = "demo\x01"
	x := JUnit("suite\x02", Build(in))
	d := xml.NewDecoder(bytes.NewReader(x))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the JUnit file is well-formed XML")
	}
	assert.Contains(t, string(x), "pasted \uFFFD[31mred", "the rest of the text is kept")
}

// A run whose guards held but whose release gate failed (an evidence item
// failed, a strong-blocking item was signed as failing) is not a pass:
// `run --junit` exits 3 for it, and the JUnit file CI reads must agree.
func TestJUnitFailsARunWhoseReleaseGateFailed(t *testing.T) {
	in := fixture()
	in.Result.Outcome, in.Result.Breach, in.Result.AbortReason = experiment.Passed, nil, ""
	var doc junitSuites
	require.NoError(t, xml.Unmarshal(JUnit("s", Build(in)), &doc))
	c := doc.Suites[0].Cases[0]
	require.NotNil(t, c.Failure, "the gate failed: score 75%% below 80%%")
	assert.Equal(t, "release-gate", c.Failure.Type)
	assert.Contains(t, c.Failure.Message, "release gate release-default")
	assert.Contains(t, c.Failure.Message, "score 75% below 80%")
	assert.Equal(t, 1, doc.Failures)

	in.Result.Gate.Passed, in.Result.Gate.Reason = true, ""
	var ok junitSuites
	require.NoError(t, xml.Unmarshal(JUnit("s", Build(in)), &ok))
	assert.Nil(t, ok.Suites[0].Cases[0].Failure, "guards held and the gate passed")
}

// countingQuerier answers every range query with one sample and counts the
// queries it was sent.
type countingQuerier struct {
	mu      sync.Mutex
	queries []string
}

func (q *countingQuerier) QueryRange(_ context.Context, query string, from, _ time.Time, _ time.Duration) ([]sli.Point, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queries = append(q.queries, query)
	if query == "" {
		return nil, &sli.BadQueryError{Query: query, Msg: "invalid parameter \"query\": 1:1: parse error: no expression found in input"}
	}
	return []sli.Point{{At: from, Value: 0.01}}, nil
}

// A probe guard (kind http/tcp) has no PromQL query: its answers are the
// run's own, not a Prometheus series. The report must not send Prometheus
// an empty query and draw "range query failed", and it shows the probe's
// latency limit and its bad answer in words, in seconds, not as a count.
func TestProbeGuardReport(t *testing.T) {
	probe := sli.Guard{Name: "order-probe", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: "http://127.0.0.1:8080/orders"}, Op: sli.OpLE, Threshold: 0.4}
	in := fixture()
	in.Guards = append(slices.Clone(guards[:1]), probe)
	q := &countingQuerier{}
	w := in.Window
	in.Series = Collect(context.Background(), q, in.Guards, w, time.Second)
	assert.Equal(t, []string{guards[0].Query}, q.queries, "only the prometheus guard is range-queried")
	require.Len(t, in.Series, 2)
	assert.Empty(t, in.Series[1].Err)
	assert.True(t, in.Series[1].Probe)
	in.Result.Breach = &sli.Breach{Guard: "order-probe", Kind: sli.KindHTTP, Query: probe.Source(), Op: "<=", Threshold: 0.4,
		Value: sli.Float(math.Inf(1)), Reason: "status 503, want 200-399", At: at(90)}
	in.Result.Baseline = append(in.Result.Baseline, experiment.GuardValue{Guard: "order-probe", Kind: sli.KindHTTP, Value: 0.012, Healthy: true})
	rep := Build(in)

	assert.Equal(t, "≤ 400 ms", FormatThreshold(probe), "a probe's value is its latency in seconds")
	assert.Equal(t, "guard order-probe breached: status 503, want 200-399, healthy when ≤ 400 ms", BreachText(rep))
	md := string(Markdown(rep, true))
	assert.Contains(t, md, "| order-probe | ≤ 400 ms | 12 ms |")
	assert.Contains(t, md, "GET http://127.0.0.1:8080/orders, status 200-399, within 1s", "what the probe asks")
	assert.NotContains(t, md, "query failed")
	h, err := HTML(rep)
	require.NoError(t, err)
	assert.NotContains(t, string(h), "range query failed")
	assert.Contains(t, string(h), "its answers are not a Prometheus series")
	x := JUnit("s", rep)
	assert.Contains(t, string(x), "status 503, want 200-399")
	assert.NotContains(t, string(x), "+Inf, healthy when")
}

// An evidence-verified checklist item is decided by what the run measured,
// never signed: the report must show its verdict and the measurement, not
// "unsigned" beside a weight the gate counted as passed.
func TestReportShowsEvidenceVerdicts(t *testing.T) {
	in := fixture()
	th := 0.0
	fallback := checklist.Check{Name: "fallback-ratio", Query: `sum(rate(fallback_total[10s])) / sum(rate(orders_total[10s]))`, Op: sli.OpGT, Threshold: &th, Reduce: checklist.ReduceMin}
	in.Result.Gate.Items = append(in.Result.Gate.Items,
		checklist.ItemResult{Item: checklist.Item{ID: "cb-evidence", Title: "Fallback serves", Owner: "dev", Weight: 20, VerifiedBy: []checklist.Check{fallback}}, Verified: true, Pass: true,
			Checks: []checklist.CheckResult{{Item: "cb-evidence", Check: "fallback-ratio", Query: fallback.Query, Op: sli.OpGT, Threshold: 0, Reduce: checklist.ReduceMin, Window: "first 30s of observe", Value: 0.0123, Samples: 30, Pass: true, From: at(41), To: at(71)}}},
		checklist.ItemResult{Item: checklist.Item{ID: "no-5xx", Title: "No 5xx", Owner: "sre", Weight: 10, VerifiedBy: []checklist.Check{{Name: "errors"}}}, Verified: true, Pass: false,
			Checks: []checklist.CheckResult{{Item: "no-5xx", Check: "errors", Query: "sum(increase(e[60s]))", Op: sli.OpEQ, Threshold: 0, Reduce: checklist.ReduceLast, Window: "observe", Value: 3, Samples: 1, Pass: false}}},
		checklist.ItemResult{Item: checklist.Item{ID: "later", Title: "Judged after the run", Owner: "sre", Weight: 5, VerifiedBy: []checklist.Check{{Name: "x"}}}, Pending: true},
	)
	rep := Build(in)
	md := string(Markdown(rep, true))
	assert.Contains(t, md, "| cb-evidence: Fallback serves | dev | 20% | false | pass | evidence |")
	assert.Contains(t, md, "| no-5xx: No 5xx | sre | 10% | false | FAIL | evidence |")
	assert.Contains(t, md, "| later: Judged after the run | sre | 5% | false | pending | evidence |")
	assert.Contains(t, md, "| cb-evidence | fallback-ratio | 1.23 % | > 0 % | min | first 30s of observe | pass |", "the measurement, with its unit")
	assert.Contains(t, md, "| no-5xx | errors | 3 | = 0 | last | observe | FAIL |")
	h, err := HTML(rep)
	require.NoError(t, err)
	s := string(h)
	assert.Contains(t, s, "<td>cb-evidence: Fallback serves</td><td>dev</td><td>20%</td><td></td><td>pass</td><td>evidence</td>")
	assert.Contains(t, s, "1.23 %")
	assert.NotContains(t, s, "<td>cb-evidence: Fallback serves</td><td>dev</td><td>20%</td><td></td><td>unsigned</td>")
}

// The gate's score is not rounded onto its threshold: 66.67 % of a 66.7 %
// gate is shown as such, not as "67 %, threshold 67 %" beside FAILED.
func TestGateScoreNotRoundedOntoThreshold(t *testing.T) {
	in := fixture()
	in.Result.Gate.Score, in.Result.Gate.Threshold = 200.0/3, 66.7
	rep := Build(in)
	assert.Contains(t, string(Markdown(rep, false)), "(score 66.67%, threshold 66.7%)")
	h, err := HTML(rep)
	require.NoError(t, err)
	assert.Contains(t, string(h), "score 66.67% (threshold 66.7%)")
}

// A run that waited hours at its sign-off gate (24 h by default) must not
// have its charts stretched over the wait: at most 720 samples over 8 h is
// one every 41 s, and a one-minute fault, its breach and the steady state
// around it vanish between samples. The charts start 5 minutes before the
// run acted: when the sign-off wait ended.
func TestWindowSkipsTheSignoffWait(t *testing.T) {
	r := experiment.Result{Started: at(0), Ended: at(8*3600 + 180), Phases: []experiment.Phase{
		{Name: experiment.PhaseDefine, Started: at(0), Ended: at(2)},
		{Name: experiment.PhaseSignoff, Started: at(2), Ended: at(8 * 3600)},
		{Name: experiment.PhaseInject, Started: at(8 * 3600), Ended: at(8*3600 + 1)},
		{Name: experiment.PhaseObserve, Started: at(8*3600 + 1), Ended: at(8*3600 + 61)},
	}}
	w := WindowOf(r, at(9*3600))
	assert.Equal(t, at(8*3600).Add(-Margin), w.From)
	assert.Equal(t, at(8*3600+180).Add(Margin), w.To)
	assert.Equal(t, 2*time.Second, w.Step, "a sample every 2 s over the 13 minutes that matter")

	r.Phases = r.Phases[:1] // no sign-off: from the start
	assert.Equal(t, at(0).Add(-Margin), WindowOf(r, at(9*3600)).From)
}

type recordingQuerier struct {
	mu      sync.Mutex
	queries []string
}

func (q *recordingQuerier) QueryRange(_ context.Context, query string, from, _ time.Time, _ time.Duration) ([]sli.Point, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queries = append(q.queries, query)
	if query == "" {
		return nil, &sli.BadQueryError{Query: query, Msg: "parse error: no expression found in input"}
	}
	return []sli.Point{{At: from, Value: 0.1}}, nil
}

// A probe guard has no series in Prometheus: the report asks Prometheus
// nothing for it, shows what it probes and its latency limit in seconds,
// and says where its answers are instead of "range query failed".
func TestProbeGuardInReport(t *testing.T) {
	probe := sli.Guard{Name: "order-answers", Kind: sli.KindHTTP, HTTP: &sli.HTTPProbe{URL: "http://order.shop:8080/healthz", Status: "200-399", Latency: 300_000_000},
		Op: sli.OpLE, Threshold: 0.3, For: 1}
	gs := []sli.Guard{guards[0], probe}
	q := &recordingQuerier{}
	in := fixture()
	in.Guards = gs
	in.Series = Collect(context.Background(), q, gs, in.Window, time.Second)
	in.Result.Baseline = append(in.Result.Baseline, experiment.GuardValue{Guard: "order-answers", Value: 0.012, Healthy: true, Kind: sli.KindHTTP})
	assert.Equal(t, []string{guards[0].Query}, q.queries, "nothing asked of Prometheus for the probe")
	rep := Build(in)
	html, err := HTML(rep)
	require.NoError(t, err)
	js, err := JSON(rep)
	require.NoError(t, err)
	for name, out := range map[string]string{"html": string(html), "markdown": string(Markdown(rep, false)), "junit": string(JUnit("x", rep)), "json": string(js)} {
		assert.NotContains(t, out, "query failed", name)
		assert.NotContains(t, out, "no expression found", name)
		if name != "junit" { // JUnit names only the guards that went bad
			assert.Contains(t, out, "300 ms", name+": the latency limit in seconds")
		}
	}
	assert.Contains(t, string(html), "GET http://order.shop:8080/healthz", "what the probe reaches")
	assert.Contains(t, string(html), "12 ms", "the define answer's latency")
}

// A Prometheus that has nothing before the run (new, or the series did not
// exist yet) must not squeeze the run into a sliver at the charts' right
// edge: the charts start shortly before the first sample or shaded region,
// all of them at the same instant; with samples from the window's start
// they keep the whole window.
func TestChartsStartAtTheFirstSample(t *testing.T) {
	in := fixture()
	for i := range in.Series {
		in.Series[i].Points = slices.DeleteFunc(in.Series[i].Points, func(p sli.Point) bool { return p.At.Before(at(30)) })
	}
	in.Series[0].Points = append([]sli.Point{{At: at(20), Value: 0.01}}, in.Series[0].Points...)
	rep := Build(in)
	x0, x1 := chartSpan(rep)
	assert.Equal(t, unix(in.Window.To), x1)
	assert.Equal(t, unix(at(0).Add(-chartLead)), x0, "30 s before the run started (define at 0), the first sample being later")

	in.Result.Started = at(25)
	rep = Build(in)
	x0, _ = chartSpan(rep)
	assert.Equal(t, unix(at(20).Add(-chartLead)), x0, "30 s before the first sample")

	in.Series[1].Points = append([]sli.Point{{At: in.Window.From, Value: 0}}, in.Series[1].Points...)
	rep = Build(in)
	x0, _ = chartSpan(rep)
	assert.Equal(t, unix(in.Window.From), x0, "a sample at the window's start: the whole window")
}
