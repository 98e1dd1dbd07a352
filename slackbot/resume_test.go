package slackbot

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// logRecord returns the first JSON log record with msg, or nil.
func logRecord(logs *syncBuffer, msg string) map[string]any {
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

const resumedMsg = "slack: resumed runs in progress"

// waitResumed waits for Resume's summary log line and returns it.
func waitResumed(t *testing.T, logs *syncBuffer) map[string]any {
	t.Helper()
	var rec map[string]any
	waitFor(t, "the resume summary", func() bool { rec = logRecord(logs, resumedMsg); return rec != nil })
	return rec
}

func followedIDs(b *Bot, channel string) []string {
	var ids []string
	for _, r := range b.followed(channel) {
		ids = append(ids, r.WorkflowID)
	}
	slices.Sort(ids)
	return ids
}

// A restarted bot follows again, by itself, every run the engine lists as
// started from Slack and still running, in the channel recorded on it: the
// message its predecessor posted is updated (not posted again), a run
// whose message is gone gets a fresh one, and a run from a channel the
// allow-list does not admit is left alone.
func TestResumeWatchesRunsStartedFromSlack(t *testing.T) {
	h := newHarness(t)
	h.eng.script = breachScript()
	h.eng.step = 1 // waiting at the gate
	if err := h.bot.Watch(t.Context(), testChannel, "wf-a"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first thread details", func() bool { return len(h.slack.thread()) == 2 })
	msgA := h.slack.runMessages()[0]
	h.bot.Close() // the bot goes away; the run goes on
	h.eng.advance()
	h.eng.set(func(f *fakeEngine) {
		f.runs = []SlackRun{
			{WorkflowID: "wf-a", Channel: testChannel},
			{WorkflowID: "wf-elsewhere", Channel: otherChannel}, // not in SLACK_CHANNELS
			{WorkflowID: "wf-c", Channel: testChannel},          // its message is gone
		}
	})

	logs := &syncBuffer{}
	bot2 := New(testConfig(t), h.eng, h.slack.api(), slog.New(slog.NewJSONHandler(logs, nil)))
	bot2.poll = 5 * time.Millisecond
	t.Cleanup(bot2.Close)
	bot2.Resume(t.Context())

	rec := waitResumed(t, logs)
	if rec["resumed"] != 2.0 || rec["listed"] != 3.0 || rec["skipped"] != 1.0 || rec["failed"] != 0.0 {
		t.Fatalf("resume summary %v, want 2 resumed of 3 listed, 1 skipped", rec)
	}
	if got := followedIDs(bot2, testChannel); !slices.Equal(got, []string{"wf-a", "wf-c"}) {
		t.Fatalf("followed %v, want wf-a and wf-c", got)
	}
	if got := followedIDs(bot2, otherChannel); len(got) != 0 {
		t.Fatalf("followed %v in a channel not allowed", got)
	}
	msgs := h.slack.runMessages()
	if len(msgs) != 2 {
		t.Fatalf("%d run messages, want the original of wf-a and a fresh one for wf-c", len(msgs))
	}
	for _, m := range msgs {
		if ch := m.Form.Get("channel"); ch != testChannel {
			t.Fatalf("run message posted in %s", ch)
		}
	}
	if md := msgs[1].Form.Get("metadata"); !strings.Contains(md, `"workflow_id":"wf-c"`) {
		t.Fatalf("the fresh message is not wf-c's: %s", md)
	}
	ups := h.slack.get("chat.update")
	if len(ups) == 0 || ups[0].Form.Get("ts") != msgA.TS {
		t.Fatalf("wf-a's message %s was not updated: %v", msgA.TS, ups)
	}
	checkMsg(t, "resumed", ups[0], []string{actionSignoffPrefix + "sre", actionAbort}, "dev :white_check_mark: dana")

	// It keeps following: the next change reaches wf-a's message.
	h.eng.advance()
	waitFor(t, "the inject update of wf-a", func() bool {
		return slices.ContainsFunc(h.slack.get("chat.update"), func(c apiCall) bool {
			return c.Form.Get("ts") == msgA.TS && strings.Contains(c.Form.Get("blocks"), "*inject* running")
		})
	})
	if n := len(h.slack.runMessages()); n != 2 {
		t.Fatalf("%d run messages after more polls, want 2", n)
	}
}

// A listing that fails is logged, not fatal: the runs listed before the
// failure are resumed and the bot goes on answering.
func TestResumeSurvivesListingError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		runs    []SlackRun
		resumed float64
	}{
		{"nothing listed", nil, 0},
		{"partial listing", []SlackRun{{WorkflowID: "wf-first-page", Channel: testChannel}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.eng.script = breachScript()[3:4]
			h.eng.runs, h.eng.runsErr = tc.runs, errors.New("visibility unavailable")
			h.bot.Resume(t.Context())
			rec := waitResumed(t, h.logs)
			if rec["resumed"] != tc.resumed {
				t.Fatalf("resume summary %v, want %v resumed", rec, tc.resumed)
			}
			if !strings.Contains(h.logs.String(), "visibility unavailable") {
				t.Fatalf("the listing error is not logged:\n%s", h.logs)
			}
			if n := len(followedIDs(h.bot, testChannel)); n != int(tc.resumed) {
				t.Fatalf("%d runs followed, want %v", n, tc.resumed)
			}
			// The bot still works.
			if rep := h.command(dana, testChannel, "run demo-inventory-latency"); !strings.Contains(rep.Text, "Starting") {
				t.Fatalf("run after a failed resume: %q", rep.Text)
			}
			waitFor(t, "the new run's message", func() bool { return len(h.slack.runMessages()) == int(tc.resumed)+1 })
		})
	}
}

// An engine that cannot list runs: Resume says so and does nothing else.
func TestResumeWithoutRunLister(t *testing.T) {
	h := newHarness(t)
	logs := &syncBuffer{}
	bot := New(testConfig(t), struct{ Engine }{h.eng}, h.slack.api(), slog.New(slog.NewJSONHandler(logs, nil)))
	t.Cleanup(bot.Close)
	bot.Resume(t.Context())
	waitFor(t, "the log line", func() bool { return strings.Contains(logs.String(), "cannot list runs") })
	bot.Close()
	if n := len(h.slack.runMessages()); n != 0 {
		t.Fatalf("%d run messages", n)
	}
}

// Resume after Close starts nothing.
func TestResumeAfterClose(t *testing.T) {
	h := newHarness(t)
	h.eng.runs = []SlackRun{{WorkflowID: "wf-late", Channel: testChannel}}
	h.bot.Close()
	h.bot.Resume(t.Context())
	h.eng.mu.Lock()
	calls := h.eng.listCalls
	h.eng.mu.Unlock()
	if calls != 0 || len(h.slack.runMessages()) != 0 {
		t.Fatalf("a closed bot listed runs (%d) or posted", calls)
	}
}
