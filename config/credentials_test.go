package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "Zq9-s3cr3t-Xw7"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                                   "",
		"http://127.0.0.1:9090":              "http://127.0.0.1:9090",
		"https://user:" + secret + "@prom":   "https://prom",
		"https://" + secret + "@prom:9090/x": "https://prom:9090/x",
		"https://prom/?access_token=" + secret + "&org=7":                "https://prom/?access_token=REDACTED&org=7",
		"https://prom/?X-Amz-Signature=" + secret + "&api_key=" + secret: "https://prom/?X-Amz-Signature=REDACTED&api_key=REDACTED",
		"https://prom/#access_token=" + secret:                           "https://prom/#REDACTED",
		"user:" + secret + "@toxiproxy:8474":                             "toxiproxy:8474",
		"http://user:" + secret + "@prom:9090/\x7f?token=" + secret:      "http://prom:9090/\x7f?REDACTED",
		"http://us er:" + secret + "@host%zz":                            "http://host%zz",
	} {
		got := RedactURL(in)
		assert.Equal(t, want, got, in)
		assert.NotContains(t, got, secret, in)
	}
}

func clearPrometheusEnv(t *testing.T) {
	for _, v := range Vars {
		t.Setenv(v.Name, "")
	}
}

func secretFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestPrometheusCredentialsFromEnv(t *testing.T) {
	clearPrometheusEnv(t)
	t.Setenv(EnvPrometheusURL, "https://alice:"+secret+"@prom.example:9090/")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "https://prom.example:9090", c.PrometheusURL, "userinfo moved out of the URL")
	assert.Equal(t, Credentials{Username: "alice", Password: secret}, c.PrometheusAuth)
	assert.Equal(t, DefaultPrometheusMaxAnswer, c.PrometheusMaxAnswer)

	t.Setenv(EnvPrometheusURL, "https://"+secret+"@prom.example")
	c = FromEnv()
	assert.Equal(t, "https://prom.example", c.PrometheusURL)
	assert.Equal(t, Credentials{Username: secret}, c.PrometheusAuth)

	t.Setenv(EnvPrometheusURL, "https://prom.example")
	t.Setenv(EnvPrometheusBearerToken, secret)
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, Credentials{BearerToken: secret}, c.PrometheusAuth)

	t.Setenv(EnvPrometheusBearerToken, "")
	file := secretFile(t, secret+"\n")
	t.Setenv(EnvPrometheusBearerTokenFile, file)
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, Credentials{BearerTokenFile: file}, c.PrometheusAuth, "the file is read per request, not kept")

	t.Setenv(EnvPrometheusBearerTokenFile, "")
	t.Setenv(EnvPrometheusUsername, "alice")
	t.Setenv(EnvPrometheusPassword, secret)
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, Credentials{Username: "alice", Password: secret}, c.PrometheusAuth)

	t.Setenv(EnvPrometheusPassword, "")
	t.Setenv(EnvPrometheusPasswordFile, file)
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, Credentials{Username: "alice", PasswordFile: file}, c.PrometheusAuth)

	t.Setenv(EnvPrometheusMaxAnswer, "4MiB")
	c, err = Load()
	require.NoError(t, err)
	assert.Equal(t, int64(4<<20), c.PrometheusMaxAnswer)
}

// Each error names the variables to fix and never quotes a secret.
func TestPrometheusCredentialErrors(t *testing.T) {
	file := secretFile(t, secret)
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{EnvPrometheusBearerToken: secret, EnvPrometheusUsername: "alice", EnvPrometheusPassword: secret},
			[]string{EnvPrometheusBearerToken, EnvPrometheusPassword}},
		{map[string]string{EnvPrometheusBearerTokenFile: file, EnvPrometheusUsername: "alice", EnvPrometheusPasswordFile: file},
			[]string{EnvPrometheusBearerTokenFile, EnvPrometheusPasswordFile}},
		{map[string]string{EnvPrometheusBearerToken: secret, EnvPrometheusBearerTokenFile: file},
			[]string{EnvPrometheusBearerToken, EnvPrometheusBearerTokenFile}},
		{map[string]string{EnvPrometheusUsername: "alice", EnvPrometheusPassword: secret, EnvPrometheusPasswordFile: file},
			[]string{EnvPrometheusPassword, EnvPrometheusPasswordFile}},
		{map[string]string{EnvPrometheusBearerToken: secret, EnvPrometheusUsername: "alice"},
			[]string{EnvPrometheusBearerToken, EnvPrometheusUsername}},
		{map[string]string{EnvPrometheusPassword: secret}, []string{EnvPrometheusPassword, EnvPrometheusUsername}},
		{map[string]string{EnvPrometheusUsername: "alice"}, []string{EnvPrometheusUsername, EnvPrometheusPassword}},
		{map[string]string{EnvPrometheusURL: "https://bob:" + secret + "@prom", EnvPrometheusBearerToken: secret},
			[]string{EnvPrometheusURL, EnvPrometheusBearerToken}},
		{map[string]string{EnvPrometheusURL: "prom:9090"}, []string{EnvPrometheusURL}},
		{map[string]string{EnvPrometheusURL: "http://bob:" + secret + "@prom:9090/\x7f"}, []string{EnvPrometheusURL, "http://prom:9090/"}},
		{map[string]string{EnvPrometheusMaxAnswer: "lots"}, []string{EnvPrometheusMaxAnswer}},
		{map[string]string{EnvPrometheusMaxAnswer: "12"}, []string{EnvPrometheusMaxAnswer, "1KiB"}},
		{map[string]string{"TOXIPROXY_URL": "http://bob:" + secret + "@toxi\x7f:8474"}, []string{"TOXIPROXY_URL"}},
	} {
		clearPrometheusEnv(t)
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		err := FromEnv().Validate()
		require.Error(t, err, "%v", tc.env)
		for _, w := range tc.want {
			assert.Contains(t, err.Error(), w)
		}
		assert.NotContains(t, err.Error(), secret)
		_, err = Load()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, FromEnv().String(), secret, "FromEnv of a bad setting")
	}
}

