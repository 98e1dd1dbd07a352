// Package config reads gameday's settings from the environment, with
// defaults that match the local stack (`make run`). Temporal connection
// settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, a
// TOML profile) are read by the SDK's envconfig package.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the worker's and the CLI's configuration. Its URL fields never
// hold credentials (FromEnv moves userinfo into the *Auth fields), and its
// String, GoString, Format and LogValue never show a secret.
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
	Namespace     string // TEMPORAL_NAMESPACE (also read by envconfig)
	// Users maps a user to the sign-off roles they hold (GAMEDAY_ROLES).
	Users map[string][]string
	// GateThreshold overrides a checklist's own threshold when set
	// (GAMEDAY_GATE_THRESHOLD, percent).
	GateThreshold float64
}

// Var documents one environment variable (for --help and the README).
type Var struct{ Name, Default, Help string }

// Vars lists every variable gameday reads itself.
var Vars = []Var{
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port"},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace"},
	{"TEMPORAL_UI_URL", "http://127.0.0.1:8233", "Temporal Web UI base URL, used in links"},
	{"GAMEDAY_TASK_QUEUE", "gameday", "task queue the worker polls"},
	{"PROMETHEUS_URL", "http://127.0.0.1:9090", "Prometheus HTTP API used by guards (user:password@ in it is sent as basic auth and never printed)"},
	{EnvPrometheusBearerToken, "unset", "bearer token sent to Prometheus (exclusive with basic auth)"},
	{EnvPrometheusBearerTokenFile, "unset", "file holding that token (a mounted secret; read again on every request)"},
	{EnvPrometheusUsername, "unset", "basic-auth user for Prometheus"},
	{EnvPrometheusPassword, "unset", "basic-auth password for Prometheus"},
	{EnvPrometheusPasswordFile, "unset", "file holding that password (read again on every request)"},
	{EnvPrometheusMaxAnswer, "1MiB", "largest Prometheus answer read (bytes, KiB, MiB); a bigger one is refused undecoded"},
	{"TOXIPROXY_URL", "http://127.0.0.1:8474", "toxiproxy API for the toxiproxy back-end (\"off\" disables it; user:password@ in it is sent as basic auth and never printed)"},
	{"GAMEDAY_DATA_DIR", ".data", "local state: Temporal SQLite file, postmortems"},
	{"GAMEDAY_ROLES", "(empty: anyone signs)", "sign-off role map, e.g. dana=dev,tess=test,sam=sre+dev"},
	{"GAMEDAY_GATE_THRESHOLD", "(the checklist's)", "release gate score threshold in percent"},
	{"GAMEDAY_KUBE", "auto", "Kubernetes back-ends: auto (when a kubeconfig or in-cluster account exists), on (require a cluster), off"},
	{"KUBECONFIG", "~/.kube/config", "kubeconfig file(s), as for kubectl"},
	{"GAMEDAY_KUBE_CONTEXT", "(current context)", "kubeconfig context, as kubectl --context"},
	{"GAMEDAY_NAMESPACES", "(none: every Kubernetes target refused)", "namespaces faults may target, e.g. shop,payments"},
	{"GAMEDAY_OPTIN_LABEL", "gameday.io/chaos=enabled", "label a target workload or its namespace must carry"},
	{"GAMEDAY_MAX_BLAST_RADIUS", "*=50%", "largest share of matched targets a fault may hit, per environment label, e.g. prod=1,staging=50%,*=2"},
	{"GAMEDAY_MAX_FAULT_DURATION", "*=1h", "longest a fault may be held, per environment label (strictest for unlisted ones), e.g. prod=10m,*=1h; checked in define and dry runs"},
}

// FromEnv reads the configuration. Malformed values are reported by
// Validate (or Load), not here, so --help always works. Secret files are
// not read here.
func FromEnv() Config {
	c, _ := read(false)
	return c
}

// Validate reports malformed environment values, naming the variable (and
// never a secret). It does not read secret files: commands that do not
// talk to Prometheus need not see them; the worker uses Load.
func Validate() error {
	_, err := read(false)
	return err
}

// Load is FromEnv and Validate, and it also checks that the secret files
// are readable and not empty (an error names the variable and the file,
// never the content). The worker starts with it.
func Load() (Config, error) {
	return read(true)
}

// read builds the configuration and returns the first problem found.
func read(checkFiles bool) (Config, error) {
	var first error
	fail := func(err error) {
		if first == nil && err != nil {
			first = err
		}
	}
	c := Config{
		TaskQueue: get("GAMEDAY_TASK_QUEUE", "gameday"),
		DataDir:   get("GAMEDAY_DATA_DIR", ".data"),
		UIURL:     strings.TrimRight(get("TEMPORAL_UI_URL", "http://127.0.0.1:8233"), "/"),
		Namespace: get("TEMPORAL_NAMESPACE", "default"),
	}
	var err error
	c.PrometheusURL, c.PrometheusAuth, err = prometheusFromEnv(checkFiles)
	fail(err)
	c.PrometheusMaxAnswer = DefaultPrometheusMaxAnswer
	if v := strings.TrimSpace(os.Getenv(EnvPrometheusMaxAnswer)); v != "" {
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
	c.ToxiproxyURL = strings.TrimRight(get("TOXIPROXY_URL", "http://127.0.0.1:8474"), "/")
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
	users, err := ParseRoles(os.Getenv("GAMEDAY_ROLES"))
	if err != nil {
		fail(fmt.Errorf("GAMEDAY_ROLES: %w", err))
	}
	c.Users = users
	if v := os.Getenv("GAMEDAY_GATE_THRESHOLD"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			fail(fmt.Errorf("GAMEDAY_GATE_THRESHOLD: %q is not a percentage in (0, 100]", v))
		}
		c.GateThreshold = f
	}
	return c, first
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
			if r != "dev" && r != "test" && r != "sre" {
				return nil, fmt.Errorf("%q: role %q is not one of dev, test, sre", entry, r)
			}
			out[user] = append(out[user], r)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// PostmortemDir is where local Markdown postmortems go.
func (c Config) PostmortemDir() string { return filepath.Join(c.DataDir, "postmortems") }

// EnvHelp renders Vars for --help.
func EnvHelp() string {
	var b strings.Builder
	b.WriteString("Environment:\n")
	width := 0
	for _, v := range Vars {
		width = max(width, len(v.Name))
	}
	for _, v := range Vars {
		fmt.Fprintf(&b, "  %-*s %s (default %s)\n", width, v.Name, v.Help, v.Default)
	}
	return b.String()
}

func get(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

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
	return fmt.Sprintf("Config{TaskQueue:%s PrometheusURL:%s PrometheusAuth:%s PrometheusMaxAnswer:%s ToxiproxyURL:%s ToxiproxyAuth:%s DataDir:%s UIURL:%s Namespace:%s Users:%v GateThreshold:%g}",
		c.TaskQueue, RedactURL(c.PrometheusURL), c.PrometheusAuth, FormatSize(c.maxAnswer()), RedactURL(c.ToxiproxyURL), c.ToxiproxyAuth,
		c.DataDir, RedactURL(c.UIURL), c.Namespace, c.Users, c.GateThreshold)
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
	)
}

func (c Config) maxAnswer() int64 {
	if c.PrometheusMaxAnswer > 0 {
		return c.PrometheusMaxAnswer
	}
	return DefaultPrometheusMaxAnswer
}
