package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/sli"
)

// Pause and resume (pause-resume version 1), and notes (notes version 1).
//
// A pause removes the faults of the current exposure and holds: the guards
// keep watching (a breach while paused aborts the run), an abort ends the
// pause and the run, and a pause that outlives its timeout aborts the run
// with that reason. A resume re-injects what was left of each fault's hold
// under fresh fault ids (chaos.ResumedFaultID: back-ends are idempotent by
// id, so an old id would find the old marker or adopt the old toxic and
// inject nothing) and goes on observing for what is left. Each exposure is
// a "cycle": cycle 0 is the run's first injection, cycle k its k-th
// resume. Every cycle's faults are appended to e.faults/e.fs/e.attempted,
// so recover (whatever ends the run) removes every attempted fault of
// every cycle, as it always did.
//
// A pause taken while an inject is in flight cancels that inject and lets
// recover settle it (wait for the activity to say whether its call
// landed), exactly as an abort does. A resume waits until every fault
// removed for the pause is gone, so an old fault never stacks with its
// re-injection.
//
// The guard watch is restarted at each pause (with the drift rule off:
// nothing is injected, and a drift pause is already a pause) and at each
// resume (with a fresh StartToClose for what is left), so a long pause
// never outlives the guard activity's bound.
const (
	versionPause   = "pause-resume"
	versionPauseV1 = workflow.Version(1)
	versionNotes   = "notes"
	versionNotesV1 = workflow.Version(1)

	// DefaultPauseTimeout is how long a pause lasts without an answer when
	// neither the request nor the scenario (spec.pause_timeout) says.
	DefaultPauseTimeout = 10 * time.Minute
	// MaxPauseTimeout bounds a pause: a run is not parked for days.
	MaxPauseTimeout = scenarios.MaxPauseTimeout

	// ErrTypePauseNotTaken: a pause or resume was accepted but the run
	// moved on before it took effect (the hold ended, the run aborted).
	ErrTypePauseNotTaken = "PauseNotTaken"
)

type pauseState struct {
	version workflow.Version
	// want is a pause asked for and not taken yet (an update, a signal or
	// the drift rule); resume likewise.
	want   *pauseWant
	resume *resumeWant
	// active: the run is paused now (e.res.Pauses' last entry is open).
	active bool
	// cycle counts resumes; idx are the current cycle's indexes into
	// e.faults (nil: cycle 0, every step).
	cycle int
	idx   []int
	// first are the run's faults as first injected (cycle 0), by step;
	// remaining is each step's hold still to observe.
	first     []chaos.Fault
	remaining []time.Duration
	// removing are the indexes (into e.faults) removed for the current
	// pause; their removal is over when e.fs[i].gone.
	removing []int
	// over: the exposure is over (the last hold ended, or the run is
	// ending); nothing is paused any more.
	over bool
	// retired are guard watches stopped at a pause: a breach one of them
	// hands in on its way out still aborts the run.
	retired []workflow.Future
}

type pauseWant struct {
	req PauseRequest
	// drift is the drift rule's finding when the rule asked (experiment_drift.go).
	drift   *sli.Breach
	taken   bool
	index   int // into e.res.Pauses once taken
	dropped string
}

type resumeWant struct {
	req     ResumeRequest
	taken   bool
	dropped string
}

