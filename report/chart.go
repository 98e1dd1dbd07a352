package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/gameday/gameday/sli"
)

// The colours of every chart. They are part of the report's contract: the
// HTML key names them, and the browser test finds the threshold and the
// breach in a screenshot by them.
var (
	ColorSeries    = color.RGBA{R: 31, G: 119, B: 180, A: 255} // the guard's value
	ColorThreshold = color.RGBA{R: 255, G: 127, B: 0, A: 255}  // its healthy limit
	ColorBad       = color.RGBA{R: 214, G: 39, B: 40, A: 255}  // samples outside it
	ColorBreach    = color.RGBA{R: 148, G: 0, B: 211, A: 255}  // the breach that ended the run
	ColorNonFinite = color.RGBA{R: 90, G: 90, B: 90, A: 255}   // NaN and ±Inf samples
	// Regions are translucent (non-premultiplied, so the hue is exact).
	ColorInject  = color.NRGBA{R: 255, G: 0, B: 0, A: 30}     // faults injected
	ColorPause   = color.NRGBA{R: 120, G: 120, B: 120, A: 60} // paused
	ColorRecover = color.NRGBA{R: 44, G: 160, B: 44, A: 45}   // recovering
)

// Sans-serif text in every chart: it reads better at small sizes, and the
// HTML around the SVG is sans-serif too. Only this package draws plots.
func init() { plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"} }

// Chart size: one guard per chart in the HTML, all of them stacked in the
// PNG.
const (
	chartWidth  = 9 * vg.Inch
	chartHeight = 3.2 * vg.Inch
	pngDPI      = 96
)

func regionColor(kind string) color.Color {
	switch kind {
	case RegionPause:
		return ColorPause
	case RegionRecover:
		return ColorRecover
	}
	return ColorInject
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// chart draws one guard over the report's window: the regions shaded, the
// value as a line broken at gaps and at NaN/±Inf (those are marked at the
// bottom or top edge instead), bad samples in red, the threshold dashed,
// the breach as a vertical line and a ringed dot.
func chart(rep *Report, g GuardReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = g.Guard.Name + " (healthy when " + FormatThreshold(g.Guard) + ")"
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04:05"}
	p.X.Label.Text = "time (UTC)"
	x0, x1 := unix(rep.Window.From), unix(rep.Window.To)
	p.X.Min, p.X.Max = x0, x1

	// The y range: the threshold and every drawable sample, the breach
	// value.
	lo, hi := 0.0, 0.0
	if drawable(g.Guard.Threshold) {
		lo, hi = g.Guard.Threshold, g.Guard.Threshold
	}
	widen := func(v float64) {
		if drawable(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	widen(g.Min)
	widen(g.Max)
	if g.Breach != nil {
		widen(float64(g.Breach.Value))
	}
	sc := axisScale(g.Unit, math.Max(math.Abs(lo), math.Abs(hi)))
	span := hi - lo
	if span == 0 { // a flat line on its threshold, or no data at all
		span = math.Abs(hi)
		if span == 0 {
			span = 1 / sc.factor // one unit as shown (1 ms, 1 %, 1)
		}
	}
	allPositive := lo >= 0
	// Room above the data for the legend, one line per entry.
	entries := 2
	for _, more := range []bool{g.Bad > 0, g.NonFinite > 0 || offScaleIn(g), g.Breach != nil && !g.Breach.At.IsZero()} {
		if more {
			entries++
		}
	}
	lo -= 0.08 * span
	hi += (0.1 + 0.12*float64(entries)) * span
	if allPositive && lo < 0 {
		lo = 0
	}
	ys := func(v float64) float64 { return v * sc.factor }
	p.Y.Min, p.Y.Max = ys(lo), ys(hi)
	p.Y.Label.Text = strings.TrimSpace(sc.suffix)
	if p.Y.Label.Text == "" {
		p.Y.Label.Text = "value"
	}

	for _, reg := range rep.Regions {
		a, b := math.Max(unix(reg.From), x0), math.Min(unix(reg.To), x1)
		if b <= a {
			continue
		}
		poly, err := plotter.NewPolygon(plotter.XYs{{X: a, Y: ys(lo)}, {X: b, Y: ys(lo)}, {X: b, Y: ys(hi)}, {X: a, Y: ys(hi)}})
		if err != nil {
			return nil, err
		}
		poly.Color = regionColor(reg.Kind)
		poly.LineStyle.Width = 0
		p.Add(poly)
	}

	// The value, one line per run of finite samples without a gap.
	step := rep.Window.Step
	if step <= 0 {
		step = time.Second
	}
	var seg plotter.XYs
	var bad, nonFinite plotter.XYs
	var prev time.Time
	offScale := 0
	var lines int
	flush := func() error {
		if len(seg) == 0 {
			return nil
		}
		if len(seg) == 1 { // a lone sample: a short tick so it shows
			seg = append(seg, plotter.XY{X: seg[0].X + step.Seconds()/2, Y: seg[0].Y})
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return err
		}
		l.Color, l.Width = ColorSeries, vg.Points(1.5)
		p.Add(l)
		if lines == 0 {
			p.Legend.Add("value", l)
		}
		lines++
		seg = nil
		return nil
	}
	for _, pt := range g.Points {
		x := unix(pt.At)
		if x < x0 || x > x1 {
			continue
		}
		v := pt.Value
		if !prev.IsZero() && pt.At.Sub(prev) > step*5/2 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		prev = pt.At
		if !drawable(v) {
			if err := flush(); err != nil {
				return nil, err
			}
			if sli.Float(v).Finite() {
				offScale++
			}
			edge := ys(lo) // NaN and -Inf (or off-scale below) at the bottom, +Inf at the top
			if v > 0 {
				edge = ys(hi)
			}
			nonFinite = append(nonFinite, plotter.XY{X: x, Y: edge})
			if !g.Healthy(v) {
				bad = append(bad, plotter.XY{X: x, Y: edge})
			}
			continue
		}
		seg = append(seg, plotter.XY{X: x, Y: ys(v)})
		if !g.Healthy(v) {
			bad = append(bad, plotter.XY{X: x, Y: ys(v)})
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}

	thy := ys(hi) // a threshold too large to draw: at the top edge
	if drawable(g.Guard.Threshold) {
		thy = ys(g.Guard.Threshold)
	}
	th, err := plotter.NewLine(plotter.XYs{{X: x0, Y: thy}, {X: x1, Y: thy}})
	if err != nil {
		return nil, err
	}
	th.Color, th.Width, th.Dashes = ColorThreshold, vg.Points(2.5), []vg.Length{vg.Points(7), vg.Points(3)}
	p.Add(th)
	p.Legend.Add("threshold "+FormatThreshold(g.Guard), th)

	if len(bad) > 0 {
		s, err := plotter.NewScatter(bad)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: ColorBad, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("bad sample (%d)", g.Bad), s)
	}
	if len(nonFinite) > 0 {
		s, err := plotter.NewScatter(nonFinite)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: ColorNonFinite, Radius: vg.Points(3), Shape: draw.CrossGlyph{}}
		p.Add(s)
		label := fmt.Sprintf("NaN/±Inf (%d, at the edge)", len(nonFinite)-offScale)
		if offScale > 0 {
			label = fmt.Sprintf("NaN/±Inf or off-scale (%d, %d off-scale, at the edge)", len(nonFinite), offScale)
		}
		p.Legend.Add(label, s)
	}

	if b := g.Breach; b != nil && !b.At.IsZero() {
		bx := unix(b.At)
		v := float64(b.Value)
		by := ys(lo)
		switch {
		case drawable(v):
			by = ys(v)
		case v > 0:
			by = ys(hi)
		}
		vl, err := plotter.NewLine(plotter.XYs{{X: bx, Y: ys(lo)}, {X: bx, Y: ys(hi)}})
		if err != nil {
			return nil, err
		}
		vl.Color, vl.Width = ColorBreach, vg.Points(2)
		p.Add(vl)
		dot, err := plotter.NewScatter(plotter.XYs{{X: bx, Y: by}})
		if err != nil {
			return nil, err
		}
		dot.GlyphStyle = draw.GlyphStyle{Color: ColorBreach, Radius: vg.Points(6), Shape: draw.CircleGlyph{}}
		p.Add(dot)
		p.Legend.Add("breach "+FormatApart(g.Unit, v, b.Threshold)+" at "+b.At.UTC().Format("15:04:05"), dot)
	}

	if msg := chartMessage(g); msg != "" {
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: []plotter.XY{{X: x0 + (x1-x0)*0.02, Y: ys(lo + (hi-lo)*0.45)}}, Labels: []string{msg}})
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Variant = "Sans"
		}
		p.Add(l)
	}
	// Top left: over the steady state before the run rather than over its
	// aftermath (the headroom above keeps it off the data).
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs = vg.Points(6)
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(14)
	p.Add(plotter.NewGrid())
	return p, nil
}

