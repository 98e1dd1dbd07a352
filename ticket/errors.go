package ticket

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"

	jira "github.com/andygrunwald/go-jira"
	"github.com/gameday/gameday/internal/errkind"
)

// Error is a failed Jira request. Its text holds Jira's own messages (they
// say what to fix: a missing field, an unknown issue type) and never the
// token. Permanent failures come wrapped in errkind.PermanentError; errors.As
// finds the *Error either way.
type Error struct {
	Op         string   // what was being done: "search", "create issue", …
	StatusCode int      // HTTP status; 0 when no response arrived
	Messages   []string // Jira's errorMessages and field errors, or the body's text
	msg        string
	cause      error // context.Canceled or DeadlineExceeded, for errors.Is
}

func (e *Error) Error() string { return e.msg }

// Unwrap exposes only a context error: the transport error itself is not
// kept, as its text is what Error already shows (scrubbed), and a caller
// printing the chain must not find an unscrubbed copy.
func (e *Error) Unwrap() error { return e.cause }

// Retryable reports whether the same request may succeed later: no answer
// at all, a server error, a timeout or rate limiting.
func (e *Error) Retryable() bool {
	switch {
	case e.StatusCode == 0, e.StatusCode >= 500:
		return true
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusTooManyRequests:
		return true
	case e.StatusCode >= 200 && e.StatusCode < 300:
		return true // an answer we could not read; a proxy's hiccup
	}
	return false
}

// goJiraNoise is the text go-jira appends to every HTTP failure; it says
// nothing the status does not.
var goJiraNoise = regexp.MustCompile(`:?\s*request failed\. Please analyze the request body for more details\. Status code: \d+`)

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

const maxMessage = 500

// fail turns a go-jira failure into an *Error, permanent unless retrying can
// help. parsed says whether go-jira already read the body into a jira.Error
// (most of its methods do; Create and raw requests do not).
func (j *Jira) fail(ctx context.Context, op string, resp *jira.Response, err error, parsed bool) error {
	var hr *http.Response
	if resp != nil {
		hr = resp.Response
	}
	if hr != nil && !parsed && (hr.StatusCode < 200 || hr.StatusCode > 299) {
		err = jira.NewJiraError(resp, err)
	}
	closeBody(resp)

	e := &Error{Op: op}
	switch {
	case errors.Is(err, context.Canceled):
		e.cause = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		e.cause = context.DeadlineExceeded
	}
	if hr == nil {
		// go-jira prefixes "No response returned: "; the op says as much.
		e.msg = j.redact(fmt.Sprintf("jira %s: %s", op, strings.TrimPrefix(fmt.Sprint(err), "No response returned: ")))
	} else {
		e.StatusCode = hr.StatusCode
		var je *jira.Error
		if errors.As(err, &je) {
			e.Messages = append(e.Messages, je.ErrorMessages...)
			for _, k := range slices.Sorted(maps.Keys(je.Errors)) {
				e.Messages = append(e.Messages, k+": "+je.Errors[k])
			}
		}
		if len(e.Messages) == 0 {
			e.Messages = []string{bodyText(err, hr)}
		}
		for i, m := range e.Messages {
			e.Messages[i] = j.redact(m)
		}
		status := hr.Status
		if status == "" {
			status = fmt.Sprint(hr.StatusCode)
		}
		e.msg = fmt.Sprintf("jira %s: %s", op, status)
		if hr.StatusCode >= 300 && hr.StatusCode < 400 {
			e.msg += fmt.Sprintf(": redirected to %s; set %s to the address Jira answers on", redactURL(hr.Header.Get("Location")), EnvURL)
		}
		if m := strings.Join(nonEmpty(e.Messages), "; "); m != "" {
			e.msg += ": " + m
		}
		e.msg = j.redact(e.msg)
	}
	j.log(ctx, slog.LevelWarn, "jira request failed", "op", op, "status", e.StatusCode, "error", e.msg)
	if e.Retryable() {
		return e
	}
	return errkind.Permanent(e)
}

// bodyText is what go-jira kept of a non-JSON error body, as one short line.
func bodyText(err error, hr *http.Response) string {
	if err == nil {
		return ""
	}
	s := goJiraNoise.ReplaceAllString(err.Error(), "")
	s = strings.TrimPrefix(s, "got response status ")
	s = strings.TrimPrefix(s, hr.Status)
	s = strings.TrimPrefix(s, ":")
	s = tags.ReplaceAllString(s, " ")
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	if rs := []rune(s); len(rs) > maxMessage {
		s = string(rs[:maxMessage]) + "…"
	}
	return s
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (j *Jira) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if j.Logger == nil {
		return
	}
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = j.redact(s)
		}
	}
	j.Logger.Log(ctx, level, msg, args...)
}
