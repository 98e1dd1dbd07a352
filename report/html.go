package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"strings"
	"time"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
)

// HTML renders the report as one self-contained file: styles inline, every
// chart an inline SVG drawn by gonum/plot, no script, nothing fetched.
func HTML(rep *Report) ([]byte, error) {
	view, err := viewOf(rep)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := htmlTmpl.ExecuteTemplate(&b, "doc", view); err != nil {
		return nil, fmt.Errorf("render HTML report: %w", err)
	}
	return b.Bytes(), nil
}

// runView is one run as the templates see it: the report and its charts.
type runView struct {
	*Report
	Charts []template.HTML
}

func viewOf(rep *Report) (runView, error) {
	charts := make([]template.HTML, len(rep.Guards))
	for i := range rep.Guards {
		svg, err := SVG(rep, i)
		if err != nil {
			return runView{}, err
		}
		// Our own SVG: gonum escapes every text it writes.
		charts[i] = template.HTML(svg) //nolint:gosec // generated, not user HTML
	}
	return runView{rep, charts}, nil
}

// HTMLGameDay renders a game day as one self-contained file: a table of its
// experiments, then each one's report with its charts.
func HTMLGameDay(day GameDay, reps []*Report, generated time.Time) ([]byte, error) {
	data := struct {
		Name      string
		Day       *gameday.Result
		Runs      []runView
		Generated time.Time
	}{Name: day.Name(), Day: day.Result, Generated: generated}
	for _, rep := range reps {
		v, err := viewOf(rep)
		if err != nil {
			return nil, err
		}
		data.Runs = append(data.Runs, v)
	}
	var b bytes.Buffer
	if err := htmlTmpl.ExecuteTemplate(&b, "gameday", data); err != nil {
		return nil, fmt.Errorf("render HTML game-day report: %w", err)
	}
	return b.Bytes(), nil
}

func css(c color.Color) template.CSS {
	r, g, b, a := c.RGBA()
	if a == 0 {
		return "transparent"
	}
	// Un-premultiply: color.RGBA stores premultiplied values.
	return template.CSS(fmt.Sprintf("rgba(%d,%d,%d,%.2f)", r*0xffff/a>>8, g*0xffff/a>>8, b*0xffff/a>>8, float64(a)/0xffff))
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("15:04:05")
}

// outcomeClass colours the outcome badge.
func outcomeClass(o experiment.Outcome) string {
	switch o {
	case experiment.Passed:
		return "ok"
	case experiment.DryRun, experiment.Running:
		return "neutral"
	}
	return "bad"
}

var funcs = template.FuncMap{
	"ts":      ts,
	"clock":   clock,
	"css":     css,
	"format":  Format,
	"thresh":  FormatThreshold,
	"outcome": outcomeClass,
	"dur": func(a, b time.Time) string {
		if a.IsZero() || b.IsZero() {
			return ""
		}
		return b.Sub(a).Round(time.Second).String()
	},
	"pct":         func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"inc":         func(i int) int { return i + 1 },
	"join":        func(s []string) string { return strings.Join(s, ", ") },
	"recovery":    recoveryText,
	"gv":          gv,
	"breach":      BreachText,
	"breachValue": breachValue,
	"verdict":     func(it checklist.ItemResult) string { v, _ := itemVerdict(it); return v },
	"signer":      func(it checklist.ItemResult) string { _, by := itemVerdict(it); return by },
	"evidence":    evidenceRows,
	"gatePct":     checklist.PctApart,
	"colors": func() []struct {
		Name string
		C    template.CSS
	} {
		return []struct {
			Name string
			C    template.CSS
		}{
			{"value", css(ColorSeries)}, {"threshold", css(ColorThreshold)}, {"bad sample", css(ColorBad)},
			{"breach", css(ColorBreach)}, {"NaN/±Inf (drawn at the edge)", css(ColorNonFinite)},
			{"faults injected", css(ColorInject)}, {"paused", css(ColorPause)}, {"recover", css(ColorRecover)},
		}
	},
}

