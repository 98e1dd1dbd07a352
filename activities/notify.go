package activities

import (
	"context"

	"github.com/gameday/gameday/notify"
)

type NotifyInput struct {
	Message notify.Message `json:"message"`
}

// Notify sends one notification.
func (a *Activities) Notify(ctx context.Context, in NotifyInput) error {
	if a.Notifier == nil {
		return nil
	}
	return a.Notifier.Notify(ctx, in.Message)
}
