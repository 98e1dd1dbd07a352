package slackbot

import (
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/scenarios"
)

func TestRunCommandStartsWithParamsAndPostsMessage(t *testing.T) {
	h := newHarness(t)
	rep := h.command(dana, testChannel, "run demo-inventory-latency duration=30s inventory-latency.latency=200ms")
	if !strings.Contains(rep.Text, "Starting `demo-inventory-latency` with duration=30s inventory-latency.latency=200ms") {
		t.Fatalf("ack: %q", rep.Text)
	}
	waitFor(t, "engine.Start", func() bool { return len(h.eng.startReqs()) == 1 })
	got := h.eng.startReqs()[0]
	want := StartRequest{Params: map[string]string{"duration": "30s", "inventory-latency.latency": "200ms"}, By: "dana", ByID: dana, Channel: testChannel}
	if got.Scenario.Metadata.Name != "demo-inventory-latency" || got.DryRun || got.By != want.By || got.ByID != want.ByID || got.Channel != want.Channel || !maps.Equal(got.Params, want.Params) {
		t.Fatalf("start request %+v, want %+v", got, want)
	}
	waitFor(t, "the run message", func() bool { return len(h.slack.runMessages()) == 1 })
	if ch := h.slack.runMessages()[0].Form.Get("channel"); ch != testChannel {
		t.Fatalf("run message in %s, want %s", ch, testChannel)
	}
}

// Overrides only for the keys the access file gives the user: the catalog
// scenario is what its approvers reviewed, and a duration=1000h from anyone
// with a run glob would change it.
func TestRunOverridesLimitedPerUser(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct{ user, cmd, want string }{
		{dana, "run demo-inventory-latency toxicity=0.1", "dana may not override toxicity (allowed: duration, latency, *.latency"},
		{dana, "run demo-inventory-latency duration=1h inventory-latency.jitter=1ms", "dana may not override inventory-latency.jitter"},
		{sam, "run demo-inventory-latency duration=1h", "sam may not override duration (allowed: none"},
	} {
		rep := h.command(c.user, testChannel, c.cmd)
		if !strings.Contains(rep.Text, c.want) {
			t.Errorf("%s: ack %q, want %q", c.cmd, rep.Text, c.want)
		}
	}
	if n := len(h.eng.startReqs()); n != 0 {
		t.Fatalf("%d runs started with refused overrides", n)
	}
	// No override at all needs no grant.
	h.command(sam, testChannel, "run demo-inventory-latency")
	waitFor(t, "engine.Start", func() bool { return len(h.eng.startReqs()) == 1 })
}

func TestDryRunCommand(t *testing.T) {
	h := newHarness(t)
	rep := h.command(sam, testChannel, "dry-run db-failover")
	if !strings.Contains(rep.Text, "Dry-running `db-failover`") {
		t.Fatalf("ack: %q", rep.Text)
	}
	waitFor(t, "engine.Start", func() bool { return len(h.eng.startReqs()) == 1 })
	if r := h.eng.startReqs()[0]; !r.DryRun || r.By != "sam" || len(r.Params) != 0 {
		t.Fatalf("start request %+v", r)
	}
}

// The acknowledgement must not wait for engine.Start: Slack gives up after
// 3 seconds and a Temporal start can take longer.
func TestRunAckDoesNotWaitForStart(t *testing.T) {
	h := newHarness(t)
	gate := make(chan struct{})
	h.eng.startGate = gate
	rep := h.command(dana, testChannel, "run demo-inventory-latency")
	if !strings.Contains(rep.Text, "Starting") {
		t.Fatalf("ack: %q", rep.Text)
	}
	if n := len(h.slack.runMessages()); n != 0 {
		t.Fatalf("%d run messages before Start returned", n)
	}
	close(gate)
	waitFor(t, "the run message after Start", func() bool { return len(h.slack.runMessages()) == 1 })
}

