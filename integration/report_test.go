package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/scenarios"
)

// A real breaching run (dev server, Prometheus, demo shop) ends with a
// report the worker wrote by itself and a JUnit file from `run --junit`;
// `gameday report` renders it again later, and headless Chromium shows the
// HTML with a chart per guard, its threshold line and the breach marked.
func TestReportOfARealRunInChromium(t *testing.T) {
	t.Parallel()
	browser := chromiumPath(t)
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// A service name of its own: score and maturity read the whole
	// namespace's history, which other tests' runs share.
	service := fmt.Sprintf("report-it-%d", time.Now().UnixNano())
	_, path := e.scenario("demo-inventory-latency", func(sc *scenarios.Scenario) { sc.Metadata.Service = service })
	dir := t.TempDir()
	junitPath := filepath.Join(dir, "run.junit.xml")

	out, stderr, code := e.gameday(ctx, "run", path, "--json", "--junit", junitPath)
	require.Equal(t, 3, code, "--junit implies --wait; exit 3 = not passed; stderr: %s", stderr)
	var r experiment.Result
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.Equal(t, experiment.Aborted, r.Outcome)
	require.NotNil(t, r.Breach)

	// The worker wrote the report when the run ended, and said where.
	require.NotNil(t, r.Report, "the result links the report")
	assert.Empty(t, r.Report.Error)
	for _, f := range []string{r.Report.HTML, r.Report.Markdown, r.Report.JUnit, r.Report.JSON, r.Report.Chart} {
		require.FileExists(t, f)
	}
	assert.Equal(t, filepath.Join(e.cfg.DataDir, "reports"), filepath.Dir(filepath.Dir(r.Report.HTML)))
	pm, err := os.ReadFile(r.Postmortem)
	require.NoError(t, err)
	assert.Contains(t, string(pm), "- Report (charts of every guard): "+r.Report.HTML, "the postmortem links the report")
	md, err := os.ReadFile(r.Report.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "| p95-latency | ≤ 800 ms |", "values carry units")
	assert.Regexp(t, `\*\*Breach:\*\* guard p95-latency breached: [0-9.]+ (s|ms), healthy when ≤ 800 ms`, string(md))

	// run --junit: one case, failed by the breach, each guard a property.
	var suites struct {
		Suites []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	x, err := os.ReadFile(junitPath)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(x, &suites), string(x))
	require.Len(t, suites.Suites, 1)
	require.Len(t, suites.Suites[0].Cases, 1)
	tc := suites.Suites[0].Cases[0]
	require.NotNil(t, tc.Failure)
	assert.Equal(t, "breach", tc.Failure.Type)
	props := map[string]string{}
	for _, p := range tc.Props {
		props[p.Name] = p.Value
	}
	assert.Contains(t, props["guard:p95-latency"], "breached at")
	assert.Contains(t, props["guard:p95-latency"], "samples bad", "the guard's samples came from the real Prometheus")
	assert.Contains(t, props, "guard:error-rate")

	// Later, from the CLI: the same run in HTML and JSON.
	htmlPath := filepath.Join(dir, "report.html")
	_, stderr, code = e.gameday(ctx, "report", r.WorkflowID, "--format", "html", "-o", htmlPath)
	require.Equal(t, 0, code, stderr)
	out, stderr, code = e.gameday(ctx, "report", r.WorkflowID, "--format", "json")
	require.Equal(t, 0, code, stderr)
	var js struct {
		Guards []struct {
			Name    string `json:"name"`
			Bad     int    `json:"bad"`
			Samples []any  `json:"samples"`
		} `json:"guards"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &js))
	require.Len(t, js.Guards, 2)
	assert.Equal(t, "p95-latency", js.Guards[0].Name)
	assert.NotEmpty(t, js.Guards[0].Samples)
	assert.Positive(t, js.Guards[0].Bad, "the latency went over the threshold")
	_, stderr, code = e.gameday(ctx, "report", r.WorkflowID, "--format", "pdf")
	assert.Equal(t, 2, code, stderr)

	// The run's history scores the service 0 (its only scenario breached)
	// and places it at L2: a guarded run this quarter with its postmortem,
	// but no automated run yet. Visibility lags a moment behind the run.
	var score struct {
		Services []struct {
			Service   string  `json:"service"`
			Scored    bool    `json:"scored"`
			Score     float64 `json:"score"`
			Scenarios []struct {
				Latest string `json:"latest"`
			} `json:"scenarios"`
		} `json:"services"`
	}
	require.Eventually(t, func() bool {
		out, _, code := e.gameday(ctx, "score", service, "--json")
		return code == 0 && json.Unmarshal([]byte(out), &score) == nil && len(score.Services) == 1 && len(score.Services[0].Scenarios) == 1
	}, time.Minute, time.Second, "gameday score never saw the run")
	assert.True(t, score.Services[0].Scored)
	assert.Equal(t, 0.0, score.Services[0].Score)
	assert.Equal(t, r.WorkflowID, score.Services[0].Scenarios[0].Latest)
	out, stderr, code = e.gameday(ctx, "maturity", service)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, service+": L2 Planned")
	assert.Contains(t, out, "[ ] automated injection on core paths at least monthly")

	// Chromium parses it (the DOM has both charts, their SVG drawn by
	// gonum/plot) and paints it: the threshold is a long horizontal run of
	// its orange, the breach a tall vertical run of its violet.
	dom := runChromium(t, browser, "--dump-dom", "file://"+htmlPath)
	assert.Equal(t, 2, strings.Count(dom, "<svg"), "a chart per guard")
	assert.Contains(t, dom, `id="chart-p95-latency"`)
	assert.Contains(t, dom, `data-breach="`)
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, browser, "--screenshot="+shot, "--window-size=1280,2200", "--hide-scrollbars", "file://"+htmlPath)
	f, err := os.ReadFile(shot)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(f))
	require.NoError(t, err)
	assert.Greater(t, longestRow(img, report.ColorThreshold), 400, "a threshold line across a chart")
	assert.Greater(t, longestColumn(img, report.ColorBreach), 120, "a breach line up a chart")
	assert.Greater(t, count(img, report.ColorSeries), 500, "the guard's values drawn")
	if t.Failed() {
		keep := filepath.Join(os.TempDir(), "gameday-report-"+r.WorkflowID+".png")
		_ = os.WriteFile(keep, f, 0o644)
		t.Logf("screenshot kept at %s", keep)
	}
}

