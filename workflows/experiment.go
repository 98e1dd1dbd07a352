package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/activities"
	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/notify"
)

// Activity timeouts and retry policies. Observe's heartbeat timeout is short
// so that a dead worker's guard moves to another worker within seconds.
const (
	ObserveHeartbeatTimeout = 5 * time.Second
	// Define, verify and report heartbeat every second from a ticker, so a
	// crashed worker's attempt moves on within seconds, not after its
	// StartToClose (a minute, as the chaos-self runs measured).
	phaseHeartbeatTimeout = 5 * time.Second
)

var a *activities.Activities

// ExperimentWorkflow runs one experiment: define → sign-off → inject →
// observe → recover → verify → report. Whatever happens after the first
// inject attempt, recover runs (on a disconnected context, retried until it
// succeeds) for every fault whose inject was attempted.
func ExperimentWorkflow(ctx workflow.Context, in ExperimentInput) (experiment.Result, error) {
	e := &experimentRun{in: in}
	if err := e.setup(ctx); err != nil {
		return e.res, err
	}
	return e.run(ctx)
}

type experimentRun struct {
	in        ExperimentInput
	res       experiment.Result
	faults    []chaos.Fault
	attempted []bool
	abort     *AbortRequest
	rejected  *experiment.Signoff
	// recovering is set once recover starts: aborts and sign-offs are
	// meaningless after that point and are refused.
	recovering bool
	logger     log.Logger
	// signs are the checklist verdicts collected at the gate.
	signs []checklist.Sign
	// version of the workflow code this run started with (see run).
	version      workflow.Version
	checklistErr string

	// From versionGuardV1 on: the guarded fault lifecycle
	// (experiment_faults.go).
	guardVersion workflow.Version
	runFaultIDs  workflow.Version
	recheck      workflow.Version
	// From versionSignersV1 on, who may sign comes from the worker (the
	// define result), never from the input; signersKnown once define said.
	signersVersion workflow.Version
	signersKnown   bool
	leases         leaseState // experiment_lease.go
	pause          pauseState // experiment_pause.go
	drift          driftState // experiment_drift.go
	notesVersion   workflow.Version
	fs             []faultState
	guard          workflow.Future
	stopGuard      workflow.CancelFunc
	recoverWG      workflow.WaitGroup
	recoverErrs    []string
	// notes are notifications in flight: never waited for while faults
	// are live, only before the run returns.
	notes []workflow.Future
}

// Versions of ExperimentWorkflow. Histories recorded before a version
// replay on the DefaultVersion path; testdata/ holds one per version.
const (
	versionChecklist   = "checklist"
	versionChecklistV1 = workflow.Version(1) // checklist gate and weight recording

	versionGuard   = "guard-lifecycle"
	versionGuardV1 = workflow.Version(1) // guard from the first inject, concurrent recover (experiment_faults.go)

	// Fault ids include the run id, so a reused workflow id never adopts
	// an older run's leftovers as its own.
	versionRunFaultIDs   = "run-fault-ids"
	versionRunFaultIDsV1 = workflow.Version(1)
	// After a sign-off gate, define runs again right before the first
	// inject: steady state and targets must still be what was approved.
	versionRecheck   = "recheck-after-gate"
	versionRecheckV1 = workflow.Version(1)
	// Who may sign which role is resolved by the worker in define (its
	// GAMEDAY_ROLES), not carried in the input from whoever started the
	// run; an empty role map means nobody signs, and distinct users may be
	// required for distinct roles.
	versionSigners   = "worker-signers"
	versionSignersV1 = workflow.Version(1)
)

