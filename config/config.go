// Package config reads gameday's settings from the environment, with
// defaults that match the local stack (`make run`). Temporal connection
// settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, a
// TOML profile) are read by the SDK's envconfig package.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Config is the worker's and the CLI's configuration.
type Config struct {
	TaskQueue     string // GAMEDAY_TASK_QUEUE
	PrometheusURL string // PROMETHEUS_URL
	ToxiproxyURL  string // TOXIPROXY_URL; empty disables the toxiproxy back-end
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
	{"PROMETHEUS_URL", "http://127.0.0.1:9090", "Prometheus HTTP API used by guards"},
	{"TOXIPROXY_URL", "http://127.0.0.1:8474", "toxiproxy API for the toxiproxy back-end (\"off\" disables it)"},
	{"GAMEDAY_DATA_DIR", ".data", "local state: Temporal SQLite file, postmortems"},
	{"GAMEDAY_ROLES", "(empty: anyone signs)", "sign-off role map, e.g. dana=dev,tess=test,sam=sre+dev"},
	{"GAMEDAY_GATE_THRESHOLD", "(the checklist's)", "release gate score threshold in percent"},
	{"GAMEDAY_KUBE", "auto", "Kubernetes back-ends: auto (when a kubeconfig or in-cluster account exists), on (require a cluster), off"},
	{"KUBECONFIG", "~/.kube/config", "kubeconfig file(s), as for kubectl"},
	{"GAMEDAY_KUBE_CONTEXT", "(current context)", "kubeconfig context, as kubectl --context"},
	{"GAMEDAY_NAMESPACES", "(none: every Kubernetes target refused)", "namespaces faults may target, e.g. shop,payments"},
	{"GAMEDAY_OPTIN_LABEL", "gameday.io/chaos=enabled", "label a target workload or its namespace must carry"},
	{"GAMEDAY_MAX_BLAST_RADIUS", "*=50%", "largest share of matched targets a fault may hit, per environment label, e.g. prod=1,staging=50%,*=2"},
}

// FromEnv reads the configuration. Malformed values are reported by
// Validate, not here, so --help always works.
func FromEnv() Config {
	c := Config{
		TaskQueue:     get("GAMEDAY_TASK_QUEUE", "gameday"),
		PrometheusURL: strings.TrimRight(get("PROMETHEUS_URL", "http://127.0.0.1:9090"), "/"),
		ToxiproxyURL:  strings.TrimRight(get("TOXIPROXY_URL", "http://127.0.0.1:8474"), "/"),
		DataDir:       get("GAMEDAY_DATA_DIR", ".data"),
		UIURL:         strings.TrimRight(get("TEMPORAL_UI_URL", "http://127.0.0.1:8233"), "/"),
		Namespace:     get("TEMPORAL_NAMESPACE", "default"),
	}
	if c.ToxiproxyURL == "off" {
		c.ToxiproxyURL = ""
	}
	c.Users, _ = ParseRoles(os.Getenv("GAMEDAY_ROLES"))
	c.GateThreshold, _ = strconv.ParseFloat(os.Getenv("GAMEDAY_GATE_THRESHOLD"), 64)
	return c
}

// Validate reports malformed environment values, naming the variable.
func Validate() error {
	if _, err := ParseRoles(os.Getenv("GAMEDAY_ROLES")); err != nil {
		return fmt.Errorf("GAMEDAY_ROLES: %w", err)
	}
	if v := os.Getenv("GAMEDAY_GATE_THRESHOLD"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			return fmt.Errorf("GAMEDAY_GATE_THRESHOLD: %q is not a percentage in (0, 100]", v)
		}
	}
	return nil
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
	for _, v := range Vars {
		fmt.Fprintf(&b, "  %-26s %s (default %s)\n", v.Name, v.Help, v.Default)
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
