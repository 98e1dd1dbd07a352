package ticket

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/ticket/jiratest"
)

const (
	testUser  = "gameday-bot@example.com"
	testToken = "ATATT3xFfGF0+s3cr3t/t0k3n=VALUE"
)

func testConfig(f *jiratest.Server) JiraConfig {
	return JiraConfig{
		URL: f.URL(), User: testUser, Token: testToken, Project: "GD",
		IssueType: "Bug", Labels: []string{"gameday", "chaos"}, ReadyStatus: "Ready for Prod",
	}
}

func newFake(t *testing.T) *jiratest.Server {
	return jiratest.New(t, testUser, testToken)
}

func newClient(t *testing.T, f *jiratest.Server) (*Jira, *bytes.Buffer) {
	t.Helper()
	j, err := NewJira(testConfig(f), &http.Client{Timeout: 5 * time.Second})
	require.NoError(t, err)
	var logs bytes.Buffer
	j.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return j, &logs
}

const breachQuery = `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{job="checkout",code=~"5.."}[5m])) by (le))`

func failedRun() experiment.Result {
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	return experiment.Result{
		WorkflowID: "gameday-checkout-latency-20260304", RunID: "run-1",
		Scenario: "checkout-latency", Service: "checkout", Outcome: experiment.Aborted,
		AbortReason: "guard p99-latency breached",
		Phases: []experiment.Phase{
			{Name: experiment.PhaseInject, Status: experiment.StatusDone, Started: t0, Ended: t0.Add(time.Second)},
			{Name: experiment.PhaseObserve, Status: experiment.StatusFailed, Started: t0.Add(time.Second), Ended: t0.Add(time.Minute), Detail: "breach"},
		},
		Targets: []string{"toxiproxy/checkout-db"},
		Breach:  &sli.Breach{Guard: "p99-latency", Query: breachQuery, Op: "<", Value: 0.83, Threshold: 0.5, At: t0.Add(50 * time.Second)},
		Gate: &checklist.Gate{
			Checklist: "checkout-release", Passed: false, Score: 55, Threshold: 80, Reason: "strong-blocking item db-failover failed",
			BlockingFailed: []string{"db-failover"},
			Items: []checklist.ItemResult{{
				Item:   checklist.Item{ID: "db-failover", Title: "DB failover under load", Owner: "sre", Weight: 20},
				Signed: true, Pass: false, User: "alice.sre", At: t0, Evidence: "https://grafana.example/d/abc",
			}},
		},
		WeightChanges: []checklist.Change{{
			ItemID: "db-failover", OldWeight: 20, NewWeight: 55, OldBlocking: false, NewBlocking: true,
			Rule: checklist.RuleAlerting, Reason: "alerted in 3 releases", At: t0,
		}},
		UIURL: "http://temporal.example:8233/namespaces/default/workflows/gameday-checkout-latency-20260304/run-1/history",
	}
}

func passedRun() experiment.Result {
	r := failedRun()
	r.Outcome, r.AbortReason, r.Breach, r.WeightChanges = experiment.Passed, "", nil, nil
	r.Injected = []string{"f1"}
	r.Gate = &checklist.Gate{Checklist: "checkout-release", Passed: true, Score: 92.5, Threshold: 80}
	return r
}

// status is the current status of issue key in the fake.
func status(t *testing.T, f *jiratest.Server, key string) string {
	t.Helper()
	is, ok := f.Issue(key)
	require.True(t, ok, "no issue %s", key)
	return is.Status
}

// unescape undoes escapeWiki, to compare wiki text with the raw query.
func unescape(s string) string {
	return regexp.MustCompile(`\\([{}\[\]!~^+*])`).ReplaceAllString(s, "$1")
}

