package ticket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	jira "github.com/andygrunwald/go-jira"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/postmortem"
)

// Limits Jira enforces on the fields we write.
const (
	maxSummary     = 254   // Jira rejects summaries of 255 characters and more
	maxDescription = 32000 // text fields hold 32,767 characters; keep a margin
)

// RelatesLinkType is the issue link type used from a release ticket to the
// postmortem of a run that failed its gate: it exists in every default Jira
// and says nothing about blocking, which the status already says.
const RelatesLinkType = "Relates"

// Jira files postmortems and release evidence in one Jira project. It is safe
// for concurrent use by several activities.
type Jira struct {
	cfg     JiraConfig
	client  *jira.Client
	secrets []string
	// cloudSearch is set once the legacy /rest/api/2/search answered 410
	// Gone (Jira Cloud removed it in 2025), so later lookups go straight
	// to the enhanced /rest/api/3/search/jql.
	cloudSearch atomic.Bool

	// Logger, when set, gets one line per write and per failed request.
	// Lines carry issue keys and scrubbed errors, never the token.
	Logger *slog.Logger
}

var (
	_ postmortem.Sink     = (*Jira)(nil)
	_ postmortem.Attacher = (*Jira)(nil)
	_ postmortem.Linker   = (*Jira)(nil)
)

