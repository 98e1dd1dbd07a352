// Package jiratest is a stateful fake of the part of the Jira REST API that
// the ticket package uses, for tests in any package: a real gameday worker
// can be pointed at it through JIRA_URL and its effects read back.
//
// The fake serves, under the context path /jira as Jira Data Center often
// does:
//
//	GET  /rest/api/2/search                   (410 Gone after SetLegacySearchGone)
//	GET  /rest/api/3/search/jql               (Jira Cloud's enhanced search, ids only)
//	POST /rest/api/2/issue
//	GET  /rest/api/2/issue/{key}              (status and issue links)
//	GET  /rest/api/2/issue/{key}/comment      (paged, at most 50 a page)
//	POST /rest/api/2/issue/{key}/comment
//	GET  /rest/api/2/issue/{key}/transitions
//	POST /rest/api/2/issue/{key}/transitions
//	POST /rest/api/2/issueLink
//	POST /rest/api/2/issue/{key}/attachments  (multipart "file"; needs X-Atlassian-Token)
//
// Every request must carry basic auth with the user and token given to New;
// other requests are answered 401. Searches understand only JQL of the form
// `project = "P" AND labels = "L" ...`; any other JQL fails the test.
//
// The package deliberately does not import package ticket.
package jiratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// ContextPath is the path prefix the fake serves Jira under; URL includes it.
const ContextPath = "/jira"

// Issue is a snapshot of one issue held by the fake.
type Issue struct {
	ID, Key, Project string
	Summary          string
	Description      string
	Labels           []string
	Status           string
	// Comments are the comment bodies, oldest first.
	Comments []string
	// Links are the issue links this issue takes part in, either side.
	Links []Link
	// Attachments are the files attached to the issue, oldest first.
	Attachments []Attachment
}

// Attachment is one file attached to an issue.
type Attachment struct {
	ID, Filename string
	// MimeType is the part's Content-Type as the client sent it.
	MimeType string
	Data     []byte
}

// Link is an issue link: Inward (e.g. the release ticket) relates to
// Outward (e.g. the postmortem) with link type Type.
type Link struct{ Type, Inward, Outward string }

// Transition is a workflow transition offered for an issue: doing ID moves
// the issue to status To.
type Transition struct{ ID, Name, To string }

// Request is one request the fake received, whatever it answered.
type Request struct {
	Method string
	// URI is the request URI as sent: path (with ContextPath) and query.
	URI string
	// Header is a copy of the request headers without Authorization,
	// which AuthHeaders keeps instead.
	Header http.Header
	Body   string
}

// String is the request's Log line: method, URI and body.
func (r Request) String() string {
	s := r.Method + " " + r.URI
	if r.Body != "" {
		s += " " + r.Body
	}
	return s
}

// Server is a running fake Jira. Its methods are safe for concurrent use.
type Server struct {
	tb          testing.TB
	user, token string
	srv         *httptest.Server

	mu       sync.Mutex
	issues   map[string]*issue
	byID     map[string]string
	order    []string
	nextID   int
	comments map[string][]string
	// attachments per issue key; their ids count apart from issues'.
	attachments    map[string][]Attachment
	nextAttachment int
	// transitions available per issue (the same from every status).
	transitions map[string][]Transition
	links       []Link

	legacySearchGone bool

	calls        map[string]int // "METHOD pattern" → count
	created      []map[string]any
	jqls         []string
	authHeaders  []string
	badAuth      int
	transitioned []string
	requests     []Request

	fail func(w http.ResponseWriter, r *http.Request) bool
}

type issue struct {
	ID, Key, Project, Status string
	Summary, Description     string
	Labels                   []string
}