// setupControl decides the pause-resume and notes versions and registers
// their handlers; called from setup, before the first workflow task ends,
// so a validator never judges a request without knowing its version.
func (e *experimentRun) setupControl(ctx workflow.Context) error {
	e.pause.version = workflow.GetVersion(ctx, versionPause, workflow.DefaultVersion, versionPauseV1)
	e.notesVersion = workflow.GetVersion(ctx, versionNotes, workflow.DefaultVersion, versionNotesV1)
	e.drift.version = workflow.GetVersion(ctx, versionDrift, workflow.DefaultVersion, versionDriftV1)
	for _, f := range e.in.Scenario.Spec.Faults {
		e.pause.remaining = append(e.pause.remaining, f.Duration.D())
	}

	if err := message(ctx, e.logger, SignalPause, UpdatePause, e.validatePause,
		func(ctx workflow.Context, req PauseRequest, wait bool) (PauseResponse, error) {
			w := &pauseWant{req: req}
			e.pause.want = w
			if !wait {
				return PauseResponse{}, nil
			}
			if err := workflow.Await(ctx, func() bool { return w.taken || w.dropped != "" }); err != nil {
				return PauseResponse{}, err
			}
			if w.dropped != "" {
				return PauseResponse{Phase: e.res.Phase}, temporal.NewApplicationError(w.dropped, ErrTypePauseNotTaken)
			}
			return PauseResponse{Phase: e.res.Phase, Pause: e.res.Pauses[w.index]}, nil
		}); err != nil {
		return err
	}
	if err := message(ctx, e.logger, SignalResume, UpdateResume, e.validateResume,
		func(ctx workflow.Context, req ResumeRequest, wait bool) (ResumeResponse, error) {
			w := &resumeWant{req: req}
			e.pause.resume = w
			if !wait {
				return ResumeResponse{}, nil
			}
			if err := workflow.Await(ctx, func() bool { return w.taken || w.dropped != "" }); err != nil {
				return ResumeResponse{}, err
			}
			resp := ResumeResponse{Phase: e.res.Phase, Pause: e.res.Pauses[len(e.res.Pauses)-1]}
			if w.dropped != "" {
				return resp, temporal.NewApplicationError(w.dropped, ErrTypePauseNotTaken)
			}
			return resp, nil
		}); err != nil {
		return err
	}
	return message(ctx, e.logger, SignalNote, UpdateNote, e.validateNote,
		func(ctx workflow.Context, req NoteRequest, _ bool) (NoteResponse, error) {
			n := e.addNote(ctx, req)
			return NoteResponse{Note: n, Notes: len(e.res.Notes)}, nil
		})
}

// message registers a request both as a signal (the Temporal UI, which
// cannot send updates: validated, then applied without waiting; a refusal
// is logged) and as an update with the same validator (the CLI and Slack:
// applied, its answer awaited).
func message[Req, Resp any](ctx workflow.Context, logger log.Logger, signal, update string, validate func(Req) error,
	apply func(ctx workflow.Context, req Req, wait bool) (Resp, error)) error {
	ch := workflow.GetSignalChannel(ctx, signal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var req Req
			ch.Receive(ctx, &req)
			if err := validate(req); err != nil {
				logger.Warn(signal+" signal ignored", "error", err)
				continue
			}
			_, _ = apply(ctx, req, false)
		}
	})
	return workflow.SetUpdateHandlerWithOptions(ctx, update,
		func(ctx workflow.Context, req Req) (Resp, error) { return apply(ctx, req, true) },
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, req Req) error { return validate(req) }},
	)
}

func (e *experimentRun) validatePause(req PauseRequest) error {
	if e.pause.version < versionPauseV1 {
		return errors.New("this run was started by a version of gameday without pause and resume: abort it instead")
	}
	if strings.TrimSpace(req.Reason) == "" {
		return errors.New("a pause needs a reason")
	}
	if err := experiment.CheckReason("a pause", req.Reason); err != nil {
		return err
	}
	if req.Timeout < 0 || req.Timeout > MaxPauseTimeout {
		return fmt.Errorf("pause timeout %s: want between 1s and %s (0: the scenario's spec.pause_timeout, default %s)", req.Timeout, MaxPauseTimeout, DefaultPauseTimeout)
	}
	if req.Timeout > 0 && req.Timeout < time.Second {
		return fmt.Errorf("pause timeout %s: want at least 1s", req.Timeout)
	}
	if e.abort != nil {
		return fmt.Errorf("already aborted: %s", e.abort.Reason)
	}
	if e.pause.want != nil {
		return fmt.Errorf("a pause is already being taken (%s)", e.pause.want.req.Reason)
	}
	if err := e.res.PauseRefusal(); err != nil {
		return err
	}
	if e.recovering || e.pause.over {
		return fmt.Errorf("nothing left to pause: the hold is over and the faults are being removed (phase %s)", e.res.Phase)
	}
	return nil
}

