package chaos

import (
	"maps"
	"slices"
	"strings"
)

// Description is what a fault does, in words a person scanning the
// Temporal UI reads: "add latency 1.2s ±0s to inventory", "delete 2 of 4
// pods in shop app=order (mode fixed 2): order-a, order-b". Inject says what
// injecting it does, Recover what removing it does.
type Description struct {
	Inject  string
	Recover string
}

// MaxDescription bounds a description: the Temporal UI shows one line, and
// a list of fifty pod names helps nobody there (the run's targets have it).
const MaxDescription = 160

// Describe describes f with its back-end's Driver.Describe, or generically
// ("pod-kill on shop app=order", or the resolved target line) when the
// back-end has none. resolved are define's target lines for f (as Resolve
// returned them). Pure and deterministic: workflow code calls it for
// activity summaries.
func Describe(f Fault, resolved []string) Description {
	var d Description
	if drv, ok := Lookup(f.Backend); ok && drv.Describe != nil {
		d = drv.Describe(f, resolved)
	}
	where := TargetString(f.Target)
	if d.Inject == "" {
		d.Inject = f.Action + " on " + where
		if len(resolved) > 0 {
			d.Inject = f.Action + ": " + strings.Join(resolved, "; ")
		}
	}
	if d.Recover == "" {
		d.Recover = "undo " + f.Action + " on " + where
	}
	return Description{Inject: Clip(d.Inject, MaxDescription), Recover: Clip(d.Recover, MaxDescription)}
}

// TargetString renders a target as "namespace key=value,key=value" (keys
// sorted), or the selector alone when there is no namespace.
func TargetString(t Target) string {
	var sel []string
	for _, k := range slices.Sorted(maps.Keys(t.Selector)) {
		sel = append(sel, k+"="+t.Selector[k])
	}
	s := strings.Join(sel, ",")
	if t.Namespace != "" {
		s = strings.TrimSpace(t.Namespace + " " + s)
	}
	return s
}

// Clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