func TestFileFilesOneIssue(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	r := failedRun()

	key, err := j.File(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, "GD-1", key)

	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testToken))
	for _, h := range f.AuthHeaders() {
		assert.Equal(t, want, h)
	}
	assert.Zero(t, f.BadAuth())

	// The idempotency lookup came first, with the run label.
	require.Len(t, f.JQLs(), 1)
	label := RunLabel(r.RunKey())
	assert.Regexp(t, `^gameday-run-[0-9a-f]{12}$`, label)
	assert.Equal(t, `project = "GD" AND labels = "`+label+`" ORDER BY created ASC`, f.JQLs()[0])

	require.Len(t, f.Created(), 1)
	fields := f.Created()[0]
	assert.Equal(t, "GD", fields["project"].(map[string]any)["key"])
	assert.Equal(t, "Bug", fields["issuetype"].(map[string]any)["name"])
	assert.Equal(t, []any{"gameday", "chaos", label}, fields["labels"])
	assert.Equal(t, "gameday: checkout-latency aborted — p99-latency", fields["summary"])

	desc := fields["description"].(string)
	assert.Contains(t, desc, escapeWiki(breachQuery), "query escaped for wiki markup")
	assert.Contains(t, unescape(desc), breachQuery)
	assert.NotRegexp(t, `[^\\]\{job=`, desc, "an unescaped brace would open a macro")
	assert.Contains(t, desc, "|db-failover|20% → 55%|false → true|alerting|alerted in 3 releases|", "weight change line")
	assert.Contains(t, desc, r.UIURL, "UI link left as-is so Jira links it")
	assert.Contains(t, desc, "||phase||status||started||ended||detail||")
	assert.Contains(t, desc, "|observe|failed|2026-03-04T10:00:01Z|2026-03-04T10:01:00Z|breach|")
	assert.Contains(t, desc, "alice.sre 2026-03-04T10:00:00Z", "checklist signer")
	assert.Contains(t, desc, "toxiproxy/checkout-db")
	assert.Contains(t, desc, "h2. SLI evidence")
	assert.Contains(t, desc, "* Value: 0.83 (healthy when < 0.5)")
	assert.NotContains(t, desc, "| --- |")
	assert.NotContains(t, desc, "**")

	// A field go-jira might add by default must not reach Jira as junk.
	for k := range fields {
		assert.Contains(t, []string{"project", "issuetype", "summary", "description", "labels"}, k, "unexpected field sent")
	}
}

func TestFileIsIdempotent(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	r := failedRun()

	k1, err := j.File(context.Background(), r)
	require.NoError(t, err)
	k2, err := j.File(context.Background(), r) // a retried activity
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	assert.Equal(t, 1, f.Count("POST /rest/api/2/issue"), "second File must not create")
	assert.Equal(t, 2, f.Count("GET /rest/api/2/search"))

	// Another run gets its own issue.
	r.WorkflowID += "-b"
	k3, err := j.File(context.Background(), r)
	require.NoError(t, err)
	assert.NotEqual(t, k1, k3)
}

func TestFileNothingToFile(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	for _, o := range []experiment.Outcome{experiment.Passed, experiment.DryRun} {
		r := failedRun()
		r.Outcome = o
		key, err := j.File(context.Background(), r)
		require.NoError(t, err)
		assert.Empty(t, key)
	}
	r := failedRun()
	r.Outcome = experiment.Running
	_, err := j.File(context.Background(), r)
	assert.True(t, errkind.IsPermanent(err))
	assert.Zero(t, f.Count("POST /rest/api/2/issue"))
}

// Jira Cloud answers the legacy search with 410 Gone; the client moves to
// the enhanced search and stays there.
func TestFileCloudSearchFallback(t *testing.T) {
	f := newFake(t)
	f.SetLegacySearchGone(true)
	j, _ := newClient(t, f)
	r := failedRun()

	k1, err := j.File(context.Background(), r)
	require.NoError(t, err)
	k2, err := j.File(context.Background(), r)
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	assert.Equal(t, 1, f.Count("POST /rest/api/2/issue"))
	assert.Equal(t, 1, f.Count("GET /rest/api/2/search"), "legacy search tried once")
	assert.Equal(t, 2, f.Count("GET /rest/api/3/search/jql"))
}

