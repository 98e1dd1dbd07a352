// Package report turns a finished run (experiment.Result), its guards and
// their values over the run's window (Prometheus range queries) into what
// people read and CI systems parse: one self-contained HTML file with a
// chart per guard, Markdown, JUnit XML and JSON, plus the charts as PNG
// for tickets. Pure: no Temporal, no HTTP; the activity and the CLI fetch
// the data and call it. Charts are drawn with gonum.org/v1/plot.
package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/resilience"
	"github.com/gameday/gameday/sli"
)

// Margin is how much of the time before and after the run the charts show:
// enough to see the steady state on both sides of the fault.
const Margin = 5 * time.Minute

// MaxPoints bounds the samples asked of Prometheus per guard (the step
// grows with the window): a chart cannot show more, and the answer stays
// far below the client's size bound.
const MaxPoints = 720

// Window is the span of time a report's charts cover and the range-query
// step.
type Window struct {
	From time.Time     `json:"from"`
	To   time.Time     `json:"to"`
	Step time.Duration `json:"step"`
	// Cut: To was cut at the time the report was made (the run had just
	// ended, so the minutes after it did not exist yet).
	Cut bool `json:"cut,omitempty"`
}

// WindowOf is [start − Margin, end + Margin] of the run, cut at now (a
// report written as the run ends cannot show the minutes after it: `gameday
// report` run later can), with a step that keeps MaxPoints samples at most
// and is never finer than a second. Start is when the run began to act:
// the end of its sign-off wait when it had one. The wait may last a day,
// and charts stretched over it would sample a minute-long fault once or
// not at all.
func WindowOf(r experiment.Result, now time.Time) Window {
	end := RunEnd(r)
	if end.IsZero() || end.After(now) {
		end = now
	}
	start := r.Started
	for _, p := range r.Phases {
		if p.Name == experiment.PhaseSignoff && p.Ended.After(start) && !p.Ended.After(end) {
			start = p.Ended
		}
	}
	w := Window{From: start.Add(-Margin), To: end.Add(Margin)}
	if start.IsZero() {
		w.From = end.Add(-Margin)
	}
	if !now.IsZero() && w.To.After(now) {
		w.To, w.Cut = now, true
	}
	if !w.To.After(w.From) {
		w.To = w.From.Add(time.Second)
	}
	w.Step = max(time.Second, (w.To.Sub(w.From) / MaxPoints).Round(time.Second))
	if w.To.Sub(w.From)/w.Step > MaxPoints {
		w.Step += time.Second
	}
	return w
}

// RunEnd is when the run ended: Ended, else the end (or start) of its last
// phase; zero for a run that has not started a phase.
func RunEnd(r experiment.Result) time.Time {
	if !r.Ended.IsZero() {
		return r.Ended
	}
	var t time.Time
	for _, p := range r.Phases {
		for _, c := range []time.Time{p.Started, p.Ended} {
			if c.After(t) {
				t = c
			}
		}
	}
	return t
}

// Series is one guard's answer to the range query: its samples, or the
// error that kept the report from having them.
type Series struct {
	Guard  string      `json:"guard"`
	Points []sli.Point `json:"-"`
	Err    string      `json:"error,omitempty"`
	// Probe: the guard probes the service (kind http/tcp); its answers
	// are the run's own, not a Prometheus series, so nothing was queried.
	Probe bool `json:"probe,omitempty"`
}

// Links are where a reader goes next. Empty ones are left out.
type Links struct {
	TemporalUI string `json:"temporal_ui,omitempty"`
	// Ticket is the postmortem (a Jira key or a file) and TicketURL its
	// link when there is one.
	Ticket    string `json:"ticket,omitempty"`
	TicketURL string `json:"ticket_url,omitempty"`
	// ReleaseTicket is the release ticket that got the run's evidence.
	ReleaseTicket string `json:"release_ticket,omitempty"`
	// Trace is the link to the run's trace (GAMEDAY_TRACE_URL with the
	// run's trace id); the id alone is shown when no trace UI is known.
	Trace string `json:"trace,omitempty"`
	// Files are the other forms of this report (name → path or URL).
	Files map[string]string `json:"files,omitempty"`
}

