package activities

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/report"
	"github.com/gameday/gameday/sli"
)

// rangeQuerier answers every range query with a ramp, or err.
type rangeQuerier struct {
	err     error
	queries []string
}

func (q *rangeQuerier) QueryRange(_ context.Context, query string, start, end time.Time, step time.Duration) ([]sli.Point, error) {
	q.queries = append(q.queries, query)
	if q.err != nil {
		return nil, q.err
	}
	var out []sli.Point
	for t := start; !t.After(end); t = t.Add(step) {
		out = append(out, sli.Point{At: t, Value: 0.5})
	}
	return out, nil
}

// ticketSink is a postmortem sink like Jira: an issue key, a browse link,
// attachments.
type ticketSink struct {
	filed    []experiment.Result
	attached map[string][]byte
	failAtt  error
}

func (s *ticketSink) File(_ context.Context, r experiment.Result) (string, error) {
	s.filed = append(s.filed, r)
	return "GD-7", nil
}
func (s *ticketSink) Link(ref string) string { return "https://jira.example.com/browse/" + ref }
func (s *ticketSink) Attach(_ context.Context, ref, name string, data []byte) error {
	if s.failAtt != nil {
		return s.failAtt
	}
	if s.attached == nil {
		s.attached = map[string][]byte{}
	}
	s.attached[ref+"/"+name] = data
	return nil
}

var _ interface {
	postmortem.Sink
	postmortem.Attacher
	postmortem.Linker
} = (*ticketSink)(nil)

func reportRun(o experiment.Outcome) experiment.Result {
	start := time.Now().Add(-2 * time.Minute)
	return experiment.Result{
		WorkflowID: "gameday-x/1", RunID: "r1", Scenario: "x", Service: "svc", Outcome: o, Started: start,
		Phases:   []experiment.Phase{{Name: "inject", Status: "done", Started: start.Add(10 * time.Second), Ended: start.Add(11 * time.Second)}, {Name: "recover", Status: "done", Started: start.Add(70 * time.Second), Ended: start.Add(71 * time.Second)}},
		Injected: []string{"f0"}, TraceID: "abc123",
	}
}

var reportGuards = []sli.Guard{{Name: "p95", Query: "histogram_quantile(0.95, rate(x_seconds_bucket[1m]))", Op: sli.OpLE, Threshold: 0.8}}

// Every run gets a report, a passed one too: files on disk, links (URLs
// under GAMEDAY_REPORT_URL) in the result, a link in the announcement.
func TestReportWrittenForEveryRun(t *testing.T) {
	h := newHarness(t)
	q := &rangeQuerier{}
	h.acts.Ranges, h.acts.ReportDir, h.acts.ReportURL, h.acts.TraceURL = q, t.TempDir(), "https://gd.example.com/reports", "http://jaeger:16686"
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: reportRun(experiment.Passed), Guards: reportGuards})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	require.NotNil(t, res.Report)
	assert.Empty(t, res.Report.Error)
	assert.Equal(t, "https://gd.example.com/reports/gameday-x_1_r1/report.html", res.Report.HTML)
	assert.Equal(t, "https://gd.example.com/reports/gameday-x_1_r1/chart.png", res.Report.Chart)
	assert.Equal(t, []string{reportGuards[0].Query}, q.queries)
	dir := filepath.Join(h.acts.ReportDir, "gameday-x_1_r1")
	for _, f := range []string{report.HTMLFile, report.MarkdownFile, report.JUnitFile, report.JSONFile, report.ChartFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	html, _ := os.ReadFile(filepath.Join(dir, report.HTMLFile))
	assert.Contains(t, string(html), `href="http://jaeger:16686/trace/abc123"`)
	require.Len(t, h.sent, 1)
	assert.Contains(t, h.sent[0].Text, "report https://gd.example.com/reports/gameday-x_1_r1/report.html")
	assert.Empty(t, res.Postmortem)
}

