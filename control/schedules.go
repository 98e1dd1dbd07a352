package control

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/workflows"
)

// The client side of `gameday schedule ...`: apply a schedules file (make
// the set's Temporal Schedules match it), list, trigger, pause, unpause.
//
// What a scheduled run starts is prepared at apply time exactly as `gameday
// run` (a plan: `gameday gameday start`) prepares it (Launcher.Prepare: the scenario resolved, the overrides
// applied and recorded, the checklist with the weights learned so far), and
// kept in the Schedule's action: every run of the schedule starts with that
// input, and the history shows it. Apply again to pick up a changed
// catalog or newly learned weights (the fingerprint then differs, and apply
// says "updated").

// blackoutCatchup: an aborter that could not fire at its window's opening
// (the server was down) still fires within a day; it aborts nothing once
// the window has closed.
const blackoutCatchup = 24 * time.Hour

// wantSchedule is one schedule as the file wants it, ready to write.
type wantSchedule struct {
	d      schedules.Desired
	memo   schedules.Memo
	spec   client.ScheduleSpec
	action *client.ScheduleWorkflowAction
	policy client.SchedulePolicies
	window *schedules.Window // the aborter of a blackout window
}

// Applied is what apply did (or, dry, would do).
type Applied struct {
	Set  string
	Plan []schedules.Change
	// What each schedule of the file does and when, by id.
	What map[string]string
	// Aborting names the blackout windows that were open as apply created
	// or changed them: their aborter was started at once.
	Aborting []string
	DryRun   bool
}

// ApplySchedules makes the Temporal Schedules of the file's set match the
// file: creates, updates and deletes only schedules whose memo names the
// set, leaves every other alone, and refuses (changing nothing) when the
// file wants an id some other schedule has. Running it twice changes
// nothing the second time.
func (l Launcher) ApplySchedules(ctx context.Context, f schedules.File, src schedules.Source, dryRun bool) (Applied, error) {
	want, err := l.wantSchedules(ctx, f, src)
	if err != nil {
		return Applied{}, err
	}
	return l.apply(ctx, f.Metadata.Name, want, dryRun)
}

// DeleteScheduleSet deletes every schedule of a set: apply with nothing in
// the file.
func (l Launcher) DeleteScheduleSet(ctx context.Context, set string, dryRun bool) (Applied, error) {
	return l.apply(ctx, set, nil, dryRun)
}

