package slackbot

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/signoff"
)

func TestSignoffButtonOpensModalWithRoleItems(t *testing.T) {
	h := newHarness(t)
	ic := buttonPress(dana, actionSignoffPrefix+"dev", "wf-1")
	if w := h.interact(ic); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ack %d %q", w.Code, w.Body)
	}
	waitFor(t, "views.open", func() bool { return len(h.slack.get("views.open")) == 1 })
	call := h.slack.get("views.open")[0]
	if call.JSON["trigger_id"] != ic.TriggerID {
		t.Fatalf("trigger_id %v, want %s", call.JSON["trigger_id"], ic.TriggerID)
	}
	view, _ := json.Marshal(call.JSON["view"])
	for _, want := range []string{"item:cb-fallback:verdict", "item:trace-coloring:evidence", "Circuit breaker falls back", "strong-blocking", `"callback_id":"gameday_signoff"`, "Sign off as dev"} {
		if !strings.Contains(string(view), want) {
			t.Errorf("modal lacks %q", want)
		}
	}
	if strings.Contains(string(view), "kafka-isr-stable") {
		t.Error("modal shows another role's item")
	}
	var meta modalMeta
	if err := json.Unmarshal([]byte(call.JSON["view"].(map[string]any)["private_metadata"].(string)), &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Run != "wf-1" || meta.Role != "dev" || meta.Channel != testChannel || !slices.Equal(meta.Items, []string{"cb-fallback", "trace-coloring"}) {
		t.Fatalf("metadata %+v", meta)
	}
}

func TestSignoffModalWithoutChecklist(t *testing.T) {
	h := newHarness(t)
	h.eng.cl = nil
	h.interact(buttonPress(sam, actionSignoffPrefix+"sre", "wf-1"))
	waitFor(t, "views.open", func() bool { return len(h.slack.get("views.open")) == 1 })
	view, _ := json.Marshal(h.slack.get("views.open")[0].JSON["view"])
	if strings.Contains(string(view), "item:") || !strings.Contains(string(view), `"block_id":"decision"`) || !strings.Contains(string(view), `"block_id":"reason"`) {
		t.Fatalf("modal without checklist: %s", view)
	}
}

func TestSignoffButtonWithoutRoleRefused(t *testing.T) {
	h := newHarness(t)
	h.interact(buttonPress(dana, actionSignoffPrefix+"sre", "wf-1"))
	waitFor(t, "the refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	e := h.slack.get("chat.postEphemeral")[0]
	if e.Form.Get("user") != dana || !strings.Contains(e.Form.Get("text"), "dana does not hold the sign-off role sre (holds: dev)") {
		t.Fatalf("refusal %v", e.Form)
	}
	if n := len(h.slack.get("views.open")); n != 0 {
		t.Fatalf("views.open called %d times", n)
	}
}

// modalSubmission builds a view_submission of the sign-off modal.
func modalSubmission(user string, meta modalMeta, values map[string]map[string]slack.BlockAction) slack.InteractionCallback {
	md, _ := json.Marshal(meta)
	ic := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: user, Name: "slack-" + user}}
	ic.View = slack.View{ID: "V0001", CallbackID: signoffCallback, PrivateMetadata: string(md), State: &slack.ViewState{Values: values}}
	return ic
}

func radio(v string) slack.BlockAction {
	return slack.BlockAction{Type: "radio_buttons", SelectedOption: slack.OptionBlockObject{Value: v}}
}

func text(v string) slack.BlockAction { return slack.BlockAction{Type: "plain_text_input", Value: v} }

func devSubmission(decision, reason string) slack.InteractionCallback {
	return modalSubmission(dana, modalMeta{Run: "wf-1", Role: "dev", Channel: testChannel, Items: []string{"cb-fallback", "trace-coloring"}},
		map[string]map[string]slack.BlockAction{
			"item:cb-fallback:verdict":     {"verdict": radio("pass")},
			"item:cb-fallback:evidence":    {"evidence": text("https://grafana.example/d/cb")},
			"item:trace-coloring:verdict":  {"verdict": radio("fail")},
			"item:trace-coloring:evidence": {"evidence": text("")},
			"decision":                     {"decision": radio(decision)},
			"reason":                       {"reason": text(reason)},
		})
}