// TraceLink builds a trace's link from a trace UI base: "{trace_id}" in it
// is replaced, else "/trace/<id>" (Jaeger's UI path) is appended. Empty
// when either is empty.
func TraceLink(base, traceID string) string {
	if base == "" || traceID == "" {
		return ""
	}
	if strings.Contains(base, "{trace_id}") {
		return strings.ReplaceAll(base, "{trace_id}", traceID)
	}
	return strings.TrimRight(base, "/") + "/trace/" + traceID
}

// Input is what a report is made of.
type Input struct {
	Result experiment.Result
	// Guards are the scenario's guards (thresholds, units); a guard of
	// the result the input does not list is reported from the result alone.
	Guards    []sli.Guard
	Series    []Series
	Window    Window
	Links     Links
	Generated time.Time
}

// Report is a run made ready to render: every format is drawn from it.
type Report struct {
	Result    experiment.Result
	Window    Window
	Links     Links
	Generated time.Time
	Guards    []GuardReport
	Regions   []Region
	Timeline  []Event
	Score     resilience.RunScore
}

// GuardReport is one guard over the window.
type GuardReport struct {
	Guard sli.Guard
	Unit  string
	// Points are the samples in the window as Prometheus answered.
	Points []sli.Point
	// Err: the range query failed; the chart says so instead of a line.
	Err string
	// Probe: a probe guard, which has no series to chart (Series.Probe).
	Probe bool
	// Bad counts samples outside the healthy condition (NaN included,
	// unless the guard ignores no-data), NonFinite the NaN/±Inf ones.
	Bad, NonFinite int
	// Min, Max and Last are over the finite samples (NaN when none).
	Min, Max, Last   float64
	Baseline, Verify *experiment.GuardValue
	// Breach is set on the guard that ended the run.
	Breach *sli.Breach
}

// NoData reports whether the window has no sample of the guard at all.
func (g GuardReport) NoData() bool { return g.Err == "" && !g.Probe && len(g.Points) == 0 }

// Healthy reports whether a sample is inside the guard's condition.
func (g GuardReport) Healthy(v float64) bool {
	if math.IsNaN(v) && g.Guard.OnNoData == sli.OnNoDataIgnore {
		return true
	}
	return sli.Healthy(g.Guard.Op, v, g.Guard.Threshold)
}

// Region kinds: what was going on in a stretch of the window.
const (
	RegionInject  = "inject"  // faults going in and held
	RegionPause   = "pause"   // paused: faults removed, waiting for a person
	RegionRecover = "recover" // faults being removed
)

