package chaos

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/errkind"
)

func TestFaultIDIsDeterministicAndDNSSafe(t *testing.T) {
	a := FaultID("gameday-demo-20261125-1", 0)
	assert.Equal(t, a, FaultID("gameday-demo-20261125-1", 0), "same workflow and step, same id: retries find their fault")
	assert.NotEqual(t, a, FaultID("gameday-demo-20261125-1", 1))
	assert.NotEqual(t, a, FaultID("gameday-demo-20261125-2", 0))
	assert.Regexp(t, regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`), a)
	assert.LessOrEqual(t, len(FaultID("x", 999)), 63)
	// Pinned: the id is part of released histories and back-end object names.
	assert.Equal(t, "gd-"+shortHash("wf")+"-f2", FaultID("wf", 2))
	assert.Equal(t, "5007b56d1d90", shortHash("wf"))
}

// A resumed run re-injects under fresh ids: distinct per cycle, the same
// on every retry, still DNS-1123 labels without a '.' (toxic names are
// "<id>.<deadline>").
func TestResumedFaultIDIsFreshPerCycle(t *testing.T) {
	first := FaultID("wf/run", 3)
	assert.Equal(t, first, ResumedFaultID(first, 0), "cycle 0 is the run's first injection")
	r1, r2 := ResumedFaultID(first, 1), ResumedFaultID(first, 2)
	assert.Equal(t, first+"-r1", r1)
	assert.NotEqual(t, r1, r2)
	assert.Equal(t, r1, ResumedFaultID(first, 1))
	dns := regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	for _, id := range []string{r1, r2, ResumedFaultID(FaultID("x", 999), 9999)} {
		assert.Regexp(t, dns, id)
		assert.NotContains(t, id, ".")
		assert.LessOrEqual(t, len(id), 63)
	}
}

type params struct {
	Latency  Dur      `json:"latency"`
	Toxicity *float64 `json:"toxicity"`
	Stream   string   `json:"stream"`
}

func TestDecodeParams(t *testing.T) {
	var p params
	require.NoError(t, DecodeParams(map[string]any{"latency": "150ms", "toxicity": 0.5, "stream": "upstream"}, &p))
	assert.Equal(t, Dur(150*time.Millisecond), p.Latency)
	assert.Equal(t, 0.5, *p.Toxicity)

	// Ints survive as float64 after a trip through JSON history: both decode.
	require.NoError(t, DecodeParams(map[string]any{"toxicity": 1}, &p))

	var fe *errkind.FieldError
	err := DecodeParams(map[string]any{"latncy": "1s"}, &p)
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "latncy", fe.Field)
	assert.Contains(t, fe.Msg, "known: latency, stream, toxicity")

	err = DecodeParams(map[string]any{"latency": "soon"}, &p)
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "latency", fe.Field)

	err = DecodeParams(map[string]any{"stream": 3}, &p)
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "stream", fe.Field)
	assert.Contains(t, fe.Msg, "want string")
}
