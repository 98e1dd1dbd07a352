package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
)

// RunUpdater sends an Update to another workflow and waits for its answer
// (implemented in package worker with the Temporal client). A workflow
// cannot send Updates itself; the game day passes abort, pause and resume
// to its running steps through ForwardUpdate.
type RunUpdater interface {
	UpdateRun(ctx context.Context, workflowID, update string, arg json.RawMessage) error
}

// ForwardInput is one Update for one run: Arg is the update's payload as
// JSON, passed through untouched (decoding it into a generic value here
// would turn a time.Duration into a float the run cannot read back).
type ForwardInput struct {
	WorkflowID string          `json:"workflow_id"`
	Update     string          `json:"update"`
	Arg        json.RawMessage `json:"arg"`
}

// ForwardResult says whether the run accepted; Refused is its refusal.
type ForwardResult struct {
	Refused string `json:"refused,omitempty"`
}

// ForwardUpdate sends one Update to a run and reports its answer. A
// refusal is an answer, not an error: the run's validator said no, the run
// has ended, or it was started by an older worker that does not know the
// update. Only a server that cannot be reached is an error (retried).
func (a *Activities) ForwardUpdate(ctx context.Context, in ForwardInput) (ForwardResult, error) {
	if a.Updates == nil {
		return ForwardResult{}, temporal.NewNonRetryableApplicationError("this worker has no Temporal client to reach other runs", ErrTypePermanent, nil)
	}
	err := a.Updates.UpdateRun(ctx, in.WorkflowID, in.Update, in.Arg)
	if err == nil {
		return ForwardResult{}, nil
	}
	if refusal := Refusal(err, in.Update); refusal != "" {
		return ForwardResult{Refused: refusal}, nil
	}
	return ForwardResult{}, fmt.Errorf("send %s to %s: %w", in.Update, in.WorkflowID, err)
}

// Refusal turns an Update's error into what the run said, or "" when the
// run was not reached (a server or network problem worth retrying).
func Refusal(err error, update string) string {
	var nf *serviceerror.NotFound
	var unavailable *serviceerror.Unavailable
	var deadline *serviceerror.DeadlineExceeded
	var exhausted *serviceerror.ResourceExhausted
	switch {
	case errors.As(err, &unavailable), errors.As(err, &deadline), errors.As(err, &exhausted),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ""
	case errors.As(err, &nf):
		return "the run has ended"
	case strings.Contains(err.Error(), "unknown update "+update):
		return fmt.Sprintf("the run does not know %s (started by an older worker): it goes on as it was", update)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}