func (l Launcher) apply(ctx context.Context, set string, want []wantSchedule, dryRun bool) (Applied, error) {
	out := Applied{Set: set, DryRun: dryRun, What: map[string]string{}}
	if !yamlx.IsDNSLabel(set) {
		// An empty set would own every schedule without a gameday memo
		// (memoString reads "" for them): `schedule delete ""` deleted
		// gameday-sweep and every other team's schedules.
		return out, fmt.Errorf("schedules set %q: not a set name (a schedules file's metadata.name: lowercase letters, digits and '-')", set)
	}
	byID := map[string]wantSchedule{}
	var desired []schedules.Desired
	for _, w := range want {
		byID[w.d.ID] = w
		out.What[w.d.ID] = w.memo.What + "; " + w.memo.When
		desired = append(desired, w.d)
	}
	current, err := l.currentSchedules(ctx, set, byID)
	if err != nil {
		return out, err
	}
	out.Plan = schedules.Plan(set, desired, current)
	if cs := schedules.Conflicts(out.Plan); len(cs) > 0 {
		var msgs []string
		for _, c := range cs {
			msgs = append(msgs, strings.Join(c.Why, "; "))
		}
		return out, fmt.Errorf("nothing applied: %s", strings.Join(msgs, "; "))
	}
	if dryRun {
		return out, nil
	}
	sc := l.Client.ScheduleClient()
	for _, ch := range out.Plan {
		w := byID[ch.ID]
		switch ch.Verb {
		case schedules.Create:
			_, err = sc.Create(ctx, client.ScheduleOptions{
				ID: ch.ID, Spec: w.spec, Action: w.action,
				Overlap: w.policy.Overlap, CatchupWindow: w.policy.CatchupWindow, PauseOnFailure: w.policy.PauseOnFailure,
				Paused: ch.SetPause.Paused, Note: ch.SetPause.Note,
				Memo: map[string]any{schedules.MemoSet: set},
			})
		case schedules.Update:
			err = sc.GetHandle(ctx, ch.ID).Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				spec, policy := w.spec, w.policy
				s.Spec, s.Action, s.Policy = &spec, w.action, &policy
				if ch.SetPause != nil {
					var st client.ScheduleState
					if s.State != nil {
						st = *s.State
					}
					st.Paused, st.Note = ch.SetPause.Paused, ch.SetPause.Note
					s.State = &st
				}
				return &client.ScheduleUpdate{Schedule: &s}, nil
			}})
		case schedules.Delete:
			err = sc.GetHandle(ctx, ch.ID).Delete(ctx)
			if _, gone := errors.AsType[*serviceerror.NotFound](err); gone {
				err = nil
			}
		default:
			continue
		}
		if err != nil {
			return out, fmt.Errorf("%s schedule %s: %w (changes listed before this one were made)", ch.Verb, ch.ID, err)
		}
		// A window that is open as apply creates or changes it opens for
		// these schedules now: abort their runs still going.
		if w.window != nil && ch.Verb != schedules.Delete {
			if open, _ := w.window.OpenAt(time.Now()); open {
				if err := sc.GetHandle(ctx, ch.ID).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
					return out, fmt.Errorf("blackout window %s is open: start its aborter: %w", w.window.Name, err)
				}
				out.Aborting = append(out.Aborting, w.window.Name)
			}
		}
	}
	return out, nil
}

// wantSchedules prepares every schedule of the file. A scenario that does
// not load (or its overrides) is reported at its line, all of them at once.
func (l Launcher) wantSchedules(ctx context.Context, f schedules.File, src schedules.Source) ([]wantSchedule, error) {
	var out []wantSchedule
	var errs []error
	for i, e := range f.Spec.Schedules {
		w, field, err := l.wantEntry(ctx, f, src, e)
		if err != nil {
			errs = append(errs, src.Error(fmt.Sprintf("spec.schedules[%d].%s", i, field), err))
			continue
		}
		out = append(out, w)
	}
	for i, win := range f.Spec.Blackouts {
		w, err := l.wantWindow(f, win)
		if err != nil {
			errs = append(errs, src.Error(fmt.Sprintf("spec.blackouts[%d]", i), err))
			continue
		}
		out = append(out, w)
	}
	return out, errors.Join(errs...)
}

// fingerprinted is what the fingerprint covers: everything apply writes on
// the schedule but its pause state.
type fingerprinted struct {
	Spec     client.ScheduleSpec     `json:"spec"`
	Workflow string                  `json:"workflow"`
	Queue    string                  `json:"queue"`
	Args     any                     `json:"args"`
	Policy   client.SchedulePolicies `json:"policy"`
	Summary  string                  `json:"summary"`
	Details  string                  `json:"details"`
	Memo     schedules.Memo          `json:"memo"`
}

func (l Launcher) finish(w wantSchedule, workflow string, args any, summary, details string) (wantSchedule, error) {
	m := w.memo
	m.File = schedules.PauseState{} // the pause state is compared on its own
	fp, err := schedules.Fingerprint(fingerprinted{Spec: w.spec, Workflow: workflow, Queue: l.Config.TaskQueue, Args: args, Policy: w.policy, Summary: summary, Details: details, Memo: m})
	if err != nil {
		return w, err
	}
	w.memo.Fingerprint, w.d.Fingerprint = fp, fp
	w.action = &client.ScheduleWorkflowAction{
		ID:            w.d.ID, // Temporal appends the time of each run
		Workflow:      workflow,
		Args:          []any{args},
		TaskQueue:     l.Config.TaskQueue,
		Memo:          map[string]any{schedules.MemoSchedule: w.memo},
		StaticSummary: summary,
		StaticDetails: details,
	}
	return w, nil
}

