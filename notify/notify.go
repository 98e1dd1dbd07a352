// Package notify sends run notifications from the workflow (through the
// Notify and Report activities). The worker's notifier is Log. The Slack
// bot does not go through here: it follows each run it started by querying
// its status (slackbot.Bot.Watch) and keeps the run's channel message
// current.
package notify

import (
	"context"
	"log/slog"
)

// Message is one notification about a run.
type Message struct {
	WorkflowID string `json:"workflow_id"`
	Scenario   string `json:"scenario"`
	Event      string `json:"event"` // signoff-requested, signoff-reminder, injected, recover-failing, finished, gameday-finished
	Text       string `json:"text"`
	URL        string `json:"url,omitempty"`
}

type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Log writes notifications to a structured logger.
type Log struct{ Logger *slog.Logger }

func (l Log) Notify(_ context.Context, m Message) error {
	lg := l.Logger
	if lg == nil {
		lg = slog.Default()
	}
	lg.Info("gameday: "+m.Text, "event", m.Event, "workflow_id", m.WorkflowID, "scenario", m.Scenario, "url", m.URL)
	return nil
}