func TestFileErrorClassification(t *testing.T) {
	cases := []struct {
		name      string
		fail      func(w http.ResponseWriter, r *http.Request)
		permanent bool
		status    int
		contains  []string
	}{
		{"500", func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "database is down", http.StatusInternalServerError)
		}, false, 500, []string{"500 Internal Server Error", "database is down"}},
		{"503 json", func(w http.ResponseWriter, _ *http.Request) {
			jiratest.WriteError(w, http.StatusServiceUnavailable, "Jira is being upgraded")
		}, false, 503, []string{"Jira is being upgraded"}},
		{"429", func(w http.ResponseWriter, _ *http.Request) {
			jiratest.WriteError(w, http.StatusTooManyRequests, "Rate limit exceeded.")
		}, false, 429, []string{"Rate limit exceeded."}},
		{"400 errorMessages", func(w http.ResponseWriter, _ *http.Request) {
			jiratest.WriteJSON(w, http.StatusBadRequest, map[string]any{
				"errorMessages": []string{"The value 'GD' does not exist for the field 'project'."},
				"errors":        map[string]string{"issuetype": "Specify a valid issue type", "labels": "Labels cannot contain spaces"},
			})
		}, true, 400, []string{"The value 'GD' does not exist for the field 'project'.", "issuetype: Specify a valid issue type", "labels: Labels cannot contain spaces"}},
		{"403 html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "<html><body><h1>Forbidden</h1><p>CAPTCHA required</p></body></html>")
		}, true, 403, []string{"403 Forbidden", "CAPTCHA required"}},
	}
	for _, tc := range cases {
		for _, op := range []string{"search", "create"} {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				f := newFake(t)
				j, _ := newClient(t, f)
				f.SetFail(func(w http.ResponseWriter, r *http.Request) bool {
					isCreate := r.Method == http.MethodPost
					if (op == "create") != isCreate {
						return false
					}
					tc.fail(w, r)
					return true
				})
				_, err := j.File(context.Background(), failedRun())
				require.Error(t, err)
				assert.Equal(t, tc.permanent, errkind.IsPermanent(err), "%v", err)
				var je *Error
				require.True(t, errors.As(err, &je))
				assert.Equal(t, tc.status, je.StatusCode)
				assert.Equal(t, !tc.permanent, je.Retryable())
				for _, s := range tc.contains {
					assert.Contains(t, err.Error(), s)
				}
				assert.NotContains(t, err.Error(), "Please analyze the request body")
			})
		}
	}
}

func TestFileNetworkErrorIsRetryable(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	f.Close()
	_, err := j.File(context.Background(), failedRun())
	require.Error(t, err)
	assert.False(t, errkind.IsPermanent(err))
	var je *Error
	require.True(t, errors.As(err, &je))
	assert.Zero(t, je.StatusCode)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = j.File(ctx, failedRun())
	assert.ErrorIs(t, err, context.Canceled)
}

// The token must not appear in any error or log line, however Jira fails,
// including when Jira (or a proxy) echoes the credentials back.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	auth := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testToken))
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("credentials followed a redirect to another host: %s %s", r.Method, r.URL)
	}))
	defer elsewhere.Close()

	modes := map[string]func(w http.ResponseWriter, r *http.Request){
		"500 echoes auth header": func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "proxy error; request had Authorization: "+r.Header.Get("Authorization")+" token="+testToken, http.StatusBadGateway)
		},
		"400 json echoes token": func(w http.ResponseWriter, _ *http.Request) {
			jiratest.WriteJSON(w, http.StatusBadRequest, map[string]any{
				"errorMessages": []string{"invalid api token " + testToken},
				"errors":        map[string]string{"auth": "Basic " + auth},
			})
		},
		"401 html": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "<p>Bad credentials %s:%s</p>", testUser, testToken)
		},
		"404 with escaped token": func(w http.ResponseWriter, _ *http.Request) {
			jiratest.WriteError(w, http.StatusNotFound, "no such thing: /x?token="+url.QueryEscape(testToken), "path /"+url.PathEscape(testToken), "raw "+testToken)
		},
		"bad json on 200": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "{not json "+testToken)
		},
		"redirect to another host": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/login?token="+testToken, http.StatusFound)
		},
		"connection dropped": func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		},
	}
	for name, mode := range modes {
		for _, call := range []string{"File", "ReleaseEvidence"} {
			t.Run(name+"/"+call, func(t *testing.T) {
				f := newFake(t)
				f.AddIssue("REL-1", "In Review")
				j, logs := newClient(t, f)
				f.SetFail(func(w http.ResponseWriter, r *http.Request) bool { mode(w, r); return true })
				var err error
				if call == "File" {
					_, err = j.File(context.Background(), failedRun())
				} else {
					err = j.ReleaseEvidence(context.Background(), "REL-1", passedRun(), "")
				}
				require.Error(t, err)
				t.Logf("%s (permanent=%t)", err, errkind.IsPermanent(err))
				for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), logs.String()} {
					assert.NotContains(t, s, testToken)
					assert.NotContains(t, s, auth)
					assert.NotContains(t, s, url.QueryEscape(testToken))
					assert.NotContains(t, s, url.PathEscape(testToken))
				}
				if strings.HasPrefix(name, "redirect") {
					assert.True(t, errkind.IsPermanent(err), "%v", err)
					assert.Contains(t, err.Error(), EnvURL)
				}
			})
		}
	}
}