// New starts a fake Jira on a loopback address that accepts basic auth with
// user and token only, and closes it when tb's test ends.
func New(tb testing.TB, user, token string) *Server {
	tb.Helper()
	s := &Server{
		tb:          tb,
		user:        user,
		token:       token,
		issues:      map[string]*issue{},
		byID:        map[string]string{},
		comments:    map[string][]string{},
		attachments: map[string][]Attachment{},
		transitions: map[string][]Transition{},
		calls:       map[string]int{},
	}
	mux := http.NewServeMux()
	handle := func(pattern string, h http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.calls[pattern]++
			h(w, r)
		})
	}
	handle("GET /rest/api/2/search", s.search)
	handle("GET /rest/api/3/search/jql", s.searchJQL)
	handle("POST /rest/api/2/issue", s.create)
	handle("GET /rest/api/2/issue/{key}", s.getIssue)
	handle("GET /rest/api/2/issue/{key}/comment", s.listComments)
	handle("POST /rest/api/2/issue/{key}/comment", s.addComment)
	handle("GET /rest/api/2/issue/{key}/transitions", s.listTransitions)
	handle("POST /rest/api/2/issue/{key}/transitions", s.doTransition)
	handle("POST /rest/api/2/issueLink", s.addLink)
	handle("POST /rest/api/2/issue/{key}/attachments", s.addAttachment)

	// Serve under a context path so the client's relative URLs are
	// exercised.
	root := http.StripPrefix(ContextPath, mux)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := r.Header.Clone()
		h.Del("Authorization")

		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, URI: r.RequestURI, Header: h, Body: string(body)})
		s.authHeaders = append(s.authHeaders, r.Header.Get("Authorization"))
		u, p, ok := r.BasicAuth()
		fail := s.fail
		if !ok || u != s.user || p != s.token {
			s.badAuth++
			s.mu.Unlock()
			WriteJSON(w, http.StatusUnauthorized, map[string]any{"errorMessages": []string{"You are not authenticated."}})
			return
		}
		s.mu.Unlock()
		if fail != nil && fail(w, r) {
			return
		}
		root.ServeHTTP(w, r)
	}))
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL to configure the client with (JIRA_URL), including
// ContextPath and without a trailing slash.
func (s *Server) URL() string { return s.srv.URL + ContextPath }

// Close stops the server early, e.g. to provoke connection errors. It is
// also done when the test ends.
func (s *Server) Close() { s.srv.Close() }

// WriteJSON answers with v as JSON and status code, as Jira does.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers with a Jira error body carrying msgs as errorMessages.
func WriteError(w http.ResponseWriter, code int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	WriteJSON(w, code, map[string]any{"errorMessages": msgs, "errors": map[string]string{}})
}

// SetFail installs fn, which sees every authenticated request before the
// fake does and answers it instead when it returns true. nil removes it.
// fn runs without the fake's lock held.
func (s *Server) SetFail(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fn
}

// SetLegacySearchGone makes GET /rest/api/2/search answer 410 Gone, as Jira
// Cloud does since 2025, so clients must use /rest/api/3/search/jql.
func (s *Server) SetLegacySearchGone(gone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacySearchGone = gone
}

// AddIssue seeds an issue, e.g. a release ticket, in the project named by
// the key's prefix. The summary is the key.
func (s *Server) AddIssue(key, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := strconv.Itoa(10000 + s.nextID)
	if _, ok := s.issues[key]; !ok {
		s.order = append(s.order, key)
	}
	s.issues[key] = &issue{ID: id, Key: key, Project: strings.SplitN(key, "-", 2)[0], Status: status, Summary: key}
	s.byID[id] = key
}

// SetTransitions sets the transitions offered for issue key, from any
// status, replacing earlier ones.
func (s *Server) SetTransitions(key string, ts ...Transition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transitions[key] = slices.Clone(ts)
}

// AddComments appends comment bodies to issue key, as people or earlier
// runs might have left them. The issue need not exist yet.
func (s *Server) AddComments(key string, bodies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.comments[key] = append(s.comments[key], bodies...)
}

// Issues is a snapshot of all issues, in the order they were created or
// added.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.snapshot(s.issues[k]))
	}
	return out
}

// Issue is a snapshot of issue key; ok is false when there is none.
func (s *Server) Issue(key string) (is Issue, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.issues[key]
	if !ok {
		return Issue{}, false
	}
	return s.snapshot(i), true
}

func (s *Server) snapshot(i *issue) Issue {
	is := Issue{
		ID: i.ID, Key: i.Key, Project: i.Project, Summary: i.Summary, Description: i.Description,
		Labels: slices.Clone(i.Labels), Status: i.Status, Comments: slices.Clone(s.comments[i.Key]),
		Attachments: slices.Clone(s.attachments[i.Key]),
	}
	for _, l := range s.links {
		if l.Inward == i.Key || l.Outward == i.Key {
			is.Links = append(is.Links, l)
		}
	}
	return is
}

// Comments are the comment bodies on issue key, oldest first.
func (s *Server) Comments(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.comments[key])
}

// Links are all issue links created, in order.
func (s *Server) Links() []Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.links)
}

// Created are the "fields" objects of every create-issue request, decoded
// from JSON, including rejected ones.
func (s *Server) Created() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// JQLs are the JQL queries of every search, legacy and enhanced, that
// reached the fake (not a 410 answer).
func (s *Server) JQLs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.jqls)
}

