// Package config is the one place gameday reads its settings from the
// environment, with defaults that match the local stack (`make run`): cmd
// reads a Config once and passes it (or its sections) down. Vars lists every
// variable, its default and its meaning, for --help and the README. Temporal
// connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TLS, a TOML profile) are read by the SDK's envconfig
// package; they are listed in Vars too.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gameday/gameday/signoff"
)

// Config is the worker's and the CLI's configuration. Its URL fields never
// hold credentials (Read moves userinfo into the *Auth fields), and its
// String, GoString, Format and LogValue never show a secret (the sections'
// neither).
type Config struct {
	TaskQueue string // GAMEDAY_TASK_QUEUE
	// PrometheusURL is PROMETHEUS_URL without userinfo.
	PrometheusURL string
	// PrometheusAuth: GAMEDAY_PROMETHEUS_BEARER_TOKEN(_FILE),
	// GAMEDAY_PROMETHEUS_USERNAME and GAMEDAY_PROMETHEUS_PASSWORD(_FILE), or
	// the userinfo of PROMETHEUS_URL.
	PrometheusAuth Credentials
	// PrometheusMaxAnswer bounds one Prometheus answer, in bytes
	// (GAMEDAY_PROMETHEUS_MAX_ANSWER; 0 means DefaultPrometheusMaxAnswer).
	PrometheusMaxAnswer int64
	// ToxiproxyURL is TOXIPROXY_URL without userinfo; empty disables the
	// toxiproxy back-end.
	ToxiproxyURL string
	// ToxiproxyAuth holds the userinfo of TOXIPROXY_URL (basic auth).
	ToxiproxyAuth Credentials
	DataDir       string // GAMEDAY_DATA_DIR: SQLite history, postmortems
	UIURL         string // TEMPORAL_UI_URL: base of links to runs
	// ReportURL is where the reports directory (ReportDir) is served, for
	// links in tickets, Slack and postmortems (GAMEDAY_REPORT_URL; empty:
	// file paths). TraceURL is the trace UI a run's trace id links to
	// (GAMEDAY_TRACE_URL, e.g. Jaeger's http://jaeger:16686; "{trace_id}"
	// in it is replaced, else /trace/<id> is appended).
	ReportURL, TraceURL string
	Namespace           string // TEMPORAL_NAMESPACE (also read by envconfig)
	// Users maps a user to the sign-off roles they hold (GAMEDAY_ROLES).
	Users map[string][]string
	// GateThreshold overrides a checklist's own threshold when set
	// (GAMEDAY_GATE_THRESHOLD, percent).
	GateThreshold float64
	// Signoff holds the sign-off rules besides the role map.
	Signoff Signoff
	// User is the login name (USER), the default of --by.
	User string
	// ToolsDir is where `make tools` puts the server binaries of the local
	// stack (GAMEDAY_TOOLS_DIR, default ~/.cache/gameday/bin).
	ToolsDir string
	// DemoFallback says whether the demo shop keeps its fallbacks
	// (GAMEDAY_DEMO_FALLBACK, default on).
	DemoFallback bool
	// DemoErr is a malformed GAMEDAY_DEMO_FALLBACK, reported by gameday
	// demo and gameday dev only (Validate leaves it out).
	DemoErr error

	// ProbeAllow is GAMEDAY_PROBE_ALLOW as set: the hosts and ports probe
	// guards may reach (probe.ParseAllow reads it; empty: none).
	ProbeAllow string

	Kube   Kube   // the Kubernetes back-ends' cluster
	Safety Safety // the inputs of the safety policy (safety.FromConfig)
	Jira   Jira   // where postmortems and release evidence are filed
	Slack  Slack  // the Slack control room
	// Telemetry: the worker's metrics endpoint and the trace exporter.
	Telemetry Telemetry

	err error // the first malformed core value (Validate)
}

// Lookup is how the configuration sees the environment: os.LookupEnv in
// the binary, a map in tests (MapLookup).
type Lookup func(name string) (string, bool)

