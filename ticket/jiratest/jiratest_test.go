package jiratest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/ticket/jiratest"
)

func do(t *testing.T, method, url, user, pass, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestServer(t *testing.T) {
	s := jiratest.New(t, "u", "tok")
	assert.True(t, strings.HasSuffix(s.URL(), jiratest.ContextPath))
	assert.True(t, strings.HasPrefix(s.URL(), "http://127.0.0.1:"), s.URL())

	code, _ := do(t, "GET", s.URL()+"/rest/api/2/issue/X-1", "u", "wrong", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = do(t, "GET", s.URL()+"/rest/api/2/issue/X-1", "", "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, 2, s.BadAuth())

	code, body := do(t, "POST", s.URL()+"/rest/api/2/issue", "u", "tok",
		`{"fields":{"project":{"key":"GD"},"summary":"s","description":"d","labels":["a","b"]}}`)
	require.Equal(t, http.StatusCreated, code, body)
	assert.Contains(t, body, `"key":"GD-1"`)

	s.AddIssue("REL-2", "In Review")
	s.SetTransitions("REL-2", jiratest.Transition{ID: "5", Name: "Go", To: "Done"})
	code, body = do(t, "POST", s.URL()+"/rest/api/2/issue/REL-2/comment", "u", "tok", `{"body":"hi"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, "POST", s.URL()+"/rest/api/2/issue/REL-2/transitions", "u", "tok", `{"transition":{"id":"5"}}`)
	require.Equal(t, http.StatusNoContent, code, body)
	code, body = do(t, "POST", s.URL()+"/rest/api/2/issueLink", "u", "tok",
		`{"type":{"name":"Relates"},"inwardIssue":{"key":"REL-2"},"outwardIssue":{"key":"GD-1"}}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = do(t, "GET", s.URL()+`/rest/api/2/search?jql=project+%3D+%22GD%22+AND+labels+%3D+%22b%22`, "u", "tok", "")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"total":1`)

	link := jiratest.Link{Type: "Relates", Inward: "REL-2", Outward: "GD-1"}
	assert.Equal(t, []jiratest.Issue{
		{ID: "10001", Key: "GD-1", Project: "GD", Summary: "s", Description: "d", Labels: []string{"a", "b"}, Status: "To Do", Links: []jiratest.Link{link}},
		{ID: "10002", Key: "REL-2", Project: "REL", Summary: "REL-2", Status: "Done", Comments: []string{"hi"}, Links: []jiratest.Link{link}},
	}, s.Issues())
	assert.Equal(t, []string{"REL-2:5"}, s.Transitioned())
	assert.Equal(t, []string{`project = "GD" AND labels = "b"`}, s.JQLs())
	assert.Equal(t, 1, s.Count("POST /rest/api/2/issue"))

	s.SetFail(func(w http.ResponseWriter, r *http.Request) bool {
		jiratest.WriteError(w, http.StatusServiceUnavailable, "down")
		return true
	})
	code, _ = do(t, "GET", s.URL()+"/rest/api/2/issue/GD-1", "u", "tok", "")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Zero(t, s.Count("GET /rest/api/2/issue/{key}"), "answered by the hook")

	log := s.Log()
	require.Len(t, log, 8)
	assert.Equal(t, "GET /jira/rest/api/2/issue/X-1", log[0])
	assert.Equal(t, `POST /jira/rest/api/2/issue/REL-2/comment {"body":"hi"}`, log[3])
	for _, l := range log {
		assert.NotContains(t, l, "tok")
	}
	for _, r := range s.Requests() {
		assert.Empty(t, r.Header.Get("Authorization"))
	}
	assert.Len(t, s.AuthHeaders(), 8)
}
