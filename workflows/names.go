// Package workflows holds the durable experiment workflow, its names, ids,
// message types and search attributes. Everything in here must stay
// deterministic: no wall clock, no I/O, no goroutines, no map iteration.
package workflows

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

const (
	ExperimentWorkflowName = "Experiment"

	// Abort: a signal for clients that cannot send updates (the Temporal
	// UI), an update for the CLI and the Slack bot, commands and buttons
	// alike (synchronous, validated; see package control).
	SignalAbort = "abort"
	UpdateAbort = "abort-update"
	// Sign-off: the same pair.
	SignalSignoff = "signoff"
	UpdateSignoff = "signoff-update"
	// QueryStatus returns the live experiment.Result.
	QueryStatus = "status"

	// Pause and resume (an experiment or a game day): the same pair of a
	// signal for the Temporal UI and a validated update for the CLI and
	// Slack. Resume also answers a drift pause ("continue").
	SignalPause  = "pause"
	UpdatePause  = "pause-update"
	SignalResume = "resume"
	UpdateResume = "resume-update"
	// A note (observation or action item) on a run or a game day.
	SignalNote = "note"
	UpdateNote = "note-update"

	// GameDayWorkflowName runs a plan of experiments as child workflows.
	GameDayWorkflowName = "GameDay"
)

// Typed search attributes: find runs in the UI by scenario, service,
// outcome and current phase.
var (
	SAScenario = temporal.NewSearchAttributeKeyKeyword("GamedayScenario")
	SAService  = temporal.NewSearchAttributeKeyKeyword("GamedayService")
	SAOutcome  = temporal.NewSearchAttributeKeyKeyword("GamedayOutcome")
	SAPhase    = temporal.NewSearchAttributeKeyKeyword("GamedayPhase")
	// SAGameDay is the game day a run belongs to (its plan's name), on the
	// game day itself and on every experiment it started:
	// GamedayGameDay="seed-weekly" lists them all.
	SAGameDay = temporal.NewSearchAttributeKeyKeyword("GamedayGameDay")
)

// SearchAttributeNames lists them for registration on a server.
func SearchAttributeNames() []string {
	return []string{SAScenario.GetName(), SAService.GetName(), SAOutcome.GetName(), SAPhase.GetName(), SAGameDay.GetName()}
}

// NewExperimentID builds a readable, unique workflow id for a run.
// Called by clients, never by workflow code.
func NewExperimentID(scenario string, now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("gameday-%s-%s-%s", strings.ToLower(scenario), now.UTC().Format("20060102-150405"), hex.EncodeToString(b[:]))
}
