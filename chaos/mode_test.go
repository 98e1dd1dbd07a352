package chaos

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gameday/gameday/internal/errkind"
)

func TestModeCount(t *testing.T) {
	for _, c := range []struct {
		mode, value string
		matched     int
		want        int
	}{
		{"", "", 5, 1},
		{"one", "", 5, 1},
		{"all", "", 5, 5},
		{"fixed", "2", 5, 2},
		{"fixed", "9", 3, 3},
		{"fixed-percent", "50", 5, 3}, // rounds up, like Chaos Mesh
		{"fixed-percent", "50", 4, 2},
		{"fixed-percent", "10", 3, 1}, // never zero: a run that hits nothing teaches nothing
		{"fixed-percent", "5", 40, 2},
		{"random-max-percent", "100", 4, 4},
		{"random-max-percent", "50%", 4, 2},
		{"random-max-percent", "50", 3, 2},
		{"all", "", 0, 0},
	} {
		got, err := ModeCount(c.mode, c.value, c.matched)
		require.NoError(t, err, "%+v", c)
		assert.Equal(t, c.want, got, "%+v", c)
	}
}

func TestValidateModeErrors(t *testing.T) {
	for _, c := range []struct{ mode, value, field, msg string }{
		{"some", "", "mode", "unknown mode \"some\""},
		{"fixed", "", "value", "count >= 1"},
		{"fixed", "0", "value", "count >= 1"},
		{"fixed-percent", "150", "value", "percentage"},
		{"random-max-percent", "x", "value", "percentage"},
		{"all", "3", "value", "takes no value"},
	} {
		err := ValidateMode(c.mode, c.value)
		var fe *errkind.FieldError
		require.ErrorAs(t, err, &fe, "%+v", c)
		assert.Equal(t, c.field, fe.Field)
		assert.Contains(t, fe.Msg, c.msg)
	}
}