func releaseFake(t *testing.T) (*jiratest.Server, *Jira) {
	f := newFake(t)
	f.AddIssue("REL-7", "In Review")
	f.SetTransitions("REL-7",
		jiratest.Transition{ID: "11", Name: "Back to work", To: "In Progress"},
		jiratest.Transition{ID: "31", Name: "Approve release", To: "Ready for Prod"},
	)
	j, _ := newClient(t, f)
	return f, j
}

func TestReleaseEvidencePassTransitions(t *testing.T) {
	f, j := releaseFake(t)
	r := passedRun()

	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, ""))
	require.Len(t, f.Comments("REL-7"), 1)
	c := f.Comments("REL-7")[0]
	assert.Contains(t, c, "Outcome: *passed*")
	assert.Contains(t, c, "Release gate checkout-release: *passed* (score 92.5%, threshold 80.0%)")
	assert.Contains(t, c, r.UIURL)
	assert.Contains(t, c, "steady state held")
	assert.Contains(t, unescape(c), Marker(r.RunKey()))
	assert.Equal(t, []string{"REL-7:31"}, f.Transitioned())
	assert.Equal(t, "Ready for Prod", status(t, f, "REL-7"))
	assert.Empty(t, f.Links())

	// A retry neither comments nor transitions again.
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, ""))
	assert.Len(t, f.Comments("REL-7"), 1)
	assert.Len(t, f.Transitioned(), 1)
	assert.Equal(t, 1, f.Count("GET /rest/api/2/issue/{key}/transitions"))
}

func TestReleaseEvidenceFailureLinksWithoutTransition(t *testing.T) {
	f, j := releaseFake(t)
	r := failedRun()
	pm, err := j.File(context.Background(), r)
	require.NoError(t, err)

	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, pm))
	require.Len(t, f.Comments("REL-7"), 1)
	c := f.Comments("REL-7")[0]
	assert.Contains(t, c, "Outcome: *aborted*")
	assert.Contains(t, c, "*FAILED* (score 55.0%, threshold 80.0%): strong-blocking item db-failover failed")
	assert.Contains(t, c, "Postmortem: "+pm)
	assert.Contains(t, c, "guard p99-latency breached: 0.83 (healthy when < 0.5)")
	assert.Equal(t, []jiratest.Link{{Type: "Relates", Inward: "REL-7", Outward: pm}}, f.Links())
	assert.Zero(t, f.Count("GET /rest/api/2/issue/{key}/transitions"))
	assert.Zero(t, f.Count("POST /rest/api/2/issue/{key}/transitions"))
	assert.Equal(t, "In Review", status(t, f, "REL-7"))

	// Retried: no second comment, no second link.
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, pm))
	assert.Len(t, f.Comments("REL-7"), 1)
	assert.Len(t, f.Links(), 1)

	// A passed run whose final gate failed on its evidence must not move
	// the ticket either, and the comment says what the evidence measured.
	r2 := passedRun()
	r2.WorkflowID = "other-run"
	cl := checklist.Checklist{Metadata: checklist.Metadata{Name: "demo-seed"}, Spec: checklist.Spec{Threshold: 80, Items: []checklist.Item{
		{ID: "cb-fallback", Owner: "dev", Weight: 60, StrongBlocking: true, VerifiedBy: []checklist.Check{{Name: "no-5xx"}}},
	}}}
	g := checklist.EvaluateGate(cl, nil, checklist.CheckResult{Item: "cb-fallback", Check: "no-5xx", Op: "==", Reduce: "last", Window: "observe", Value: 41})
	r2.Gate = &g
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r2, ""))
	assert.Zero(t, f.Count("POST /rest/api/2/issue/{key}/transitions"))
	require.Len(t, f.Comments("REL-7"), 2)
	assert.Contains(t, unescape(f.Comments("REL-7")[1]), "* Evidence for cb-fallback: no-5xx = 41 (want == 0; last over observe): FAIL")
}

func TestReleaseEvidenceMissingTransition(t *testing.T) {
	f, j := releaseFake(t)
	f.SetTransitions("REL-7", jiratest.Transition{ID: "11", Name: "Back to work", To: "In Progress"}, jiratest.Transition{ID: "41", Name: "Close", To: "Done"})
	err := j.ReleaseEvidence(context.Background(), "REL-7", passedRun(), "")
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	for _, s := range []string{`"Ready for Prod"`, EnvReadyStatus, `"In Progress"`, `"Done"`, `"Close"`} {
		assert.Contains(t, err.Error(), s)
	}
	assert.Empty(t, f.Transitioned())
	assert.Len(t, f.Comments("REL-7"), 1, "the evidence is recorded even when the move is impossible")
}