func (e *experimentRun) validateResume(req ResumeRequest) error {
	if e.pause.version < versionPauseV1 {
		return errors.New("this run was started by a version of gameday without pause and resume")
	}
	if err := e.res.ResumeRefusal(); err != nil {
		return err
	}
	if e.abort != nil {
		return fmt.Errorf("already aborted: %s", e.abort.Reason)
	}
	if e.pause.resume != nil {
		return errors.New("a resume is already being taken")
	}
	return nil
}

// pauseTimeout is a pause's timeout: the request's, else the scenario's
// spec.pause_timeout, else DefaultPauseTimeout.
func (e *experimentRun) pauseTimeout(req PauseRequest) time.Duration {
	if req.Timeout > 0 {
		return req.Timeout
	}
	if d := e.in.Scenario.Spec.PauseTimeout.D(); d > 0 {
		return d
	}
	return DefaultPauseTimeout
}

// cycle lists the current cycle's indexes into e.faults.
func (e *experimentRun) cycle() []int {
	if e.pause.idx != nil {
		return e.pause.idx
	}
	out := make([]int, len(e.faults))
	for i := range out {
		out[i] = i
	}
	return out
}

// cycleHold is how long the current cycle holds its faults: the scenario's
// hold, or after a resume the longest hold left.
func (e *experimentRun) cycleHold() time.Duration {
	if e.pause.cycle == 0 {
		return e.in.Scenario.HoldDuration()
	}
	var d time.Duration
	for _, i := range e.cycle() {
		d = max(d, e.faults[i].Duration)
	}
	return d
}

// pauseWanted reports a pause to take now (never while an abort is
// pending: the abort comes first).
func (e *experimentRun) pauseWanted() bool { return e.pause.want != nil && e.abort == nil }

// takePause makes the wanted pause effective: records it with what is
// left of each fault's hold, starts removing the current cycle's faults
// (recover settles an inject in flight first, as after an abort), and
// restarts the guard watch with the drift rule off.
func (e *experimentRun) takePause(ctx, dctx workflow.Context) {
	w := e.pause.want
	e.pause.want = nil
	now := workflow.Now(ctx)
	timeout := e.pauseTimeout(w.req)
	p := experiment.Pause{
		Reason: w.req.Reason, By: w.req.By, Drift: w.drift != nil,
		From: now, Timeout: timeout, Deadline: now.Add(timeout),
	}
	idx := e.cycle()
	for _, i := range idx {
		f, st := e.faults[i], e.fs[i]
		switch {
		case !e.attempted[i]:
			// Not reached yet: its whole hold is still to come.
		case st.released:
			e.pause.remaining[f.Step] = 0 // its hold ended before the pause
		case st.holdUntil.IsZero():
			// Its inject had not answered: none of its hold was served.
		default:
			e.pause.remaining[f.Step] = min(max(st.holdUntil.Sub(now), 0), f.Duration)
		}
	}
	e.pause.removing = nil
	for _, i := range idx {
		if e.attempted[i] && !e.fs[i].released {
			p.Faults = append(p.Faults, e.faults[i].ID)
			e.pause.removing = append(e.pause.removing, i)
			e.startRecover(dctx, i)
		}
	}
	for _, r := range e.pause.remaining {
		p.Remaining = max(p.Remaining, r)
	}
	e.res.Pauses = append(e.res.Pauses, p)
	e.pause.active = true
	e.drift.pending = ""
	if w.drift != nil {
		e.drift.pending = w.drift.Guard
	}
	w.taken, w.index = true, len(e.res.Pauses)-1
	e.logger.Info("paused", "reason", p.Reason, "by", p.By, "drift", p.Drift, "removing", p.Faults)
	e.restartGuard(ctx, false, timeout+10*time.Minute, "watch while paused")
}

// pausedDetail describes the pause being taken, for the phase it ends.
func (e *experimentRun) pausedDetail() string {
	p := e.res.Pauses[len(e.res.Pauses)-1]
	return fmt.Sprintf("paused by %s: %s", orSomeone(p.By), p.Reason)
}

func orSomeone(s string) string {
	if s == "" {
		return "someone"
	}
	return s
}

