package report

import "github.com/gameday/gameday/gameday"

// GameDay is the game day a report covers: its id, and its own result when
// it is known (the plan, outcome and why, people, every step with the ones
// skipped, the game day's notes and pauses), which the report shows above
// the experiments' own reports.
type GameDay struct {
	ID     string
	Result *gameday.Result
}

// Name is what the report calls the game day: its id.
func (g GameDay) Name() string {
	if g.ID == "" && g.Result != nil {
		return g.Result.WorkflowID
	}
	return g.ID
}