func TestReleaseEvidenceFindsMarkerOnLaterPage(t *testing.T) {
	f, j := releaseFake(t)
	r := failedRun()
	for i := range 130 {
		c := fmt.Sprintf("comment %d", i)
		if i == 120 {
			// As a human or an older writer might have left it: the raw marker.
			c = "evidence " + Marker(r.RunKey())
		}
		f.AddComments("REL-7", c)
	}
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, ""))
	assert.Len(t, f.Comments("REL-7"), 130)
	assert.GreaterOrEqual(t, f.Count("GET /rest/api/2/issue/{key}/comment"), 3)
}

func TestReleaseEvidenceBadInput(t *testing.T) {
	f, j := releaseFake(t)
	err := j.ReleaseEvidence(context.Background(), "not a key", passedRun(), "")
	assert.True(t, errkind.IsPermanent(err))

	err = j.ReleaseEvidence(context.Background(), "REL-404", passedRun(), "")
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	assert.Contains(t, err.Error(), "Issue does not exist")

	// A local postmortem path is named in the comment, not linked.
	r := failedRun()
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, "/var/lib/gameday/postmortems/x.md"))
	assert.Empty(t, f.Links())
	assert.Contains(t, f.Comments("REL-7")[0], "/var/lib/gameday/postmortems/x.md")
}

func TestSummaryAndDescriptionLimits(t *testing.T) {
	r := failedRun()
	r.Scenario = strings.Repeat("ü", 300)
	r.Breach.Guard = "g\nx"
	s := Summary(r)
	assert.Less(t, len([]rune(s)), 255)
	assert.NotContains(t, s, "\n")

	r = failedRun()
	for i := range 2000 {
		r.Phases = append(r.Phases, experiment.Phase{Name: "observe", Status: "running", Detail: strings.Repeat("x", 20) + strconv.Itoa(i)})
	}
	d := Description(r)
	assert.LessOrEqual(t, len([]rune(d)), maxDescription)
	assert.Contains(t, d, "truncated")
	assert.Contains(t, d, r.UIURL)
}

// What the client sends to Jira (URIs, query strings, bodies) never holds
// the token; only the Authorization header does. The fake's state is what a
// worker-level test would read back.
func TestTokenOnlyInAuthHeader(t *testing.T) {
	f, j := releaseFake(t)
	r := failedRun()
	pm, err := j.File(context.Background(), r)
	require.NoError(t, err)
	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, pm))

	auth := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testToken))
	log := f.Log()
	require.NotEmpty(t, log)
	for _, line := range log {
		for _, s := range []string{testToken, auth, url.QueryEscape(testToken), url.PathEscape(testToken)} {
			assert.NotContains(t, line, s)
		}
	}
	for _, req := range f.Requests() {
		assert.Empty(t, req.Header.Get("Authorization"))
		for k, vs := range req.Header {
			for _, v := range vs {
				assert.NotContains(t, v, testToken, "header %s", k)
			}
		}
	}
	assert.Contains(t, log[0], "GET /jira/rest/api/2/search?")

	issues := f.Issues()
	require.Len(t, issues, 2)
	rel, post := issues[0], issues[1]
	assert.Equal(t, "REL-7", rel.Key)
	assert.Equal(t, pm, post.Key)
	assert.Equal(t, Summary(r), post.Summary)
	assert.Equal(t, Description(r), post.Description)
	assert.Equal(t, []string{"gameday", "chaos", RunLabel(r.RunKey())}, post.Labels)
	assert.Equal(t, "To Do", post.Status)
	assert.Len(t, rel.Comments, 1)
	want := []jiratest.Link{{Type: RelatesLinkType, Inward: "REL-7", Outward: pm}}
	assert.Equal(t, want, rel.Links)
	assert.Equal(t, want, post.Links)
}