// maxDrawable bounds the magnitude of a value the charts draw where it is:
// Prometheus may answer any float64, and a sample near the float's limit
// overflows the axis arithmetic (span, headroom, ×1000 for ms) to ±Inf,
// which gonum/plot refuses, costing the run its HTML and its ticket chart.
// Beyond it a sample is marked at the edge like ±Inf, and the y range is
// that of the drawable samples.
const maxDrawable = 1e300

func drawable(v float64) bool { return !math.IsNaN(v) && math.Abs(v) <= maxDrawable }

func offScaleIn(g GuardReport) bool {
	return slices.ContainsFunc(g.Points, func(p sli.Point) bool { return sli.Float(p.Value).Finite() && !drawable(p.Value) })
}

// chartMessage says why a chart has no line.
func chartMessage(g GuardReport) string {
	switch {
	case g.Err != "":
		return "no chart: " + truncate(g.Err, 110)
	case g.Probe:
		return "no chart: a probe's answers are not a Prometheus series (its readings are in the report)"
	case g.NoData():
		return "no data in this window (the series did not exist, or Prometheus no longer keeps it)"
	}
	return ""
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// SVG draws guard i's chart as SVG, ready to inline in HTML (no XML
// declaration, scaled by CSS).
func SVG(rep *Report, i int) ([]byte, error) {
	p, err := chart(rep, rep.Guards[i])
	if err != nil {
		return nil, fmt.Errorf("chart of guard %s: %w", rep.Guards[i].Guard.Name, err)
	}
	wt, err := p.WriterTo(chartWidth, chartHeight, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, err
	}
	// The XML declaration is not allowed inside HTML; the generator's
	// comment after it stays.
	out := b.Bytes()
	if bytes.HasPrefix(out, []byte("<?xml")) {
		if i := bytes.Index(out, []byte("?>")); i > 0 {
			out = bytes.TrimLeft(out[i+2:], "\n")
		}
	}
	return out, nil
}

// PNG draws every guard's chart stacked in one image (the ticket's
// attachment). A run without guards has no chart: nil, nil.
func PNG(rep *Report) ([]byte, error) {
	if len(rep.Guards) == 0 {
		return nil, nil
	}
	rows := make([][]*plot.Plot, len(rep.Guards))
	for i, g := range rep.Guards {
		p, err := chart(rep, g)
		if err != nil {
			return nil, fmt.Errorf("chart of guard %s: %w", g.Guard.Name, err)
		}
		rows[i] = []*plot.Plot{p}
	}
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, chartHeight*vg.Length(len(rows))), vgimg.UseDPI(pngDPI))
	dc := draw.New(img)
	// A white background: a transparent PNG is unreadable on a dark theme.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: vg.Points(6), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