func TestViewSubmissionSignsOff(t *testing.T) {
	h := newHarness(t)
	h.eng.pending = []string{"sre"}
	w := h.interact(devSubmission("approve", ""))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ack %d %q: want an empty 200 (closes the modal)", w.Code, w.Body)
	}
	got := h.eng.signoffCalls()
	if len(got) != 1 {
		t.Fatalf("%d sign-offs", len(got))
	}
	s := got[0]
	want := []ItemVerdict{{ID: "cb-fallback", Pass: true, Evidence: "https://grafana.example/d/cb"}, {ID: "trace-coloring", Pass: false}}
	if s.id != "wf-1" || s.role != "dev" || s.user != "dana" || s.reject || !slices.Equal(s.items, want) {
		t.Fatalf("sign-off %+v", s)
	}
	waitFor(t, "the confirmation", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if e := h.slack.get("chat.postEphemeral")[0]; e.Form.Get("user") != dana || !strings.Contains(e.Form.Get("text"), "Signed off as dev on `wf-1`. Still pending: sre.") {
		t.Fatalf("confirmation %v", e.Form)
	}
}

func TestViewSubmissionRejectWithReason(t *testing.T) {
	h := newHarness(t)
	h.interact(devSubmission("reject", "staging is shared with the load test today"))
	got := h.eng.signoffCalls()
	if len(got) != 1 || !got[0].reject || got[0].reason != "staging is shared with the load test today" {
		t.Fatalf("sign-offs %+v", got)
	}
}

// A validator rejection is shown in the modal, to its user only: nothing
// is posted to the channel.
func TestViewSubmissionRejectionShownOnlyToUser(t *testing.T) {
	h := newHarness(t)
	h.eng.signoffErr = errRefused
	w := h.interact(devSubmission("approve", ""))
	var resp slack.ViewSubmissionResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != http.StatusOK {
		t.Fatalf("ack %d %q: %v", w.Code, w.Body, err)
	}
	if resp.ResponseAction != slack.RAErrors || resp.Errors["decision"] != "Refused: role sre already signed by sam" {
		t.Fatalf("response %+v", resp)
	}
	if n := len(h.slack.get("chat.postMessage")) + len(h.slack.get("chat.postEphemeral")); n != 0 {
		t.Fatalf("%d messages posted for a refusal shown in the modal", n)
	}
}

func TestViewSubmissionLocalValidation(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name string
		ic   slack.InteractionCallback
		want map[string]string
	}{
		{"reject without reason", devSubmission("reject", " "), map[string]string{"reason": "A rejection needs a reason"}},
		{"missing verdict and bad link", func() slack.InteractionCallback {
			ic := devSubmission("approve", "")
			delete(ic.View.State.Values, "item:trace-coloring:verdict")
			ic.View.State.Values["item:cb-fallback:evidence"] = map[string]slack.BlockAction{"evidence": text("javascript:alert(1)")}
			return ic
		}(), map[string]string{"item:trace-coloring:verdict": "Choose pass or fail", "item:cb-fallback:evidence": "Evidence must be an http(s) link"}},
		{"user without the role", func() slack.InteractionCallback {
			ic := devSubmission("approve", "")
			ic.User.ID = sam
			return ic
		}(), map[string]string{"decision": "sam does not hold the sign-off role dev (holds: sre, test)"}},
		{"channel not allowed", func() slack.InteractionCallback {
			return modalSubmission(dana, modalMeta{Run: "wf-1", Role: "dev", Channel: otherChannel}, nil)
		}(), map[string]string{"decision": "Game days are not run from that channel."}},
	}
	for _, c := range cases {
		w := h.interact(c.ic)
		var resp slack.ViewSubmissionResponse
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s: %q: %v", c.name, w.Body, err)
		}
		if resp.ResponseAction != slack.RAErrors || len(resp.Errors) != len(c.want) {
			t.Errorf("%s: response %+v, want errors %v", c.name, resp, c.want)
		}
		for k, v := range c.want {
			if resp.Errors[k] != v {
				t.Errorf("%s: error on %s = %q, want %q", c.name, k, resp.Errors[k], v)
			}
		}
	}
	if n := len(h.eng.signoffCalls()); n != 0 {
		t.Fatalf("engine called %d times for invalid submissions", n)
	}
}