// A probe guard's breach reads as the probe's answer in the ticket too.
func TestShortSummaryOfAProbeBreach(t *testing.T) {
	r := experiment.Result{Outcome: experiment.Aborted, Breach: &sli.Breach{Guard: "health", Kind: sli.KindHTTP,
		Query: "GET http://shop/healthz, status 200-399, within 250ms", Op: "<=", Threshold: 0.25, Value: 0.003, Reason: "status 503, want 200-399"}}
	assert.Equal(t, "guard health breached: status 503, want 200-399 (healthy when an answer within 250ms)", shortSummary(r))
	r.Breach.Reason, r.Breach.QueryError = "", "probe target 10.0.0.1:80 is not allowed"
	assert.Contains(t, shortSummary(r), "guard health: probe kept failing: probe target")
}

// The postmortem issue names the run's trace.
func TestDescriptionNamesTheTrace(t *testing.T) {
	d := Description(experiment.Result{Scenario: "s", Outcome: experiment.Aborted, TraceID: "4bf92f3577b34da6a3ce929d0e0e4736"})
	assert.Contains(t, d, "Trace: {{4bf92f3577b34da6a3ce929d0e0e4736}}")
}

// The postmortem issue carries the pauses and notes tables (one renderer
// with the file); the release comment lists each pause and note.
func TestPausesAndNotesReachJira(t *testing.T) {
	f, j := releaseFake(t)
	r := failedRun()
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	r.Pauses = []experiment.Pause{{Reason: "p95 drifted 40% [7d]", By: experiment.DriftPauser, Drift: true, From: at, To: at.Add(10 * time.Minute),
		Ended: experiment.PauseTimeout, Faults: []string{"gd-1-f0"}}}
	r.Notes = []experiment.Note{{Text: "fallback {inventory} slow", By: "alice.sre", Kind: experiment.NoteAction, At: at.Add(time.Minute)}}
	pm, err := j.File(context.Background(), r)
	require.NoError(t, err)
	desc := f.Created()[0]["description"].(string)
	assert.Contains(t, desc, "h2. Pauses")
	assert.Contains(t, desc, "||from||to||paused by||reason||ended||ended by||faults removed||removed after||re-injected as||")
	assert.Contains(t, desc, "|drift rule (drift)|p95 drifted 40% \\[7d\\]|timeout|")
	assert.Contains(t, desc, "h2. Notes")
	assert.Contains(t, desc, "|2026-03-04T10:01:00Z|alice.sre|action|fallback \\{inventory\\} slow|")

	require.NoError(t, j.ReleaseEvidence(context.Background(), "REL-7", r, pm))
	c := f.Comments("REL-7")[0]
	assert.Contains(t, unescape(c), "* Pause: drift pause 2026-03-04T10:00:00Z by drift rule: p95 drifted 40% [7d]; ended timeout after 10m0s")
	assert.Contains(t, unescape(c), "* Action item by alice.sre: fallback {inventory} slow")
}

// The report's chart goes onto the postmortem issue once, as a real
// multipart upload with Jira's XSRF header; a retry finds it there.
func TestAttachChartOnce(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	ctx := context.Background()
	key, err := j.File(ctx, failedRun())
	require.NoError(t, err)
	png := []byte("\x89PNG\r\n\x1a\nnot really a chart")

	require.NoError(t, j.Attach(ctx, key, "gameday-chart.png", png))
	require.NoError(t, j.Attach(ctx, key, "gameday-chart.png", png), "a retried report step")
	got := f.Attachments(key)
	require.Len(t, got, 1)
	assert.Equal(t, "gameday-chart.png", got[0].Filename)
	assert.Equal(t, png, got[0].Data)
	assert.Equal(t, 1, f.Count("POST /rest/api/2/issue/{key}/attachments"))
	is, _ := f.Issue(key)
	assert.Len(t, is.Attachments, 1)

	assert.Equal(t, f.URL()+"/browse/"+key, j.Link(key))
	assert.Empty(t, j.Link("/data/postmortems/x.md"))

	err = j.Attach(ctx, "not a key", "x.png", png)
	require.Error(t, err)
	assert.True(t, errkind.IsPermanent(err))
	err = j.Attach(ctx, "GD-999", "x.png", png)
	require.Error(t, err, "no such issue")
	assert.NotContains(t, err.Error(), testToken)
}

// The fake refuses an upload without the header, like Jira: the client
// must send it.
func TestFakeRefusesAttachmentWithoutXSRFHeader(t *testing.T) {
	f := newFake(t)
	j, _ := newClient(t, f)
	key, err := j.File(context.Background(), failedRun())
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, f.URL()+"/rest/api/2/issue/"+key+"/attachments", strings.NewReader("x"))
	require.NoError(t, err)
	req.SetBasicAuth(testUser, testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, f.Attachments(key))
}