func (e *experimentRun) setup(ctx workflow.Context) error {
	e.logger = workflow.GetLogger(ctx)
	sc := e.in.Scenario
	if sc.Metadata.Name == "" || len(sc.Spec.Faults) == 0 {
		return temporal.NewNonRetryableApplicationError("experiment input has no scenario name or no faults; load it with scenarios.Load", activities.ErrTypeBadInput, nil)
	}
	info := workflow.GetInfo(ctx)
	e.faults = sc.ChaosFaults(info.WorkflowExecution.ID)
	e.attempted = make([]bool, len(e.faults))
	// Decided before any handler exists: the sign-off validator depends on
	// it, and an update can arrive in the first workflow task.
	e.signersVersion = workflow.GetVersion(ctx, versionSigners, workflow.DefaultVersion, versionSignersV1)
	e.res = experiment.Result{
		WorkflowID:    info.WorkflowExecution.ID,
		RunID:         info.WorkflowExecution.RunID,
		Scenario:      sc.Metadata.Name,
		Service:       sc.Metadata.Service,
		Outcome:       experiment.Running,
		RequiredRoles: sc.Spec.Signoff.Roles,
		Injected:      []string{},
		Recovered:     []string{},
		Started:       workflow.Now(ctx),
		Unguarded:     len(sc.Spec.Guards) == 0,
		UIURL:         experiment.UIURL(e.in.UIBase, info.Namespace, info.WorkflowExecution.ID, info.WorkflowExecution.RunID),
		Overrides:     e.in.Overrides,
		TraceID:       traceID(ctx),
	}
	// The game day this run is a step of (none: ""); only recorded, so
	// histories of any version replay.
	e.res.GameDay = e.in.GameDay
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (experiment.Result, error) {
		return e.res, nil
	}); err != nil {
		return err
	}
	if err := e.setupControl(ctx); err != nil { // pause, resume, notes
		return err
	}
	abortCh := workflow.GetSignalChannel(ctx, SignalAbort)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var req AbortRequest
			abortCh.Receive(ctx, &req)
			if err := e.validateAbort(req); err != nil {
				e.logger.Warn("abort signal ignored", "error", err)
				continue
			}
			e.requestAbort(req)
		}
	})
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAbort,
		func(ctx workflow.Context, req AbortRequest) (AbortResponse, error) {
			e.requestAbort(req)
			return AbortResponse{Phase: e.res.Phase}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req AbortRequest) error {
			// The length only here: validators never replay, and the
			// signal path of a released version must stay as it was.
			if err := experiment.CheckReason("an abort", req.Reason); err != nil {
				return err
			}
			return e.validateAbort(req)
		}},
	); err != nil {
		return err
	}
	signCh := workflow.GetSignalChannel(ctx, SignalSignoff)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var req SignoffRequest
			signCh.Receive(ctx, &req)
			if err := e.validateSignoff(req); err != nil {
				e.logger.Warn("sign-off signal ignored", "role", req.Role, "user", req.User, "error", err)
				continue
			}
			e.sign(ctx, req)
		}
	})
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateSignoff,
		func(ctx workflow.Context, req SignoffRequest) (SignoffResponse, error) {
			e.sign(ctx, req)
			return SignoffResponse{Pending: e.res.PendingRoles()}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req SignoffRequest) error { return e.validateSignoff(req) }},
	)
}

func (e *experimentRun) validateAbort(req AbortRequest) error {
	if strings.TrimSpace(req.Reason) == "" {
		return errors.New("an abort needs a reason")
	}
	// AbortOpen is the rule the Slack button follows too; recovering is
	// set a moment before the recover phase begins.
	if e.recovering || !e.res.AbortOpen() {
		return fmt.Errorf("run is already past observe (phase %s): nothing left to abort", e.res.Phase)
	}
	if e.abort != nil {
		return fmt.Errorf("already aborted: %s", e.abort.Reason)
	}
	return nil
}

func (e *experimentRun) requestAbort(req AbortRequest) {
	if e.abort == nil {
		e.abort = &req
	}
}

