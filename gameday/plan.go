// Package gameday holds what a game day is, without YAML and without
// Temporal: the plan people run together (Plan: who is there, the
// pre-flight guards, the steps in order, parallel groups, what a failing
// step does to the rest) and the game day's live state and final report
// (Result: each step's experiment, outcome and link, the notes and pauses).
// Package plans reads plan files; the GameDay workflow runs them; the CLI
// prints the Result. Like package checklist next to checklists.
package gameday

import (
	"time"

	"github.com/gameday/gameday/internal/duration"
	"github.com/gameday/gameday/sli"
)

const (
	APIVersion = "gameday/v1"
	Kind       = "GameDay"
)

// What a failing step does to the rest of the plan.
const (
	// OnFailureStop: no further step starts; steps of the same parallel
	// group that are already running finish on their own (their guards
	// still watch them). The default.
	OnFailureStop = "stop"
	// OnFailureContinue: the plan goes on; the game day still ends failed.
	OnFailureContinue = "continue"
)

// Limits. A game day's history grows with its steps (each child workflow
// is a handful of events, each pause or note an update); bounding the plan
// and the messages keeps it far below Temporal's history limits, so the
// workflow never needs to continue-as-new (a child workflow cannot follow
// its parent into a new run).
const (
	// MaxSteps is the most experiments one plan may run, parallel members
	// counted one by one.
	MaxSteps = 30
	// MaxParallel is the most experiments one parallel group may run at
	// once.
	MaxParallel = 8
	// MaxNotes bounds the notes of one game day (each at most
	// experiment.MaxNoteLength characters, as a run's).
	MaxNotes = 200
	// MaxPauses is how often one game day may be paused.
	MaxPauses = 50
	// MaxPauseBetween bounds spec.pause_between.
	MaxPauseBetween = 24 * time.Hour
)

// A game day's pause ends like a run's: DefaultPauseTimeout is how long it
// holds without an answer before it is aborted (when the pause names no
// timeout), at most MaxPauseTimeout; the same values as a run's (a test in
// package workflows keeps them equal).
const (
	DefaultPauseTimeout = 10 * time.Minute
	MaxPauseTimeout     = 24 * time.Hour
)

// Plan is a game-day plan (apiVersion gameday/v1, kind GameDay).
type Plan struct {
	APIVersion string   `json:"apiVersion" yaml:"apiVersion"`
	Kind       string   `json:"kind" yaml:"kind"`
	Metadata   Metadata `json:"metadata" yaml:"metadata"`
	Spec       Spec     `json:"spec" yaml:"spec"`
}

type Metadata struct {
	Name   string            `json:"name" yaml:"name"`
	Labels map[string]string `json:"labels,omitempty" yaml:"labels"`
}

type Spec struct {
	// Environment the game day runs in (staging, prod, demo...). A step's
	// scenario that names another environment (its environment label) is
	// refused.
	Environment string `json:"environment" yaml:"environment"`
	Description string `json:"description,omitempty" yaml:"description"`
	People      People `json:"people" yaml:"people"`
	// Preflight guards must all be healthy, read once, before the first
	// step starts; otherwise the game day ends there, nothing injected.
	Preflight []sli.Guard `json:"preflight,omitempty" yaml:"preflight"`
	// PauseBetween is the wait between one step (or parallel group) ending
	// and the next starting: time to look at the dashboards.
	PauseBetween duration.Duration `json:"pause_between,omitempty" yaml:"pause_between"`
	// OnFailure is what a step that did not pass does to the rest:
	// OnFailureStop (default) or OnFailureContinue; a step may say
	// otherwise for itself.
	OnFailure string `json:"on_failure" yaml:"on_failure"`
	Steps     []Step `json:"steps" yaml:"steps"`
}

// People are who take part, by role. The game-day roles are Gremlin's: the
// owner decides (go, stop), the coordinator runs the day, the reporter
// writes down what happens, observers watch. Signoff names who is expected
// to sign the steps' sign-off gates (the checklist roles dev, test, sre):
// who may actually sign is the worker's role map (GAMEDAY_ROLES), never the
// plan, so this list is for the people, and the loader checks that every
// role a step's gate requires has someone here.
type People struct {
	Owner       string              `json:"owner" yaml:"owner"`
	Coordinator string              `json:"coordinator,omitempty" yaml:"coordinator"`
	Reporter    string              `json:"reporter,omitempty" yaml:"reporter"`
	Observers   []string            `json:"observers,omitempty" yaml:"observers"`
	Signoff     map[string][]string `json:"signoff,omitempty" yaml:"signoff"`
}

// Step is one entry of spec.steps: an experiment (Scenario, with Set
// overrides), or a parallel group (Parallel: experiments started together
// and awaited together).
type Step struct {
	// Name is unique in the plan (a DNS label: it is part of the step's
	// workflow id); it defaults to the scenario's name.
	Name string `json:"name" yaml:"name"`
	// Scenario is a catalog name, or a file (a path with a '/' or ending
	// in .yaml/.yml) relative to the plan file.
	Scenario string `json:"scenario,omitempty" yaml:"scenario"`
	// Set are overrides, as `gameday run --set key=value`.
	Set map[string]string `json:"set,omitempty" yaml:"set"`
	// OnFailure overrides spec.on_failure for this step (for a group: for
	// its members that do not set their own).
	OnFailure string `json:"on_failure,omitempty" yaml:"on_failure"`
	Parallel  []Step `json:"parallel,omitempty" yaml:"parallel"`
}

// IsGroup reports whether the step is a parallel group.
func (s Step) IsGroup() bool { return s.Parallel != nil }

// Experiments counts the experiments of the plan, group members one by one.
func (p Plan) Experiments() int {
	n := 0
	for _, s := range p.Spec.Steps {
		if s.IsGroup() {
			n += len(s.Parallel)
		} else {
			n++
		}
	}
	return n
}
