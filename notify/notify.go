// Package notify sends run notifications. The console notifier is the local
// default; Slack plugs in behind the same interface.
package notify

import (
	"context"
	"log/slog"
)

// Message is one notification about a run.
type Message struct {
	WorkflowID string `json:"workflow_id"`
	Scenario   string `json:"scenario"`
	Event      string `json:"event"` // started, signoff-requested, signoff-reminder, injected, breach, finished
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
