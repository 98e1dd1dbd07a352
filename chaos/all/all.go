// Package all registers every fault back-end's driver, so scenario
// validation knows all back-ends: import it for side effects wherever
// scenarios are loaded (the binary, tests of the catalog).
package all

import (
	_ "github.com/gameday/gameday/chaos/chaosmesh"  // chaos-mesh
	_ "github.com/gameday/gameday/chaos/kubernetes" // kubernetes
	_ "github.com/gameday/gameday/chaos/toxiproxy"  // toxiproxy
)
