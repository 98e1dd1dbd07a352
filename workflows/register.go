package workflows

import "go.temporal.io/sdk/workflow"

// Definition is one workflow type a worker runs: the name clients start it
// by, and its function.
type Definition struct {
	Name string
	Func any
}

// Definitions lists every workflow type of gameday. It is the one list:
// the worker (worker.Register) and the replay test both register from it
// through Register, so a new workflow cannot be run by workers and left out
// of the replay check, or the other way round.
func Definitions() []Definition {
	return []Definition{
		{ExperimentWorkflowName, ExperimentWorkflow},
		{ChecklistWorkflowName, ChecklistWorkflow},
		{ChecklistQuarterlyWorkflowName, ChecklistQuarterlyWorkflow},
		{SweepWorkflowName, SweepWorkflow},
		{LeasesWorkflowName, LeasesWorkflow},
		{GameDayWorkflowName, GameDayWorkflow},
		{KillSwitchWorkflowName, KillSwitchWorkflow},
		{BlackoutWorkflowName, BlackoutWorkflow},
	}
}

// Registry is where workflows are registered: a worker.Worker or a
// worker.WorkflowReplayer.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every workflow of Definitions on r under its name.
func Register(r Registry) {
	for _, d := range Definitions() {
		r.RegisterWorkflowWithOptions(d.Func, workflow.RegisterOptions{Name: d.Name})
	}
}
