package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/gameday/gameday/sli"
)

// watchGuards are the guards a watch evaluates.
func (e *experimentRun) watchGuards(drift bool) []sli.Guard { return e.in.Scenario.Spec.Guards }

// isDrift reports whether a guard's finding is the drift rule's.
func isDrift(b *sli.Breach) bool { return false }

// driftInstead turns a guard that ended on a drift into a pause request.
func (e *experimentRun) driftInstead(ctx workflow.Context) bool { return false }