// NewJira validates cfg and returns a client that authenticates every
// request with basic auth (user + API token). httpClient supplies timeouts
// and TLS settings; it is copied, not changed, and nil means a client with a
// 30 s timeout. Redirects to another host or from https to http are not
// followed: the auth header would go with them.
func NewJira(cfg JiraConfig, httpClient *http.Client) (*Jira, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if httpClient != nil {
		c := *httpClient
		hc = &c
	}
	hc.Transport = &jira.BasicAuthTransport{Username: cfg.User, Password: cfg.Token, Transport: hc.Transport}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != base.Host || (base.Scheme == "https" && req.URL.Scheme != "https") {
			// Hand the 3xx back; fail() turns it into a permanent
			// error naming where Jira wanted to send us.
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	client, err := jira.NewClient(hc, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", EnvURL, err)
	}
	j := &Jira{cfg: cfg, client: client}
	j.secrets = secretForms(cfg.User, cfg.Token)
	return j, nil
}

// secretForms lists every spelling of the token that could end up in a
// message: raw, URL-escaped, and inside the Basic auth header value.
func secretForms(user, token string) []string {
	if token == "" {
		return nil
	}
	forms := []string{
		basicAuth(user, token),
		token,
		url.QueryEscape(token),
		url.PathEscape(token),
	}
	var out []string
	for _, f := range forms {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func basicAuth(user, token string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, token)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// redact removes the token in any of its spellings.
func (j *Jira) redact(s string) string {
	for _, f := range j.secrets {
		s = strings.ReplaceAll(s, f, "[redacted]")
	}
	return s
}

// RunLabel is the label that makes filing idempotent: one per workflow id,
// hashed because Jira labels cannot hold every character a workflow id can
// and must stay short.
func RunLabel(workflowID string) string {
	sum := sha256.Sum256([]byte(workflowID))
	return "gameday-run-" + hex.EncodeToString(sum[:])[:12]
}

// Marker is the text that identifies a run's comment on a release ticket,
// the same marker the local Markdown stand-in uses.
func Marker(workflowID string) string { return "[gameday-run " + workflowID + "]" }

// Summary is the issue summary of a run: short enough for Jira and naming
// the breached guard, which is what a reader triages by.
func Summary(r experiment.Result) string {
	s := fmt.Sprintf("gameday: %s %s", r.Scenario, r.Outcome)
	if r.Breach != nil && r.Breach.Guard != "" {
		s += " — " + r.Breach.Guard
	}
	s = strings.Join(strings.Fields(s), " ") // Jira rejects newlines in summaries
	if rs := []rune(s); len(rs) > maxSummary {
		s = string(rs[:maxSummary-1]) + "…"
	}
	return s
}

// Description is the issue body: postmortem.Render's report (one renderer
// for the file and the ticket) in Jira wiki markup, cut to what a Jira text
// field holds.
func Description(r experiment.Result) string {
	d := wiki(postmortem.Render(r))
	if rs := []rune(d); len(rs) > maxDescription {
		more := "\n\n(truncated: the full report is in the Temporal UI"
		if r.UIURL != "" {
			more += " " + r.UIURL
		}
		more += ")"
		d = string(rs[:maxDescription-len([]rune(more))]) + more
	}
	return d
}

// File files the postmortem of a run that did not pass and returns its issue
// key. A passed or dry run has nothing to file and returns "". The run label
// is searched first, so a retried activity returns the issue it filed before
// instead of filing a second one. (Jira's search index lags a write by a
// moment; a retry that lands inside that window can still file twice, and
// then later lookups return the oldest issue.)
func (j *Jira) File(ctx context.Context, r experiment.Result) (string, error) {
	switch r.Outcome {
	case experiment.Passed, experiment.DryRun:
		return "", nil
	case experiment.Running, "":
		return "", errkind.Permanent(fmt.Errorf("jira: run %s has not finished (outcome %q): nothing to file yet", r.WorkflowID, r.Outcome))
	}
	if r.WorkflowID == "" {
		return "", errkind.Permanent(errors.New("jira: run has no workflow id, so filing it could not be made idempotent"))
	}
	label := RunLabel(r.RunKey())
	key, err := j.findByLabel(ctx, label)
	if err != nil {
		return "", err
	}
	if key != "" {
		j.log(ctx, slog.LevelInfo, "jira postmortem already filed", "key", key, "workflow_id", r.WorkflowID)
		return key, nil
	}
	labels := append(append([]string(nil), j.cfg.Labels...), label)
	issue := &jira.Issue{Fields: &jira.IssueFields{
		Project:     jira.Project{Key: j.cfg.Project},
		Type:        jira.IssueType{Name: j.cfg.IssueType},
		Summary:     Summary(r),
		Description: Description(r),
		Labels:      labels,
	}}
	created, resp, err := j.client.Issue.CreateWithContext(ctx, issue)
	if err != nil {
		return "", j.fail(ctx, "create issue", resp, err, false)
	}
	if created == nil || created.Key == "" {
		// Created but unreadable: a retry finds it by its label.
		return "", fmt.Errorf("jira create issue: response carried no issue key")
	}
	j.log(ctx, slog.LevelInfo, "jira postmortem filed", "key", created.Key, "workflow_id", r.WorkflowID)
	return created.Key, nil
}

// Attach attaches data as a file called name to issue key (the report's
// chart on the postmortem), once: when the issue already has an attachment
// of that name (a retried report step) it is left as it is.
func (j *Jira) Attach(ctx context.Context, key, name string, data []byte) error {
	key = strings.TrimSpace(key)
	if !issueKey.MatchString(key) {
		return errkind.Permanent(fmt.Errorf("jira: cannot attach %s to %q: not an issue key like GD-123", name, key))
	}
	issue, resp, err := j.client.Issue.GetWithContext(ctx, key, &jira.GetQueryOptions{Fields: "attachment"})
	if err != nil {
		return j.fail(ctx, "get attachments of "+key, resp, err, true)
	}
	closeBody(resp)
	if issue != nil && issue.Fields != nil {
		for _, a := range issue.Fields.Attachments {
			if a != nil && a.Filename == name {
				j.log(ctx, slog.LevelInfo, "jira attachment already there", "key", key, "file", name)
				return nil
			}
		}
	}
	_, resp, err = j.client.Issue.PostAttachmentWithContext(ctx, url.PathEscape(key), bytes.NewReader(data), name)
	if err != nil {
		return j.fail(ctx, "attach "+name+" to "+key, resp, err, true)
	}
	closeBody(resp)
	j.log(ctx, slog.LevelInfo, "jira attachment added", "key", key, "file", name, "bytes", len(data))
	return nil
}

// Link is the browse URL of issue key ("" for a reference that is not an
// issue key).
func (j *Jira) Link(key string) string {
	if !issueKey.MatchString(key) {
		return ""
	}
	return strings.TrimRight(j.cfg.URL, "/") + "/browse/" + key
}

// findByLabel returns the oldest issue of the project carrying label, or "".
func (j *Jira) findByLabel(ctx context.Context, label string) (string, error) {
	jql := fmt.Sprintf("project = %s AND labels = %s ORDER BY created ASC", jqlString(j.cfg.Project), jqlString(label))
	if !j.cloudSearch.Load() {
		issues, resp, err := j.client.Issue.SearchWithContext(ctx, jql, &jira.SearchOptions{MaxResults: 1, Fields: []string{"summary"}})
		if err == nil {
			if len(issues) > 0 {
				return issues[0].Key, nil
			}
			return "", nil
		}
		ferr := j.fail(ctx, "search", resp, err, true)
		var je *Error
		if !errors.As(ferr, &je) || je.StatusCode != http.StatusGone {
			return "", ferr
		}
		j.cloudSearch.Store(true)
	}
	return j.searchJQL(ctx, jql)
}

// searchJQL uses Jira Cloud's enhanced search, which go-jira v1 predates.
func (j *Jira) searchJQL(ctx context.Context, jql string) (string, error) {
	q := url.Values{"jql": {jql}, "maxResults": {"1"}, "fields": {"summary"}}
	var page struct {
		Issues []struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"issues"`
	}
	if err := j.do(ctx, "search", http.MethodGet, "rest/api/3/search/jql?"+q.Encode(), nil, &page); err != nil {
		return "", err
	}
	if len(page.Issues) == 0 {
		return "", nil
	}
	if k := page.Issues[0].Key; k != "" {
		return k, nil
	}
	// The enhanced search may answer with ids only.
	issue, resp, err := j.client.Issue.GetWithContext(ctx, url.PathEscape(page.Issues[0].ID), &jira.GetQueryOptions{Fields: "summary"})
	if err != nil {
		return "", j.fail(ctx, "get issue "+page.Issues[0].ID, resp, err, true)
	}
	return issue.Key, nil
}

// jqlString quotes s as a JQL string literal, so a project key that is also
// a JQL keyword still parses.
func jqlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

var issueKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*-[0-9]+$`)

// ReleaseEvidence records a run on the release ticket key. It comments the
// run's evidence once (the comment carries Marker, and a ticket that already
// has it is not commented again). When the gate passed and so did the run,
// the ticket moves to the configured ready status, unless it is there
// already; a workflow without that transition is a permanent error listing
// the transitions it has, since only a Jira admin can fix it. Otherwise the
// ticket is linked to the postmortem (when postmortemKey is an issue key)
// and its status is left alone: a failed run must not move a release on.
func (j *Jira) ReleaseEvidence(ctx context.Context, key string, r experiment.Result, postmortemKey string) error {
	key = strings.TrimSpace(key)
	if !issueKey.MatchString(key) {
		return errkind.Permanent(fmt.Errorf("jira: release ticket %q is not an issue key like REL-123", key))
	}
	if r.WorkflowID == "" {
		return errkind.Permanent(errors.New("jira: run has no workflow id, so its release comment could not be made idempotent"))
	}
	issue, resp, err := j.client.Issue.GetWithContext(ctx, key, &jira.GetQueryOptions{Fields: "status,issuelinks"})
	if err != nil {
		return j.fail(ctx, "get issue "+key, resp, err, true)
	}
	marker := Marker(r.RunKey())
	found, err := j.hasComment(ctx, key, marker, escapeWiki(marker))
	if err != nil {
		return err
	}
	if found {
		j.log(ctx, slog.LevelInfo, "jira release evidence already commented", "key", key, "workflow_id", r.WorkflowID)
	} else {
		body := j.releaseComment(r, postmortemKey)
		if err := j.do(ctx, "comment on "+key, http.MethodPost, "rest/api/2/issue/"+url.PathEscape(key)+"/comment", map[string]string{"body": body}, nil); err != nil {
			return err
		}
		j.log(ctx, slog.LevelInfo, "jira release evidence commented", "key", key, "workflow_id", r.WorkflowID)
	}

	if r.Gate != nil && r.Gate.Passed && r.Outcome == experiment.Passed {
		return j.moveToReady(ctx, key, issue)
	}
	if postmortemKey == "" || !issueKey.MatchString(postmortemKey) {
		return nil // a local file path is named in the comment instead
	}
	if linked(issue, postmortemKey) {
		return nil
	}
	resp, err = j.client.Issue.AddLinkWithContext(ctx, &jira.IssueLink{
		Type:         jira.IssueLinkType{Name: RelatesLinkType},
		InwardIssue:  &jira.Issue{Key: key},
		OutwardIssue: &jira.Issue{Key: postmortemKey},
	})
	closeBody(resp)
	if err != nil {
		return j.fail(ctx, "link "+key+" to "+postmortemKey, resp, err, true)
	}
	j.log(ctx, slog.LevelInfo, "jira release ticket linked to postmortem", "key", key, "postmortem", postmortemKey)
	return nil
}

func (j *Jira) moveToReady(ctx context.Context, key string, issue *jira.Issue) error {
	want := j.cfg.ReadyStatus
	if issue != nil && issue.Fields != nil && issue.Fields.Status != nil && strings.EqualFold(issue.Fields.Status.Name, want) {
		return nil // a retry after the move went through
	}
	ts, resp, err := j.client.Issue.GetTransitionsWithContext(ctx, key)
	if err != nil {
		return j.fail(ctx, "get transitions of "+key, resp, err, true)
	}
	var avail []string
	for _, t := range ts {
		if strings.EqualFold(strings.TrimSpace(t.To.Name), strings.TrimSpace(want)) {
			resp, err := j.client.Issue.DoTransitionWithContext(ctx, key, t.ID)
			closeBody(resp)
			if err != nil {
				return j.fail(ctx, "transition "+key+" to "+want, resp, err, true)
			}
			j.log(ctx, slog.LevelInfo, "jira release ticket moved", "key", key, "status", t.To.Name)
			return nil
		}
		avail = append(avail, fmt.Sprintf("%q → %q", t.Name, t.To.Name))
	}
	if len(avail) == 0 {
		avail = []string{"none"}
	}
	return errkind.Permanent(fmt.Errorf("jira: release ticket %s has no transition to %q (%s); available: %s",
		key, want, EnvReadyStatus, strings.Join(avail, ", ")))
}

func linked(issue *jira.Issue, other string) bool {
	if issue == nil || issue.Fields == nil {
		return false
	}
	for _, l := range issue.Fields.IssueLinks {
		if l == nil {
			continue
		}
		for _, i := range []*jira.Issue{l.InwardIssue, l.OutwardIssue} {
			if i != nil && strings.EqualFold(i.Key, other) {
				return true
			}
		}
	}
	return false
}

// hasComment pages through the ticket's comments looking for any of the
// markers (as written, and as Jira may hand wiki text back escaped).
func (j *Jira) hasComment(ctx context.Context, key string, markers ...string) (bool, error) {
	const pageSize, maxPages = 100, 100
	start := 0
	for range maxPages {
		var page struct {
			Total    int `json:"total"`
			Comments []struct {
				Body string `json:"body"`
			} `json:"comments"`
		}
		p := fmt.Sprintf("rest/api/2/issue/%s/comment?startAt=%d&maxResults=%d", url.PathEscape(key), start, pageSize)
		if err := j.do(ctx, "get comments of "+key, http.MethodGet, p, nil, &page); err != nil {
			return false, err
		}
		for _, c := range page.Comments {
			for _, m := range markers {
				if strings.Contains(c.Body, m) {
					return true, nil
				}
			}
		}
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return false, nil
		}
	}
	return false, nil
}

// releaseComment is the evidence comment in wiki markup. The marker is
// written escaped: unescaped, "[gameday-run …]" would render as a link.
func (j *Jira) releaseComment(r experiment.Result, postmortemRef string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "h3. Game day evidence: %s (%s)\n", escapeWiki(r.Scenario), escapeWiki(r.Service))
	fmt.Fprintf(&b, "* Outcome: *%s*\n", escapeWiki(string(r.Outcome)))
	if g := r.Gate; g != nil {
		verdict := "passed"
		if !g.Passed {
			verdict = "FAILED"
		}
		fmt.Fprintf(&b, "* Release gate %s: *%s* (score %.1f%%, threshold %.1f%%)", escapeWiki(g.Checklist), verdict, g.Score, g.Threshold)
		if g.Reason != "" {
			fmt.Fprintf(&b, ": %s", escapeWiki(g.Reason))
		}
		b.WriteByte('\n')
		if len(g.BlockingFailed) > 0 {
			fmt.Fprintf(&b, "* Strong-blocking items failed: %s\n", escapeWiki(strings.Join(g.BlockingFailed, ", ")))
		}
		if len(g.Unsigned) > 0 {
			fmt.Fprintf(&b, "* Unsigned items: %s\n", escapeWiki(strings.Join(g.Unsigned, ", ")))
		}
		for _, it := range g.Items {
			for _, c := range it.Checks {
				fmt.Fprintf(&b, "* Evidence for %s: %s\n", escapeWiki(it.ID), escapeWiki(c.String()))
			}
		}
	} else {
		b.WriteString("* Release gate: none (the scenario names no checklist)\n")
	}
	if s := shortSummary(r); s != "" {
		fmt.Fprintf(&b, "* Summary: %s\n", escapeWiki(s))
	}
	if len(r.WeightChanges) > 0 {
		fmt.Fprintf(&b, "* Checklist weight changes: %d (see the postmortem)\n", len(r.WeightChanges))
	}
	controlComment(&b, r) // pauses and action items (control.go)
	if postmortemRef != "" {
		fmt.Fprintf(&b, "* Postmortem: %s\n", escapeWiki(postmortemRef))
	}
	if rl := r.Report; rl != nil && rl.HTML != "" {
		fmt.Fprintf(&b, "* Report (charts of every guard): %s\n", reportLink(rl.HTML))
	}
	if r.UIURL != "" {
		fmt.Fprintf(&b, "* Temporal UI: %s\n", r.UIURL)
	}
	if r.Gate != nil && r.Gate.Passed && r.Outcome == experiment.Passed {
		fmt.Fprintf(&b, "\nThe gate passed: moving the ticket to %s.\n", escapeWiki(j.cfg.ReadyStatus))
	}
	fmt.Fprintf(&b, "\n%s", escapeWiki(Marker(r.RunKey())))
	return b.String()
}

// shortSummary is one line on why the run ended the way it did.
func shortSummary(r experiment.Result) string {
	var parts []string
	if br := r.Breach; br != nil {
		if br.QueryError != "" {
			parts = append(parts, fmt.Sprintf("guard %s: %s kept failing: %s", br.Guard, br.SourceLabel(), br.QueryError))
		} else {
			parts = append(parts, fmt.Sprintf("guard %s breached: %s (healthy when %s)", br.Guard, br.Reading(), br.Condition()))
		}
	}
	if r.AbortReason != "" {
		parts = append(parts, r.AbortReason)
	}
	if r.Error != "" {
		parts = append(parts, r.Error)
	}
	if len(parts) == 0 && r.Outcome == experiment.Passed {
		parts = append(parts, fmt.Sprintf("steady state held; %d fault(s) injected and recovered", len(r.Injected)))
	}
	return strings.Join(strings.Fields(strings.Join(parts, "; ")), " ")
}

// do sends a request go-jira v1 has no method for (or sends with fields
// Jira may reject) and decodes a 2xx answer into v.
func (j *Jira) do(ctx context.Context, op, method, path string, body, v any) error {
	req, err := j.client.NewRequestWithContext(ctx, method, path, body)
	if err != nil {
		return errkind.Permanent(fmt.Errorf("jira %s: build request: %s", op, j.redact(err.Error())))
	}
	resp, err := j.client.Do(req, v)
	if err != nil {
		return j.fail(ctx, op, resp, err, false) // reads and closes the body
	}
	closeBody(resp)
	return nil
}

func closeBody(resp *jira.Response) {
	if resp != nil && resp.Response != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
}

// reportLink writes a report's location in wiki markup: a URL as it is
// (Jira links it), a file path escaped.
func reportLink(ref string) string {
	if strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://") {
		return ref
	}
	return escapeWiki(ref)
}