func (e *experimentRun) validateSignoff(req SignoffRequest) error {
	roles := e.in.Scenario.Spec.Signoff.Roles
	if len(roles) == 0 {
		return fmt.Errorf("scenario %s has no sign-off gate", e.in.Scenario.Metadata.Name)
	}
	if strings.TrimSpace(req.User) == "" {
		return errors.New("sign-off needs a user")
	}
	if !slices.Contains(roles, req.Role) {
		return fmt.Errorf("role %q is not required by scenario %s (required: %s)", req.Role, e.in.Scenario.Metadata.Name, strings.Join(roles, ", "))
	}
	if s, signed := e.res.SignoffFor(req.Role); signed {
		return fmt.Errorf("role %s already signed by %s", req.Role, s.User)
	}
	if req.Reject && strings.TrimSpace(req.Reason) == "" {
		return errors.New("a rejection needs a reason")
	}
	if e.signersVersion >= versionSignersV1 {
		if !e.signersKnown {
			return errors.New("sign-off opens once define has resolved who may sign (the run is still in define)")
		}
		if err := e.res.CheckSign(req.Role, req.User); err != nil {
			return err
		}
	} else if len(e.in.Users) > 0 {
		held, ok := e.in.Users[req.User]
		if !ok {
			return fmt.Errorf("unknown user %q: not in the sign-off role map", req.User)
		}
		if !slices.Contains(held, req.Role) {
			return fmt.Errorf("user %s does not hold role %s (holds: %s)", req.User, req.Role, strings.Join(held, ", "))
		}
	}
	if cl := e.in.Checklist; cl != nil && !req.Reject {
		if err := validateItems(*cl, req); err != nil {
			return err
		}
	}
	// SignoffOpen covers a rejection (e.rejected is recorded with it in
	// e.res.Signoffs), a decided outcome and a phase past sign-off.
	if e.abort != nil || !e.res.SignoffOpen() {
		return fmt.Errorf("sign-off is closed (phase %s)", e.res.Phase)
	}
	return nil
}

// validateItems checks a role's checklist verdicts: every item is the
// role's own, none twice, none evidence-verified (nobody signs those), and
// all of the role's items to sign are there.
func validateItems(cl checklist.Checklist, req SignoffRequest) error {
	owner := map[string]string{}
	verified := map[string]bool{}
	for _, it := range cl.Spec.Items {
		owner[it.ID] = it.Owner
		verified[it.ID] = it.Verified()
	}
	seen := map[string]bool{}
	for _, is := range req.Items {
		o, ok := owner[is.ID]
		switch {
		case !ok:
			return fmt.Errorf("checklist %s has no item %q", cl.Metadata.Name, is.ID)
		case verified[is.ID]:
			return fmt.Errorf("item %s is verified by evidence: its checks decide it after the run, nobody signs it", is.ID)
		case o != req.Role:
			return fmt.Errorf("item %s is owned by %s, not %s", is.ID, o, req.Role)
		case seen[is.ID]:
			return fmt.Errorf("item %s given twice", is.ID)
		}
		seen[is.ID] = true
	}
	var missing []string
	for _, it := range checklist.ItemsFor(cl, req.Role) {
		if !seen[it.ID] {
			missing = append(missing, it.ID)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("role %s must sign all its items of checklist %s; missing: %s", req.Role, cl.Metadata.Name, strings.Join(missing, ", "))
	}
	return nil
}

func (e *experimentRun) sign(ctx workflow.Context, req SignoffRequest) {
	for _, is := range req.Items {
		e.signs = append(e.signs, checklist.Sign{ItemID: is.ID, Pass: is.Pass, Evidence: is.Evidence, Role: req.Role, User: req.User, At: workflow.Now(ctx)})
	}
	s := experiment.Signoff{Role: req.Role, User: req.User, Approved: !req.Reject, Reason: req.Reason, At: workflow.Now(ctx)}
	e.res.Signoffs = append(e.res.Signoffs, s)
	if req.Reject && e.rejected == nil {
		e.rejected = &s
	}
}

func (e *experimentRun) run(ctx workflow.Context) (experiment.Result, error) {
	sc := e.in.Scenario
	e.version = workflow.GetVersion(ctx, versionChecklist, workflow.DefaultVersion, versionChecklistV1)
	e.guardVersion = workflow.GetVersion(ctx, versionGuard, workflow.DefaultVersion, versionGuardV1)
	e.runFaultIDs = workflow.GetVersion(ctx, versionRunFaultIDs, workflow.DefaultVersion, versionRunFaultIDsV1)
	e.recheck = workflow.GetVersion(ctx, versionRecheck, workflow.DefaultVersion, versionRecheckV1)
	if e.runFaultIDs >= versionRunFaultIDsV1 {
		e.faults = sc.ChaosFaultsForRun(e.res.WorkflowID, e.res.RunID)
	}
	e.res.ReleaseTicket = e.in.ReleaseTicket
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SAScenario.ValueSet(sc.Metadata.Name),
		SAService.ValueSet(sc.Metadata.Service),
		SAOutcome.ValueSet(string(experiment.Running)),
	)

	guarded := e.guardVersion >= versionGuardV1
	if e.define(ctx) && !e.in.DryRun && e.gate(ctx) {
		switch {
		case guarded:
			e.guardedRun(ctx)
		case e.legacyInject(ctx):
			e.legacyObserve(ctx)
		}
	}
	if e.in.DryRun && e.res.Outcome == experiment.Running {
		e.res.Outcome = experiment.DryRun
	}
	// From here on, nothing may be skipped because the run was cancelled or
	// aborted: clean up on a context that the cancel does not reach.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	e.closeControl()
	e.recovering = true
	injectedAny := slices.Contains(e.attempted, true)
	if injectedAny {
		if guarded {
			e.recoverAll(dctx)
		} else {
			e.legacyRecover(dctx)
		}
		e.verify(dctx)
	}
	e.releaseLeases(dctx)
	if guarded && ctx.Err() != nil {
		// A cancel that came while cleaning up: cleanup went on to the end,
		// and the run is not a pass.
		e.finish(experiment.Cancelled, "workflow cancelled during cleanup; every fault was removed first")
	}
	if e.res.Outcome == experiment.Running {
		e.res.Outcome = experiment.Passed
	}
	e.judgeEvidence(dctx, injectedAny) // experiment_evidence.go: the final gate
	if e.version >= versionChecklistV1 && e.res.Gate != nil && injectedAny {
		e.recordChecklist(dctx)
	}
	e.report(dctx)
	for _, n := range e.notes {
		if err := n.Get(dctx, nil); err != nil {
			e.logger.Warn("notification failed", "error", err)
		}
	}
	e.res.Ended = workflow.Now(dctx)
	_ = workflow.UpsertTypedSearchAttributes(dctx, SAOutcome.ValueSet(string(e.res.Outcome)))
	workflow.SetCurrentDetails(dctx, e.details())
	return e.res, nil
}