func (l Launcher) wantEntry(ctx context.Context, f schedules.File, src schedules.Source, e schedules.Entry) (wantSchedule, string, error) {
	set := f.Metadata.Name
	id := schedules.ScheduleID(set, e.Name)
	pause := schedules.PauseState{Paused: e.Paused, Note: e.Note}
	w := wantSchedule{
		d: schedules.Desired{ID: id, Name: e.Name, Kind: schedules.KindScenario, Pause: pause},
		spec: client.ScheduleSpec{
			CronExpressions: slices.Clone(e.Cron), Jitter: e.Jitter.D(), TimeZoneName: e.TimeZone,
			Skip: calendars(f.SkipFor(e)),
		},
		policy: client.SchedulePolicies{Overlap: overlapPolicy(e.Overlap), CatchupWindow: e.CatchupWindow.D(), PauseOnFailure: e.PauseOnFailure},
	}
	if e.Every > 0 {
		w.spec.Intervals = []client.ScheduleIntervalSpec{{Every: e.Every.D()}}
	}
	w.memo = schedules.Memo{ID: id, Set: set, Name: e.Name, When: whenText(e), File: pause, Blackouts: f.WindowsFor(e.Name)}
	by := "schedule " + set + "/" + e.Name
	if e.Plan != "" {
		// A game day, prepared as `gameday gameday start` prepares it; its
		// steps read the blackout windows from its memo (their parent's).
		w.d.Kind, w.memo.Kind, w.memo.What = schedules.KindPlan, schedules.KindPlan, "plan "+e.Plan
		o := GameDayOptions{ID: id, By: by}
		in, err := l.PrepareGameDay(ctx, schedules.ResolveRef(src.Dir, e.Plan), o)
		if err != nil {
			return w, "plan", err
		}
		act := l.GameDayAction(in, o)
		summary := fmt.Sprintf("%s (schedule %s/%s)", GameDaySummary(in), set, e.Name)
		if w, err = l.finish(w, workflows.GameDayWorkflowName, in, summary, GameDayDetails(in)); err != nil {
			return w, "plan", err
		}
		w.action.TypedSearchAttributes = act.TypedSearchAttributes // GamedayGameDay=<plan> from the start
		return w, "plan", nil
	}
	in, err := l.Prepare(ctx, schedules.ResolveRef(src.Dir, e.Scenario), Options{By: by, Set: e.Overrides})
	if err != nil {
		field := "scenario"
		if len(e.Overrides) > 0 && strings.Contains(err.Error(), "override") {
			field = "overrides"
		}
		return w, field, err
	}
	sc := in.Scenario
	w.memo.Kind = schedules.KindScenario
	w.memo.What = "scenario " + e.Scenario
	if len(e.Overrides) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(e.Overrides)) {
			kv = append(kv, k+"="+e.Overrides[k])
		}
		w.memo.What += " (" + strings.Join(kv, ", ") + ")"
	}
	summary := fmt.Sprintf("gameday %s on %s (schedule %s/%s)", sc.Metadata.Name, sc.Metadata.Service, set, e.Name)
	w, err = l.finish(w, workflows.ExperimentWorkflowName, in, summary, StaticDetails(sc))
	return w, "scenario", err
}

