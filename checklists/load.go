// Package checklists reads release checklist files (apiVersion gameday/v1,
// kind Checklist): the strict loader, its rules and defaults, and the
// embedded catalog. The checklist itself (types, gate, weight rule) is
// package checklist, which needs no YAML.
package checklists

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/signoff"
	"github.com/gameday/gameday/sli"
)

var schema = yamlx.Schema{APIVersion: checklist.APIVersion, Kind: checklist.Kind}

// Load reads and parses a checklist file; see Parse.
func Load(path string) (checklist.Checklist, error) { return loader.Load(path) }

// Parse strictly decodes and validates one checklist and returns it with
// defaults applied. It is as strict as the scenario loader because the
// checklist gates releases: a misspelt "strong_bloking" would quietly turn
// a release blocker into a nice-to-have. Any error is an Errors value whose
// entries name file, line and field, sorted by line.
func Parse(file string, data []byte) (checklist.Checklist, error) { return loader.Parse(file, data) }

// Validate applies defaults to a checklist that did not come from a file
// (e.g. one carried in workflow input) and checks it by the same rules as
// Parse; the errors then have no line.
func Validate(cl *checklist.Checklist) error { return loader.Validate(cl) }

func check(v *yamlx.Collector, cl *checklist.Checklist) {
	v.Header(schema, cl.APIVersion, cl.Kind, cl.Metadata.Name)
	// Zero means "not set": a gate that needs 0% would pass anything, so
	// nobody means it.
	switch t := cl.Spec.Threshold; {
	case t == 0:
		cl.Spec.Threshold = checklist.DefaultThreshold
	case math.IsNaN(t) || t < 0 || t > 100:
		v.Add("spec.threshold", "must be a percentage in (0, 100], got %v", t)
	}
	if len(cl.Spec.Items) == 0 {
		v.Add("spec.items", "at least one item is required")
		return
	}
	seen := map[string]int{}
	for i := range cl.Spec.Items {
		item(v, fmt.Sprintf("spec.items[%d]", i), &cl.Spec.Items[i], i, seen)
	}
}

func item(v *yamlx.Collector, p string, it *checklist.Item, i int, seen map[string]int) {
	// Ids key the learned weights and the signatures, so they must be
	// unique and survive URLs and workflow ids unchanged.
	switch j, dup := seen[it.ID]; {
	case it.ID == "":
		v.Add(p+".id", "required")
	case !yamlx.IsDNSLabel(it.ID):
		v.Add(p+".id", "must be lowercase letters, digits and '-' (at most 63 characters), got %q", it.ID)
	case dup:
		v.Add(p+".id", "duplicate item id %q (also spec.items[%d])", it.ID, j)
	default:
		seen[it.ID] = i
	}
	// Signers need to know what to check, how, and what counts as a pass.
	for _, f := range []struct{ name, value string }{
		{"title", it.Title}, {"verification", it.Verification}, {"criterion", it.Criterion},
	} {
		if strings.TrimSpace(f.value) == "" {
			v.Add(p+"."+f.name, "required")
		}
	}
	switch {
	case it.Owner == "":
		v.Add(p+".owner", "required (one of %s)", strings.Join(signoff.Roles, ", "))
	case !slices.Contains(signoff.Roles, it.Owner):
		v.Add(p+".owner", "unknown owner %q (one of %s)", it.Owner, strings.Join(signoff.Roles, ", "))
	}
	// Weights are percentage points; the total need not be 100 because the
	// score is normalised by it. NaN would poison every score.
	switch w := it.Weight; {
	case w == 0:
		v.Add(p+".weight", "required (percentage points in (0, 100])")
	case math.IsNaN(w) || w < 0 || w > 100:
		v.Add(p+".weight", "must be in (0, 100] percentage points, got %v", w)
	}
	// The class is matched verbatim against a scenario's, so case and
	// spacing variants would silently never match.
	if it.FaultClass != "" && !yamlx.IsDNSLabel(it.FaultClass) {
		v.Add(p+".fault_class", "must be a lowercase token of letters, digits and '-' such as network-delay, got %q", it.FaultClass)
	}
	names := map[string]int{}
	for j := range it.VerifiedBy {
		evidence(v, fmt.Sprintf("%s.verified_by[%d]", p, j), &it.VerifiedBy[j], j, names)
	}
}

// evidence validates one check and applies its defaults. A check
// decides a release on its own, with nobody signing it, so everything that
// would make it judge something else than what the author meant is
// refused: an op or threshold next to a guard (the guard's apply), a
// missing threshold (0 is a real one, so it is never assumed), an unknown
// window or reduction.
func evidence(v *yamlx.Collector, p string, c *checklist.Check, j int, names map[string]int) {
	switch {
	case c.Guard != "" && c.Query != "":
		v.Add(p+".query", "give guard (a guard of the scenario) or query, not both")
	case c.Guard != "":
		if c.Op != "" {
			v.Add(p+".op", "comes from guard %s: leave it out", c.Guard)
		}
		if c.Threshold != nil {
			v.Add(p+".threshold", "comes from guard %s: leave it out", c.Guard)
		}
		if c.OnNoData != "" {
			v.Add(p+".on_no_data", "comes from guard %s (its on_no_data): leave it out", c.Guard)
		}
		if c.Name == "" {
			c.Name = c.Guard
		}
	case strings.TrimSpace(c.Query) == "":
		v.Add(p+".query", "required: a PromQL query, or guard: NAME (a guard of the scenario)")
	default:
		if c.Name == "" {
			v.Add(p+".name", "required for a query check (it names the value in the results)")
		}
		if !slices.Contains(sli.Ops, c.Op) {
			v.Add(p+".op", "must be one of %s, got %q", sli.OpList(), c.Op)
		}
		switch t := c.Threshold; {
		case t == nil:
			v.Add(p+".threshold", "required (a finite number)")
		case math.IsNaN(*t) || math.IsInf(*t, 0):
			v.Add(p+".threshold", "must be a finite number, got %v", *t)
		}
		if c.OnNoData == "" {
			c.OnNoData = checklist.NoDataFail
		} else if !slices.Contains(checklist.NoData, c.OnNoData) {
			v.Add(p+".on_no_data", "must be %s, got %q (a window with no sample at all fails either way)", strings.Join(checklist.NoData, " or "), c.OnNoData)
		}
	}
	switch k, dup := names[c.Name]; {
	case c.Name == "":
	case !yamlx.IsDNSLabel(c.Name):
		v.Add(p+".name", "must be lowercase letters, digits and '-', got %q", c.Name)
	case dup:
		v.Add(p+".name", "duplicate check name %q in this item (also verified_by[%d])", c.Name, k)
	default:
		names[c.Name] = j
	}
	if c.Window == "" {
		c.Window = checklist.WindowObserve
	} else if !slices.Contains(checklist.Windows, c.Window) {
		v.Add(p+".window", "must be %s, got %q", strings.Join(checklist.Windows, " or "), c.Window)
	}
	if c.Within < 0 {
		v.Add(p+".within", "must be a positive duration such as 3s, got %s", c.Within)
	}
	if c.Reduce == "" {
		c.Reduce = checklist.ReduceWorst
	} else if !slices.Contains(checklist.Reductions, c.Reduce) {
		v.Add(p+".reduce", "must be one of %s, got %q", strings.Join(checklist.Reductions, ", "), c.Reduce)
	}
}