// Region is a stretch of the window shaded on every chart.
type Region struct {
	Kind     string    `json:"kind"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Label    string    `json:"label,omitempty"`
	Detailed string    `json:"detail,omitempty"`
}

// Event is one line of the timeline.
type Event struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // phase, signoff, breach, pause, resume, note, recovered
	Text string    `json:"text"`
}

// Build computes what every format shows.
func Build(in Input) *Report {
	r := in.Result
	rep := &Report{Result: r, Window: in.Window, Links: in.Links, Generated: in.Generated}
	if rep.Links.TemporalUI == "" {
		rep.Links.TemporalUI = r.UIURL
	}
	if rep.Links.ReleaseTicket == "" {
		rep.Links.ReleaseTicket = r.ReleaseTicket
	}
	if rep.Links.Ticket == "" {
		rep.Links.Ticket = r.Postmortem
	}
	series := map[string]Series{}
	for _, s := range in.Series {
		series[s.Guard] = s
	}
	guards := in.Guards
	seen := map[string]bool{}
	for _, g := range guards {
		seen[g.Name] = true
	}
	// Guards known only from the result (a report made without the
	// scenario) still get a section, with what the result says.
	for _, v := range append(append([]experiment.GuardValue(nil), r.Baseline...), r.Verify...) {
		if !seen[v.Guard] {
			seen[v.Guard] = true
			g := sli.Guard{Name: v.Guard, Query: v.Query}
			if b := r.Breach; b != nil && b.Guard == v.Guard {
				g.Op, g.Threshold = sli.Op(b.Op), b.Threshold
			}
			guards = append(guards, g)
		}
	}
	for _, g := range guards {
		gr := GuardReport{Guard: g, Unit: sli.UnitOf(g), Min: math.NaN(), Max: math.NaN(), Last: math.NaN()}
		if s, ok := series[g.Name]; ok {
			gr.Points, gr.Err = s.Points, s.Err
		}
		gr.Probe = g.IsProbe()
		for _, p := range gr.Points {
			if !gr.Healthy(p.Value) {
				gr.Bad++
			}
			if !sli.Float(p.Value).Finite() {
				gr.NonFinite++
				continue
			}
			if math.IsNaN(gr.Min) || p.Value < gr.Min {
				gr.Min = p.Value
			}
			if math.IsNaN(gr.Max) || p.Value > gr.Max {
				gr.Max = p.Value
			}
			gr.Last = p.Value
		}
		gr.Baseline = guardValue(r.Baseline, g.Name)
		gr.Verify = guardValue(r.Verify, g.Name)
		if b := r.Breach; b != nil && b.Guard == g.Name {
			br := *b
			gr.Breach = &br
		}
		rep.Guards = append(rep.Guards, gr)
	}
	rep.Regions = regions(r, in.Window)
	rep.Timeline = timeline(r, func(name string) string {
		for _, g := range rep.Guards {
			if g.Guard.Name == name {
				return g.Unit
			}
		}
		return sli.UnitCount
	})
	rep.Score = resilience.ScoreRun(r)
	return rep
}

func guardValue(vs []experiment.GuardValue, name string) *experiment.GuardValue {
	for _, v := range vs {
		if v.Guard == name {
			v := v
			return &v
		}
	}
	return nil
}

// regions: faults in from the start of the last inject phase (earlier ones
// re-check and lease, injecting nothing) until recover starts; pauses as
// recorded; recover as its phase. Open ends close at the window's end.
func regions(r experiment.Result, w Window) []Region {
	var out []Region
	var inject, recover *experiment.Phase
	for i := range r.Phases {
		switch r.Phases[i].Name {
		case experiment.PhaseInject:
			inject = &r.Phases[i]
		case experiment.PhaseRecover:
			recover = &r.Phases[i]
		}
	}
	end := func(t time.Time) time.Time {
		if t.IsZero() {
			return w.To
		}
		return t
	}
	if inject != nil {
		to := time.Time{}
		if recover != nil {
			to = recover.Started
		}
		out = append(out, Region{Kind: RegionInject, From: inject.Started, To: end(to), Label: "faults injected", Detailed: inject.Detail})
	}
	for _, p := range r.Pauses {
		label := "paused"
		if p.Drift {
			label = "paused (drift)"
		}
		out = append(out, Region{Kind: RegionPause, From: p.From, To: end(p.To), Label: label, Detailed: p.Reason})
	}
	if recover != nil {
		out = append(out, Region{Kind: RegionRecover, From: recover.Started, To: end(recover.Ended), Label: "recover", Detailed: recover.Detail})
	}
	return out
}

func timeline(r experiment.Result, unit func(guard string) string) []Event {
	var ev []Event
	for _, p := range r.Phases {
		text := p.Name + " started"
		if p.Detail != "" && p.Ended.IsZero() {
			text += ": " + p.Detail
		}
		ev = append(ev, Event{At: p.Started, Kind: "phase", Text: text})
		if !p.Ended.IsZero() {
			text := p.Name + " " + p.Status
			if p.Detail != "" {
				text += ": " + p.Detail
			}
			ev = append(ev, Event{At: p.Ended, Kind: "phase", Text: text})
		}
	}
	for _, s := range r.Signoffs {
		text := s.User + " approved as " + s.Role
		if !s.Approved {
			text = s.User + " rejected as " + s.Role
		}
		if s.Reason != "" {
			text += ": " + s.Reason
		}
		ev = append(ev, Event{At: s.At, Kind: "signoff", Text: text})
	}
	if b := r.Breach; b != nil {
		ev = append(ev, Event{At: b.At, Kind: "breach", Text: breachText(b, unit(b.Guard))})
	}
	for _, p := range r.Pauses {
		text := "paused"
		if p.By != "" {
			text += " by " + p.By
		}
		if p.Drift {
			text += " (drift)"
		}
		if p.Reason != "" {
			text += ": " + p.Reason
		}
		ev = append(ev, Event{At: p.From, Kind: "pause", Text: text})
		if !p.To.IsZero() {
			text := "pause ended: " + cmp.Or(p.Ended, "resumed")
			if p.EndedBy != "" {
				text += " by " + p.EndedBy
			}
			ev = append(ev, Event{At: p.To, Kind: "resume", Text: text})
		}
	}
	for _, n := range r.Notes {
		ev = append(ev, Event{At: n.At, Kind: "note", Text: cmp.Or(n.Kind, experiment.NoteObservation) + " by " + n.By + ": " + n.Text})
	}
	for _, f := range r.RecoverLog {
		if f.At.IsZero() {
			continue
		}
		ev = append(ev, Event{At: f.At, Kind: "recovered", Text: f.FaultID + " " + recoveryText(f)})
	}
	slices.SortStableFunc(ev, func(a, b Event) int { return a.At.Compare(b.At) })
	return ev
}

// recoveryText says what recover did for one fault and how long the system
// took to heal, when the back-end measured it.
func recoveryText(f chaos.Recovered) string {
	var parts []string
	switch {
	case f.Removed:
		parts = append(parts, "removed")
	case f.AlreadyGone:
		parts = append(parts, "already gone")
	}
	if f.RecoveryTime > 0 {
		parts = append(parts, "healed in "+f.RecoveryTime.Round(100*time.Millisecond).String())
	}
	if f.Detail != "" {
		parts = append(parts, f.Detail)
	}
	return strings.Join(parts, "; ")
}

// BreachText says what ended the run, in the guard's unit ("guard
// p95-latency breached: 1.21 s, healthy when ≤ 800 ms"); empty without a
// breach.
func BreachText(rep *Report) string {
	b := rep.Result.Breach
	if b == nil {
		return ""
	}
	u := sli.UnitCount
	for _, g := range rep.Guards {
		if g.Guard.Name == b.Guard {
			u = g.Unit
		}
	}
	return breachText(b, u)
}

// probeAnswer: a probe's reading is its answer in words (no answer, a bad
// status or body), not a number with a unit.
func probeAnswer(kind string, noData bool, reason string) bool {
	return (kind == sli.KindHTTP || kind == sli.KindTCP) && (noData || reason != "")
}

func breachText(b *sli.Breach, unit string) string {
	cond := OpSymbol(sli.Op(b.Op)) + " " + Format(unit, b.Threshold)
	switch {
	case b.QueryError != "":
		return fmt.Sprintf("guard %s: %s failed %d times in a row: %s", b.Guard, b.SourceLabel(), sli.MaxQueryErrors, b.QueryError)
	case probeAnswer(b.Kind, b.NoData, b.Reason):
		return fmt.Sprintf("guard %s breached: %s, healthy when %s", b.Guard, b.Reading(), cond)
	case b.NoData:
		return fmt.Sprintf("guard %s breached: no data (is the service down or no longer scraped?), healthy when %s", b.Guard, cond)
	}
	return fmt.Sprintf("guard %s breached: %s, healthy when %s", b.Guard, FormatApart(unit, float64(b.Value), b.Threshold), cond)
}
