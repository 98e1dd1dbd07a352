package config

import (
	"fmt"
	"strings"
)

// The variables Read reads besides the Prometheus ones (prometheus.go).
// DefaultTaskQueue is the task queue when GAMEDAY_TASK_QUEUE is unset.
const DefaultTaskQueue = "gameday"

const (
	EnvUIURL        = "TEMPORAL_UI_URL"
	EnvNamespace    = "TEMPORAL_NAMESPACE" // also read by envconfig
	EnvTaskQueue    = "GAMEDAY_TASK_QUEUE"
	EnvToxiproxyURL = "TOXIPROXY_URL"
	// Basic auth for a toxiproxy API behind an authenticating proxy.
	EnvToxiproxyUsername     = "GAMEDAY_TOXIPROXY_USERNAME"
	EnvToxiproxyPassword     = "GAMEDAY_TOXIPROXY_PASSWORD"
	EnvToxiproxyPasswordFile = "GAMEDAY_TOXIPROXY_PASSWORD_FILE"
	EnvDataDir               = "GAMEDAY_DATA_DIR"
	EnvReportURL             = "GAMEDAY_REPORT_URL"
	EnvTraceURL              = "GAMEDAY_TRACE_URL"
	EnvRoles                 = "GAMEDAY_ROLES"
	EnvGateThreshold         = "GAMEDAY_GATE_THRESHOLD"
	EnvUser                  = "USER"
	EnvToolsDir              = "GAMEDAY_TOOLS_DIR"

	// EnvProbeAllow lists the hosts and ports probe guards (kind http,
	// tcp) may reach from the worker; empty refuses every probe.
	EnvProbeAllow = "GAMEDAY_PROBE_ALLOW"

	EnvDistinctSigners = "GAMEDAY_DISTINCT_SIGNERS"
	EnvRequiredSignoff = "GAMEDAY_REQUIRED_SIGNOFF"

	// EnvDemoFallback: "off" builds the demo shop (gameday demo, gameday
	// dev) without its fallbacks, the resilience regression the seed
	// experiments should catch; "on" (default) keeps them.
	EnvDemoFallback = "GAMEDAY_DEMO_FALLBACK"

	// EnvKube: "off" disables the Kubernetes back-ends; "on" requires a
	// reachable cluster; empty or "auto" uses one when a kubeconfig or the
	// in-cluster service account is found.
	EnvKube        = "GAMEDAY_KUBE"
	EnvKubeContext = "GAMEDAY_KUBE_CONTEXT" // kubeconfig context, like kubectl --context
	EnvKubeconfig  = "KUBECONFIG"

	EnvNamespaces       = "GAMEDAY_NAMESPACES"
	EnvOptInLabel       = "GAMEDAY_OPTIN_LABEL"
	EnvMaxBlastRadius   = "GAMEDAY_MAX_BLAST_RADIUS"
	EnvMaxFaultDuration = "GAMEDAY_MAX_FAULT_DURATION"

	// The Jira token is read from the environment only: it must never sit
	// in a scenario or config file that is committed or shown.
	EnvJiraURL         = "JIRA_URL"
	EnvJiraUser        = "JIRA_USER"
	EnvJiraToken       = "JIRA_TOKEN"
	EnvJiraProject     = "JIRA_PROJECT"
	EnvJiraIssueType   = "JIRA_ISSUE_TYPE"
	EnvJiraLabels      = "JIRA_LABELS"
	EnvJiraReadyStatus = "JIRA_READY_STATUS"

	// The Slack tokens and the signing secret come from the environment
	// only, never from a file that might be committed or shown.
	EnvSlackBotToken      = "SLACK_BOT_TOKEN"      // xoxb-…: Web API calls
	EnvSlackSigningSecret = "SLACK_SIGNING_SECRET" // verifies HTTP requests from Slack
	EnvSlackAppToken      = "SLACK_APP_TOKEN"      // xapp-…: Socket Mode instead of a public HTTP endpoint
	EnvSlackChannels      = "SLACK_CHANNELS"       // comma list of channel ids the bot answers in
	EnvSlackAccess        = "GAMEDAY_SLACK_ACCESS" // path of the SlackAccess YAML file
	EnvSlackPoll          = "GAMEDAY_SLACK_POLL"   // how often a run message is refreshed
)

