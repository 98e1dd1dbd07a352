// Command gen writes deploy/grafana/gameday.json from the generator
// (go generate ./deploy/grafana, make dashboard).
package main

import (
	"fmt"
	"os"

	"github.com/gameday/gameday/deploy/grafana"
)

func main() {
	b, err := grafana.JSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana dashboard:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(grafana.File, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%d bytes)\n", grafana.File, len(b))
}
