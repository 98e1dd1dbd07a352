package errkind

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPermanent(t *testing.T) {
	assert.Nil(t, Permanent(nil))
	base := errors.New("forbidden")
	err := fmt.Errorf("inject: %w", Permanent(base))
	assert.True(t, IsPermanent(err))
	assert.ErrorIs(t, err, base)
	assert.False(t, IsPermanent(base))
}