// When the engine is slower than the ack budget, the modal closes and the
// verdict arrives as an ephemeral message, still only for that user.
func TestViewSubmissionSlowEngineAnswersLater(t *testing.T) {
	h := newHarness(t)
	h.bot.ackBudget = time.Millisecond
	gate := make(chan struct{})
	h.eng.signoffGate = gate
	h.eng.signoffErr = errRefused
	if w := h.interact(devSubmission("approve", "")); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ack %d %q", w.Code, w.Body)
	}
	close(gate)
	waitFor(t, "the late verdict", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	e := h.slack.get("chat.postEphemeral")[0]
	if e.Form.Get("user") != dana || e.Form.Get("channel") != testChannel || !strings.Contains(e.Form.Get("text"), "refused: role sre already signed by sam") {
		t.Fatalf("late verdict %v", e.Form)
	}
}

func TestAbortButton(t *testing.T) {
	h := newHarness(t)
	if w := h.interact(buttonPress(dana, actionAbort, "wf-1")); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("ack %d %q", w.Code, w.Body)
	}
	waitFor(t, "engine.Abort", func() bool { return len(h.eng.abortCalls()) == 1 })
	if a := h.eng.abortCalls()[0]; a != (abortCall{"wf-1", "aborted from Slack by dana", "dana"}) {
		t.Fatalf("abort %+v", a)
	}

	// Refused by the workflow: only the presser hears about it.
	h.eng.set(func(f *fakeEngine) { f.abortErr = errors.New("already aborted: aborted from Slack by dana") })
	h.interact(buttonPress(dana, actionAbort, "wf-1"))
	waitFor(t, "the refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if e := h.slack.get("chat.postEphemeral")[0]; e.Form.Get("user") != dana || !strings.Contains(e.Form.Get("text"), "Abort of `wf-1` refused: already aborted") {
		t.Fatalf("refusal %v", e.Form)
	}

	// No abort permission: refused before the engine is asked.
	h.interact(buttonPress(sam, actionAbort, "wf-1"))
	waitFor(t, "the permission refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 2 })
	if e := h.slack.get("chat.postEphemeral")[1]; e.Form.Get("user") != sam || !strings.Contains(e.Form.Get("text"), "sam may not abort runs") {
		t.Fatalf("refusal %v", e.Form)
	}
	if n := len(h.eng.abortCalls()); n != 2 {
		t.Fatalf("%d engine aborts, want 2", n)
	}
	if n := len(h.slack.get("chat.postMessage")); n != 0 {
		t.Fatalf("%d channel messages", n)
	}
}

// A sign-off button press in the run message refreshes it at once.
func TestSignoffNudgesWatcher(t *testing.T) {
	h := newHarness(t)
	h.bot.poll = time.Hour // only a nudge can cause a poll
	h.eng.script = breachScript()[1:3]
	if err := h.bot.Watch(t.Context(), testChannel, "wf-1"); err != nil {
		t.Fatal(err)
	}
	h.eng.advance()
	h.interact(devSubmission("approve", ""))
	waitFor(t, "the update after the sign-off", func() bool { return len(h.slack.get("chat.update")) == 1 })
	if got := h.slack.get("chat.update")[0].buttons(t); !slices.Equal(got, []string{actionSignoffPrefix + "sre", actionAbort}) {
		t.Fatalf("buttons after dev signed: %v", got)
	}
}

