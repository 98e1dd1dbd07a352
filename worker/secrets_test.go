package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/config"
)

// recorder is an HTTP stand-in that fails every request with the status
// named by the query (500 unless "q401"; 401 for the toxiproxy API) and
// records the Authorization headers.
type recorder struct {
	mu    sync.Mutex
	auths []string
}

func (rec *recorder) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.auths = append(rec.auths, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		_ = r.ParseForm()
		status := http.StatusInternalServerError
		if r.Form.Get("query") == "q401" || strings.HasPrefix(r.URL.Path, "/proxies") {
			status = http.StatusUnauthorized
		}
		w.WriteHeader(status)
		if strings.HasPrefix(r.URL.Path, "/proxies") {
			// toxiproxy's own answer; its "error" field is quoted in errors.
			fmt.Fprint(w, `{"error":"unauthorized","status":401}`)
			return
		}
		// A Prometheus proxy that echoes what it was sent: that must not
		// reach an error either.
		fmt.Fprintf(w, `{"error":"denied %s %s"}`, r.Header.Get("Authorization"), r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rec *recorder) got() string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return strings.Join(rec.auths, "\n")
}

// One distinctive secret, put in turn in every place a credential can be
// given, must appear in no log line of the worker's start, in no error of
// a failing query or toxiproxy call, and in no printed or logged Config;
// and it must still reach the server (or the test would prove nothing).
func TestNoSecretInStartLogsErrorsOrConfig(t *testing.T) {
	const secret = "Gd-L3ak-Canary-7f3e9a"
	// How the secret travels in an Authorization header.
	b64 := func(user, pass string) string {
		req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
		req.SetBasicAuth(user, pass)
		return req.Header.Get("Authorization")
	}
	file := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))

	prom, toxi := &recorder{}, &recorder{}
	promURL := prom.server(t).URL
	toxiURL := toxi.server(t).URL
	promHost, toxiHost := strings.TrimPrefix(promURL, "http://"), strings.TrimPrefix(toxiURL, "http://")

	for _, tc := range []struct {
		name     string
		env      map[string]string
		sent     *recorder
		wantAuth string
	}{
		{"PROMETHEUS_URL user:password@", map[string]string{"PROMETHEUS_URL": "http://alice:" + secret + "@" + promHost}, prom, b64("alice", secret)},
		{"PROMETHEUS_URL token@", map[string]string{"PROMETHEUS_URL": "http://" + secret + "@" + promHost}, prom, b64(secret, "")},
		{"PROMETHEUS_URL ?access_token=", map[string]string{"PROMETHEUS_URL": promURL + "/?access_token=" + secret}, nil, ""},
		{config.EnvPrometheusBearerToken, map[string]string{config.EnvPrometheusBearerToken: secret}, prom, "Bearer " + secret},
		{config.EnvPrometheusBearerTokenFile, map[string]string{config.EnvPrometheusBearerTokenFile: file}, prom, "Bearer " + secret},
		{config.EnvPrometheusPassword, map[string]string{config.EnvPrometheusUsername: "alice", config.EnvPrometheusPassword: secret}, prom, b64("alice", secret)},
		{config.EnvPrometheusPasswordFile, map[string]string{config.EnvPrometheusUsername: "alice", config.EnvPrometheusPasswordFile: file}, prom, b64("alice", secret)},
		{"TOXIPROXY_URL user:password@", map[string]string{"TOXIPROXY_URL": "http://bob:" + secret + "@" + toxiHost}, toxi, b64("bob", secret)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range config.Vars {
				t.Setenv(v.Name, "")
			}
			t.Setenv("GAMEDAY_KUBE", "off")
			t.Setenv("JIRA_URL", "")
			t.Setenv("GAMEDAY_DATA_DIR", t.TempDir())
			t.Setenv("PROMETHEUS_URL", promURL)
			t.Setenv("TOXIPROXY_URL", toxiURL)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := config.Load()
			require.NoError(t, err)

			var logs bytes.Buffer
			for _, logger := range []*slog.Logger{
				slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			} {
				acts, err := NewActivities(cfg, logger)
				require.NoError(t, err)
				LogStart(logger, cfg)
				logger.Info("configuration", "config", cfg)

				var errs []string
				for _, q := range []string{"q500", "q401"} {
					_, err := acts.Prom.Query(context.Background(), q, time.Now())
					require.Error(t, err)
					errs = append(errs, err.Error())
				}
				_, err = acts.Backends["toxiproxy"].List(context.Background())
				require.Error(t, err)
				errs = append(errs, err.Error())
				for _, e := range errs {
					assert.NotContains(t, e, secret, "error")
					if tc.wantAuth != "" {
						assert.NotContains(t, e, strings.Fields(tc.wantAuth)[1], "error: the header's encoding of the secret")
					}
				}
			}
			assert.Contains(t, logs.String(), "worker started")
			assert.Contains(t, logs.String(), promHost, "the start log still names the servers")
			for _, line := range strings.Split(logs.String(), "\n") {
				assert.NotContains(t, line, secret, "log line")
			}
			for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), cfg.String()} {
				assert.NotContains(t, s, secret, "printed config")
			}
			if tc.sent != nil {
				assert.Contains(t, tc.sent.got(), tc.wantAuth, "the credential reaches the server")
			}
		})
	}
}

// Credentials over plain http to a host other than loopback get a warning.
func TestLogStartWarnsAboutPlainHTTP(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	LogStart(logger, config.Config{PrometheusURL: "http://prom.example:9090", PrometheusAuth: config.Credentials{BearerToken: "t0ken-value"}})
	assert.Contains(t, logs.String(), "credentials are sent over plain http")
	assert.NotContains(t, logs.String(), "t0ken-value")
	logs.Reset()
	LogStart(logger, config.Config{PrometheusURL: "https://prom.example", PrometheusAuth: config.Credentials{BearerToken: "t0ken-value"}, ToxiproxyURL: "http://127.0.0.1:8474", ToxiproxyAuth: config.Credentials{Username: "u", Password: "p4ss"}})
	assert.NotContains(t, logs.String(), "plain http")
	assert.Contains(t, logs.String(), "prometheus_auth=\"bearer token REDACTED\"")
}
