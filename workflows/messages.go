package workflows

import (
	"github.com/gameday/gameday/scenarios"
)

// ExperimentInput carries the fully resolved scenario so the history records
// exactly what ran, whatever the catalog says later.
type ExperimentInput struct {
	Scenario scenarios.Scenario `json:"scenario"`
	// Source is where the scenario came from (catalog name or file path).
	Source    string `json:"source,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
	StartedBy string `json:"started_by,omitempty"`
	// UIBase is the Temporal Web UI base URL, for links in reports.
	UIBase string `json:"ui_base,omitempty"`
}

// AbortRequest is the payload of the abort signal and update.
type AbortRequest struct {
	Reason string `json:"reason"`
	By     string `json:"by,omitempty"`
}

type AbortResponse struct {
	Phase string `json:"phase"`
}

// SignoffRequest is the payload of the sign-off signal and update.
type SignoffRequest struct {
	Role   string `json:"role"`
	User   string `json:"user"`
	Reject bool   `json:"reject,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type SignoffResponse struct {
	// Pending roles still to sign after this one.
	Pending []string `json:"pending"`
}