func TestRunStartFailureToldToUserOnly(t *testing.T) {
	h := newHarness(t)
	h.eng.startErr = errors.New(`override latency=abc: invalid duration`)
	h.command(dana, testChannel, "run demo-inventory-latency latency=abc")
	waitFor(t, "the ephemeral error", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	e := h.slack.get("chat.postEphemeral")[0]
	if e.Form.Get("user") != dana || e.Form.Get("channel") != testChannel || !strings.Contains(e.Form.Get("text"), "invalid duration") {
		t.Fatalf("ephemeral %v", e.Form)
	}
	if n := len(h.slack.runMessages()); n != 0 {
		t.Fatalf("%d channel messages for a failed start", n)
	}
}

func TestUnknownScenarioSuggestsClosestNames(t *testing.T) {
	h := newHarness(t)
	rep := h.command(dana, testChannel, "run demo-inventroy-latency")
	if !strings.Contains(rep.Text, "No scenario `demo-inventroy-latency`") ||
		!strings.Contains(rep.Text, "Did you mean `demo-inventory-latency`") {
		t.Fatalf("reply: %q", rep.Text)
	}
	rep = h.command(dana, testChannel, "run demo-inventory")
	if !strings.Contains(rep.Text, "`demo-inventory-latency`") || !strings.Contains(rep.Text, "`demo-inventory-timeout`") {
		t.Fatalf("prefix reply: %q", rep.Text)
	}
	rep = h.command(dana, testChannel, "run zzzzzzzzzzzzzz")
	if strings.Contains(rep.Text, "Did you mean") || !strings.Contains(rep.Text, "/gameday list") {
		t.Fatalf("no-match reply: %q", rep.Text)
	}
	if n := len(h.eng.startReqs()); n != 0 {
		t.Fatalf("Start called %d times", n)
	}
}

func TestRefusalsAreEphemeralWithReason(t *testing.T) {
	h := newHarness(t)
	cases := []struct{ user, channel, text, want string }{
		{stranger, testChannel, "run demo-inventory-latency", "not in the game-day access file"},
		{stranger, testChannel, "status wf-1", "not in the game-day access file"},
		{stranger, testChannel, "list", "not in the game-day access file"},
		{vic, testChannel, "run demo-inventory-latency", "vic may not run scenarios"},
		{dana, testChannel, "run db-failover", "dana may not run db-failover (allowed: demo-*)"},
		{dana, testChannel, "dry-run demo-prod-failover", "dana may not run in environment production (allowed: staging)"},
		{dana, otherChannel, "run demo-inventory-latency", "Game days are run from <#C0GAMEDAY> only"},
		{sam, testChannel, "abort wf-1 because", "sam may not abort runs"},
		{dana, testChannel, "run demo-inventory-latency oops", "`oops` is not key=value"},
		{dana, testChannel, "run demo-inventory-latency a=1 a=2", "`a` is given twice"},
		{dana, testChannel, "run", "Which scenario?"},
	}
	for _, c := range cases {
		rep := h.command(c.user, c.channel, c.text)
		if !strings.Contains(rep.Text, c.want) {
			t.Errorf("%s %q in %s: reply %q, want %q", c.user, c.text, c.channel, rep.Text, c.want)
		}
	}
	if n, a := len(h.eng.startReqs()), len(h.eng.abortCalls()); n+a != 0 {
		t.Fatalf("engine called despite refusals: %d starts, %d aborts", n, a)
	}
	if n := len(h.slack.get("chat.postMessage")); n != 0 {
		t.Fatalf("refusals posted %d channel messages", n)
	}
}

func TestAbortCommand(t *testing.T) {
	h := newHarness(t)
	rep := h.command(dana, testChannel, "abort gameday-demo-1   pager went off,  rolling back")
	if !strings.Contains(rep.Text, "Abort of `gameday-demo-1` requested") {
		t.Fatalf("reply %q", rep.Text)
	}
	got := h.eng.abortCalls()
	if len(got) != 1 || got[0] != (abortCall{"gameday-demo-1", "pager went off,  rolling back", "dana"}) {
		t.Fatalf("aborts %+v", got)
	}
	if rep := h.command(dana, testChannel, "abort gameday-demo-1"); !strings.Contains(rep.Text, "needs the run and a reason") {
		t.Fatalf("no reason: %q", rep.Text)
	}
	h.eng.set(func(f *fakeEngine) {
		f.abortErr = errors.New("run is already past observe (phase verify): nothing left to abort")
	})
	if rep := h.command(dana, testChannel, "abort gameday-demo-1 too late"); !strings.Contains(rep.Text, "refused: run is already past observe") {
		t.Fatalf("refusal: %q", rep.Text)
	}
}

func TestStatusCommand(t *testing.T) {
	h := newHarness(t)
	h.eng.script = []experiment.Result{{
		Scenario: "demo-inventory-timeout", Outcome: experiment.Running, Phase: experiment.PhaseSignoff,
		RequiredRoles: []string{"dev", "sre"}, Signoffs: []experiment.Signoff{{Role: "dev", User: "dana", Approved: true}},
		UIURL: "http://127.0.0.1:8233/x",
	}}
	rep := h.command(vic, testChannel, "status gameday-demo-7")
	for _, want := range []string{"Game day demo-inventory-timeout: signoff", "`gameday-demo-7`", "waiting for sign-off: sre", "<http://127.0.0.1:8233/x|Temporal UI>"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("status reply %q lacks %q", rep.Text, want)
		}
	}
	if rep := h.command(vic, testChannel, "status"); !strings.Contains(rep.Text, "No runs are being followed") {
		t.Fatalf("status without runs: %q", rep.Text)
	}
	if err := h.bot.Watch(t.Context(), testChannel, "gameday-demo-7"); err != nil {
		t.Fatal(err)
	}
	if rep := h.command(vic, testChannel, "status"); !strings.Contains(rep.Text, "`gameday-demo-7` Game day demo-inventory-timeout: signoff") {
		t.Fatalf("status of followed runs: %q", rep.Text)
	}
	h.eng.set(func(f *fakeEngine) { f.statusErr = errors.New("workflow not found") })
	if rep := h.command(vic, testChannel, "status nope"); !strings.Contains(rep.Text, "No status for `nope`: workflow not found") {
		t.Fatalf("status error: %q", rep.Text)
	}
}

