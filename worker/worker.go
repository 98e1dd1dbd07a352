// Package worker builds the activity dependencies from configuration,
// registers the workflows and activities, and runs a Temporal worker.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/chaos/toxiproxy"
	"github.com/gameday/gameday/config"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/safety"
	"github.com/gameday/gameday/sli/probe"
	"github.com/gameday/gameday/sli/promclient"
	"github.com/gameday/gameday/telemetry"
	"github.com/gameday/gameday/ticket"
	"github.com/gameday/gameday/workflows"
)

// Option adds to what NewActivities wires.
type Option func(*options)

type options struct{ signals *Signals }

// WithSignals records the activities' metrics in s, and traces the calls
// they make to the toxiproxy API (the demo shop's toxiproxy links the
// faulted requests to the run's trace from them).
func WithSignals(s *Signals) Option { return func(o *options) { o.signals = s } }

// NewActivities wires the activity dependencies from configuration.
func NewActivities(cfg config.Config, logger *slog.Logger, opts ...Option) (*activities.Activities, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	tracing := telemetry.Off()
	if o.signals != nil {
		tracing = o.signals.Tracing
	}
	prom, err := promclient.NewPrometheus(cfg.PrometheusURL, promclient.WithCredentials(cfg.PrometheusAuth), promclient.WithMaxAnswer(cfg.PrometheusMaxAnswer))
	if err != nil {
		return nil, err
	}
	policy, err := safety.FromConfig(cfg.Safety)
	if err != nil {
		return nil, err
	}
	allow, err := probe.ParseAllow(cfg.ProbeAllow)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvProbeAllow, err)
	}
	backends := map[string]chaos.Backend{}
	if cfg.ToxiproxyURL != "" {
		backends[toxiproxy.BackendName] = newToxiproxy(cfg, tracing)
	}
	if err := addKubeBackends(backends, cfg, logger); err != nil {
		return nil, err
	}
	local := postmortem.Dir{Path: cfg.PostmortemDir()}
	acts := &activities.Activities{
		Backends:        backends,
		Prom:            prom,
		Freshness:       promclient.FreshnessQuery,
		Probes:          probe.New(allow), // empty list: every probe guard refused in define
		Ranges:          prom,
		ReportDir:       cfg.ReportDir(),
		ReportURL:       cfg.ReportURL,
		TraceURL:        cfg.TraceURL,
		Notifier:        notify.Log{Logger: logger},
		Postmortems:     local,
		Releases:        local,
		Safety:          policy,
		Signers:         cfg.Users,
		DistinctSigners: cfg.Signoff.Distinct,      // GAMEDAY_DISTINCT_SIGNERS
		RequiredSignoff: cfg.Signoff.RequiredRoles, // GAMEDAY_REQUIRED_SIGNOFF
		Logger:          logger,
	}
	if o.signals != nil {
		acts.Metrics = o.signals.Metrics
		actions := map[string][]string{}
		for name := range backends {
			if d, ok := chaos.Lookup(name); ok {
				actions[name] = slices.Sorted(maps.Keys(d.Actions))
			}
		}
		acts.Metrics.InitBackends(actions)
	}
	// With Jira configured, postmortems and release evidence go there; the
	// token stays in this process (never in activity inputs or history).
	if jc, ok := ticket.JiraConfigFrom(cfg.Jira); ok {
		j, err := ticket.NewJira(jc, nil)
		if err != nil {
			return nil, err
		}
		j.Logger = logger
		acts.Postmortems, acts.Releases = j, j
		logger.Info("postmortems go to Jira", "jira", jc)
	}
	return acts, nil
}

// newToxiproxy builds the toxiproxy back-end; the credentials that were in
// TOXIPROXY_URL go in the Authorization header of requests to its host.
// With tracing on, each API call is a span of the activity that makes it,
// its trace context in the request's headers.
func newToxiproxy(cfg config.Config, tracing telemetry.Tracing) *toxiproxy.Backend {
	if cfg.ToxiproxyAuth.IsZero() && !tracing.On {
		return toxiproxy.New(cfg.ToxiproxyURL)
	}
	var rt http.RoundTripper = http.DefaultTransport
	if !cfg.ToxiproxyAuth.IsZero() {
		host := ""
		if u, err := url.Parse(cfg.ToxiproxyURL); err == nil {
			host = u.Host
		}
		rt = cfg.ToxiproxyAuth.Transport(host, nil)
	}
	return toxiproxy.New(cfg.ToxiproxyURL, toxiproxy.WithHTTPClient(&http.Client{
		Timeout:   toxiproxy.DefaultHTTPTimeout,
		Transport: tracing.HTTPTransport(rt),
	}))
}