// restartGuard starts a new guard watch (drift armed or not) and stops the
// running one; a breach the stopped one hands in on its way out is read by
// the pause loop (retired). bound is the new watch's StartToClose.
func (e *experimentRun) restartGuard(ctx workflow.Context, drift bool, bound time.Duration, summary string) {
	guards := e.in.Scenario.Spec.Guards
	if len(guards) == 0 {
		return
	}
	if old := e.guard; old != nil && !old.IsReady() {
		e.stopGuard()
		e.pause.retired = append(e.pause.retired, old)
	}
	gctx, stop := workflow.WithCancel(ctx)
	gctx = workflow.WithActivityOptions(gctx, workflow.ActivityOptions{
		StartToCloseTimeout: bound,
		HeartbeatTimeout:    GuardHeartbeatTimeout,
		WaitForCancellation: true,
		RetryPolicy:         retry(10, activities.ErrTypeBadQuery),
		Summary:             fmt.Sprintf("%s: %d guard(s)", summary, len(guards)),
	})
	e.stopGuard = stop
	e.guard = workflow.ExecuteActivity(gctx, a.Guard, activities.GuardInput{Guards: e.watchGuards(drift), Scenario: e.res.Scenario})
}

// retiredSettled reports whether a guard watch stopped at a pause has
// ended (its answer is to be read with takeRetired).
func (e *experimentRun) retiredSettled() bool {
	for _, f := range e.pause.retired {
		if f.IsReady() {
			return true
		}
	}
	return false
}

// takeRetired reads the stopped guard watches that have ended and forgets
// them; it returns a breach one of them handed in on its way out (it saw
// the service breach its hard threshold while the faults were live).
func (e *experimentRun) takeRetired(ctx workflow.Context) *sli.Breach {
	var breach *sli.Breach
	left := e.pause.retired[:0]
	for _, f := range e.pause.retired {
		if !f.IsReady() {
			left = append(left, f)
			continue
		}
		var out activities.GuardResult
		if f.Get(ctx, &out) == nil && out.Breach != nil && !isDrift(out.Breach) && breach == nil {
			breach = out.Breach
		}
	}
	e.pause.retired = left
	return breach
}

// removalsDone reports whether every fault removed for the current pause
// is gone (its recover, and any last pass after a timed-out inject, is over).
func (e *experimentRun) removalsDone() bool {
	for _, i := range e.pause.removing {
		if !e.fs[i].gone {
			return false
		}
	}
	return true
}

// endPause closes the current pause record and answers a resume nobody
// will take any more.
func (e *experimentRun) endPause(ctx workflow.Context, how, by string) {
	p := &e.res.Pauses[len(e.res.Pauses)-1]
	p.To, p.Ended, p.EndedBy = workflow.Now(ctx), how, by
	e.pause.active = false
	if r := e.pause.resume; r != nil && how != experiment.PauseResumed {
		r.dropped = fmt.Sprintf("the pause ended %s before the resume was taken", how)
		e.pause.resume = nil
	}
}

