package slackbot

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/killswitch"
)

// switchEngine is the fake engine with a kill switch.
type switchEngine struct {
	*fakeEngine
	mu      sync.Mutex
	st      killswitch.State
	aborted []string // reason / by
	// abortErr is AbortAll's error, with the runs (it stopped waiting).
	abortErr error
}

func (s *switchEngine) AbortAll(_ context.Context, reason, by string) ([]killswitch.Aborted, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = append(s.aborted, reason+" / "+by)
	return []killswitch.Aborted{
		{WorkflowID: "gameday-a", Type: "Experiment", Phase: experiment.PhaseObserve},
		{WorkflowID: "gameday-b", Type: "Experiment", Refused: "run is already past observe (phase recover): nothing left to abort"},
	}, s.abortErr
}

func (s *switchEngine) Freeze(_ context.Context, on bool, reason, by string) (killswitch.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req := killswitch.Request{On: on, Reason: reason, By: by}
	if err := s.st.Check(req); err != nil {
		return s.st, err
	}
	s.st = s.st.Apply(req, time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC))
	return s.st, nil
}

func (s *switchEngine) KillSwitch(context.Context) (killswitch.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st, nil
}

func newSwitchHarness(t *testing.T) (*harness, *switchEngine) {
	h := newHarness(t)
	se := &switchEngine{fakeEngine: h.eng}
	h.bot.eng = se
	return h, se
}

func (f *fakeSlack) announcements() []string {
	var out []string
	for _, c := range f.get("chat.postMessage") {
		if c.Form.Get("thread_ts") == "" && c.Form.Get("blocks") == "" {
			out = append(out, c.Form.Get("text"))
		}
	}
	return out
}

func TestAbortAllFromSlack(t *testing.T) {
	h, se := newSwitchHarness(t)
	if rep := h.command(dana, testChannel, "abort all pager"); !strings.Contains(rep.Text, "dana may not abort every run or freeze new runs (kill_switch: true is not set") {
		t.Fatalf("abort: true is not the kill switch: %q", rep.Text)
	}
	if rep := h.command(kim, testChannel, "abort all"); !strings.Contains(rep.Text, "needs a reason") {
		t.Fatalf("no reason: %q", rep.Text)
	}
	rep := h.command(kim, testChannel, "abort ALL  pager went off,  now")
	if rep.ResponseType != "ephemeral" || !strings.Contains(rep.Text, "1 aborted, 1 refused") ||
		!strings.Contains(rep.Text, "`gameday-a` aborted during observe") || !strings.Contains(rep.Text, "`gameday-b` refused: run is already past observe") {
		t.Fatalf("reply %+v", rep)
	}
	if got := se.aborted; len(got) != 1 || got[0] != "pager went off,  now / kim" {
		t.Fatalf("aborts %q", got)
	}
	if len(h.eng.abortCalls()) != 0 {
		t.Fatal("abort all is not an abort of a run named all")
	}
	ann := h.slack.announcements()
	if len(ann) != 1 || !strings.Contains(ann[0], "*kim aborted every running run*: pager went off,  now (1 aborted, 1 refused)") {
		t.Fatalf("channel announcement %q", ann)
	}
}

// An abort-all that stopped waiting for some answers still says what it
// aborted, to its user and the channel: those aborts stand.
func TestAbortAllFromSlackThatStoppedWaiting(t *testing.T) {
	h, se := newSwitchHarness(t)
	se.abortErr = context.DeadlineExceeded
	rep := h.command(kim, testChannel, "abort all pager")
	if !strings.Contains(rep.Text, "1 aborted, 1 refused* (stopped waiting for the rest: context deadline exceeded") ||
		!strings.Contains(rep.Text, "`gameday-a` aborted during observe") {
		t.Fatalf("reply %+v", rep)
	}
	if ann := h.slack.announcements(); len(ann) != 1 || !strings.Contains(ann[0], "*kim aborted every running run*: pager (1 aborted, 1 refused)") {
		t.Fatalf("channel announcement %q", ann)
	}
}

func TestFreezeFromSlackShowsOnRunMessages(t *testing.T) {
	h, _ := newSwitchHarness(t)
	h.eng.script = []experiment.Result{{Scenario: "demo-inventory-latency", Outcome: experiment.Running, Phase: experiment.PhaseObserve}}
	if err := h.bot.Watch(t.Context(), testChannel, "gameday-demo-1"); err != nil {
		t.Fatal(err)
	}
	if rep := h.command(sam, testChannel, "freeze on incident"); !strings.Contains(rep.Text, "sam may not abort every run or freeze") {
		t.Fatalf("sam has no kill switch: %q", rep.Text)
	}
	if rep := h.command(kim, testChannel, "freeze sideways x"); !strings.Contains(rep.Text, "freeze on &lt;reason...&gt;") {
		t.Fatalf("usage: %q", rep.Text)
	}
	rep := h.command(kim, testChannel, "freeze on payment incident INC-7")
	if !strings.Contains(rep.Text, "Frozen: frozen by kim at 2026-12-07T08:00:00Z: payment incident INC-7") {
		t.Fatalf("reply %q", rep.Text)
	}
	if rep := h.command(kim, testChannel, "freeze on again"); !strings.Contains(rep.Text, "refused: already frozen by kim") {
		t.Fatalf("second freeze: %q", rep.Text)
	}
	if rep := h.command(vic, testChannel, "freeze"); !strings.Contains(rep.Text, ":snowflake: *Frozen*: new runs are refused (frozen by kim") {
		t.Fatalf("status for anyone: %q", rep.Text)
	}
	// The run message gets the line at once.
	frozenShown := func(want bool) bool {
		ups := h.slack.get("chat.update")
		if len(ups) == 0 {
			return !want
		}
		return strings.Contains(ups[len(ups)-1].Form.Get("blocks"), "Frozen") == want
	}
	waitFor(t, "the run message to show the freeze", func() bool { return frozenShown(true) })
	h.command(kim, testChannel, "freeze off INC-7 resolved")
	waitFor(t, "the run message to drop the line", func() bool { return frozenShown(false) })
	ann := h.slack.announcements()
	if len(ann) != 2 || !strings.Contains(ann[0], ":snowflake: *Frozen by kim*: payment incident INC-7") || !strings.Contains(ann[1], ":sunny: *Unfrozen by kim*: INC-7 resolved") {
		t.Fatalf("announcements %q", ann)
	}
}

func TestKillSwitchNeedsAnEngineThatHasIt(t *testing.T) {
	h := newHarness(t)
	for _, text := range []string{"abort all x", "freeze on x", "freeze"} {
		if rep := h.command(kim, testChannel, text); !strings.Contains(rep.Text, "cannot reach the kill switch") {
			t.Errorf("%s: %q", text, rep.Text)
		}
	}
}