func (l Launcher) wantWindow(f schedules.File, win schedules.Window) (wantSchedule, error) {
	set := f.Metadata.Name
	id := schedules.BlackoutID(set, win.Name)
	var ids []string
	for _, name := range f.EntriesOf(win) {
		ids = append(ids, schedules.ScheduleID(set, name))
	}
	win2 := win
	w := wantSchedule{
		d:      schedules.Desired{ID: id, Name: win.Name, Kind: schedules.KindBlackout},
		spec:   client.ScheduleSpec{Calendars: calendars(win.StartCalendars()), TimeZoneName: win.TimeZone},
		policy: client.SchedulePolicies{Overlap: enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL, CatchupWindow: blackoutCatchup},
		window: &win2,
	}
	if len(w.spec.Calendars) == 0 {
		return w, errors.New("the window has no start (it does not parse)")
	}
	w.memo = schedules.Memo{ID: id, Set: set, Name: win.Name, Kind: schedules.KindBlackout,
		What: "blackout window " + win.Name + ": abort the runs of " + strings.Join(f.EntriesOf(win), ", "), When: windowText(win)}
	summary := fmt.Sprintf("gameday blackout window %s opens (schedules %s)", win.Name, set)
	details := fmt.Sprintf("Blackout window **%s** (%s) opened: the runs still going of %s are aborted with the reason \"blackout window %s opened\".",
		win.Name, windowText(win), strings.Join(ids, ", "), win.Name)
	return l.finish(w, workflows.BlackoutWorkflowName, workflows.BlackoutInput{Set: set, Window: win, ScheduleIDs: ids}, summary, details)
}

func whenText(e schedules.Entry) string {
	var parts []string
	if len(e.Cron) > 0 {
		parts = append(parts, "cron "+strings.Join(e.Cron, " | "))
	}
	if e.Every > 0 {
		parts = append(parts, "every "+e.Every.String())
	}
	s := strings.Join(parts, " and ") + " " + e.TimeZone
	if e.Jitter > 0 {
		s += ", jitter " + e.Jitter.String()
	}
	return s
}

func windowText(w schedules.Window) string {
	if w.Weekly != nil {
		days := "every day"
		if len(w.Weekly.Days) > 0 {
			days = strings.Join(w.Weekly.Days, ",")
		}
		return fmt.Sprintf("%s %s-%s %s", days, w.Weekly.From, w.Weekly.To, w.TimeZone)
	}
	return fmt.Sprintf("%s to %s %s", w.From, w.To, w.TimeZone)
}

func overlapPolicy(s string) enums.ScheduleOverlapPolicy {
	switch s {
	case schedules.OverlapBufferOne:
		return enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE
	case schedules.OverlapBufferAll:
		return enums.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
	case schedules.OverlapCancelOther:
		return enums.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
	case schedules.OverlapAllowAll:
		return enums.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
	}
	return enums.SCHEDULE_OVERLAP_POLICY_SKIP
}

func calendars(cs []schedules.Calendar) []client.ScheduleCalendarSpec {
	var out []client.ScheduleCalendarSpec
	rs := func(in []schedules.Range) []client.ScheduleRange {
		var r []client.ScheduleRange
		for _, x := range in {
			r = append(r, client.ScheduleRange{Start: x.Start, End: x.End, Step: x.Step})
		}
		return r
	}
	for _, c := range cs {
		out = append(out, client.ScheduleCalendarSpec{
			Second: rs(c.Second), Minute: rs(c.Minute), Hour: rs(c.Hour), DayOfMonth: rs(c.DayOfMonth),
			Month: rs(c.Month), Year: rs(c.Year), DayOfWeek: rs(c.DayOfWeek), Comment: c.Comment,
		})
	}
	return out
}

var dc = converter.GetDefaultDataConverter() // gameday configures no custom one

// memoString decodes one string field of a memo ("" when absent).
func memoString(m *commonpb.Memo, key string) string {
	var s string
	if p := m.GetFields()[key]; p != nil {
		_ = dc.FromPayload(p, &s)
	}
	return s
}

