//go:build !failpoints

package failpoint

import (
	"context"
	"testing"
)

// Without the tag every failpoint is inert, whatever the environment says.
func TestInertWithoutTag(t *testing.T) {
	t.Setenv("GAMEDAY_FAILPOINTS", "after-inject,inject-delay=1h")
	Hit("after-inject")
	if err := Sleep(context.Background(), "inject-delay"); err != nil {
		t.Fatal(err)
	}
}
