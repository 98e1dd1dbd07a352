// Package activities holds the side-effecting half of an experiment: every
// call to a fault back-end, Prometheus, a notifier or a postmortem sink. The
// Activities struct carries its dependencies as interfaces and is
// registered once with the worker; workflows call its methods through a nil
// *Activities.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/internal/errkind"
	"github.com/gameday/gameday/notify"
	"github.com/gameday/gameday/postmortem"
	"github.com/gameday/gameday/safety"
	"github.com/gameday/gameday/sli"
	"github.com/gameday/gameday/telemetry"
)

// Activities is registered with the worker.
type Activities struct {
	Backends map[string]chaos.Backend
	Prom     sli.Querier
	// Probes runs the probe guards (kind http, tcp) within the worker's
	// allow-list; nil refuses them.
	Probes sli.Prober
	// Freshness derives a prometheus guard's freshness query from its
	// query (promclient.FreshnessQuery); nil evaluates such guards on their
	// interval only.
	Freshness func(query string) (string, error)
	// Ranges answers the report's range queries (the same Prometheus).
	Ranges sli.RangeQuerier
	// ReportDir is where every run's report is written (GAMEDAY_DATA_DIR
	// /reports); empty: no reports. ReportURL is where that directory is
	// served, for links (GAMEDAY_REPORT_URL; empty: file paths), and
	// TraceURL the trace UI a run's trace id links to (GAMEDAY_TRACE_URL).
	ReportDir, ReportURL, TraceURL string
	Notifier                       notify.Notifier
	Postmortems                    postmortem.Sink
	// Releases receives release-ticket evidence (Jira, or local files).
	Releases ReleaseSink
	// Checklists holds the learned checklist weights.
	Checklists ChecklistStore
	// Runs answers whether a fault's workflow still runs (sweeps).
	Runs RunStatus
	// Updates sends Updates to other runs (a game day's abort, pause and
	// resume reaching its running steps); nil: ForwardUpdate refuses.
	Updates RunUpdater
	// Past reads earlier runs' results (drift baselines from runs); nil:
	// such baselines are off, and say so.
	Past PastRuns
	// Finished reads ended runs (a game day's report); nil: no game-day
	// report.
	Finished FinishedRuns
	// Leases holds the target leases (the lease entity workflow); nil
	// means no leases are checked or taken.
	Leases LeaseStore
	// KillSwitch is the freeze define refuses new runs under; Schedules
	// answers for the Schedule that started a run (blackout windows,
	// pause on failure); Aborter aborts running runs (blackout windows
	// opening). Nil: no such check or action.
	KillSwitch KillSwitch
	Schedules  ScheduleInfo
	Aborter    RunAborter
	// Safety is the worker's safety policy; define checks every fault's
	// duration against it (the Kubernetes back-ends check the rest).
	Safety safety.Policy
	// Signers maps a user to the sign-off roles they hold: the worker's
	// own configuration (GAMEDAY_ROLES), never the workflow input, so
	// whoever starts a run cannot choose who approves it. Empty: nobody
	// can sign a gate.
	Signers map[string][]string
	// DistinctSigners says whether distinct users must sign distinct roles
	// in an environment (GAMEDAY_DISTINCT_SIGNERS); nil: never.
	DistinctSigners func(environment string) bool
	// RequiredSignoff names the roles every scenario of an environment
	// must require (GAMEDAY_REQUIRED_SIGNOFF); nil: none.
	RequiredSignoff func(environment string) []string
	Logger          *slog.Logger
	// Metrics are the worker's own series (nil: none). Activities record
	// them, never workflow code: an activity attempt runs once, a workflow
	// replays.
	Metrics *telemetry.Metrics
}

// ReleaseSink records a run's evidence on a release ticket: a comment, and a
// status move when the release gate passed.
type ReleaseSink interface {
	ReleaseEvidence(ctx context.Context, key string, r experiment.Result, postmortemRef string) error
}

// Error types that the workflow and the retry policies recognise.
const (
	ErrTypeBadInput  = "BadInput"  // the scenario or a query is wrong: fix and rerun
	ErrTypeNoBackend = "NoBackend" // this worker has no client for the back-end
	ErrTypePermanent = "Permanent" // the back-end refused for good
	ErrTypeNotSteady = "NotSteady" // the system was unhealthy before injecting
	ErrTypeBadQuery  = "BadQuery"  // Prometheus rejected a guard query
)

func (a *Activities) backend(name string) (chaos.Backend, error) {
	b, ok := a.Backends[name]
	if !ok || b == nil {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("back-end %q is not configured on this worker (configured: %v)", name, keys(a.Backends)),
			ErrTypeNoBackend, nil)
	}
	return b, nil
}

func (a *Activities) log() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// classify turns a back-end or query error into a Temporal error whose
// retryability matches its cause.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var bq *sli.BadQueryError
	if errors.As(err, &bq) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeBadQuery, nil)
	}
	if errkind.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypePermanent, nil)
	}
	return err
}

// firstAttempt says whether this is an activity's first attempt: what is
// counted once per run is counted there, so a retry never counts it again.
func firstAttempt(ctx context.Context) bool {
	return !activity.IsActivity(ctx) || activity.GetInfo(ctx).Attempt <= 1
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