// A secret file that cannot be used is reported by Load (the worker), naming
// the variable and the file, never the content; Validate (CLI commands
// that do not talk to Prometheus) does not read it.
func TestSecretFileErrors(t *testing.T) {
	dir := t.TempDir()
	huge := secretFile(t, strings.Repeat(secret, 10000))
	empty := secretFile(t, " \n")
	for _, tc := range []struct{ path, why string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{dir, "is a directory"},
		{empty, "is empty"},
		{huge, "larger than 64 KiB"},
	} {
		for _, name := range []string{EnvPrometheusBearerTokenFile, EnvPrometheusPasswordFile} {
			clearPrometheusEnv(t)
			t.Setenv(name, tc.path)
			if name == EnvPrometheusPasswordFile {
				t.Setenv(EnvPrometheusUsername, "alice")
			}
			require.NoError(t, FromEnv().Validate())
			_, err := Load()
			require.Error(t, err, tc.path)
			assert.Contains(t, err.Error(), name)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.why)
			assert.NotContains(t, err.Error(), secret)
		}
	}
}

func TestToxiproxyURLCredentials(t *testing.T) {
	clearPrometheusEnv(t)
	t.Setenv("TOXIPROXY_URL", "http://bob:"+secret+"@toxi:8474/")
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, "http://toxi:8474", c.ToxiproxyURL)
	assert.Equal(t, Credentials{Username: "bob", Password: secret}, c.ToxiproxyAuth)
	t.Setenv("TOXIPROXY_URL", "bob:"+secret+"@toxi:8474")
	c = FromEnv()
	assert.Equal(t, "http://toxi:8474", c.ToxiproxyURL)
	assert.Equal(t, Credentials{Username: "bob", Password: secret}, c.ToxiproxyAuth)
	t.Setenv("TOXIPROXY_URL", "toxi:8474")
	assert.Equal(t, "toxi:8474", FromEnv().ToxiproxyURL, "a URL without credentials is kept as written")
}

// The toxiproxy password has its own variables (and a file form), so it
// need not sit in TOXIPROXY_URL; two ways at once is an error naming both.
func TestToxiproxyCredentialVariables(t *testing.T) {
	clearPrometheusEnv(t)
	file := filepath.Join(t.TempDir(), "toxi-pass")
	require.NoError(t, os.WriteFile(file, []byte(secret+"\n"), 0o600))
	t.Setenv("TOXIPROXY_URL", "http://toxi:8474")
	t.Setenv(EnvToxiproxyUsername, "bob")
	t.Setenv(EnvToxiproxyPasswordFile, file)
	c, err := Load()
	require.NoError(t, err)
	assert.Equal(t, Credentials{Username: "bob", PasswordFile: file}, c.ToxiproxyAuth)
	assert.NotContains(t, fmt.Sprint(c), secret)

	for _, tc := range []struct {
		url, user, pass, file, want string
	}{
		{"http://bob:x@toxi:8474", "bob", "p", "", "TOXIPROXY_URL has credentials (user:password@) and GAMEDAY_TOXIPROXY_USERNAME"},
		{"http://toxi:8474", "bob", "p", file, "GAMEDAY_TOXIPROXY_PASSWORD and GAMEDAY_TOXIPROXY_PASSWORD_FILE are both set"},
		{"http://toxi:8474", "", "p", "", "GAMEDAY_TOXIPROXY_PASSWORD needs GAMEDAY_TOXIPROXY_USERNAME"},
		{"http://toxi:8474", "bob", "", "", "GAMEDAY_TOXIPROXY_USERNAME needs GAMEDAY_TOXIPROXY_PASSWORD or GAMEDAY_TOXIPROXY_PASSWORD_FILE"},
	} {
		t.Setenv("TOXIPROXY_URL", tc.url)
		t.Setenv(EnvToxiproxyUsername, tc.user)
		t.Setenv(EnvToxiproxyPassword, tc.pass)
		t.Setenv(EnvToxiproxyPasswordFile, tc.file)
		err := FromEnv().Validate()
		require.Error(t, err, tc.want)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, err.Error(), "x@")
	}
	t.Setenv("TOXIPROXY_URL", "http://toxi:8474")
	t.Setenv(EnvToxiproxyUsername, "bob")
	t.Setenv(EnvToxiproxyPassword, "")
	t.Setenv(EnvToxiproxyPasswordFile, filepath.Join(t.TempDir(), "missing"))
	_, err = Load()
	require.Error(t, err)
	assert.Contains(t, err.Error(), EnvToxiproxyPasswordFile)
}