// finish records a final outcome unless one is already set: the first cause
// wins (an abort stays an abort even if verify fails afterwards).
func (e *experimentRun) finish(o experiment.Outcome, reason string) {
	if e.res.Outcome != experiment.Running {
		return
	}
	e.res.Outcome = o
	switch o {
	case experiment.Failed:
		e.res.Error = reason
	default:
		e.res.AbortReason = reason
	}
}

// stopped turns an activity error or an interrupted wait into an outcome.
func (e *experimentRun) stopped(ctx workflow.Context, err error, what string) {
	if temporal.IsCanceledError(err) || ctx.Err() != nil {
		e.finish(experiment.Cancelled, "workflow cancelled during "+what)
		return
	}
	e.finish(experiment.Failed, fmt.Sprintf("%s: %s", what, rootMessage(err)))
}

// traceID is the trace the worker's tracing interceptor put this run in,
// empty when the worker does not trace. It is a function of the history:
// the trace context the starting client sent (recorded in the run's first
// event), or, for a run started without one, the trace derived from the
// workflow and run id (control.TracingInterceptor). No clock, no random
// source, no command: replays read the same id.
func traceID(ctx workflow.Context) string {
	span, ok := temporalotel.SpanFromWorkflowContext(ctx)
	if !ok || !span.SpanContext().HasTraceID() {
		return ""
	}
	return span.SpanContext().TraceID().String()
}

func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

func (e *experimentRun) begin(ctx workflow.Context, name, detail string) {
	e.res.Phase = name
	e.res.Phases = append(e.res.Phases, experiment.Phase{Name: name, Status: experiment.StatusRunning, Started: workflow.Now(ctx), Detail: detail})
	_ = workflow.UpsertTypedSearchAttributes(ctx, SAPhase.ValueSet(name))
	workflow.SetCurrentDetails(ctx, e.details())
}