// actionMemo reads what apply recorded on a schedule's action.
func actionMemo(a client.ScheduleAction) (schedules.Memo, bool) {
	var m schedules.Memo
	act, ok := a.(*client.ScheduleWorkflowAction)
	if !ok {
		return m, false
	}
	p, ok := act.Memo[schedules.MemoSchedule].(*commonpb.Payload)
	if !ok || dc.FromPayload(p, &m) != nil {
		return m, false
	}
	return m, true
}

// inSet reports whether a schedule id is in a set's id space.
func inSet(id, set string) bool {
	_, s, _, ok := schedules.ParseID(id)
	return ok && s == set
}

// currentSchedules describes the set's schedules as the server has them:
// those the list shows as the set's (memo) or in its id space, and every id
// the file wants (the list is eventually consistent: a schedule created a
// moment ago may be missing from it, never from Describe).
func (l Launcher) currentSchedules(ctx context.Context, set string, want map[string]wantSchedule) ([]schedules.Current, error) {
	ids := map[string]bool{}
	for id := range want {
		ids[id] = true
	}
	it, err := l.Client.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 500})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		if memoString(e.Memo, schedules.MemoSet) == set || inSet(e.ID, set) {
			ids[e.ID] = true
		}
	}
	var out []schedules.Current
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		d, err := l.Client.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if _, gone := errors.AsType[*serviceerror.NotFound](err); gone {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("describe schedule %s: %w", id, err)
		}
		c := schedules.Current{ID: id, Set: memoString(d.Memo, schedules.MemoSet)}
		if m, ok := actionMemo(d.Schedule.Action); ok {
			c.Fingerprint, c.File = m.Fingerprint, m.File
		}
		if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok && act.TaskQueue != "" && act.TaskQueue != l.Config.TaskQueue {
			c.OtherQueue = act.TaskQueue
		}
		if st := d.Schedule.State; st != nil && st.Paused {
			c.Live = schedules.PauseState{Paused: true, Note: st.Note}
		}
		if w, ok := want[id]; ok {
			c.Drift = drift(d, w)
		}
		out = append(out, c)
	}
	return out, nil
}

// drift names what the server shows differently from what apply writes,
// among what survives the round trip unchanged (the fingerprint covers the
// rest): someone changed it in the Temporal UI, say.
func drift(d *client.ScheduleDescription, w wantSchedule) []string {
	var out []string
	if act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction); ok {
		if name, _ := act.Workflow.(string); name != w.action.Workflow {
			out = append(out, fmt.Sprintf("workflow %v", act.Workflow))
		}
		if act.TaskQueue != w.action.TaskQueue {
			out = append(out, "task queue "+act.TaskQueue)
		}
	} else {
		out = append(out, "action")
	}
	if p := d.Schedule.Policy; p != nil {
		if p.Overlap != w.policy.Overlap {
			out = append(out, "overlap "+p.Overlap.String())
		}
		if p.CatchupWindow != w.policy.CatchupWindow {
			out = append(out, "catch-up window "+p.CatchupWindow.String())
		}
		if p.PauseOnFailure != w.policy.PauseOnFailure {
			out = append(out, fmt.Sprintf("pause on failure %t", p.PauseOnFailure))
		}
	}
	if s := d.Schedule.Spec; s != nil {
		zone := func(z string) string {
			if z == "" {
				return "UTC"
			}
			return z
		}
		if zone(s.TimeZoneName) != zone(w.spec.TimeZoneName) {
			out = append(out, "time zone "+s.TimeZoneName)
		}
		if s.Jitter != w.spec.Jitter {
			out = append(out, "jitter "+s.Jitter.String())
		}
		var every, wantEvery []time.Duration
		for _, i := range s.Intervals {
			every = append(every, i.Every)
		}
		for _, i := range w.spec.Intervals {
			wantEvery = append(wantEvery, i.Every)
		}
		if !slices.Equal(every, wantEvery) {
			out = append(out, fmt.Sprintf("intervals %v", every))
		}
	}
	return out
}
