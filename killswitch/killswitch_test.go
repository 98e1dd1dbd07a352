package killswitch

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreezeAndUnfreeze(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var s State
	assert.Empty(t, s.Refusal())
	assert.Empty(t, s.Banner())
	assert.EqualError(t, s.Check(Request{On: true, By: "sam"}), "a freeze or unfreeze needs a reason")
	assert.EqualError(t, s.Check(Request{On: true, Reason: "incident"}), "a freeze or unfreeze needs the name of who asks")
	assert.EqualError(t, s.Check(Request{On: false, By: "sam", Reason: "done"}), "not frozen: nothing to unfreeze")

	on := Request{On: true, By: "sam", Reason: "payment incident INC-7"}
	require.NoError(t, s.Check(on))
	s = s.Apply(on, t0)
	assert.True(t, s.Frozen)
	assert.Equal(t, "frozen by sam at 2026-12-07T00:00:00Z: payment incident INC-7", s.Refusal(), "times in UTC, whatever the clock's zone")
	assert.Contains(t, s.Banner(), "FROZEN: new runs are refused (frozen by sam")
	assert.EqualError(t, s.Check(Request{On: true, By: "dana", Reason: "again"}), "already frozen by sam at 2026-12-07T00:00:00Z: payment incident INC-7",
		"a second freeze would hide who froze first")

	off := Request{On: false, By: "dana", Reason: "INC-7 resolved"}
	require.NoError(t, s.Check(off))
	s = s.Apply(off, t0.Add(time.Hour))
	assert.False(t, s.Frozen)
	assert.Empty(t, s.By)
	assert.Equal(t, []Change{
		{On: true, By: "sam", Reason: "payment incident INC-7", At: t0},
		{On: false, By: "dana", Reason: "INC-7 resolved", At: t0.Add(time.Hour)},
	}, s.History)

	for i := range 2 * HistoryLen {
		s = s.Apply(Request{On: i%2 == 0, By: "x", Reason: fmt.Sprint(i)}, t0)
	}
	assert.Len(t, s.History, HistoryLen, "bounded")
	assert.Equal(t, fmt.Sprint(2*HistoryLen-1), s.History[HistoryLen-1].Reason, "newest last")
}

func TestSkipped(t *testing.T) {
	until := time.Date(2027, 11, 12, 4, 0, 0, 0, time.UTC)
	frozen := State{Frozen: true, By: "sam", Reason: "x", Since: until}.Refusal()
	for err, want := range map[string]bool{
		"define: " + frozen:                                             true,
		"define: " + BlackoutRefusal("sale", until):                     true,
		"re-check after sign-off: " + frozen + "; nothing was injected": true,
		"define: refused: target toxiproxy proxy=inventory is leased":   false,
		"verify: " + frozen:                                             false,
		"":                                                              false,
	} {
		assert.Equal(t, want, Skipped(err), err)
	}
	assert.Equal(t, "blackout window sale until 2027-11-12T04:00:00Z", BlackoutRefusal("sale", until))
	assert.Equal(t, "blackout window sale opened (until 2027-11-12T04:00:00Z)", BlackoutAbortReason("sale", until))
	assert.True(t, BlackedOut("aborted by blackout window sale: "+BlackoutAbortReason("sale", until)))
	assert.True(t, BlackedOut(BlackoutAbortReason("sale", until)))
	assert.False(t, BlackedOut("aborted by sam: the blackout window sale opened early, so I stopped it"))
	a, r := Counts([]Aborted{{WorkflowID: "a"}, {WorkflowID: "b", Refused: "recovering"}, {WorkflowID: "c"}})
	assert.Equal(t, 2, a)
	assert.Equal(t, 1, r)
}
