package experiment

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gameday/gameday/chaos"
)

// TestRunStateRules pins the rules the workflow's validators, the Slack
// message and `gameday status` all read from a Result.
func TestRunStateRules(t *testing.T) {
	approved := Signoff{Role: "dev", User: "dana", Approved: true}
	rejected := Signoff{Role: "sre", User: "sam", Reason: "no"}
	gate := func(phase string, outcome Outcome, signed ...Signoff) Result {
		return Result{Phase: phase, Outcome: outcome, RequiredRoles: []string{"dev", "test", "sre"}, Signoffs: signed}
	}
	for _, tc := range []struct {
		name                                  string
		r                                     Result
		pending                               []string
		signoffOpen, awaiting, abortOpen, fin bool
	}{
		{"before define", gate("", Running), []string{"dev", "test", "sre"}, true, false, true, false},
		{"in define", gate(PhaseDefine, Running), []string{"dev", "test", "sre"}, true, false, true, false},
		{"at the gate", gate(PhaseSignoff, Running, approved), []string{"test", "sre"}, true, true, true, false},
		{"rejected", gate(PhaseSignoff, Running, approved, rejected), []string{"test"}, false, false, true, false},
		{"injecting", gate(PhaseInject, Running, approved), []string{"test", "sre"}, false, false, true, false},
		{"observing", gate(PhaseObserve, Running), []string{"dev", "test", "sre"}, false, false, true, false},
		{"recovering", gate(PhaseRecover, Running), []string{"dev", "test", "sre"}, false, false, false, false},
		{"decided", gate(PhaseSignoff, Aborted), []string{"dev", "test", "sre"}, false, false, false, false},
		{"over", func() Result { r := gate(PhaseReport, Passed); r.Ended = time.Unix(1, 0); return r }(), []string{"dev", "test", "sre"}, false, false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if got := r.PendingRoles(); !slices.Equal(got, tc.pending) {
				t.Errorf("PendingRoles = %v, want %v", got, tc.pending)
			}
			if got := r.SignoffOpen(); got != tc.signoffOpen {
				t.Errorf("SignoffOpen = %t, want %t", got, tc.signoffOpen)
			}
			if got := r.AwaitingSignoff(); got != tc.awaiting {
				t.Errorf("AwaitingSignoff = %t, want %t", got, tc.awaiting)
			}
			if got := r.AbortOpen(); got != tc.abortOpen {
				t.Errorf("AbortOpen = %t, want %t", got, tc.abortOpen)
			}
			if got := r.Final(); got != tc.fin {
				t.Errorf("Final = %t, want %t", got, tc.fin)
			}
			if tc.awaiting && !tc.signoffOpen {
				t.Error("offered a sign-off the gate would refuse")
			}
		})
	}

	r := gate(PhaseSignoff, Running, approved, rejected)
	if s, ok := r.SignoffFor("sre"); !ok || s.User != "sam" || s.Approved {
		t.Errorf("SignoffFor(sre) = %+v, %t", s, ok)
	}
	if _, ok := r.SignoffFor("test"); ok {
		t.Error("SignoffFor(test): nobody signed test")
	}
	if s, ok := r.Rejected(); !ok || s.Role != "sre" {
		t.Errorf("Rejected = %+v, %t", s, ok)
	}
	if _, ok := gate(PhaseSignoff, Running, approved).Rejected(); ok {
		t.Error("Rejected without a rejection")
	}
}

// The recover log's JSON is in recorded histories and status answers: its
// keys and their order must not change.
func TestRecoverLogJSON(t *testing.T) {
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	got, err := json.Marshal(chaos.Recovered{FaultID: "gd-1-f0", Removed: true, At: at, Detail: "ok", RecoveryTime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"fault_id":"gd-1-f0","removed":true,"already_gone":false,"at":"2024-01-02T03:04:05Z","detail":"ok","recovery_time":1000000000}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
