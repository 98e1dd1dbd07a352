package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/lease"
)

// Target leases (target-leases version 1): a run holds a lease on each of
// its targets (back-end domain + namespace + selector, or the proxy) from
// right before its first inject until its cleanup is over, so two runs
// never act on overlapping targets at once unless both scenarios say
// spec.overlap: allow. Define refuses a run whose targets are leased (the
// reason names the holder's workflow id); the lease is taken atomically
// (an Update of the lease entity) right before the first inject, after
// sign-off and the re-check, and released once recover and verify are
// done, whatever ended the run (also a failure or a cancel: cleanup runs
// on a disconnected context). A run that dies without releasing is freed
// by the sweep once its workflow is closed.
const (
	versionLeases   = "target-leases"
	versionLeasesV1 = workflow.Version(1)
)

type leaseState struct {
	version workflow.Version
	// taken is set before the acquire is scheduled: an acquire that timed
	// out may have landed, and release is idempotent.
	taken bool
	held  []lease.Lease
}

// acquireLeases takes the run's target leases; false means the run must
// not inject (refused: another run got an overlapping lease since define,
// or the entity could not be reached), with the reason recorded.
func (e *experimentRun) acquireLeases(ctx workflow.Context) bool {
	e.leases.version = workflow.GetVersion(ctx, versionLeases, workflow.DefaultVersion, versionLeasesV1)
	if e.leases.version < versionLeasesV1 {
		return true
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         retry(5, activities.ErrTypeTargetLeased),
		Summary:             "acquire target leases",
	})
	e.leases.taken = true
	var out activities.AcquireLeasesResult
	err := workflow.ExecuteActivity(actx, a.AcquireLeases, activities.AcquireLeasesInput{
		Scenario: e.in.Scenario, WorkflowID: e.res.WorkflowID, RunID: e.res.RunID,
	}).Get(ctx, &out)
	if err != nil {
		e.begin(ctx, experiment.PhaseInject, "acquiring target leases")
		reason := "target lease: " + rootMessage(err) + "; nothing was injected"
		e.end(ctx, experiment.StatusFailed, reason)
		if temporal.IsCanceledError(err) || ctx.Err() != nil {
			e.stopped(ctx, err, "acquiring target leases")
		} else {
			e.finish(experiment.Failed, reason)
		}
		return false
	}
	e.leases.held = out.Leases
	e.logger.Info("target leases acquired", "leases", e.leaseKeys())
	return true
}

// releaseLeases frees the run's leases at the end of its cleanup. A release
// that keeps failing is left to the sweep (the run is closed by then).
func (e *experimentRun) releaseLeases(ctx workflow.Context) {
	if !e.leases.taken {
		return
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         retry(10),
		Summary:             "release target leases",
	})
	err := workflow.ExecuteActivity(actx, a.ReleaseLeases, activities.ReleaseLeasesInput{
		WorkflowID: e.res.WorkflowID, RunID: e.res.RunID, Reason: fmt.Sprintf("cleanup done (%s)", e.res.Outcome),
	}).Get(ctx, nil)
	if err != nil {
		e.logger.Warn("target leases not released", "error", err)
		e.setDetail(ctx, "target leases not released ("+rootMessage(err)+"); the sweep frees them once this run is closed")
		return
	}
	e.leases.taken = false
}

// leaseKeys describes the held leases for details and logs.
func (e *experimentRun) leaseKeys() string {
	keys := make([]string, len(e.leases.held))
	for i, l := range e.leases.held {
		keys[i] = l.Key.String()
	}
	return strings.Join(keys, ", ")
}
