//go:build failpoints

package failpoint

import (
	"fmt"
	"os"
	"strings"
)

// Env names the failpoints to trigger, comma-separated; each makes the
// process exit with status 86 when reached, like a SIGKILLed pod.
const Env = "GAMEDAY_FAILPOINTS"

// Hit exits the process when name is listed in GAMEDAY_FAILPOINTS.
func Hit(name string) {
	for _, n := range strings.Split(os.Getenv(Env), ",") {
		if strings.TrimSpace(n) == name {
			fmt.Fprintf(os.Stderr, "failpoint %s: exiting\n", name)
			os.Exit(86)
		}
	}
}