var htmlTmpl = template.Must(template.New("report").Funcs(funcs).Parse(`{{define "style"}}<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;margin:1.5rem auto;max-width:68rem;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:.8rem;font-weight:600;color:#fff}
.badge.ok{background:#2c8a2c}.badge.bad{background:#c62828}.badge.neutral{background:#666}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dl.summary dt{font-weight:600}dl.summary dd{margin:0}
table{border-collapse:collapse;margin:.4rem 0;font-size:.92rem}th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}th{background:#f5f5f5}
figure.chart{margin:.8rem 0 1.4rem}figure.chart svg{width:100%;height:auto;display:block}figcaption{font-size:.9rem}
code{font-size:.85rem;background:#f5f5f5;padding:0 .2rem;word-break:break-all}
.key span{display:inline-block;margin-right:1rem;font-size:.85rem}.key i{display:inline-block;width:1.6rem;height:.7rem;margin-right:.3rem;vertical-align:middle;border:1px solid #ccc}
.warn{color:#c62828;font-weight:600}.muted{color:#666}
</style>{{end}}
{{define "run"}}<header>
<h1>{{.Result.Scenario}} on {{.Result.Service}} <span class="badge {{outcome .Result.Outcome}}" id="outcome">{{.Result.Outcome}}</span></h1>
{{with breach $.Report}}<p id="reason"><strong>Breach:</strong> {{.}}</p>{{else}}{{with .Result.AbortReason}}<p id="reason"><strong>Reason:</strong> {{.}}</p>{{end}}{{end}}
{{with .Result.Error}}<p><strong>Error:</strong> {{.}}</p>{{end}}
{{if .Result.Unguarded}}<p class="warn">UNGUARDED: no guard watched this run; nothing could abort it on an outage.</p>{{end}}
{{range .Result.RecoverAlarms}}<p class="warn">Recover alarm: {{.}}</p>{{end}}
<dl class="summary">
<dt>Run</dt><dd><code>{{.Result.WorkflowID}}</code>{{with .Result.RunID}} run <code>{{.}}</code>{{end}}</dd>
<dt>Started</dt><dd>{{ts .Result.Started}}</dd>
{{with .Result.Ended}}<dt>Ended</dt><dd>{{ts .}} ({{dur $.Result.Started .}})</dd>{{end}}
<dt>Resilience score</dt><dd id="score">{{if .Score.Scored}}{{pct .Score.Score}} / 100{{else}}not scored{{end}} <span class="muted">({{.Score.Why}})</span></dd>
{{with .Result.GameDay}}<dt>Game day</dt><dd><code>{{.}}</code></dd>{{end}}
{{with .Result.TraceID}}<dt>Trace</dt><dd>{{if $.Links.Trace}}<a href="{{$.Links.Trace}}">{{.}}</a>{{else}}<code>{{.}}</code>{{end}}</dd>{{end}}
{{range .Result.Overrides}}<dt>Changed</dt><dd>{{.String}}</dd>{{end}}
</dl>
<p id="links">
{{with .Links.TemporalUI}}<a href="{{.}}">Temporal UI</a> · {{end}}
{{with .Links.Ticket}}Postmortem: {{if $.Links.TicketURL}}<a href="{{$.Links.TicketURL}}">{{.}}</a>{{else}}<code>{{.}}</code>{{end}} · {{end}}
{{with .Links.ReleaseTicket}}Release ticket: <code>{{.}}</code> · {{end}}
{{with .Links.Trace}}<a href="{{.}}">Trace</a> · {{end}}
{{range $name, $ref := .Links.Files}}<a href="{{$ref}}">{{$name}}</a> {{end}}
</p>
</header>

<section id="charts">
<h2>Guards</h2>
<p class="key">{{range colors}}<span><i style="background:{{.C}}"></i>{{.Name}}</span>{{end}}</p>
{{range $i, $g := .Guards}}
<figure class="chart" id="chart-{{$g.Guard.Name}}" data-guard="{{$g.Guard.Name}}" data-unit="{{$g.Unit}}" data-threshold="{{$g.Guard.Threshold}}" data-bad="{{$g.Bad}}"{{if $g.Breach}} data-breach="{{ts $g.Breach.At}}"{{end}}>
{{index $.Charts $i}}
<figcaption>
<strong>{{$g.Guard.Name}}</strong>: healthy when {{thresh $g.Guard}}; {{$g.Guard.SourceLabel}} <code>{{$g.Guard.Source}}</code><br>
{{if $g.Err}}<span class="warn">range query failed: {{$g.Err}}</span>{{else if $g.Probe}}<span class="muted">a probe: its answers are not a Prometheus series; its readings are below</span>{{else if $g.NoData}}<span class="warn">no data in this window</span>{{else}}
{{len $g.Points}} samples, {{$g.Bad}} outside the threshold{{if $g.NonFinite}}, {{$g.NonFinite}} NaN/±Inf{{end}}; min {{format $g.Unit $g.Min}}, max {{format $g.Unit $g.Max}}, last {{format $g.Unit $g.Last}}{{end}}
{{with $g.Baseline}}<br>baseline (define): {{gv $g .}}{{end}}
{{with $g.Verify}} · verify: {{gv $g .}} ({{if .Healthy}}healthy{{else}}unhealthy{{end}}){{end}}
{{with $g.Breach}}<br><span class="warn" id="breach">Breach at {{ts .At}}: {{breachValue $g}}{{with .QueryError}} ({{.}}){{end}}</span>{{end}}
</figcaption>
</figure>
{{else}}<p>No guards (the scenario is unguarded).</p>{{end}}
<p class="muted">Window {{ts .Window.From}} – {{ts .Window.To}}, one sample every {{.Window.Step}}{{if .Window.Cut}}; cut at the moment the report was made (the minutes after the run did not exist yet: <code>gameday report {{.Result.WorkflowID}}</code> shows them){{end}}.</p>
</section>

<section id="timeline">
<h2>Timeline</h2>
<table><tr><th>time (UTC)</th><th>what</th><th></th></tr>
{{range .Timeline}}<tr class="ev-{{.Kind}}"><td>{{clock .At}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>
{{end}}</table>
</section>

{{if .Result.Targets}}<section id="targets"><h2>Targets</h2><ul>{{range .Result.Targets}}<li><code>{{.}}</code></li>{{end}}</ul></section>{{end}}

<section id="faults">
<h2>Faults</h2>
{{if .Result.RecoverLog}}<table><tr><th>fault</th><th>recovered at</th><th>recovery</th></tr>
{{range .Result.RecoverLog}}<tr><td><code>{{.FaultID}}</code></td><td>{{ts .At}}</td><td>{{recovery .}}</td></tr>
{{end}}</table>{{else if .Result.Injected}}<p>Injected: {{range .Result.Injected}}<code>{{.}}</code> {{end}}(no recover log)</p>{{else}}<p>Nothing was injected.</p>{{end}}
</section>

{{if .Result.Signoffs}}<section id="signoff"><h2>Sign-off</h2>
<table><tr><th>role</th><th>user</th><th>decision</th><th>reason</th><th>at</th></tr>
{{range .Result.Signoffs}}<tr><td>{{.Role}}</td><td>{{.User}}</td><td>{{if .Approved}}approved{{else}}rejected{{end}}</td><td>{{.Reason}}</td><td>{{ts .At}}</td></tr>
{{end}}</table></section>{{end}}

{{with .Result.Gate}}<section id="checklist"><h2>Release checklist {{.Checklist}}</h2>
<p>Gate {{if .Passed}}<strong>passed</strong>{{else}}<strong class="warn">failed</strong>: {{.Reason}}{{end}} — score {{gatePct .Score .Threshold}}% (threshold {{gatePct .Threshold .Threshold}}%)</p>
<table><tr><th>item</th><th>owner</th><th>weight</th><th>blocking</th><th>verdict</th><th>signed by</th><th>evidence</th><th>alerted</th></tr>
{{range .Items}}{{$v := verdict .}}<tr><td>{{.ID}}: {{.Title}}</td><td>{{.Owner}}</td><td>{{.Weight}}%</td><td>{{if .StrongBlocking}}yes{{end}}</td><td>{{if eq $v "FAIL"}}<span class="warn">FAIL</span>{{else}}{{$v}}{{end}}</td><td>{{signer .}}</td><td>{{.Evidence}}</td><td>{{if .Alerted}}yes{{end}}</td></tr>
{{end}}</table>
{{with evidence .}}<p>Evidence (judged after the run; nobody signs these items):</p>
<table id="evidence"><tr><th>item</th><th>check</th><th>value</th><th>healthy when</th><th>reduce</th><th>window</th><th>verdict</th><th>query</th></tr>
{{range .}}<tr><td>{{.Item}}</td><td>{{.Check}}</td><td>{{.Value}}</td><td>{{.Healthy}}</td><td>{{.Reduce}}</td><td>{{.Window}}</td><td>{{if eq .Verdict "FAIL"}}<span class="warn">FAIL</span>{{else}}{{.Verdict}}{{end}}</td><td><code>{{.Query}}</code></td></tr>
{{end}}</table>{{end}}</section>{{end}}

{{if .Result.WeightChanges}}<section id="weights"><h2>Weight changes</h2>
<table><tr><th>item</th><th>weight</th><th>strong-blocking</th><th>rule</th><th>why</th></tr>
{{range .Result.WeightChanges}}<tr><td>{{.ItemID}}</td><td>{{.OldWeight}}% → {{.NewWeight}}%</td><td>{{.OldBlocking}} → {{.NewBlocking}}</td><td>{{.Rule}}</td><td>{{.Reason}}</td></tr>
{{end}}</table></section>{{end}}

{{if .Result.Pauses}}<section id="pauses"><h2>Pauses</h2>
<table><tr><th>from</th><th>to</th><th>by</th><th>reason</th><th>ended</th></tr>
{{range .Result.Pauses}}<tr><td>{{ts .From}}</td><td>{{ts .To}}</td><td>{{.By}}{{if .Drift}} (drift){{end}}</td><td>{{.Reason}}</td><td>{{.Ended}}{{with .EndedBy}} by {{.}}{{end}}</td></tr>
{{end}}</table></section>{{end}}

{{if .Result.Notes}}<section id="notes"><h2>Notes</h2><ul>
{{range .Result.Notes}}<li class="note-{{.Kind}}"><strong>{{.Kind}}</strong> by {{.By}} at {{clock .At}}: {{.Text}}</li>
{{end}}</ul></section>{{end}}
{{end}}
{{define "head"}}<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} — gameday report</title>
{{template "style"}}
</head>{{end}}
{{define "doc"}}{{template "head" (printf "%s: %s" .Result.Scenario .Result.Outcome)}}
<body>
{{template "run" .}}
<footer class="muted"><p>Generated {{ts .Generated}} by gameday.</p></footer>
</body>
</html>
{{end}}
{{define "gameday"}}{{template "head" (printf "Game day %s" .Name)}}
<body>
<h1>Game day {{.Name}}{{with .Day}} <span class="badge {{outcome .Outcome}}" id="outcome">{{.Outcome}}</span>{{end}}</h1>
{{with .Day}}<p>Plan <strong>{{.Plan}}</strong>{{if .Environment}} in {{.Environment}}{{end}}{{if .People.Owner}}; owner {{.People.Owner}}{{end}}{{if .People.Coordinator}}, coordinator {{.People.Coordinator}}{{end}}{{if .People.Reporter}}, reporter {{.People.Reporter}}{{end}}{{if .People.Observers}}, observers {{join .People.Observers}}{{end}}.
Started {{ts .Started}}{{if not .Ended.IsZero}}, ended {{ts .Ended}}{{end}}.{{if .UIURL}} <a href="{{.UIURL}}">Temporal UI</a>{{end}}</p>
{{if .Reason}}<p id="reason"><strong>Why:</strong> {{.Reason}}</p>{{end}}
{{if .Preflight}}<h2>Pre-flight</h2><table id="gameday-preflight"><tr><th>guard</th><th>value</th><th>healthy</th></tr>
{{range .Preflight}}<tr><td>{{.Guard}}</td><td>{{.Reading}}</td><td>{{if .Healthy}}yes{{else}}<strong>no</strong>{{end}}</td></tr>
{{end}}</table>{{end}}
<table id="gameday-steps"><tr><th>stage</th><th>step</th><th>scenario</th><th>status</th><th>outcome</th><th>reason</th></tr>
{{range .Steps}}<tr><td>{{inc .Stage}}</td><td>{{if .Group}}{{.Group}} / {{end}}{{.Name}}</td><td>{{.Scenario}}</td><td>{{.Status}}</td><td>{{if .Outcome}}<span class="badge {{outcome .Outcome}}">{{.Outcome}}</span>{{end}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>
{{if .Notes}}<h2>Game-day notes</h2><table id="gameday-notes"><tr><th>time (UTC)</th><th>by</th><th>kind</th><th>note</th></tr>
{{range .Notes}}<tr><td>{{ts .At}}</td><td>{{.By}}</td><td>{{.Kind}}</td><td>{{.Text}}</td></tr>
{{end}}</table>{{end}}
{{if .Pauses}}<h2>Game-day pauses</h2><ul id="gameday-pauses">{{range .Pauses}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Experiments</h2>{{end}}
<table id="gameday-runs"><tr><th>#</th><th>scenario</th><th>service</th><th>outcome</th><th>score</th><th>run</th></tr>
{{range $i, $r := .Runs}}<tr><td>{{inc $i}}</td><td><a href="#run-{{inc $i}}">{{$r.Result.Scenario}}</a></td><td>{{$r.Result.Service}}</td><td><span class="badge {{outcome $r.Result.Outcome}}">{{$r.Result.Outcome}}</span></td><td>{{if $r.Score.Scored}}{{pct $r.Score.Score}}{{else}}not scored{{end}}</td><td><code>{{$r.Result.WorkflowID}}</code></td></tr>
{{end}}</table>
{{range $i, $r := .Runs}}<article class="run" id="run-{{inc $i}}">
<hr>
{{template "run" $r}}
</article>
{{end}}
<footer class="muted"><p>Generated {{ts .Generated}} by gameday.</p></footer>
</body>
</html>
{{end}}`))
