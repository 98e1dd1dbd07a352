//go:build failpoints

package failpoint

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Env names the failpoints to trigger, comma-separated. A bare name is a
// crash point for Hit; name=DURATION (a time.ParseDuration string, e.g.
// "inject-delay=2s") is a delay for Sleep. Example:
//
//	GAMEDAY_FAILPOINTS="after-inject,recover-delay=2s"
const Env = "GAMEDAY_FAILPOINTS"

// Hit exits the process with status 86, like a SIGKILLed pod, when name is
// listed (without a duration) in GAMEDAY_FAILPOINTS.
func Hit(name string) {
	for _, n := range strings.Split(os.Getenv(Env), ",") {
		if strings.TrimSpace(n) == name {
			fmt.Fprintf(os.Stderr, "failpoint %s: exiting\n", name)
			os.Exit(86)
		}
	}
}

// Sleep waits for the duration configured as name=DURATION in
// GAMEDAY_FAILPOINTS, or until ctx ends (then it returns ctx.Err()). It
// returns nil at once when name is not configured with a duration. Tests use
// it to make a step long enough for an external kill to land inside it.
func Sleep(ctx context.Context, name string) error {
	d, ok := delay(os.Getenv(Env), name)
	if !ok || d <= 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "failpoint %s: sleeping %s\n", name, d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// delay finds name=DURATION in a GAMEDAY_FAILPOINTS value. A malformed
// duration is reported on stderr and ignored: a typo must not turn a test's
// delay into a silent zero without a trace.
func delay(spec, name string) (time.Duration, bool) {
	for _, n := range strings.Split(spec, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(n), "=")
		if !found || strings.TrimSpace(k) != name {
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			fmt.Fprintf(os.Stderr, "failpoint %s: bad duration %q: %v (ignored)\n", name, v, err)
			return 0, false
		}
		return d, true
	}
	return 0, false
}
