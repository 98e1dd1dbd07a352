package sli

import (
	"strings"
	"time"

	"github.com/gameday/gameday/internal/duration"
)

// The guard as written in a scenario's spec.guards: the scenario loader
// reads it, the rules in this package evaluate it, the run's result
// records it. It lives here so none of those needs the loader.

// Op is the healthy condition of a guard: value OP threshold must hold.
type Op string

const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// Ops lists the valid ops, for the loaders.
var Ops = []Op{OpLT, OpLE, OpGT, OpGE, OpEQ, OpNE}

// OpList is Ops for messages: "< <= > >= == !=".
func OpList() string {
	s := make([]string, len(Ops))
	for i, o := range Ops {
		s[i] = string(o)
	}
	return strings.Join(s, " ")
}

// Guard is an SLI check polled from Prometheus while the fault is held.
type Guard struct {
	Name      string            `json:"name" yaml:"name"`
	Query     string            `json:"query" yaml:"query"`
	Op        Op                `json:"op" yaml:"op"`
	Threshold float64           `json:"threshold" yaml:"threshold"`
	For       int               `json:"for" yaml:"for"`           // consecutive bad evaluations before a breach; default 1
	Interval  duration.Duration `json:"interval" yaml:"interval"` // default 5s
	OnError   string            `json:"on_error" yaml:"on_error"` // abort (default) | ignore
	// OnNoData says what an empty answer or NaN means: breach (default: it
	// counts as a bad sample, an outage often looks like no data) or ignore
	// (for a query that is legitimately empty; the sample counts neither way).
	OnNoData string `json:"on_no_data,omitempty" yaml:"on_no_data"`
	// Baseline and Drift are the seed's drift rule (drift.go): a value
	// that drifts more than Drift percent (DefaultDriftLimit when a
	// baseline is declared and no limit) from the baseline, while still
	// inside the threshold, pauses the run and asks a person.
	Baseline *Baseline `json:"baseline,omitempty" yaml:"baseline"`
	Drift    float64   `json:"drift,omitempty" yaml:"drift"`
	// Armed is the baseline value define resolved for this run, set by the
	// workflow on the guards it hands a watch (nil: no drift rule in this
	// watch). Never written in a scenario.
	Armed *Float `json:"armed,omitempty" yaml:"-"`
	// Unit of the query's value, for reports (see Units); empty: inferred
	// from the query (UnitOf).
	Unit string `json:"unit,omitempty" yaml:"unit"`
}

// DefaultGuardInterval is the interval of a guard that names none.
const DefaultGuardInterval = 5 * time.Second

const (
	OnErrorAbort  = "abort"
	OnErrorIgnore = "ignore"
	// MaxQueryErrors is how many consecutive query errors abort a run when
	// on_error is abort.
	MaxQueryErrors = 3

	OnNoDataBreach = "breach"
	OnNoDataIgnore = "ignore"
)
