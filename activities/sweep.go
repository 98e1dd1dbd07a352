package activities

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/lease"
)

// RunStatus tells a sweep whether the workflow that injected a fault is
// still running. Implemented with the Temporal client by the worker.
type RunStatus interface {
	// RunState returns "running", a closed status ("completed", "failed",
	// "terminated", "timed-out", "canceled", "continued-as-new") or "gone"
	// when the server does not know the workflow (deleted by retention).
	RunState(ctx context.Context, workflowID string) (string, error)
}

// recoverBound limits each removal in a sweep.
const recoverBound = 2 * time.Minute

// RunRunning is the RunState of an open workflow.
const RunRunning = "running"

// DefaultSweepGrace is how long past its expiry a fault of a running
// workflow is left alone: the workflow may be about to recover it, and in a
// run with several faults the hold starts after the last inject.
const DefaultSweepGrace = 5 * time.Minute

type SweepInput struct {
	DryRun bool `json:"dry_run"`
	// Grace is how long past its own expiry a fault whose workflow is still
	// running is left alone (the workflow may be recovering it right now).
	Grace time.Duration `json:"grace,omitempty"`
}

// Swept is one fault a sweep found.
type Swept struct {
	chaos.Injected
	RunState string `json:"run_state,omitempty"`
	// Orphan is true when the fault must go: its workflow is closed or gone,
	// or it outlived its own expiry.
	Orphan bool   `json:"orphan"`
	Reason string `json:"reason"`
	// Outcome: kept, would-remove (dry run), removed, already-gone, failed.
	// (Not "Action": the embedded Injected.Action is the fault's action.)
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

type SweepResult struct {
	Faults []Swept `json:"faults"`
	// Errors lists back-ends that could not be listed (e.g. Chaos Mesh not
	// installed); the sweep still covers the others.
	Errors []string `json:"errors,omitempty"`
	// Leases are the target leases found, one entry per holding run.
	Leases []SweptLease `json:"leases,omitempty"`
}

// SweptLease is one run's target leases as a sweep found them.
type SweptLease struct {
	lease.Holder
	Keys     []string `json:"keys"`
	RunState string   `json:"run_state,omitempty"`
	// Orphan: its run is closed or gone, so nobody will release it.
	Orphan bool   `json:"orphan"`
	Reason string `json:"reason"`
	// Outcome: kept, would-free (dry run), freed, failed.
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

// OrphanLeases counts the runs whose leases had to be freed.
func (r SweepResult) OrphanLeases() int {
	n := 0
	for _, l := range r.Leases {
		if l.Orphan {
			n++
		}
	}
	return n
}

// DecideLease is the sweep rule for a lease, the same as for a fault's
// workflow: a closed or gone workflow will never release it. There is no
// expiry: a running run holds its leases until its cleanup is over,
// however long recover keeps retrying.
func DecideLease(h lease.Holder, runState string) (bool, string) {
	if runState != RunRunning {
		return true, fmt.Sprintf("workflow %s is %s", h.WorkflowID, runState)
	}
	return false, fmt.Sprintf("workflow %s is running", h.WorkflowID)
}

// Orphans counts the faults that had to go.
func (r SweepResult) Orphans() int {
	n := 0
	for _, f := range r.Faults {
		if f.Orphan {
			n++
		}
	}
	return n
}

// DecideOrphan is the sweep rule, pure so it is tested on its own: a fault
// goes when its workflow is closed or gone, or when it is past its expiry
// (plus grace) whatever its workflow says. A fault whose workflow is unknown
// (the back-end cannot record it, e.g. toxiproxy) goes only when expired.
func DecideOrphan(inj chaos.Injected, runState string, now time.Time, grace time.Duration) (bool, string) {
	expired := !inj.Expires.IsZero() && now.After(inj.Expires.Add(grace))
	switch {
	case inj.WorkflowID != "" && runState != RunRunning && runState != "":
		return true, fmt.Sprintf("workflow %s is %s", inj.WorkflowID, runState)
	case expired:
		return true, fmt.Sprintf("expired at %s", inj.Expires.UTC().Format(time.RFC3339))
	case inj.WorkflowID == "":
		return false, "no workflow recorded; not expired yet"
	}
	return false, fmt.Sprintf("workflow %s is running", inj.WorkflowID)
}

// Sweep finds faults left behind by runs that can no longer recover them
// (a crash, a terminated workflow, a deleted history) and removes them. It
// runs on a Temporal Schedule and from `gameday sweep`. A back-end that
// cannot be listed is reported and skipped, never fatal for the others.
func (a *Activities) Sweep(ctx context.Context, in SweepInput) (SweepResult, error) {
	res := SweepResult{Faults: []Swept{}}
	names := make([]string, 0, len(a.Backends))
	for n := range a.Backends {
		names = append(names, n)
	}
	sort.Strings(names)
	hctx, stop := withHeartbeat(ctx)
	defer stop()
	own := ""
	if activity.IsActivity(ctx) {
		own = activity.GetInfo(ctx).WorkflowNamespace
	}
	for _, name := range names {
		b := a.Backends[name]
		found, err := b.List(ctx)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		for _, inj := range found {
			if inj.Backend == "" {
				inj.Backend = name
			}
			s := Swept{Injected: inj}
			if own != "" && inj.TemporalNamespace != "" && inj.TemporalNamespace != own {
				// Its workflow lives in another Temporal namespace: this
				// installation cannot tell whether it still runs.
				s.Outcome, s.Reason = "kept", fmt.Sprintf("belongs to Temporal namespace %q, not %q: left to that installation's sweep", inj.TemporalNamespace, own)
				res.Faults = append(res.Faults, s)
				continue
			}
			if inj.WorkflowID != "" && a.Runs != nil {
				if s.RunState, err = a.Runs.RunState(ctx, inj.WorkflowID); err != nil {
					s.Outcome, s.Reason = "kept", "cannot read its workflow: "+err.Error()
					res.Faults = append(res.Faults, s)
					continue
				}
			}
			s.Orphan, s.Reason = DecideOrphan(inj, s.RunState, time.Now(), in.Grace)
			switch {
			case !s.Orphan:
				s.Outcome = "kept"
			case in.DryRun:
				s.Outcome = "would-remove"
			default:
				chaos.Progress(hctx, "removing "+inj.FaultID)
				// Each removal gets its own bound, so one stuck fault (a
				// finalizer, an owner that never gets Ready) cannot use up
				// the whole sweep; it is reported and retried next sweep.
				rctx, cancel := context.WithTimeout(hctx, recoverBound)
				r, err := b.Recover(rctx, FaultFromInjected(inj))
				cancel()
				switch {
				case err != nil:
					s.Outcome, s.Detail = "failed", err.Error()
				case r.Removed:
					s.Outcome, s.Detail = "removed", r.Detail
				default:
					s.Outcome, s.Detail = "already-gone", r.Detail
				}
				a.Metrics.Swept(name, s.Outcome)
				a.log().Info("sweep", "fault_id", inj.FaultID, "backend", name, "object", inj.Object, "reason", s.Reason, "outcome", s.Outcome)
			}
			res.Faults = append(res.Faults, s)
		}
	}
	a.sweepLeases(ctx, in, &res)
	return res, nil
}

// sweepLeases frees the leases of runs that are closed or gone (terminated,
// or a worker crash that no retry will finish), so a dead run cannot hold
// its targets forever.
func (a *Activities) sweepLeases(ctx context.Context, in SweepInput, res *SweepResult) {
	if a.Leases == nil {
		return
	}
	held, err := a.Leases.List(ctx)
	if err != nil {
		res.Errors = append(res.Errors, "leases: "+err.Error())
		return
	}
	t := lease.Table{Leases: held}
	for _, h := range t.Runs() {
		s := SweptLease{Holder: h}
		for _, l := range held {
			if l.Holder == h {
				s.Keys = append(s.Keys, l.Key.String())
			}
		}
		if a.Runs == nil {
			s.Outcome, s.Reason = "kept", "no Temporal client on this worker to read its workflow"
			res.Leases = append(res.Leases, s)
			continue
		}
		if s.RunState, err = a.Runs.RunState(ctx, h.WorkflowID); err != nil {
			s.Outcome, s.Reason = "kept", "cannot read its workflow: "+err.Error()
			res.Leases = append(res.Leases, s)
			continue
		}
		s.Orphan, s.Reason = DecideLease(h, s.RunState)
		switch {
		case !s.Orphan:
			s.Outcome = "kept"
		case in.DryRun:
			s.Outcome = "would-free"
		default:
			if _, err := a.Leases.Release(ctx, h.WorkflowID, h.RunID, "sweep: "+s.Reason); err != nil {
				s.Outcome, s.Detail = "failed", err.Error()
			} else {
				s.Outcome = "freed"
			}
			a.log().Info("sweep lease", "workflow_id", h.WorkflowID, "run_id", h.RunID, "reason", s.Reason, "outcome", s.Outcome)
		}
		res.Leases = append(res.Leases, s)
	}
}

// FaultFromInjected rebuilds what Recover needs from what List found.
// Back-ends recover by fault id (plus action and namespace), never by the
// scenario, for exactly this reason.
func FaultFromInjected(inj chaos.Injected) chaos.Fault {
	return chaos.Fault{
		ID:         inj.FaultID,
		WorkflowID: inj.WorkflowID,
		Backend:    inj.Backend,
		Action:     inj.Action,
		Target:     chaos.Target{Backend: inj.Backend, Namespace: inj.Namespace},
	}
}