func (e *experimentRun) end(ctx workflow.Context, status, detail string) {
	p := &e.res.Phases[len(e.res.Phases)-1]
	p.Status = status
	p.Ended = workflow.Now(ctx)
	if detail != "" {
		p.Detail = detail
	}
	workflow.SetCurrentDetails(ctx, e.details())
}

// details is the Markdown the Temporal UI shows for a running experiment.
func (e *experimentRun) details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** on %s: %s, phase %s\n\n", e.res.Scenario, e.res.Service, e.res.Outcome, e.res.Phase)
	if e.res.Unguarded {
		b.WriteString("**UNGUARDED**: no guard watches this run; nothing aborts it on an outage.\n\n")
	}
	for _, p := range e.res.Phases {
		fmt.Fprintf(&b, "- %s: %s %s\n", p.Name, p.Status, p.Detail)
	}
	if e.res.Breach != nil {
		fmt.Fprintf(&b, "\nBreach: %s\n", e.res.Breach.String())
	}
	if e.res.AbortReason != "" {
		fmt.Fprintf(&b, "\nReason: %s\n", e.res.AbortReason)
	}
	for _, m := range e.res.RecoverAlarms {
		fmt.Fprintf(&b, "\n:warning: %s\n", m)
	}
	e.controlDetails(&b)
	return b.String()
}

func retry(maxAttempts int32, nonRetryable ...string) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        10 * time.Second,
		MaximumAttempts:        maxAttempts,
		NonRetryableErrorTypes: nonRetryable,
	}
}

func (e *experimentRun) define(ctx workflow.Context) bool {
	e.begin(ctx, experiment.PhaseDefine, "resolve targets, check guards, record baseline")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    phaseHeartbeatTimeout,
		RetryPolicy:         retry(5),
		Summary:             e.defineSummary(),
	})
	var def activities.DefineResult
	in := e.defineInput()
	in.ResolveSigners = e.signersVersion >= versionSignersV1
	in.ResolveDrift = e.drift.version >= versionDriftV1
	err := workflow.ExecuteActivity(actx, a.Define, in).Get(ctx, &def)
	e.res.DriftBaselines = def.Drift
	if in.ResolveSigners {
		// Known even when define failed: the status shows why nobody could
		// sign. A failed define ends the run, so nobody signs either way.
		e.res.Signers, e.res.DistinctSigners, e.signersKnown = def.Signers, def.DistinctSigners, true
	}
	if err != nil {
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.HasDetails() {
			_ = app.Details(&def)
			if in.ResolveSigners {
				e.res.Signers, e.res.DistinctSigners = def.Signers, def.DistinctSigners
			}
		}
		e.res.Targets, e.res.Baseline, e.res.DriftBaselines = def.Targets, def.Baseline, def.Drift
		e.end(ctx, experiment.StatusFailed, rootMessage(err))
		e.stopped(ctx, err, "define")
		return false
	}
	e.res.Targets, e.res.Baseline = def.Targets, def.Baseline
	e.end(ctx, experiment.StatusDone, fmt.Sprintf("%d target(s), %d guard(s) healthy", len(def.Targets), len(def.Baseline)))
	return true
}

func (e *experimentRun) defineInput() activities.DefineInput {
	in := activities.DefineInput{Scenario: e.in.Scenario, WorkflowID: e.res.WorkflowID}
	if e.runFaultIDs >= versionRunFaultIDsV1 {
		in.RunID = e.res.RunID
	}
	return in
}

func (e *experimentRun) notify(ctx workflow.Context, event, text string) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: retry(3), Summary: "notify " + event + ": " + chaos.Clip(text, 120)})
	fut := workflow.ExecuteActivity(actx, a.Notify, activities.NotifyInput{Message: notify.Message{
		WorkflowID: e.res.WorkflowID, Scenario: e.res.Scenario, Event: event, Text: text, URL: e.res.UIURL,
	}})
	if e.guardVersion >= versionGuardV1 {
		// Never wait for Slack or a webhook while a guard may need acting on.
		e.notes = append(e.notes, fut)
		return
	}
	if err := fut.Get(ctx, nil); err != nil {
		// A lost notification must not stop an experiment.
		e.logger.Warn("notification failed", "event", event, "error", err)
	}
}