// LogStart logs the worker's start: task queue and the redacted URLs of
// the services it talks to, with the kind of credentials (never their
// value). Credentials sent in clear to a host other than loopback get a
// warning.
func LogStart(logger *slog.Logger, cfg config.Config) {
	logger.Info("worker started", "task_queue", cfg.TaskQueue,
		"prometheus", config.RedactURL(cfg.PrometheusURL), "prometheus_auth", cfg.PrometheusAuth, "probe_allow", cfg.ProbeAllow,
		"toxiproxy", config.RedactURL(cfg.ToxiproxyURL), "toxiproxy_auth", cfg.ToxiproxyAuth)
	for _, s := range []struct {
		name, url string
		auth      config.Credentials
	}{{"prometheus", cfg.PrometheusURL, cfg.PrometheusAuth}, {"toxiproxy", cfg.ToxiproxyURL, cfg.ToxiproxyAuth}} {
		if s.auth.IsZero() {
			continue
		}
		if u, err := url.Parse(s.url); err == nil && u.Scheme == "http" && !loopback(u.Hostname()) {
			logger.Warn("credentials are sent over plain http", "service", s.name, "url", config.RedactURL(s.url))
		}
	}
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewActivitiesWithClient also wires what needs the Temporal client: the
// checklist, lease and kill switch entities, the schedules' runs (blackout
// windows, pause on failure) and the abort of running runs.
func NewActivitiesWithClient(c client.Client, cfg config.Config, logger *slog.Logger, opts ...Option) (*activities.Activities, error) {
	acts, err := NewActivities(cfg, logger, opts...)
	if err != nil {
		return nil, err
	}
	acts.Checklists = Checklists{Client: c, TaskQueue: cfg.TaskQueue}
	acts.Runs = Runs{Client: c}
	acts.Updates = Runs{Client: c}
	acts.Past = PastRuns{Client: c}
	acts.Finished = PastRuns{Client: c}
	acts.Leases = Leases{Client: c, TaskQueue: cfg.TaskQueue}
	ks := KillSwitch{Client: c, TaskQueue: cfg.TaskQueue}
	acts.KillSwitch = ks
	// The freeze gauge (gameday_freeze_active, the dashboard's "Change
	// freeze" panel) reads the switch at scrape time: it is Temporal state
	// any CLI or Slack user changes, not this worker's.
	acts.Metrics.SetFreezeSource(func(ctx context.Context) (bool, error) {
		st, err := ks.State(ctx)
		return st.Frozen, err
	})
	acts.Schedules = Schedules{Client: c}
	acts.Aborter = Aborter{Client: c}
	return acts, nil
}

// Register adds gameday's workflows (all of workflows.Definitions) and
// its activities to a worker.
func Register(w worker.Registry, acts *activities.Activities) {
	workflows.Register(w)
	w.RegisterActivity(acts)
}

// New creates a worker on the configured task queue.
func New(c client.Client, cfg config.Config, acts *activities.Activities) worker.Worker {
	// A workflow task waits this long on a dead worker's sticky queue
	// before any worker may take it (the SDK default is 5 s): with faults
	// live, the next step (a hold's end, a breach) should not wait for it.
	// Heartbeats reach the server at most every MaxHeartbeatThrottleInterval
	// (the SDK's default is 0.8 × the heartbeat timeout, 4 s against 5 s: a
	// GC pause would make a false timeout and a lost guard attempt).
	w := worker.New(c, cfg.TaskQueue, worker.Options{StickyScheduleToStartTimeout: 2 * time.Second, MaxHeartbeatThrottleInterval: time.Second})
	Register(w, acts)
	return w
}

// EnsureSearchAttributes registers gameday's search attributes on the
// namespace. Idempotent: attributes already present are fine.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	op := c.OperatorService()
	list, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes in namespace %s: %w", namespace, err)
	}
	missing := map[string]enums.IndexedValueType{}
	for _, n := range workflows.SearchAttributeNames() {
		if _, ok := list.GetCustomAttributes()[n]; !ok {
			missing[n] = enums.INDEXED_VALUE_TYPE_KEYWORD
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register search attributes %v in namespace %s: %w", workflows.SearchAttributeNames(), namespace, err)
	}
	return nil
}
