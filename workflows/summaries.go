package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/chaos"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/sli"
)

// What the Temporal UI shows on each activity and timer of a run: a person
// reading a history should see what every step did ("add latency 1.2s to
// inventory", "delete 2 of 4 pods in shop app=order (mode fixed 2)"), not
// "Inject" four times. Summaries are user metadata on the commands: the
// SDK's replay check compares a command's type and id, never its metadata,
// so changing a summary changes no recorded history's replay (the replay
// test replays histories recorded with other summaries to prove it).

// timerFor is a wait of d whose timer the UI names.
func timerFor(d time.Duration, summary string) workflow.AwaitOptions {
	return workflow.AwaitOptions{Timeout: d, TimerOptions: workflow.TimerOptions{Summary: chaos.Clip(summary, chaos.MaxDescription)}}
}

// sleep waits d on a timer the UI names.
func sleep(ctx workflow.Context, d time.Duration, summary string) error {
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: chaos.Clip(summary, chaos.MaxDescription)}).Get(ctx, nil)
}

func (e *experimentRun) defineSummary() string {
	sc := e.in.Scenario
	guards := len(sc.Spec.Guards) + len(sc.Spec.SteadyState.Guards)
	what := fmt.Sprintf("resolve the targets of %d fault(s), check %d guard(s) are healthy now", len(e.faults), guards)
	if e.in.DryRun {
		what = "dry run: " + what
	}
	return what
}

// faultDescription describes fault i with the targets define resolved.
func (e *experimentRun) faultDescription(i int) chaos.Description {
	f := e.faults[i]
	var resolved []string
	for _, t := range e.res.Targets {
		if rest, ok := strings.CutPrefix(t, f.Name+": "); ok {
			resolved = append(resolved, rest)
		}
	}
	return chaos.Describe(f, resolved)
}

func (e *experimentRun) injectSummary(i int) string {
	return chaos.Clip(fmt.Sprintf("%s: %s for %s", e.faults[i].Name, e.faultDescription(i).Inject, e.faults[i].Duration), chaos.MaxDescription)
}

func (e *experimentRun) recoverSummary(i int) string {
	return chaos.Clip(fmt.Sprintf("%s: %s", e.faults[i].Name, e.faultDescription(i).Recover), chaos.MaxDescription)
}

// holdSummary names the timer that ends the next holds.
func (e *experimentRun) holdSummary(until time.Time) string {
	var names []string
	for i, f := range e.fs {
		if e.attempted[i] && !f.released && f.holdUntil.Equal(until) {
			names = append(names, e.faults[i].Name)
		}
	}
	return fmt.Sprintf("hold %s until %s, then remove it", strings.Join(names, ", "), until.UTC().Format("15:04:05"))
}

func guardSummary(guards []sli.Guard) string {
	return chaos.Clip(fmt.Sprintf("watch %s every %s until the last hold ends; a breach aborts the run", guardNames(guards), sli.MinInterval(guards)), chaos.MaxDescription)
}

func guardNames(guards []sli.Guard) string {
	names := make([]string, len(guards))
	for i, g := range guards {
		names[i] = g.Name
	}
	return strings.Join(names, ", ")
}

func (e *experimentRun) reportSummary() string {
	if e.res.Outcome == experiment.Passed || e.res.Outcome == experiment.DryRun {
		return fmt.Sprintf("announce the outcome: %s", e.res.Outcome)
	}
	return fmt.Sprintf("file the postmortem and announce the outcome: %s", e.res.Outcome)
}