// Transitioned lists the transitions done, as "KEY:transitionID".
func (s *Server) Transitioned() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.transitioned)
}

// AuthHeaders are the Authorization headers of every request, in order.
func (s *Server) AuthHeaders() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.authHeaders)
}

// BadAuth counts requests answered 401 for missing or wrong credentials.
func (s *Server) BadAuth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.badAuth
}

// Count is how many requests reached the handler registered for pattern,
// one of the "METHOD /rest/api/..." lines in the package documentation.
// Requests answered by a SetFail hook or with 401 are not counted.
func (s *Server) Count(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[pattern]
}

// Requests are all requests received, in order, including ones answered
// 401 or by a SetFail hook.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Log has one line per request received: method, request URI (with query)
// and body, everything the client sent but its headers. A test can check
// that a secret never appears in it.
func (s *Server) Log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.String()
	}
	return out
}

var (
	jqlProject = regexp.MustCompile(`project = "([^"]+)"`)
	jqlLabel   = regexp.MustCompile(`labels = "([^"]+)"`)
)

func (s *Server) matching(jql string) []*issue {
	s.jqls = append(s.jqls, jql)
	p, l := jqlProject.FindStringSubmatch(jql), jqlLabel.FindStringSubmatch(jql)
	if p == nil || l == nil {
		s.tb.Errorf("jiratest: unexpected JQL %q", jql)
		return nil
	}
	var out []*issue
	for _, k := range s.order {
		is := s.issues[k]
		if is.Project == p[1] && slices.Contains(is.Labels, l[1]) {
			out = append(out, is)
		}
	}
	return out
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	if s.legacySearchGone {
		WriteError(w, http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")
		return
	}
	found := s.matching(r.URL.Query().Get("jql"))
	issues := []map[string]any{}
	for _, is := range found {
		issues = append(issues, map[string]any{"id": is.ID, "key": is.Key, "fields": map[string]any{"summary": is.Summary}})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"startAt": 0, "maxResults": 1, "total": len(found), "issues": issues})
}

