package report

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gameday/gameday/experiment"
)

// JUnit XML, so CI systems show runs as test results: a run is a test
// case whose properties are its guards (one property each, its reading in
// words) and the run's facts; a game day is a suite with one case per
// experiment. How outcomes map (docs/design.md, Reports):
//
//	passed                                  → pass (a release gate that did
//	                                          not pass: <failure> release-gate)
//	aborted (a breach or a person), expired,
//	failed in verify (steady state not back) → <failure>
//	failed otherwise, cancelled              → <error> (the platform or a person stopped it)
//	dry run, still running                   → <skipped>

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties *junitProps     `xml:"properties,omitempty"`
	Cases      []junitTestCase `xml:"testcase"`
}

type junitProps struct {
	Props []junitProp `xml:"property"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestCase struct {
	Name       string        `xml:"name,attr"`
	Classname  string        `xml:"classname,attr"`
	Time       string        `xml:"time,attr"`
	Properties *junitProps   `xml:"properties,omitempty"`
	Failure    *junitProblem `xml:"failure,omitempty"`
	Error      *junitProblem `xml:"error,omitempty"`
	Skipped    *junitProblem `xml:"skipped,omitempty"`
	SystemOut  *junitText    `xml:"system-out,omitempty"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// JUnit renders runs as one suite named suite (a game day's name, or the
// scenario for a single run), one test case per run, in the order given.
func JUnit(suite string, reps ...*Report) []byte {
	s := junitSuite{Name: xmlSafe(suite)}
	var total time.Duration
	var first time.Time
	for _, rep := range reps {
		c, d := junitCase(rep)
		s.Cases = append(s.Cases, c)
		s.Tests++
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
		total += d
		if st := rep.Result.Started; !st.IsZero() && (first.IsZero() || st.Before(first)) {
			first = st
		}
	}
	s.Time = seconds(total)
	if !first.IsZero() {
		s.Timestamp = first.UTC().Format("2006-01-02T15:04:05")
	}
	all := junitSuites{Name: "gameday", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	_ = enc.Encode(all) // plain structs of strings and ints: cannot fail
	b.WriteByte('\n')
	return b.Bytes()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func junitCase(rep *Report) (junitTestCase, time.Duration) {
	r := rep.Result
	d := time.Duration(0)
	if end := RunEnd(r); !end.IsZero() && !r.Started.IsZero() {
		d = end.Sub(r.Started)
	}
	c := junitTestCase{Name: r.Scenario, Classname: "gameday." + r.Service, Time: seconds(d)}
	if r.GameDay != "" || r.WorkflowID != "" {
		c.Name = r.Scenario + " (" + r.WorkflowID + ")"
	}
	var props []junitProp
	add := func(name, value string) {
		if value != "" {
			props = append(props, junitProp{Name: name, Value: value})
		}
	}
	add("outcome", string(r.Outcome))
	add("workflow_id", r.WorkflowID)
	add("run_id", r.RunID)
	add("service", r.Service)
	if rep.Score.Scored {
		add("resilience_score", fmt.Sprintf("%.0f", rep.Score.Score))
	}
	add("temporal_ui", rep.Links.TemporalUI)
	add("postmortem", cmp.Or(rep.Links.TicketURL, rep.Links.Ticket))
	add("release_ticket", rep.Links.ReleaseTicket)
	add("trace_id", r.TraceID)
	add("trace", rep.Links.Trace)
	add("game_day", r.GameDay)
	for _, g := range rep.Guards {
		add("guard:"+g.Guard.Name, guardSummary(g))
	}
	if len(props) > 0 {
		c.Properties = &junitProps{Props: props}
	}

	reason := oneLine(cmp.Or(BreachText(rep), r.AbortReason, r.Error))
	switch r.Outcome {
	case experiment.Passed:
		// The guards held, but a release gate that did not pass makes
		// `run --wait` exit 3: CI must not read the run as a pass.
		if g := r.Gate; g != nil && !g.Passed {
			c.Failure = &junitProblem{Type: "release-gate", Message: oneLine("release gate " + g.Checklist + " " + g.Summary())}
		}
	case experiment.DryRun:
		c.Skipped = &junitProblem{Message: "dry run: nothing was injected"}
	case experiment.Running, "":
		c.Skipped = &junitProblem{Message: "not finished"}
	case experiment.Aborted:
		typ := "aborted"
		if r.Breach != nil && r.Breach.QueryError == "" {
			typ = "breach"
		}
		c.Failure = &junitProblem{Type: typ, Message: cmp.Or(reason, "aborted")}
	case experiment.Expired:
		c.Failure = &junitProblem{Type: "expired", Message: cmp.Or(reason, "sign-off expired")}
	case experiment.Failed:
		if slices.ContainsFunc(r.Phases, func(p experiment.Phase) bool {
			return p.Name == experiment.PhaseVerify && p.Status == experiment.StatusFailed
		}) && r.Breach == nil {
			c.Failure = &junitProblem{Type: "steady-state", Message: cmp.Or(reason, "steady state did not come back")}
		} else {
			c.Error = &junitProblem{Type: "failed", Message: cmp.Or(reason, "failed")}
		}
	default: // cancelled
		c.Error = &junitProblem{Type: string(r.Outcome), Message: cmp.Or(reason, string(r.Outcome))}
	}
	if p := cmpProblem(c); p != nil {
		p.Text = problemText(rep)
	}
	var out strings.Builder
	for _, e := range rep.Timeline {
		fmt.Fprintf(&out, "%s %-9s %s\n", clock(e.At), e.Kind, oneLine(e.Text))
	}
	c.SystemOut = &junitText{Text: out.String()}
	c.Name, c.Classname = xmlSafe(c.Name), xmlSafe(c.Classname)
	if c.Properties != nil {
		for i := range c.Properties.Props {
			p := &c.Properties.Props[i]
			p.Name, p.Value = xmlSafe(p.Name), xmlSafe(p.Value)
		}
	}
	for _, p := range []*junitProblem{c.Failure, c.Error, c.Skipped} {
		if p != nil {
			p.Message, p.Text = xmlSafe(p.Message), xmlSafe(p.Text)
		}
	}
	c.SystemOut.Text = xmlSafe(c.SystemOut.Text)
	return c, d
}

// xmlSafe replaces what XML 1.0 does not allow (control characters but
// tab and newlines, bytes that are not UTF-8, U+FFFE/U+FFFF) with U+FFFD.
// encoding/xml escapes attributes but writes CDATA as it is, and one such
// character (a note pasted from a terminal, a back-end's error) makes CI
// reject the whole file.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func cmpProblem(c junitTestCase) *junitProblem {
	switch {
	case c.Failure != nil:
		return c.Failure
	case c.Error != nil:
		return c.Error
	}
	return nil
}

// problemText is the body of a failure: the breach and the guards that
// went bad, in words.
func problemText(rep *Report) string {
	var lines []string
	if b := BreachText(rep); b != "" {
		lines = append(lines, b)
	}
	for _, g := range rep.Guards {
		if g.Bad > 0 || g.Breach != nil {
			lines = append(lines, g.Guard.Name+": "+guardSummary(g))
		}
	}
	if l := rep.Links.TemporalUI; l != "" {
		lines = append(lines, "Temporal UI: "+l)
	}
	return strings.Join(lines, "\n")
}

// guardSummary is one guard's reading in words: its condition, what the
// window saw, how it ended.
func guardSummary(g GuardReport) string {
	parts := []string{"healthy when " + FormatThreshold(g.Guard)}
	if g.Baseline != nil {
		parts = append(parts, "baseline "+gv(g, g.Baseline))
	}
	switch {
	case g.Err != "":
		parts = append(parts, "range query failed: "+oneLine(g.Err))
	case g.Probe:
		parts = append(parts, "a probe (no series in Prometheus)")
	case g.NoData():
		parts = append(parts, "no data in the window")
	default:
		parts = append(parts, "max "+Format(g.Unit, g.Max), fmt.Sprintf("%d of %d samples bad", g.Bad, len(g.Points)))
		if g.NonFinite > 0 {
			parts = append(parts, fmt.Sprintf("%d NaN/±Inf", g.NonFinite))
		}
	}
	if g.Verify != nil {
		parts = append(parts, "verify "+gv(g, g.Verify))
	}
	if b := g.Breach; b != nil {
		parts = append(parts, "breached at "+ts(b.At)+" ("+breachValue(g)+")")
	}
	return strings.Join(parts, "; ")
}
