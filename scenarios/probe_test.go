package scenarios

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/sli"
)

// probeDoc is base with its second guard replaced by the given lines
// (the guards start at line 19; the second guard's lines begin at 23).
func probeDoc(guard string) []byte {
	return edit(map[int]string{23: guard, 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-"})
}

func TestProbeGuardDefaults(t *testing.T) {
	s, err := Parse("x.yaml", probeDoc(`    - name: health
      kind: http
      http:
        url: http://shop.internal:8080/healthz
        body: ok
      interval: 250ms`))
	require.NoError(t, err)
	g := s.Spec.Guards[1]
	assert.Equal(t, "GET", g.HTTP.Method)
	assert.Equal(t, sli.DefaultHTTPStatus, g.HTTP.Status)
	assert.Equal(t, sli.DefaultProbeLatency, g.HTTP.Latency.D())
	assert.Equal(t, sli.OpLE, g.Op, "a probe is healthy when it answers within its limit")
	assert.Equal(t, sli.DefaultProbeLatency.Seconds(), g.Threshold)
	assert.Equal(t, 250*time.Millisecond, g.Interval.D())
	assert.Equal(t, "GET http://shop.internal:8080/healthz, status 200-399, body matching \"ok\", within 1s", g.Source())

	// The resolved scenario loads again unchanged (the workflow input and
	// the files tests write back).
	back := s
	require.NoError(t, Validate(&back))
	assert.Equal(t, s.Spec.Guards, back.Spec.Guards)

	s, err = Parse("x.yaml", probeDoc(`    - name: redis
      kind: tcp
      tcp:
        address: 127.0.0.1:6379
        latency: 200ms
      for: 2`))
	require.NoError(t, err)
	assert.Equal(t, 0.2, s.Spec.Guards[1].Threshold)
	assert.Equal(t, "tcp connect 127.0.0.1:6379 within 200ms", s.Spec.Guards[1].Source())
}

// Bad probe fields are refused with the file, line and field.
func TestProbeGuardErrors(t *testing.T) {
	type want struct {
		line       int
		field, msg string
	}
	for _, c := range []struct {
		name  string
		guard string
		want  []want
	}{
		{"unknown kind", "    - name: x\n      kind: grpc", []want{{24, "spec.guards[1].kind", `unknown kind "grpc"`}}},
		{"http block missing", "    - name: x\n      kind: http", []want{{23, "spec.guards[1].http", "required for kind: http"}}},
		{"url missing", "    - name: x\n      kind: http\n      http:\n        method: GET", []want{{25, "spec.guards[1].http.url", "required"}}},
		{"not http", "    - name: x\n      kind: http\n      http:\n        url: ftp://h/x", []want{{26, "spec.guards[1].http.url", "is not an http(s) URL"}}},
		{"password in url", "    - name: x\n      kind: http\n      http:\n        url: http://u:hunter2@h/x", []want{{26, "spec.guards[1].http.url", "carries credentials"}}},
		// A user name alone is how many tokens travel (https://<token>@host):
		// Go's client sends it as basic auth, and the history keeps it.
		{"user in url", "    - name: x\n      kind: http\n      http:\n        url: http://ghp_hunter2@h/x", []want{{26, "spec.guards[1].http.url", "carries credentials"}}},
		{"token in url", "    - name: x\n      kind: http\n      http:\n        url: http://h/x?access_token=abc", []want{{26, "spec.guards[1].http.url", "query parameter access_token"}}},
		{"method", "    - name: x\n      kind: http\n      http:\n        url: http://h/\n        method: POST", []want{{27, "spec.guards[1].http.method", "must be GET, HEAD, OPTIONS"}}},
		{"status", "    - name: x\n      kind: http\n      http:\n        url: http://h/\n        status: 2xx-3xx", []want{{27, "spec.guards[1].http.status", "want codes between 100 and 599"}}},
		{"body", "    - name: x\n      kind: http\n      http:\n        url: http://h/\n        body: \"(\"", []want{{27, "spec.guards[1].http.body", "not a regular expression"}}},
		{"latency", "    - name: x\n      kind: http\n      http:\n        url: http://h/\n        latency: 1m", []want{{27, "spec.guards[1].http.latency", "must be between 1ms and 10s"}}},
		{"query on a probe", "    - name: x\n      kind: tcp\n      query: up\n      tcp:\n        address: h:1", []want{{25, "spec.guards[1].query", "a tcp probe has no query"}}},
		{"op on a probe", "    - name: x\n      kind: tcp\n      op: \">\"\n      tcp:\n        address: h:1", []want{{25, "spec.guards[1].op", "leave op out"}}},
		{"threshold on a probe", "    - name: x\n      kind: tcp\n      threshold: 3\n      tcp:\n        address: h:1", []want{{25, "spec.guards[1].threshold", "leave threshold out"}}},
		{"tcp address", "    - name: x\n      kind: tcp\n      tcp:\n        address: h", []want{{26, "spec.guards[1].tcp.address", "want host:port"}}},
		{"http block on a query", "    - name: x\n      query: up\n      op: \">\"\n      http:\n        url: http://h/", []want{{26, "spec.guards[1].http", "is for kind: http"}}},
		{"probe interval too short", "    - name: x\n      kind: tcp\n      tcp:\n        address: h:1\n      interval: 50ms", []want{{27, "spec.guards[1].interval", "must be >= 100ms"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.yaml", probeDoc(c.guard))
			var errs yamlx.Errors
			require.True(t, errors.As(err, &errs), "want Errors, got %v", err)
			require.Len(t, errs, len(c.want), "%v", err)
			for i, w := range c.want {
				e := errs[i]
				assert.Equal(t, w.line, e.Line, e.Error())
				assert.Equal(t, w.field, e.Field, e.Error())
				assert.Contains(t, e.Msg, w.msg)
				assert.NotContains(t, e.Error(), "hunter2", "a password never shows")
			}
		})
	}
}

// Guards recorded before kinds existed (no kind, no freshness) still load
// as prometheus guards.
func TestOldGuardJSONStillLoads(t *testing.T) {
	s, err := Parse("x.yaml", edit(nil))
	require.NoError(t, err)
	assert.Equal(t, "", s.Spec.Guards[0].Kind)
	assert.Equal(t, sli.KindPrometheus, s.Spec.Guards[0].GuardKind())
	assert.False(t, strings.Contains(string(mustJSON(t, s)), `"kind":"`+sli.KindPrometheus), "no kind written for prometheus guards: histories stay as they were")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// Checklist evidence that names a probe guard is refused where scenario and
// checklist meet: the evidence is read from Prometheus after the run, and
// a probe's answers are not there.
func TestProbeGuardIsNoChecklistEvidence(t *testing.T) {
	doc := edit(map[int]string{23: `    - name: circuit-breaker-closed
      kind: http
      http:
        url: http://shop.internal:8080/healthz`, 24: "-", 25: "-", 26: "-", 27: "-", 28: "-", 29: "-",
		31: "    roles: [dev, sre]\n  checklist: demo-seed"})
	_, err := Parse("x.yaml", doc)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `spec.checklist: checklist demo-seed: spec.items[1].verified_by[0].guard: item breaker-recovers names guard "circuit-breaker-closed", a probe (kind http)`)
}