// searchJQL answers like Jira Cloud's enhanced search with ids only, so the
// client's id → key lookup is exercised.
func (s *Server) searchJQL(w http.ResponseWriter, r *http.Request) {
	found := s.matching(r.URL.Query().Get("jql"))
	issues := []map[string]any{}
	for _, is := range found {
		issues = append(issues, map[string]any{"id": is.ID})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"issues": issues, "isLast": true})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Fields map[string]any `json:"fields"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		WriteError(w, http.StatusBadRequest, "bad JSON: "+err.Error())
		return
	}
	s.created = append(s.created, body.Fields)
	project, _ := body.Fields["project"].(map[string]any)
	key, _ := project["key"].(string)
	if key == "" {
		WriteJSON(w, http.StatusBadRequest, map[string]any{"errorMessages": []string{}, "errors": map[string]string{"project": "project is required"}})
		return
	}
	var labels []string
	if ls, ok := body.Fields["labels"].([]any); ok {
		for _, l := range ls {
			if l, ok := l.(string); ok {
				labels = append(labels, l)
			}
		}
	}
	summary, _ := body.Fields["summary"].(string)
	desc, _ := body.Fields["description"].(string)
	s.nextID++
	id := strconv.Itoa(10000 + s.nextID)
	is := &issue{
		ID: id, Key: fmt.Sprintf("%s-%d", key, s.nextID), Project: key, Status: "To Do",
		Summary: summary, Description: desc, Labels: labels,
	}
	s.issues[is.Key], s.byID[id] = is, is.Key
	s.order = append(s.order, is.Key)
	WriteJSON(w, http.StatusCreated, map[string]any{"id": id, "key": is.Key, "self": "http://jira/rest/api/2/issue/" + id})
}

// issue finds the issue named by the {key} path value, a key or an id, or
// answers 404.
func (s *Server) issue(w http.ResponseWriter, r *http.Request) *issue {
	k := r.PathValue("key")
	if byID, ok := s.byID[k]; ok {
		k = byID
	}
	is, ok := s.issues[k]
	if !ok {
		WriteError(w, http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
		return nil
	}
	return is
}

func (s *Server) getIssue(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	links := []map[string]any{}
	for _, l := range s.links {
		switch is.Key {
		case l.Inward:
			links = append(links, map[string]any{"type": map[string]any{"name": l.Type}, "outwardIssue": map[string]any{"key": l.Outward}})
		case l.Outward:
			links = append(links, map[string]any{"type": map[string]any{"name": l.Type}, "inwardIssue": map[string]any{"key": l.Inward}})
		}
	}
	attachments := []map[string]any{}
	for _, a := range s.attachments[is.Key] {
		attachments = append(attachments, attachmentJSON(a))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"id": is.ID, "key": is.Key, "fields": map[string]any{
		"summary": is.Summary, "status": map[string]any{"name": is.Status}, "issuelinks": links, "attachment": attachments,
	}})
}

func attachmentJSON(a Attachment) map[string]any {
	return map[string]any{"id": a.ID, "filename": a.Filename, "size": len(a.Data), "mimeType": a.MimeType}
}

// addAttachment takes a multipart upload in the field "file", as Jira
// does, and refuses one without the XSRF header Jira requires.
func (s *Server) addAttachment(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	if tok := r.Header.Get("X-Atlassian-Token"); tok != "no-check" && tok != "nocheck" {
		WriteError(w, http.StatusForbidden, "XSRF check failed")
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		WriteError(w, http.StatusBadRequest, "not a multipart upload: "+err.Error())
		return
	}
	var out []map[string]any
	for _, fh := range r.MultipartForm.File["file"] {
		f, err := fh.Open()
		if err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		data, err := io.ReadAll(f)
		_ = f.Close()
		if err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.nextAttachment++
		a := Attachment{ID: strconv.Itoa(20000 + s.nextAttachment), Filename: fh.Filename, MimeType: fh.Header.Get("Content-Type"), Data: data}
		s.attachments[is.Key] = append(s.attachments[is.Key], a)
		out = append(out, attachmentJSON(a))
	}
	if len(out) == 0 {
		WriteError(w, http.StatusBadRequest, "no file in the field \"file\"")
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

// Attachments are the files attached to issue key, oldest first.
func (s *Server) Attachments(key string) []Attachment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.attachments[key])
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	all := s.comments[is.Key]
	start, _ := strconv.Atoi(r.URL.Query().Get("startAt"))
	max, _ := strconv.Atoi(r.URL.Query().Get("maxResults"))
	if max <= 0 || max > 50 {
		max = 50 // like Jira, cap the page below what the client asked for
	}
	page := []map[string]any{}
	for i := start; i < len(all) && i < start+max; i++ {
		page = append(page, map[string]any{"id": strconv.Itoa(i + 1), "body": all[i]})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"startAt": start, "maxResults": max, "total": len(all), "comments": page})
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		WriteError(w, http.StatusBadRequest, "bad JSON")
		return
	}
	for k := range body {
		if k != "body" {
			WriteError(w, http.StatusBadRequest, "unexpected comment field "+k)
			return
		}
	}
	text, _ := body["body"].(string)
	s.comments[is.Key] = append(s.comments[is.Key], text)
	WriteJSON(w, http.StatusCreated, map[string]any{"id": strconv.Itoa(len(s.comments[is.Key])), "body": text})
}

func (s *Server) listTransitions(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	ts := []map[string]any{}
	for _, t := range s.transitions[is.Key] {
		ts = append(ts, map[string]any{"id": t.ID, "name": t.Name, "to": map[string]any{"name": t.To}})
	}
	WriteJSON(w, http.StatusOK, map[string]any{"transitions": ts})
}

func (s *Server) doTransition(w http.ResponseWriter, r *http.Request) {
	is := s.issue(w, r)
	if is == nil {
		return
	}
	var body struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	for _, t := range s.transitions[is.Key] {
		if t.ID == body.Transition.ID {
			is.Status = t.To
			s.transitioned = append(s.transitioned, is.Key+":"+t.ID)
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	WriteError(w, http.StatusBadRequest, "Transition id '"+body.Transition.ID+"' is not valid for this issue.")
}

func (s *Server) addLink(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type struct {
			Name string `json:"name"`
		} `json:"type"`
		Inward  *struct{ Key string } `json:"inwardIssue"`
		Outward *struct{ Key string } `json:"outwardIssue"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Inward == nil || body.Outward == nil {
		WriteError(w, http.StatusBadRequest, "bad link")
		return
	}
	for _, k := range []string{body.Inward.Key, body.Outward.Key} {
		if _, ok := s.issues[k]; !ok {
			WriteError(w, http.StatusNotFound, "Issue "+k+" does not exist")
			return
		}
	}
	s.links = append(s.links, Link{Type: body.Type.Name, Inward: body.Inward.Key, Outward: body.Outward.Key})
	w.WriteHeader(http.StatusCreated)
}