func TestListHelpAndUnknown(t *testing.T) {
	h := newHarness(t)
	rep := h.command(dana, testChannel, "list")
	for _, want := range []string{":arrow_forward: `demo-inventory-latency` — order-service — demo-inventory-latency description", ":white_small_square: `db-failover`", ":white_small_square: `demo-prod-failover`", "(sign-off: dev, sre)"} {
		if !strings.Contains(rep.Text, want) {
			t.Errorf("list %q lacks %q", rep.Text, want)
		}
	}
	if strings.Contains(rep.Text, "second line") {
		t.Errorf("list shows more than the first description line: %q", rep.Text)
	}
	for _, text := range []string{"help", "", "HELP"} {
		if rep := h.command(stranger, testChannel, text); !strings.Contains(rep.Text, "`/gameday run &lt;scenario&gt; [key=value ...]`") {
			t.Errorf("help for %q: %q", text, rep.Text)
		}
	}
	if rep := h.command(dana, testChannel, "launch x"); !strings.Contains(rep.Text, "Unknown subcommand `launch`") {
		t.Errorf("unknown: %q", rep.Text)
	}
}

// A slow engine answer is not lost: the ack says "working on it" and the
// answer follows as an ephemeral message.
func TestSlowStatusAnswersLater(t *testing.T) {
	h := newHarness(t)
	h.bot.ackBudget = time.Millisecond
	h.eng.script = []experiment.Result{{Scenario: "demo-inventory-latency", Outcome: experiment.Running, Phase: experiment.PhaseObserve}}
	h.eng.mu.Lock() // hold the engine so Status cannot answer within the budget
	rep := h.command(dana, testChannel, "status gameday-demo-9")
	h.eng.mu.Unlock()
	if !strings.Contains(rep.Text, "Looking up `gameday-demo-9`") {
		t.Fatalf("ack %q", rep.Text)
	}
	waitFor(t, "the late answer", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })
	if e := h.slack.get("chat.postEphemeral")[0]; e.Form.Get("user") != dana || !strings.Contains(e.Form.Get("text"), "observe") {
		t.Fatalf("late answer %v", e.Form)
	}
}