// gate waits for every required role to sign. Returns false when the run
// must not inject (rejected, aborted, expired, cancelled).
func (e *experimentRun) gate(ctx workflow.Context) bool {
	so := e.in.Scenario.Spec.Signoff
	if len(so.Roles) == 0 {
		return e.abort == nil || e.abortBeforeInject()
	}
	e.begin(ctx, experiment.PhaseSignoff, "waiting for "+strings.Join(so.Roles, ", "))
	e.notify(ctx, "signoff-requested", fmt.Sprintf("experiment %s needs sign-off from %s", e.res.Scenario, strings.Join(so.Roles, ", ")))
	decided := func() bool { return len(e.res.PendingRoles()) == 0 || e.rejected != nil || e.abort != nil }
	start := workflow.Now(ctx)
	timeout := so.Timeout.D()
	if r := so.Reminder.D(); r > 0 && r < timeout {
		ok, err := workflow.AwaitWithOptions(ctx, timerFor(r, fmt.Sprintf("remind %s to sign off after %s", strings.Join(so.Roles, ", "), r)), decided)
		if err != nil {
			e.end(ctx, experiment.StatusCancelled, "")
			e.stopped(ctx, err, "sign-off")
			return false
		}
		if !ok {
			e.notify(ctx, "signoff-reminder", fmt.Sprintf("reminder: experiment %s still needs sign-off from %s", e.res.Scenario, strings.Join(e.res.PendingRoles(), ", ")))
		}
	}
	remaining := timeout - workflow.Now(ctx).Sub(start)
	ok, err := workflow.AwaitWithOptions(ctx, timerFor(max(remaining, time.Millisecond), fmt.Sprintf("sign-off deadline: expire the run if %s have not signed within %s", strings.Join(so.Roles, ", "), timeout)), decided)
	switch {
	case err != nil:
		e.end(ctx, experiment.StatusCancelled, "")
		e.stopped(ctx, err, "sign-off")
		return false
	case e.abort != nil:
		e.end(ctx, experiment.StatusCancelled, "aborted")
		return e.abortBeforeInject()
	case e.rejected != nil:
		reason := fmt.Sprintf("sign-off rejected by %s (%s): %s", e.rejected.User, e.rejected.Role, e.rejected.Reason)
		e.end(ctx, experiment.StatusFailed, reason)
		e.finish(experiment.Aborted, reason)
		return false
	case !ok:
		reason := fmt.Sprintf("sign-off not complete after %s: missing %s", timeout, strings.Join(e.res.PendingRoles(), ", "))
		e.end(ctx, experiment.StatusFailed, reason)
		e.finish(experiment.Expired, reason)
		return false
	}
	detail := "signed by " + strings.Join(so.Roles, ", ")
	if e.version >= versionChecklistV1 && e.in.Checklist != nil {
		g := checklist.EvaluateGate(*e.in.Checklist, e.signs)
		e.res.Gate = &g
		detail += "; release gate " + g.Checklist + " " + g.Summary()
	}
	e.end(ctx, experiment.StatusDone, detail)
	return true
}

// recordChecklist feeds the run into the checklist's learned weights and
// keeps the changes it caused for the postmortem. Items whose fault class
// breached a guard in this run count as alerting (and not passing).
func (e *experimentRun) recordChecklist(ctx workflow.Context) {
	g := e.res.Gate
	// A breach that is the query failing (or a lost guard) is not the
	// fault class alerting: it must not feed the +35 weight rule.
	queryBreach := e.guardVersion >= versionGuardV1 && e.res.Breach != nil && e.res.Breach.QueryError != ""
	if e.res.Breach != nil && !queryBreach && e.in.Scenario.Spec.FaultClass != "" {
		checklist.MarkAlerted(g, []string{e.in.Scenario.Spec.FaultClass})
	}
	release := e.in.ReleaseTicket
	if release == "" {
		release = e.res.WorkflowID
	}
	now := workflow.Now(ctx)
	obs := make([]checklist.Observation, 0, len(g.Items))
	for _, it := range g.Items {
		obs = append(obs, checklist.Observation{ItemID: it.ID, Pass: it.Decided() && it.Pass && !it.Alerted, Alerted: it.Alerted, Release: release, At: now})
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, RetryPolicy: retry(5),
		Summary: fmt.Sprintf("record %d item verdict(s) in checklist %s's learned weights", len(obs), e.in.Checklist.Metadata.Name),
	})
	var out activities.ChecklistResult
	err := workflow.ExecuteActivity(actx, a.RecordChecklist, activities.RecordChecklistInput{
		Checklist: *e.in.Checklist, WorkflowID: e.res.WorkflowID, Observations: obs,
	}).Get(ctx, &out)
	if err != nil {
		// The run's outcome stands; the weights miss one run, and the
		// report says so.
		e.logger.Warn("checklist not updated", "error", err)
		e.checklistErr = "checklist weights not updated: " + rootMessage(err)
		return
	}
	e.res.WeightChanges = out.Changes
}

