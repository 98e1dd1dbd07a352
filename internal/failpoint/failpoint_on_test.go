//go:build failpoints

package failpoint

import (
	"context"
	"testing"
	"time"
)

func TestDelayParsing(t *testing.T) {
	for _, tc := range []struct {
		spec, name string
		want       time.Duration
		ok         bool
	}{
		{"inject-delay=2s,recover-delay=150ms", "recover-delay", 150 * time.Millisecond, true},
		{" inject-delay = 2s ", "inject-delay", 2 * time.Second, true},
		{"inject-delay", "inject-delay", 0, false}, // a crash point, not a delay
		{"after-inject,inject-delay=1s", "after-inject", 0, false},
		{"inject-delay=soon", "inject-delay", 0, false},
		{"", "inject-delay", 0, false},
	} {
		got, ok := delay(tc.spec, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("delay(%q, %q) = %v, %v; want %v, %v", tc.spec, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestSleepHonoursContext(t *testing.T) {
	t.Setenv(Env, "slow=1h,quick=10ms")
	if err := Sleep(context.Background(), "quick"); err != nil {
		t.Fatal(err)
	}
	if err := Sleep(context.Background(), "absent"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, "slow"); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestHitIgnoresDelays(t *testing.T) {
	t.Setenv(Env, "inject-delay=1s")
	Hit("inject-delay") // must not exit: a name with a duration is a delay
}