// The approvers see what they approve (targets, and every value changed from
// the scenario as written), and a presser the worker's role map does not
// name for the role is told before the form opens: the button and the
// workflow's validator read the same holders.
func TestSignoffModalShowsOverridesAndFollowsWorkerRoles(t *testing.T) {
	h := newHarness(t)
	h.eng.script = []experiment.Result{{
		Scenario: "demo-inventory-timeout", Outcome: experiment.Running, Phase: experiment.PhaseSignoff,
		RequiredRoles: []string{"dev", "sre"},
		Signers:       []signoff.Holders{{Role: "dev", Users: []string{"dana"}}, {Role: "sre", Users: []string{"tess"}}},
		Overrides:     []experiment.Override{{Key: "duration", Value: "1h", Was: "30s"}},
		Targets:       []string{"inventory-timeout: toxiproxy proxy inventory"},
	}}
	h.interact(buttonPress(dana, actionSignoffPrefix+"dev", "wf-1"))
	waitFor(t, "views.open", func() bool { return len(h.slack.get("views.open")) == 1 })
	view, _ := json.Marshal(h.slack.get("views.open")[0].JSON["view"])
	for _, want := range []string{"Changed from the scenario", "duration=1h (scenario: 30s)", "toxiproxy proxy inventory"} {
		if !strings.Contains(string(view), want) {
			t.Errorf("modal lacks %q: %s", want, view)
		}
	}
	// sam holds sre in the access file, but the worker gives it to tess.
	h.interact(buttonPress(sam, actionSignoffPrefix+"sre", "wf-1"))
	waitFor(t, "the refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if txt := h.slack.get("chat.postEphemeral")[0].Form.Get("text"); !strings.Contains(txt, "user sam may not sign for sre: not in the worker's role map for this run (tess may)") {
		t.Fatalf("refusal %q", txt)
	}
	if n := len(h.slack.get("views.open")); n != 1 {
		t.Fatalf("views.open called %d times, want 1", n)
	}
	// The run message says who may sign what is pending, and what changed.
	_, blocks := render(h.eng.script[0])
	b, _ := json.Marshal(blocks)
	for _, want := range []string{"dev :hourglass: pending (dana may sign)", "sre :hourglass: pending (tess may sign)", "duration=1h (scenario: 30s)"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("run message lacks %q", want)
		}
	}
}

// The button follows the validator's distinct-signers rule, and waits for
// define to say who may sign.
func TestSignoffButtonDistinctAndDefine(t *testing.T) {
	h := newHarness(t)
	h.eng.script = []experiment.Result{{
		Scenario: "demo-inventory-timeout", Outcome: experiment.Running, Phase: experiment.PhaseSignoff,
		RequiredRoles: []string{"test", "sre"}, DistinctSigners: true,
		Signers:  []signoff.Holders{{Role: "test", Users: []string{"sam", "tess"}}, {Role: "sre", Users: []string{"sam"}}},
		Signoffs: []experiment.Signoff{{Role: "sre", User: "sam", Approved: true}},
	}}
	h.interact(buttonPress(sam, actionSignoffPrefix+"test", "wf-1"))
	waitFor(t, "the refusal", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if txt := h.slack.get("chat.postEphemeral")[0].Form.Get("text"); !strings.Contains(txt, "user sam already signed as sre: distinct users must sign distinct roles") {
		t.Fatalf("refusal %q", txt)
	}
	h.eng.mu.Lock()
	h.eng.script = []experiment.Result{{Scenario: "demo-inventory-timeout", Outcome: experiment.Running, Phase: experiment.PhaseDefine, RequiredRoles: []string{"dev"}}}
	h.eng.mu.Unlock()
	h.interact(buttonPress(dana, actionSignoffPrefix+"dev", "wf-1"))
	waitFor(t, "the wait", func() bool { return len(h.slack.get("chat.postEphemeral")) == 2 })
	if txt := h.slack.get("chat.postEphemeral")[1].Form.Get("text"); !strings.Contains(txt, "Sign-off opens once define has resolved who may sign") {
		t.Fatalf("answer %q", txt)
	}
	if n := len(h.slack.get("views.open")); n != 0 {
		t.Fatalf("views.open called %d times", n)
	}
}