// Printing or logging a Config or Credentials, with every verb and slog
// handler, never shows a secret.
func TestConfigPrintsNoSecret(t *testing.T) {
	file := secretFile(t, secret)
	for _, c := range []Config{
		{PrometheusURL: "https://prom/?access_token=" + secret, PrometheusAuth: Credentials{BearerToken: secret}, ToxiproxyURL: "http://u:" + secret + "@toxi", ToxiproxyAuth: Credentials{Username: "u", Password: secret}},
		{PrometheusURL: "https://prom", PrometheusAuth: Credentials{Username: secret}},
		{PrometheusURL: "https://prom", PrometheusAuth: Credentials{Username: "alice", PasswordFile: file}},
		{PrometheusURL: "https://prom", PrometheusAuth: Credentials{BearerTokenFile: file}, UIURL: "https://ui/?token=" + secret},
		{PrometheusURL: "https://prom", Jira: Jira{URL: "https://jira/?token=" + secret, User: "bot", Token: secret, Project: "GD"}},
		{PrometheusURL: "https://prom", Slack: Slack{BotToken: secret, SigningSecret: secret + "s", AppToken: "xapp-" + secret, AccessFile: "/etc/access.yaml"}},
	} {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "cfg", c, "auth", c.PrometheusAuth)
		slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "cfg", c, "auth", c.PrometheusAuth)
		for _, s := range []string{
			fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c), fmt.Sprintf("%q", c),
			fmt.Sprint(c.PrometheusAuth), fmt.Sprintf("%+v %#v", c.PrometheusAuth, c.PrometheusAuth),
			fmt.Sprintf("%+v", &c), logs.String(),
			fmt.Sprint(c.Jira), fmt.Sprintf("%+v %#v %s %q", c.Jira, c.Jira, c.Jira, c.Jira),
			fmt.Sprint(c.Slack), fmt.Sprintf("%+v %#v %s %q", c.Slack, c.Slack, c.Slack, c.Slack),
		} {
			assert.NotContains(t, s, secret)
		}
		assert.Contains(t, logs.String(), "https://prom")
	}
	assert.Contains(t, Credentials{BearerTokenFile: "/run/secrets/prom"}.String(), "/run/secrets/prom", "says where the token comes from")
	assert.Contains(t, Jira{Token: "x"}.String(), "Token:"+Redacted, "says the token is set")
	assert.Contains(t, Slack{}.String(), "BotToken:unset", "says the token is not set")
	assert.Contains(t, Credentials{Username: "alice", Password: "x"}.String(), "alice")
}

func TestCredentialsTransport(t *testing.T) {
	var got []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, "other:"+r.Header.Get("Authorization"))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	get := func(c Credentials, path string) error {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		resp, err := (&http.Client{Transport: c.Transport(host, nil)}).Do(req)
		if err == nil {
			resp.Body.Close()
			assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not changed")
		}
		return err
	}

	require.NoError(t, get(Credentials{BearerToken: secret}, "/"))
	require.NoError(t, get(Credentials{Username: "alice", Password: secret}, "/"))
	file := secretFile(t, "first\n")
	require.NoError(t, get(Credentials{BearerTokenFile: file}, "/"))
	require.NoError(t, os.WriteFile(file, []byte("rotated"), 0o600))
	require.NoError(t, get(Credentials{BearerTokenFile: file}, "/"))
	require.NoError(t, get(Credentials{}, "/"))
	require.NoError(t, get(Credentials{BearerToken: secret}, "/redirect"))
	assert.Equal(t, []string{"Bearer " + secret, "Basic YWxpY2U6WnE5LXMzY3IzdC1Ydzc=", "Bearer first", "Bearer rotated", "", "Bearer " + secret, "other:"}, got,
		"a redirect to another host gets no credentials")

	require.NoError(t, os.Remove(file))
	err := get(Credentials{BearerTokenFile: file}, "/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), file)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1MiB": 1 << 20, "512 KiB": 512 << 10, "2048": 2048, "1gib": 1 << 30, "100B": 100} {
		n, err := ParseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, n, in)
		assert.Equal(t, n, must(ParseSize(strings.ReplaceAll(strings.TrimSuffix(FormatSize(n), "bytes"), " ", ""))), "FormatSize(%d) reads back", n)
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5MiB", "1MB", "0"} {
		_, err := ParseSize(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "1 MiB", FormatSize(1<<20))
}

func must(n int64, err error) int64 {
	if err != nil {
		panic(err)
	}
	return n
}