// Var documents one environment variable (for --help and the README).
// A Default in parentheses, or "unset", is a description, not a value.
type Var struct{ Name, Default, Help string }

// Vars lists every variable gameday reads (and those the Temporal SDK's
// envconfig reads for it). `gameday --help` and the README's configuration
// table are rendered from it (EnvHelp, MarkdownTable); a test keeps the
// README equal to MarkdownTable and another that every variable Read asks
// for is here.
var Vars = []Var{
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port (read by the Temporal SDK's envconfig, like the other TEMPORAL_* but TEMPORAL_UI_URL)"},
	{EnvNamespace, "default", "Temporal namespace"},
	{"TEMPORAL_API_KEY", "unset", "API key for the Temporal frontend (Temporal Cloud); turns TLS on"},
	{"TEMPORAL_TLS", "unset", "TLS to the Temporal frontend: true or false (TEMPORAL_TLS_* or an API key turn it on too)"},
	{"TEMPORAL_TLS_*", "unset", "mTLS: _CLIENT_CERT_PATH/_DATA, _CLIENT_KEY_PATH/_DATA, _SERVER_CA_CERT_PATH/_DATA, _SERVER_NAME, _DISABLE_HOST_VERIFICATION"},
	{"TEMPORAL_PROFILE", "default", "profile of the Temporal client TOML file"},
	{"TEMPORAL_CONFIG_FILE", "(the user config dir's temporalio/temporal.toml)", "Temporal client TOML file, as for the temporal CLI"},
	{EnvUIURL, "http://127.0.0.1:8233", "Temporal Web UI base URL, used in links"},
	{EnvTaskQueue, DefaultTaskQueue, "task queue the worker polls"},
	{EnvPrometheusURL, "http://127.0.0.1:9090", "Prometheus HTTP API used by guards (user:password@ in it is sent as basic auth and never printed)"},
	{EnvPrometheusBearerToken, "unset", "bearer token sent to Prometheus (exclusive with basic auth)"},
	{EnvPrometheusBearerTokenFile, "unset", "file holding that token (a mounted secret; read again on every request)"},
	{EnvPrometheusUsername, "unset", "basic-auth user for Prometheus"},
	{EnvPrometheusPassword, "unset", "basic-auth password for Prometheus"},
	{EnvPrometheusPasswordFile, "unset", "file holding that password (read again on every request)"},
	{EnvPrometheusMaxAnswer, "1MiB", "largest Prometheus answer read (bytes, KiB, MiB); a bigger one is refused undecoded"},
	{EnvProbeAllow, "(empty: probe guards refused; gameday dev: loopback)", "hosts and ports probe guards (kind http, tcp) may reach, comma list of HOST[:PORTS]: a name, *.domain, an address, a CIDR range or loopback; PORTS 8080, 8000-8999 or * (any), e.g. *.shop.svc.cluster.local:8080,10.0.0.0/8:80"},
	{EnvToxiproxyURL, "http://127.0.0.1:8474", "toxiproxy API for the toxiproxy back-end (\"off\" disables it; user:password@ in it is sent as basic auth and never printed)"},
	{EnvToxiproxyUsername, "unset", "basic-auth user for the toxiproxy API (when it sits behind an authenticating proxy)"},
	{EnvToxiproxyPassword, "unset", "basic-auth password for the toxiproxy API"},
	{EnvToxiproxyPasswordFile, "unset", "file holding that password (a mounted secret; read again on every request)"},
	{EnvDataDir, ".data", "local state: Temporal SQLite file, postmortems, reports"},
	{EnvReportURL, "(unset: links are file paths)", "where the data dir's reports/ folder is served (any static file server), so report links in tickets, Slack and postmortems open in a browser"},
	{EnvTraceURL, "(unset: the trace id alone)", "trace UI base that a run's trace id links to, e.g. Jaeger's http://jaeger:16686 (/trace/<id> is appended; {trace_id} in it is replaced instead)"},
	{EnvRoles, "(empty: no gate can be signed)", "sign-off role map, e.g. dana=dev,tess=test,sam=sre+dev"},
	{EnvDistinctSigners, DefaultDistinctSigners, "environment labels whose sign-off roles must be signed by distinct users (\"*\" every environment, \"none\" none)"},
	{EnvRequiredSignoff, "(none)", "sign-off roles every scenario of an environment must require, e.g. prod=dev+test+sre,*=sre; unlisted labels and scenarios without one get \"*\" or else every listed role; checked in define"},
	{EnvGateThreshold, "(the checklist's)", "release gate score threshold in percent"},
	{EnvUser, "(the login name)", "who runs and aborts by default (--by of run and abort)"},
	{EnvKube, "auto", "Kubernetes back-ends: auto (when a kubeconfig or in-cluster account exists), on (require a cluster), off (gameday dev: off unless set)"},
	{EnvKubeconfig, "~/.kube/config", "kubeconfig file(s), as for kubectl"},
	{EnvKubeContext, "(current context)", "kubeconfig context, as kubectl --context (worker and reap --kube-context override it)"},
	{EnvNamespaces, "(none: every Kubernetes target refused)", "namespaces faults may target, e.g. shop,payments"},
	{EnvOptInLabel, "gameday.io/chaos=enabled", "label a target workload or its namespace must carry"},
	{EnvMaxBlastRadius, "*=50%", "largest share of matched targets a fault may hit, per environment label, e.g. prod=1,staging=50%,*=2"},
	{EnvMaxFaultDuration, "*=1h", "longest a fault may be held, per environment label (strictest for unlisted ones), e.g. prod=10m,*=1h; checked in define and dry runs"},
	{EnvJiraURL, "(unset: postmortems are Markdown files)", "Jira base URL for postmortem issues and release evidence, e.g. https://example.atlassian.net"},
	{EnvJiraUser, "unset", "Jira user (basic auth with JIRA_TOKEN); required with JIRA_URL"},
	{EnvJiraToken, "unset", "Jira API token, from the environment only, never printed; required with JIRA_URL"},
	{EnvJiraProject, "unset", "Jira project postmortem issues are filed in; required with JIRA_URL"},
	{EnvJiraIssueType, DefaultJiraIssueType, "issue type of postmortem issues"},
	{EnvJiraLabels, DefaultJiraLabels, "labels on every postmortem issue (comma list, no spaces in a label)"},
	{EnvJiraReadyStatus, DefaultJiraReadyStatus, "status a release ticket moves to when its gate passes"},
	{EnvSlackBotToken, "unset", "Slack bot token (xoxb-…), required by gameday slack; scopes commands, chat:write (and channels:history, groups:history to find run messages again after a restart)"},
	{EnvSlackSigningSecret, "unset", "Slack signing secret, required by gameday slack serve: verifies every request"},
	{EnvSlackAppToken, "unset", "Slack app-level token (xapp-…, scope connections:write), required by gameday slack socket"},
	{EnvSlackChannels, "(empty: any channel)", "channel ids the bot answers in, comma list"},
	{EnvSlackAccess, "(unset: gameday slack refuses to start)", "the SlackAccess YAML file: who may run, abort and sign off"},
	{EnvSlackPoll, "2s", "how often a run's Slack message is refreshed (at least 100ms)"},
	{EnvDemoFallback, "on", "demo shop (gameday demo, gameday dev): off builds it without the backup-inventory and local-cache fallbacks (same as --fallback=false)"},
	{EnvToolsDir, "~/.cache/gameday/bin", "where make tools puts the local stack's servers (gameday dev, integration tests)"},
	{EnvMetricsAddr, "(off; gameday dev: " + DevMetricsAddr + ")", "host:port where gameday worker serves /metrics (gameday's and the Temporal SDK's), /healthz and /readyz, e.g. :9464; off: none"},
	{EnvOTLPEndpoint, "(unset: no tracing)", "OTLP/HTTP receiver traces go to (worker, CLI, Slack bot, demo shop), e.g. http://jaeger:4318; gameday dev starts a local Jaeger when unset and it is built"},
	{"OTEL_EXPORTER_OTLP_*", "unset", "the OTLP exporter's other standard settings (_HEADERS, _TIMEOUT, _CERTIFICATE, _COMPRESSION), read by the OpenTelemetry exporter itself when tracing is on"},
}

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

// MarkdownTable renders Vars as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n| --- | --- | --- |\n")
	for _, v := range Vars {
		def := v.Default
		if !strings.HasPrefix(def, "(") && def != "unset" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(v.Help, "|", `\|`))
	}
	return b.String()
}