// A run that did not pass: the postmortem links the report, the report
// links the ticket, the chart is attached to it.
func TestReportLinksThePostmortemBothWays(t *testing.T) {
	h := newHarness(t)
	sink := &ticketSink{}
	h.acts.Ranges, h.acts.ReportDir, h.acts.Postmortems = &rangeQuerier{}, t.TempDir(), sink
	r := reportRun(experiment.Aborted)
	r.Breach = &sli.Breach{Guard: "p95", Op: "<=", Threshold: 0.8, Value: 1.3, At: r.Started.Add(40 * time.Second)}
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: r, Guards: reportGuards})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	assert.Equal(t, "GD-7", res.Postmortem)
	require.Len(t, sink.filed, 1)
	require.NotNil(t, sink.filed[0].Report, "the postmortem knows the report")
	assert.Equal(t, res.Report.HTML, sink.filed[0].Report.HTML)
	png, ok := sink.attached["GD-7/gameday-x-chart.png"]
	require.True(t, ok, "chart attached: %v", sink.attached)
	assert.True(t, strings.HasPrefix(string(png), "\x89PNG"))
	md, err := os.ReadFile(res.Report.Markdown)
	require.NoError(t, err)
	assert.Contains(t, string(md), "- Postmortem: [GD-7](https://jira.example.com/browse/GD-7)", "rewritten with the ticket's link")
}

// Report failures never fail the step: Prometheus down, an attachment
// refused, a report dir that cannot be written.
func TestReportFailuresDoNotFailTheStep(t *testing.T) {
	h := newHarness(t)
	sink := &ticketSink{failAtt: errors.New("jira attach: 413 Request Entity Too Large")}
	blocked := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(blocked, nil, 0o644))
	h.acts.Ranges, h.acts.Postmortems = &rangeQuerier{err: errors.New("prometheus http://prom:9090: connection refused")}, sink
	h.acts.ReportDir = t.TempDir()
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: reportRun(experiment.Aborted), Guards: reportGuards})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	assert.Equal(t, "GD-7", res.Postmortem)
	assert.Contains(t, res.Report.Error, "413 Request Entity Too Large")
	html, err := os.ReadFile(res.Report.HTML)
	require.NoError(t, err)
	assert.Contains(t, string(html), "connection refused", "the chart says why it is empty")

	h.acts.ReportDir = filepath.Join(blocked, "reports") // a file where a dir should be
	v, err = h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: reportRun(experiment.Passed), Guards: reportGuards})
	require.NoError(t, err)
	var unwritten ReportResult
	require.NoError(t, v.Get(&unwritten))
	require.NotNil(t, unwritten.Report)
	assert.Contains(t, unwritten.Report.Error, "report dir")
	assert.Empty(t, unwritten.Report.HTML)
}

// failingNotifier is a Slack that is down.
type failingNotifier struct{ tries int }

func (n *failingNotifier) Notify(context.Context, notify.Message) error {
	n.tries++
	return errors.New("slack: post message: 503 Service Unavailable")
}

// The announcement is the step's last act: when Slack is down the step
// must not fail, or the workflow loses what the step already did (the
// postmortem's key, the report's links: `gameday maturity` then says the
// run has no postmortem although its ticket exists). It tries again
// briefly, then says in the result that the announcement was lost.
func TestReportStepSurvivesANotifierThatIsDown(t *testing.T) {
	h := newHarness(t)
	n := &failingNotifier{}
	h.acts.Notifier = n
	h.acts.Ranges, h.acts.ReportDir, h.acts.Postmortems = &rangeQuerier{}, t.TempDir(), &ticketSink{}
	v, err := h.env.ExecuteActivity(h.acts.Report, ReportInput{Result: reportRun(experiment.Aborted), Guards: reportGuards})
	require.NoError(t, err)
	var res ReportResult
	require.NoError(t, v.Get(&res))
	assert.Equal(t, "GD-7", res.Postmortem)
	require.NotNil(t, res.Report)
	assert.NotEmpty(t, res.Report.HTML)
	assert.Contains(t, res.NotifyError, "503 Service Unavailable")
	assert.Equal(t, 3, n.tries, "tried again before giving up")
}