// MapLookup is a Lookup over a map (tests, and callers that build an
// environment by hand).
func MapLookup(m map[string]string) Lookup {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

// FromEnv reads the configuration from the process environment: the one
// place gameday reads it (cmd calls it once and passes the value down).
// It never fails, so --help always works: malformed values are reported by
// Validate (the core variables) and by each section's own check, naming the
// variable. Secret files are not read here (CheckSecretFiles).
func FromEnv() Config { return Read(os.LookupEnv) }

// Load is FromEnv, Validate and CheckSecretFiles: the configuration a
// worker can start with.
func Load() (Config, error) {
	c := FromEnv()
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, c.CheckSecretFiles()
}

// Validate reports the first malformed core value (Temporal UI, task
// queue, Prometheus, toxiproxy, data dir, sign-off and gate settings),
// naming the variable and never a secret. The sections check themselves:
// Kube.Validate, Slack.Err, safety.FromConfig, ticket's JiraConfig.Validate.
func (c Config) Validate() error { return c.err }

// CheckSecretFiles checks that the Prometheus and toxiproxy secret files are readable and
// not empty; an error names the variable and the file, never the content.
// The worker starts with it; commands that do not talk to Prometheus need
// not see the files.
func (c Config) CheckSecretFiles() error {
	for _, f := range []struct{ name, path string }{
		{EnvPrometheusBearerTokenFile, c.PrometheusAuth.BearerTokenFile},
		{EnvPrometheusPasswordFile, c.PrometheusAuth.PasswordFile},
		{EnvToxiproxyPasswordFile, c.ToxiproxyAuth.PasswordFile},
	} {
		if f.path == "" {
			continue
		}
		if _, err := ReadSecretFile(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// toxiproxyAuthFrom reads the toxiproxy basic-auth variables (for a
// toxiproxy API behind an authenticating proxy; toxiproxy itself has none),
// so the password need not sit in TOXIPROXY_URL, visible in a pod spec or
// `ps`. inURL is the userinfo TOXIPROXY_URL had: giving both ways is an
// error naming them.
func toxiproxyAuthFrom(e env, inURL Credentials) (Credentials, error) {
	user, pass, file := e.trimmed(EnvToxiproxyUsername), e.trimmed(EnvToxiproxyPassword), e.trimmed(EnvToxiproxyPasswordFile)
	switch {
	case user == "" && pass == "" && file == "":
		return inURL, nil
	case !inURL.IsZero():
		return inURL, fmt.Errorf("%s has credentials (user:password@) and %s/%s are set: give them one way; unset one", EnvToxiproxyURL, EnvToxiproxyUsername, EnvToxiproxyPassword)
	case pass != "" && file != "":
		return inURL, fmt.Errorf("%s and %s are both set: unset one", EnvToxiproxyPassword, EnvToxiproxyPasswordFile)
	case user == "":
		return inURL, fmt.Errorf("%s needs %s", map[bool]string{true: EnvToxiproxyPassword, false: EnvToxiproxyPasswordFile}[pass != ""], EnvToxiproxyUsername)
	case pass == "" && file == "":
		return inURL, fmt.Errorf("%s needs %s or %s", EnvToxiproxyUsername, EnvToxiproxyPassword, EnvToxiproxyPasswordFile)
	}
	return Credentials{Username: user, Password: pass, PasswordFile: file}, nil
}

// env reads variables through a Lookup; every read of the configuration
// goes through it.
type env struct{ look Lookup }

// raw is the value as set ("" when unset).
func (e env) raw(name string) string {
	v, _ := e.look(name)
	return v
}

// get is the value, or def when unset or empty.
func (e env) get(name, def string) string {
	if v := e.raw(name); v != "" {
		return v
	}
	return def
}

// trimmed is the value without surrounding blanks.
func (e env) trimmed(name string) string { return strings.TrimSpace(e.raw(name)) }

// trimmedOr is trimmed, or def when that is empty.
func (e env) trimmedOr(name, def string) string {
	if v := e.trimmed(name); v != "" {
		return v
	}
	return def
}

// Read builds the configuration from lookup. Like FromEnv, it never fails;
// the first malformed core value is kept for Validate.
func Read(lookup Lookup) Config {
	e := env{lookup}
	var first error
	fail := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	c := Config{
		TaskQueue:  e.get(EnvTaskQueue, DefaultTaskQueue),
		DataDir:    e.get(EnvDataDir, ".data"),
		UIURL:      strings.TrimRight(e.get(EnvUIURL, "http://127.0.0.1:8233"), "/"),
		Namespace:  e.get(EnvNamespace, "default"),
		User:       e.raw(EnvUser),
		ToolsDir:   e.get(EnvToolsDir, DefaultToolsDir()),
		ProbeAllow: e.trimmed(EnvProbeAllow),
	}
	c.ReportURL = strings.TrimRight(e.trimmed(EnvReportURL), "/")
	fail(checkLinkBase(EnvReportURL, c.ReportURL))
	c.TraceURL = e.trimmed(EnvTraceURL)
	fail(checkLinkBase(EnvTraceURL, strings.ReplaceAll(c.TraceURL, "{trace_id}", "x")))
	var err error
	c.PrometheusURL, c.PrometheusAuth, err = prometheusFrom(e)
	fail(err)
	c.PrometheusMaxAnswer = DefaultPrometheusMaxAnswer
	if v := e.trimmed(EnvPrometheusMaxAnswer); v != "" {
		n, err := ParseSize(v)
		if err == nil && (n < 1<<10 || n > 1<<30) {
			err = fmt.Errorf("%s is not between 1KiB and 1GiB", v)
		}
		if err != nil {
			fail(fmt.Errorf("%s: %w", EnvPrometheusMaxAnswer, err))
		} else {
			c.PrometheusMaxAnswer = n
		}
	}
	c.ToxiproxyURL = strings.TrimRight(e.get(EnvToxiproxyURL, "http://127.0.0.1:8474"), "/")
	if c.ToxiproxyURL == "off" {
		c.ToxiproxyURL = ""
	} else if strings.Contains(c.ToxiproxyURL, "@") {
		// "user:pass@host:8474" is accepted by the back-end as well.
		raw := c.ToxiproxyURL
		if !strings.Contains(raw, "://") {
			raw = "http://" + raw
		}
		if u, err := url.Parse(raw); err != nil || u.Host == "" {
			fail(fmt.Errorf("TOXIPROXY_URL %s is not a valid URL (want http://host:port)", RedactURL(c.ToxiproxyURL)))
			c.ToxiproxyURL = RedactURL(c.ToxiproxyURL)
		} else {
			c.ToxiproxyURL, c.ToxiproxyAuth = CredentialsFromURL(raw)
		}
	}
	if c.ToxiproxyURL != "" {
		auth, err := toxiproxyAuthFrom(e, c.ToxiproxyAuth)
		fail(err)
		c.ToxiproxyAuth = auth
	}
	users, err := ParseRoles(e.raw(EnvRoles))
	if err != nil {
		fail(fmt.Errorf("GAMEDAY_ROLES: %w", err))
	}
	c.Users = users
	if v := e.raw(EnvGateThreshold); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			fail(fmt.Errorf("GAMEDAY_GATE_THRESHOLD: %q is not a percentage in (0, 100]", v))
		}
		c.GateThreshold = f
	}
	c.Signoff, err = signoffFrom(e)
	fail(err)
	switch v := strings.ToLower(e.trimmed(EnvDemoFallback)); v {
	case "", "on", "true", "1":
		c.DemoFallback = true
	case "off", "false", "0":
	default:
		// Only the demo reads it: a typo here must not stop a worker.
		c.DemoFallback = true
		c.DemoErr = fmt.Errorf("%s: %q is not on or off", EnvDemoFallback, v)
	}
	c.Kube = kubeFrom(e)
	c.Safety = safetyFrom(e)
	c.Jira = jiraFrom(e)
	c.Slack = slackFrom(e)
	c.Telemetry = telemetryFrom(e)
	c.err = first
	return c
}

// ParseRoles reads "user=role[+role],user=role": who may sign for which
// role. Roles must be dev, test or sre.
func ParseRoles(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		user, roles, ok := strings.Cut(entry, "=")
		user = strings.TrimSpace(user)
		if !ok || user == "" || roles == "" {
			return nil, fmt.Errorf("%q: want user=role[+role]", entry)
		}
		for _, r := range strings.Split(roles, "+") {
			r = strings.TrimSpace(r)
			if !slices.Contains(signoff.Roles, r) {
				return nil, fmt.Errorf("%q: role %q is not one of %s", entry, r, strings.Join(signoff.Roles, ", "))
			}
			out[user] = append(out[user], r)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// checkLinkBase accepts an empty value or an http(s) URL: it only ever
// becomes part of links people open.
func checkLinkBase(name, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: %s is not an http(s) URL like https://gameday.example.com/reports", name, RedactURL(v))
	}
	return nil
}

// ReportDir is where every run's report is written, one directory per run.
func (c Config) ReportDir() string { return filepath.Join(c.DataDir, "reports") }

// PostmortemDir is where local Markdown postmortems go.
func (c Config) PostmortemDir() string { return filepath.Join(c.DataDir, "postmortems") }

// SplitList reads a comma-separated environment value, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// String shows the configuration with URLs redacted and credentials
// described, never shown.
func (c Config) String() string {
	return fmt.Sprintf("Config{TaskQueue:%s PrometheusURL:%s PrometheusAuth:%s PrometheusMaxAnswer:%s ToxiproxyURL:%s ToxiproxyAuth:%s DataDir:%s UIURL:%s Namespace:%s Users:%v GateThreshold:%g Signoff:%s User:%s ToolsDir:%s Kube:%s Safety:%s Jira:%s Slack:%s Telemetry:%s}",
		c.TaskQueue, RedactURL(c.PrometheusURL), c.PrometheusAuth, FormatSize(c.maxAnswer()), RedactURL(c.ToxiproxyURL), c.ToxiproxyAuth,
		c.DataDir, RedactURL(c.UIURL), c.Namespace, c.Users, c.GateThreshold,
		c.Signoff, c.User, c.ToolsDir, c.Kube, c.Safety, c.Jira, c.Slack, c.Telemetry)
}

// GoString keeps %#v from printing the fields.
func (c Config) GoString() string { return "config." + c.String() }

// Format makes every verb (%v, %+v, %s, %q, %#v) use String: %+v would
// otherwise print the fields, secrets included.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(c.GoString()))
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// LogValue is what slog records for a Config.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("task_queue", c.TaskQueue),
		slog.String("prometheus", RedactURL(c.PrometheusURL)),
		slog.String("prometheus_auth", c.PrometheusAuth.String()),
		slog.String("prometheus_max_answer", FormatSize(c.maxAnswer())),
		slog.String("toxiproxy", RedactURL(c.ToxiproxyURL)),
		slog.String("toxiproxy_auth", c.ToxiproxyAuth.String()),
		slog.String("data_dir", c.DataDir),
		slog.String("ui", RedactURL(c.UIURL)),
		slog.String("namespace", c.Namespace),
		slog.Int("users", len(c.Users)),
		slog.Float64("gate_threshold", c.GateThreshold),
		slog.Any("distinct_signers", c.Signoff.DistinctSigners),
		slog.String("user", c.User),
		slog.String("tools_dir", c.ToolsDir),
		slog.Any("kube", c.Kube),
		slog.Any("safety", c.Safety),
		slog.Any("jira", c.Jira),
		slog.Any("slack", c.Slack),
		slog.String("telemetry", c.Telemetry.String()),
	)
}

func (c Config) maxAnswer() int64 {
	if c.PrometheusMaxAnswer > 0 {
		return c.PrometheusMaxAnswer
	}
	return DefaultPrometheusMaxAnswer
}