// paused holds a paused run until a person resumes or aborts it, a guard
// breaches, the pause times out or the run is cancelled. It returns true
// when the run resumes (every fault removed for the pause is gone by then).
func (e *experimentRun) paused(ctx workflow.Context) bool {
	n := len(e.res.Pauses) - 1
	p := e.res.Pauses[n]
	what, event := "paused", "paused"
	if p.Drift {
		what, event = "drift pause", "drift-paused"
	}
	e.begin(ctx, experiment.PhasePaused, fmt.Sprintf("%s by %s: %s; removing %s; guards watching; resume or abort by %s",
		what, orSomeone(p.By), p.Reason, orNothing(p.Faults), p.Deadline.UTC().Format(time.RFC3339)))
	e.notify(ctx, event, fmt.Sprintf("experiment %s %s: %s (faults removed; `gameday resume %s` or `gameday abort %s` within %s)",
		e.res.Scenario, what, p.Reason, e.res.WorkflowID, e.res.WorkflowID, p.Timeout))
	removed := false
	for {
		wait := max(p.Deadline.Sub(workflow.Now(ctx)), time.Millisecond)
		ok, err := workflow.AwaitWithOptions(ctx, timerFor(wait, fmt.Sprintf("%s: abort the run unless resumed by %s", what, p.Deadline.UTC().Format("15:04:05"))), func() bool {
			return e.pause.resume != nil || e.abort != nil || e.guardEnded() || e.retiredSettled() || (!removed && e.removalsDone())
		})
		switch {
		case err != nil:
			e.endPause(ctx, experiment.PauseCancelled, "")
			e.end(ctx, experiment.StatusCancelled, "")
			e.stopped(ctx, err, "pause")
			return false
		case e.abort != nil:
			e.endPause(ctx, experiment.PauseAborted, e.abort.By)
			e.end(ctx, experiment.StatusCancelled, e.abortReason())
			e.finish(experiment.Aborted, e.abortReason())
			return false
		case e.retiredSettled():
			if b := e.takeRetired(ctx); b != nil {
				e.res.Breach = b
				e.endPause(ctx, experiment.PauseBreach, "")
				e.finish(experiment.Aborted, b.String())
				e.end(ctx, experiment.StatusFailed, "the guard stopped at the pause handed in a breach: "+e.stopReason())
				return false
			}
		case e.guardEnded():
			e.takeGuard(ctx)
			e.endPause(ctx, experiment.PauseBreach, "")
			e.end(ctx, experiment.StatusFailed, "while paused: "+e.stopReason())
			return false
		case e.pause.resume != nil:
			return e.resume(ctx)
		case !removed && e.removalsDone():
			removed = true
			e.res.Pauses[n].Removed = workflow.Now(ctx)
			e.setDetail(ctx, "every fault removed")
		case !ok:
			reason := fmt.Sprintf("paused for %s without an answer (pause by %s: %s)", p.Timeout, orSomeone(p.By), p.Reason)
			e.endPause(ctx, experiment.PauseTimeout, "")
			e.end(ctx, experiment.StatusFailed, reason)
			e.finish(experiment.Aborted, reason)
			return false
		}
	}
}

// resume ends the pause on a person's answer, waits until every fault
// removed for it is gone (an abort, a breach or a cancel still stop the
// run meanwhile) and prepares the next cycle.
func (e *experimentRun) resume(ctx workflow.Context) bool {
	r := e.pause.resume
	e.pause.resume = nil
	e.endPause(ctx, experiment.PauseResumed, r.req.By)
	r.taken = true
	if g := e.drift.pending; g != "" {
		// A person judged this drift: its rule is off for the rest of the
		// run (its threshold still applies).
		e.drift.acked = append(e.drift.acked, g)
	}
	p := &e.res.Pauses[len(e.res.Pauses)-1]
	if !e.removalsDone() {
		e.setDetail(ctx, "resumed by "+orSomeone(r.req.By)+"; waiting for the removals to finish before re-injecting")
		err := workflow.Await(ctx, func() bool { return e.removalsDone() || e.abort != nil || e.guardEnded() })
		switch {
		case err != nil:
			e.end(ctx, experiment.StatusCancelled, "")
			e.stopped(ctx, err, "resume")
			return false
		case e.abort != nil:
			e.end(ctx, experiment.StatusCancelled, e.abortReason())
			e.finish(experiment.Aborted, e.abortReason())
			return false
		case !e.removalsDone():
			e.takeGuard(ctx)
			e.end(ctx, experiment.StatusFailed, "while paused: "+e.stopReason())
			return false
		}
	}
	if p.Removed.IsZero() {
		p.Removed = workflow.Now(ctx)
	}
	if len(e.recoverErrs) > 0 {
		// A fault that could not be removed must not be stacked with its
		// re-injection.
		reason := "resume refused: removing the paused faults failed: " + strings.Join(e.recoverErrs, "; ")
		e.end(ctx, experiment.StatusFailed, reason)
		e.finish(experiment.Failed, reason)
		return false
	}
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("resumed by %s after %s; %s of hold left", orSomeone(r.req.By), p.To.Sub(p.From).Round(time.Second), p.Remaining))
	if r.req.Reason != "" {
		e.setDetail(ctx, r.req.Reason)
	}
	return true
}

