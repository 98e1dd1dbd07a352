package control

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/gameday/gameday/workflows"
)

// Pause sends the pause Update: the run removes its faults and holds,
// guards watching, until Resume, an abort or the pause's timeout. It
// answers once the pause took effect; the validator's refusal (nothing
// injected yet, already paused, the hold is over) is the error.
func Pause(ctx context.Context, c client.Client, workflowID string, req workflows.PauseRequest) (workflows.PauseResponse, error) {
	var resp workflows.PauseResponse
	return resp, update(ctx, c, workflowID, workflows.UpdatePause, req, &resp)
}

// Resume sends the resume Update (also the answer to a drift pause,
// "continue"): the run re-injects what was left of each fault's hold under
// fresh fault ids. It answers once the pause is over.
func Resume(ctx context.Context, c client.Client, workflowID string, req workflows.ResumeRequest) (workflows.ResumeResponse, error) {
	var resp workflows.ResumeResponse
	return resp, update(ctx, c, workflowID, workflows.UpdateResume, req, &resp)
}

// Note sends the note Update: an observation or action item recorded on
// the run with its author and time, until the run's report starts.
func Note(ctx context.Context, c client.Client, workflowID string, req workflows.NoteRequest) (workflows.NoteResponse, error) {
	var resp workflows.NoteResponse
	return resp, update(ctx, c, workflowID, workflows.UpdateNote, req, &resp)
}