// A captured `/gameday run` replayed in several spellings, to this bot and
// to a second replica (its own, empty replay cache), starts one run: the
// run's workflow id is derived from the request, the engine (Temporal)
// refuses a second start under it, and the replica that got the replay
// answers with a link to the run already started.
func TestReplayOnAnotherReplicaStartsOneRun(t *testing.T) {
	h := newHarness(t)
	replica := New(testConfig(t), h.eng, h.slack.api(), nil)
	replica.poll = 5 * time.Millisecond
	t.Cleanup(replica.Close)

	body, now := commandBody(dana, testChannel, "run demo-inventory-latency"), time.Now()
	send := func(b *Bot, spell func(*http.Request) *http.Request) int {
		w := httptest.NewRecorder()
		b.ServeHTTP(w, spell(signedRequest("/slack/commands", body, testSecret, now)))
		return w.Code
	}
	same := func(r *http.Request) *http.Request { return r }
	if code := send(h.bot, same); code != http.StatusOK {
		t.Fatalf("the first delivery: status %d", code)
	}
	waitFor(t, "the run", func() bool { return len(h.eng.startedRuns()) == 1 })
	if code := send(h.bot, upperSignature); code != http.StatusUnauthorized {
		t.Errorf("upper-case replay to the same bot: status %d, want 401", code)
	}
	if code := send(replica, upperSignature); code != http.StatusOK {
		t.Fatalf("the replica has not seen the request: status %d", code)
	}
	for _, spell := range []func(*http.Request) *http.Request{same, upperSignature, mixedSignature} {
		if code := send(replica, spell); code != http.StatusUnauthorized {
			t.Errorf("replay to the replica: status %d, want 401", code)
		}
	}
	waitFor(t, "the answer to the replay", func() bool { return len(h.slack.get("chat.postEphemeral")) == 1 })

	runs, reqs := h.eng.startedRuns(), h.eng.startReqs()
	if len(runs) != 1 || len(reqs) != 2 {
		t.Fatalf("%d runs from %d start requests, want 1 run from 2", len(runs), len(reqs))
	}
	id := runs[0]
	if !strings.HasPrefix(id, "gameday-demo-inventory-latency-slack-") || reqs[0].WorkflowID != id || reqs[1].WorkflowID != id {
		t.Fatalf("workflow ids %q and %q, run %q: want one id derived from the request", reqs[0].WorkflowID, reqs[1].WorkflowID, id)
	}
	e := h.slack.get("chat.postEphemeral")[0]
	want := "`demo-inventory-latency` already started: <http://ui.test/namespaces/default/workflows/" + id + "/run-1/history|" + id + ">"
	if e.Form.Get("user") != dana || !strings.Contains(e.Form.Get("text"), want) {
		t.Fatalf("answer to the replay %v, want %q", e.Form, want)
	}
	waitFor(t, "the run message", func() bool { return len(h.slack.runMessages()) == 1 })

	// Another invocation of the same command is another request: its own run.
	if rep := h.command(dana, testChannel, "run demo-inventory-latency"); !strings.Contains(rep.Text, "Starting") {
		t.Fatalf("ack %q", rep.Text)
	}
	waitFor(t, "the second run", func() bool { return len(h.eng.startedRuns()) == 2 })
	if runs := h.eng.startedRuns(); runs[1] == id {
		t.Fatalf("a new request got the first one's id %s", id)
	}
	// The replica's startRun ended with its answer: no message of its own
	// can come later.
	waitFor(t, "the second run's message", func() bool { return len(h.slack.runMessages()) >= 2 })
	if n := len(h.slack.runMessages()); n != 2 {
		t.Fatalf("%d run messages for 2 runs", n)
	}
}

// The engine is handed the very scenario the access check passed, not a
// name to look up again.
func TestRunStartsTheScenarioItAuthorized(t *testing.T) {
	h := newHarness(t)
	var checked scenarios.Scenario
	h.eng.set(func(f *fakeEngine) {
		f.scs[0].Metadata.Labels = map[string]string{"checked": "yes"}
		checked = f.scs[0]
	})
	h.command(dana, testChannel, "dry-run "+checked.Metadata.Name)
	waitFor(t, "engine.Start", func() bool { return len(h.eng.startReqs()) == 1 })
	if got := h.eng.startReqs()[0].Scenario; !reflect.DeepEqual(got, checked) {
		t.Fatalf("started %+v, want the catalog entry checked %+v", got, checked)
	}
}
