package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/schedules"
	"github.com/gameday/gameday/workflows"
)

// ScheduleStatus is one schedule as `gameday schedule list` shows it.
type ScheduleStatus struct {
	ID     string           `json:"id"`
	Set    string           `json:"set"`
	Name   string           `json:"name"`
	Kind   schedules.Kind   `json:"kind"`
	What   string           `json:"what"`
	When   string           `json:"when"`
	Paused bool             `json:"paused"`
	Note   string           `json:"note,omitempty"`
	Next   []time.Time      `json:"next,omitempty"`
	Last   *LastScheduleRun `json:"last,omitempty"`
}

// LastScheduleRun is the last run a schedule started and how it ended.
type LastScheduleRun struct {
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	At         time.Time `json:"at"`
	// Status is the workflow's (running, completed, failed, ...);
	// Outcome its GamedayOutcome search attribute (passed, aborted, ...)
	// and Reason why, for a run that did not pass.
	Status  string `json:"status"`
	Outcome string `json:"outcome,omitempty"`
	Phase   string `json:"phase,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// ListSchedules describes every schedule a gameday schedules file owns
// (of one set when set is not empty): next runs and the last run's outcome.
func ListSchedules(ctx context.Context, c client.Client, set string) ([]ScheduleStatus, error) {
	ids, err := ownedSchedules(ctx, c, set)
	if err != nil {
		return nil, err
	}
	var out []ScheduleStatus
	for _, id := range ids {
		d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if _, gone := errors.AsType[*serviceerror.NotFound](err); gone {
			continue // deleted since the list was read
		}
		if err != nil {
			return out, fmt.Errorf("describe schedule %s: %w", id, err)
		}
		st := ScheduleStatus{ID: id, Set: memoString(d.Memo, schedules.MemoSet), Next: d.Info.NextActionTimes}
		if m, ok := actionMemo(d.Schedule.Action); ok {
			st.Name, st.Kind, st.What, st.When = m.Name, m.Kind, m.What, m.When
		}
		if s := d.Schedule.State; s != nil && s.Paused {
			st.Paused, st.Note = true, s.Note
		}
		if n := len(d.Info.RecentActions); n > 0 {
			if r := d.Info.RecentActions[n-1].StartWorkflowResult; r != nil {
				st.Last = lastRun(ctx, c, r.WorkflowID, r.FirstExecutionRunID)
				st.Last.At = d.Info.RecentActions[n-1].ActualTime
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// ownedSchedules lists the ids of the schedules a gameday schedules file
// owns (memo MemoSet), of one set or all, sorted.
func ownedSchedules(ctx context.Context, c client.Client, set string) ([]string, error) {
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 500})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	var ids []string
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list schedules: %w", err)
		}
		owner := memoString(e.Memo, schedules.MemoSet)
		if owner != "" && (set == "" || owner == set) {
			ids = append(ids, e.ID)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// lastRun reads how a run a schedule started is doing or ended.
func lastRun(ctx context.Context, c client.Client, workflowID, runID string) *LastScheduleRun {
	out := &LastScheduleRun{WorkflowID: workflowID, RunID: runID}
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		out.Status = "unknown (" + err.Error() + ")"
		return out
	}
	info := d.GetWorkflowExecutionInfo()
	out.Status = statusText(info.GetStatus())
	fields := info.GetSearchAttributes().GetIndexedFields()
	for key, dst := range map[string]*string{workflows.SAOutcome.GetName(): &out.Outcome, workflows.SAPhase.GetName(): &out.Phase} {
		if p := fields[key]; p != nil {
			_ = dc.FromPayload(p, dst)
		}
	}
	if info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		return out
	}
	switch info.GetType().GetName() {
	case workflows.ExperimentWorkflowName:
		var r experiment.Result
		if err := c.GetWorkflow(ctx, workflowID, runID).Get(ctx, &r); err == nil {
			out.Outcome = string(r.Outcome)
			out.Reason = r.AbortReason
			if out.Reason == "" {
				out.Reason = r.Error
			}
		}
	case workflows.GameDayWorkflowName:
		// A plan: entry's game day says why it did not pass too.
		var r gameday.Result
		if err := c.GetWorkflow(ctx, workflowID, runID).Get(ctx, &r); err == nil {
			out.Outcome, out.Reason = string(r.Outcome), r.Reason
		}
	}
	return out
}

// statusText is a workflow status as a word: "running", "completed",
// "timed-out".
func statusText(s enums.WorkflowExecutionStatus) string {
	var b strings.Builder
	for i, r := range s.String() {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ResolveSchedule finds the schedule a user names: its id, SET/NAME, or a
// NAME that is unique among the schedules gameday files own.
func ResolveSchedule(ctx context.Context, c client.Client, name string) (string, error) {
	if _, _, _, ok := schedules.ParseID(name); ok {
		return name, nil
	}
	if set, entry, ok := strings.Cut(name, "/"); ok {
		return schedules.ScheduleID(set, entry), nil
	}
	ids, err := ownedSchedules(ctx, c, "")
	if err != nil {
		return "", err
	}
	var match []string
	for _, id := range ids {
		if _, _, n, ok := schedules.ParseID(id); ok && n == name {
			match = append(match, id)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("no schedule named %q (give SET/NAME or the id; `gameday schedule list` shows them)", name)
	}
	return "", fmt.Errorf("%q names %d schedules (%s): give SET/NAME", name, len(match), strings.Join(match, ", "))
}

// TriggerSchedule starts one run of a schedule now (its overlap policy
// applies: with skip, nothing starts while its last run still goes) and
// waits up to wait for it to appear; it returns the run's workflow id.
func TriggerSchedule(ctx context.Context, c client.Client, id string, wait time.Duration) (string, error) {
	h := c.ScheduleClient().GetHandle(ctx, id)
	before, err := h.Describe(ctx)
	if err != nil {
		return "", fmt.Errorf("schedule %s: %w", id, err)
	}
	seen := map[string]bool{}
	for _, a := range before.Info.RecentActions {
		if r := a.StartWorkflowResult; r != nil {
			seen[r.WorkflowID+"/"+r.FirstExecutionRunID] = true
		}
	}
	if err := h.Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
		return "", fmt.Errorf("trigger %s: %w", id, err)
	}
	deadline := time.Now().Add(wait)
	for {
		d, err := h.Describe(ctx)
		if err != nil {
			return "", fmt.Errorf("schedule %s: %w", id, err)
		}
		for _, a := range d.Info.RecentActions {
			if r := a.StartWorkflowResult; r != nil && !seen[r.WorkflowID+"/"+r.FirstExecutionRunID] {
				return r.WorkflowID, nil
			}
		}
		if time.Now().After(deadline) {
			running := ""
			if n := len(d.Info.RunningWorkflows); n > 0 {
				running = fmt.Sprintf(" (its run %s is still going and its overlap policy may have skipped this one)", d.Info.RunningWorkflows[n-1].WorkflowID)
			}
			return "", fmt.Errorf("triggered %s, but no run started within %s%s", id, wait, running)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// PauseSchedule pauses (or unpauses) a gameday file's schedule with a note.
func PauseSchedule(ctx context.Context, c client.Client, id string, pause bool, note string) error {
	if _, _, _, ok := schedules.ParseID(id); !ok {
		return fmt.Errorf("%s is not a schedule of a gameday schedules file", id)
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	var err error
	if pause {
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
	} else {
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
	}
	if err != nil {
		return fmt.Errorf("schedule %s: %w", id, err)
	}
	return nil
}

// RunSchedule reads which schedule started a run (or started the game day
// the run is a step of) from the run's memo, which Temporal copied from
// the schedule's action; false for a run started by hand.
func RunSchedule(ctx context.Context, c client.Client, workflowID, runID string, parent bool) (schedules.Memo, bool, error) {
	var m schedules.Memo
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return m, false, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	if p := info.GetMemo().GetFields()[schedules.MemoSchedule]; p != nil {
		if err := dc.FromPayload(p, &m); err != nil {
			return m, false, fmt.Errorf("run %s: memo %s: %w", workflowID, schedules.MemoSchedule, err)
		}
		return m, true, nil
	}
	if pe := info.GetParentExecution(); parent && pe != nil {
		return RunSchedule(ctx, c, pe.GetWorkflowId(), pe.GetRunId(), false)
	}
	return m, false, nil
}

// PauseScheduleOnFailure pauses the schedule that started a run (or the
// game day the run is a step of: a game day whose step did not pass did
// not pass either), when the schedule's policy says pause on failure and it
// is not paused yet; it returns the schedule's id when it paused it.
func PauseScheduleOnFailure(ctx context.Context, c client.Client, workflowID, runID, note string) (string, error) {
	m, ok, err := RunSchedule(ctx, c, workflowID, runID, true)
	if err != nil || !ok {
		return "", err
	}
	h := c.ScheduleClient().GetHandle(ctx, m.ID)
	d, err := h.Describe(ctx)
	if _, gone := errors.AsType[*serviceerror.NotFound](err); gone {
		return "", nil // deleted since the run started
	}
	if err != nil {
		return "", fmt.Errorf("describe schedule %s: %w", m.ID, err)
	}
	if p := d.Schedule.Policy; p == nil || !p.PauseOnFailure || (d.Schedule.State != nil && d.Schedule.State.Paused) {
		return "", nil
	}
	if err := h.Pause(ctx, client.SchedulePauseOptions{Note: note}); err != nil {
		return "", fmt.Errorf("pause schedule %s: %w", m.ID, err)
	}
	return m.ID, nil
}