// chromiumPath finds Debian's chromium. Missing, the test fails under CI
// (.ci/run installs it) and is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("CI=%s: chromium is not installed (.ci/run installs Debian's chromium package)", ci)
	}
	t.Skip("chromium not installed (apt-get install chromium)")
	return ""
}

// runChromium runs headless Chromium once with a fresh profile, nothing
// fetched from the network, and returns its standard output.
func runChromium(t *testing.T, browser string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, browser, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, errb.String())
	return out.String()
}

func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x >= -14 && x <= 14 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func count(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), want) {
				n++
			}
		}
	}
	return n
}

// longestRow is the most pixels of a colour in one row (a horizontal line;
// dashes count, the gaps between them do not).
func longestRow(img image.Image, want color.RGBA) int { return longestLine(img, want, false) }

// longestColumn is the most pixels of a colour in one column.
func longestColumn(img image.Image, want color.RGBA) int { return longestLine(img, want, true) }

func longestLine(img image.Image, want color.RGBA, columns bool) int {
	b := img.Bounds()
	outer, inner := b.Dy(), b.Dx()
	if columns {
		outer, inner = inner, outer
	}
	best := 0
	for i := range outer {
		n := 0
		for j := range inner {
			x, y := b.Min.X+j, b.Min.Y+i
			if columns {
				x, y = b.Min.X+i, b.Min.Y+j
			}
			if near(img.At(x, y), want) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}