// nextCycle sets up the faults a resume re-injects: each step with hold
// left, under its next resumed id, for what is left of its hold. It
// returns false when nothing is left (every hold was served).
func (e *experimentRun) nextCycle(ctx workflow.Context) bool {
	if e.pause.first == nil {
		e.pause.first = append([]chaos.Fault(nil), e.faults[:len(e.pause.remaining)]...)
	}
	e.pause.cycle++
	idx := []int{}
	var ids []string
	for step, rem := range e.pause.remaining {
		if rem <= 0 {
			continue
		}
		f := e.pause.first[step]
		f.ID = chaos.ResumedFaultID(f.ID, e.pause.cycle)
		f.Duration = rem
		e.faults = append(e.faults, f)
		e.attempted = append(e.attempted, false)
		e.fs = append(e.fs, faultState{})
		idx = append(idx, len(e.faults)-1)
		ids = append(ids, f.ID)
	}
	e.pause.idx = idx
	e.res.Pauses[len(e.res.Pauses)-1].Reinjected = ids
	if len(idx) == 0 {
		return false
	}
	// A fresh guard watch for what is left, drift armed again (minus the
	// guards whose drift a person answered with continue).
	e.restartGuard(ctx, true, time.Duration(len(idx))*8*time.Minute+e.cycleHold()+10*time.Minute, "watch")
	return true
}

// exposure runs inject and hold, cycle after cycle: a pause taken during
// either holds the run (paused) and a resume starts the next cycle.
func (e *experimentRun) exposure(ctx, dctx workflow.Context) {
	for {
		if e.injectAll(ctx, dctx) {
			e.holdAll(ctx, dctx)
		}
		if !e.pause.active || !e.paused(ctx) {
			return
		}
		if !e.nextCycle(ctx) {
			e.begin(ctx, experiment.PhaseObserve, "")
			e.end(ctx, experiment.StatusDone, "every fault's hold was served before the pause")
			return
		}
	}
}

// closeControl ends the exposure for pauses: a pause or resume still
// waiting is answered with why it was not taken.
func (e *experimentRun) closeControl() {
	e.pause.over = true
	if w := e.pause.want; w != nil {
		w.dropped = fmt.Sprintf("the run moved on before the pause took effect (phase %s, outcome %s)", e.res.Phase, e.res.Outcome)
		e.pause.want = nil
	}
	if r := e.pause.resume; r != nil {
		r.dropped = fmt.Sprintf("the run moved on before the resume was taken (phase %s, outcome %s)", e.res.Phase, e.res.Outcome)
		e.pause.resume = nil
	}
}

func (e *experimentRun) validateNote(req NoteRequest) error {
	if e.notesVersion < versionNotesV1 {
		return errors.New("this run was started by a version of gameday without notes")
	}
	if err := experiment.CheckNote(req.Text, req.By, req.Kind); err != nil {
		return err
	}
	if !e.res.NotesOpen() {
		return fmt.Errorf("notes are closed: the run's report is being written or done (phase %s, outcome %s); add it to the postmortem or the ticket", e.res.Phase, e.res.Outcome)
	}
	return nil
}

func (e *experimentRun) addNote(ctx workflow.Context, req NoteRequest) experiment.Note {
	n := newNote(ctx, req)
	e.res.Notes = append(e.res.Notes, n)
	workflow.SetCurrentDetails(ctx, e.details())
	return n
}

// newNote is a note as recorded (on a run or a game day): trimmed, an
// observation unless it says otherwise, and when.
func newNote(ctx workflow.Context, req NoteRequest) experiment.Note {
	kind := req.Kind
	if kind == "" {
		kind = experiment.NoteObservation
	}
	return experiment.Note{Text: strings.TrimSpace(req.Text), By: strings.TrimSpace(req.By), Kind: kind, At: workflow.Now(ctx)}
}

// controlDetails adds the pauses and notes to the Temporal UI's details.
func (e *experimentRun) controlDetails(b *strings.Builder) {
	if len(e.res.DriftBaselines) > 0 {
		b.WriteString("\nDrift rules:\n")
		for _, d := range e.res.DriftBaselines {
			fmt.Fprintf(b, "- %s\n", d)
		}
	}
	if len(e.res.Pauses) > 0 {
		b.WriteString("\nPauses:\n")
		for _, p := range e.res.Pauses {
			fmt.Fprintf(b, "- %s\n", p)
		}
	}
	if len(e.res.Notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range e.res.Notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
}

func orNothing(ids []string) string {
	if len(ids) == 0 {
		return "nothing (no fault injected yet)"
	}
	return strings.Join(ids, ", ")
}