func (e *experimentRun) abortBeforeInject() bool {
	e.finish(experiment.Aborted, e.abortReason())
	return false
}

func (e *experimentRun) abortReason() string {
	if e.abort.By != "" {
		return fmt.Sprintf("aborted by %s: %s", e.abort.By, e.abort.Reason)
	}
	return "aborted: " + e.abort.Reason
}

func (e *experimentRun) verify(ctx workflow.Context) {
	sc := e.in.Scenario
	timeout := sc.Spec.SteadyState.Timeout.D()
	guards := sc.VerifyGuards()
	if len(guards) == 0 {
		e.begin(ctx, experiment.PhaseVerify, "")
		e.end(ctx, experiment.StatusSkipped, "no guards")
		return
	}
	e.begin(ctx, experiment.PhaseVerify, fmt.Sprintf("waiting up to %s for steady state", timeout))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout + time.Minute,
		HeartbeatTimeout:    phaseHeartbeatTimeout,
		RetryPolicy:         retry(3),
		Summary:             chaos.Clip(fmt.Sprintf("wait up to %s for steady state: %s", timeout, guardNames(guards)), chaos.MaxDescription),
	})
	var out activities.VerifyResult
	err := workflow.ExecuteActivity(actx, a.Verify, activities.VerifyInput{Guards: guards, Timeout: timeout}).Get(ctx, &out)
	e.res.Verify = out.Values
	switch {
	case err != nil:
		e.end(ctx, experiment.StatusFailed, rootMessage(err))
		e.finish(experiment.Failed, "verify: "+rootMessage(err))
	case !out.OK:
		reason := fmt.Sprintf("verify: steady state not back within %s (%s)", timeout, unhealthy(out.Values))
		e.end(ctx, experiment.StatusFailed, reason)
		e.finish(experiment.Failed, reason)
	default:
		e.end(ctx, experiment.StatusDone, fmt.Sprintf("steady state back after %s", out.Took.Round(time.Millisecond)))
	}
}

func unhealthy(vals []experiment.GuardValue) string {
	var out []string
	for _, v := range vals {
		if !v.Healthy {
			out = append(out, v.Guard+" = "+v.Reading())
		}
	}
	return strings.Join(out, ", ")
}

func (e *experimentRun) report(ctx workflow.Context) {
	e.begin(ctx, experiment.PhaseReport, "")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, HeartbeatTimeout: phaseHeartbeatTimeout, RetryPolicy: retry(10), Summary: e.reportSummary()})
	var out activities.ReportResult
	// The guards go along for the report's charts (thresholds, units). The
	// activity's input grows, its place in the history does not: older
	// histories replay unchanged (the replay test).
	in := activities.ReportInput{Result: e.res, Guards: e.in.Scenario.Spec.Guards}
	if err := workflow.ExecuteActivity(actx, a.Report, in).Get(ctx, &out); err != nil {
		// The outcome stands; the report failure is recorded, not fatal.
		e.end(ctx, experiment.StatusFailed, rootMessage(err))
		return
	}
	e.res.Postmortem = out.Postmortem
	e.res.Report = out.Report
	e.end(ctx, experiment.StatusDone, joinNonEmpty("; ", out.Postmortem, e.checklistErr, out.NotifyError))
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
