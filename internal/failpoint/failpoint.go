//go:build !failpoints

// Package failpoint lets integration tests crash a worker at an exact point
// (for example right after a fault was created but before the activity
// reported it), which no external signal can hit reliably, or stretch a
// step so that an external kill can land inside it. Failpoints exist only in
// binaries built with `-tags failpoints` (the integration tests build the
// CLI that way); in every other build Hit and Sleep are empty functions.
package failpoint

import "context"

// Hit does nothing in normal builds.
func Hit(name string) {}

// Sleep does nothing in normal builds and returns nil.
func Sleep(ctx context.Context, name string) error { return nil }
