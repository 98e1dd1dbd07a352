//go:build !failpoints

// Package failpoint lets integration tests crash a worker at an exact point
// (for example right after a fault was created but before the activity
// reported it), which no external signal can hit reliably. Failpoints exist
// only in binaries built with `-tags failpoints` (the integration tests
// build the CLI that way); in every other build Hit is an empty function.
package failpoint

// Hit does nothing in normal builds.
func Hit(name string) {}
