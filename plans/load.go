// Package plans reads game-day plan files (apiVersion gameday/v1, kind
// GameDay): the strict loader, its rules, the resolution of every step to
// the scenario it runs (catalog name or file, overrides applied), and the
// embedded catalog. The plan itself is package gameday, which needs no YAML.
package plans

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/checklists"
	"github.com/gameday/gameday/experiment"
	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/internal/yamlx"
	"github.com/gameday/gameday/lease"
	"github.com/gameday/gameday/scenarios"
	"github.com/gameday/gameday/signoff"
)

var schema = yamlx.Schema{APIVersion: gameday.APIVersion, Kind: gameday.Kind}

// Stage is one entry of spec.steps, resolved: one experiment, or the
// members of a parallel group (started together, awaited together).
type Stage struct {
	Name  string     `json:"name"`
	Group bool       `json:"group,omitempty"`
	Steps []Resolved `json:"steps"`
}

// Resolved is one step with the scenario it runs, overrides applied.
type Resolved struct {
	Name string `json:"name"`
	// Source is the scenario as the plan names it (catalog name or file).
	Source    string                `json:"source"`
	Scenario  scenarios.Scenario    `json:"scenario"`
	Overrides []experiment.Override `json:"overrides,omitempty"`
	OnFailure string                `json:"on_failure"`
}

// Load reads and parses a plan file; its steps' scenario files are found
// relative to it. See Parse.
func Load(file string) (gameday.Plan, error) { return fileLoader(filepath.Dir(file)).Load(file) }

// Parse strictly decodes and validates one plan, with step files relative
// to dir ("" refuses step files: catalog plans name catalog scenarios
// only, since the binary carries no files beside them). Any error is a
// yamlx.Errors value whose entries name file, line and field.
func Parse(file, dir string, data []byte) (gameday.Plan, error) {
	return fileLoader(dir).Parse(file, data)
}

// Validate applies defaults to a plan that did not come from a file and
// checks it by the same rules as Parse (step files relative to dir).
func Validate(p *gameday.Plan, dir string) error { return fileLoader(dir).Validate(p) }

// Resolve turns a valid plan's steps into the stages a game day runs:
// every step's scenario found (catalog name, or file relative to dir) and
// its overrides applied. Errors are the loader's.
func Resolve(p gameday.Plan, dir string) ([]Stage, error) {
	var c yamlx.Collector
	// Resolving fills defaults in the steps: on a copy, never the caller's.
	p.Spec.Steps = cloneSteps(p.Spec.Steps)
	stages := (&checker{c: &c, dir: dir}).steps(&p)
	return stages, c.Err()
}

func fileLoader(dir string) yamlx.Loader[gameday.Plan] {
	l := loader
	l.Check = func(c *yamlx.Collector, p *gameday.Plan) { (&checker{c: c, dir: dir}).plan(p) }
	return l
}

// checker collects every problem of one plan; dir is where step files are
// ("" for catalog plans: none allowed).
type checker struct {
	c   *yamlx.Collector
	dir string
	// The scenario catalog, read once per plan.
	catalog map[string]scenarios.Scenario
	names   []string
	broken  error
}

func (k *checker) plan(p *gameday.Plan) {
	c := k.c
	c.Header(schema, p.APIVersion, p.Kind, p.Metadata.Name)
	sp := &p.Spec
	switch {
	case sp.Environment == "":
		c.Add("spec.environment", "required (the environment the game day runs in, e.g. staging)")
	case !yamlx.IsDNSLabel(sp.Environment):
		c.Add("spec.environment", "must be lowercase letters, digits and '-', got %q", sp.Environment)
	}
	k.people(&sp.People)
	scenarios.CheckGuards(c, "spec.preflight", sp.Preflight)
	switch {
	case sp.PauseBetween < 0:
		c.Add("spec.pause_between", "must be >= 0, got %s", sp.PauseBetween)
	case sp.PauseBetween.D() > gameday.MaxPauseBetween:
		c.Add("spec.pause_between", "at most %s, got %s", gameday.MaxPauseBetween, sp.PauseBetween)
	}
	if sp.OnFailure == "" {
		sp.OnFailure = gameday.OnFailureStop
	}
	k.onFailure("spec.on_failure", sp.OnFailure)
	k.steps(p)
}

func (k *checker) onFailure(path, v string) {
	if v != gameday.OnFailureStop && v != gameday.OnFailureContinue {
		k.c.Add(path, "must be %s or %s, got %q", gameday.OnFailureStop, gameday.OnFailureContinue, v)
	}
}

func (k *checker) people(pp *gameday.People) {
	c := k.c
	if strings.TrimSpace(pp.Owner) == "" {
		c.Add("spec.people.owner", "required (who decides go and stop on the day)")
	}
	seen := map[string]bool{}
	for i, o := range pp.Observers {
		switch {
		case strings.TrimSpace(o) == "":
			c.Add(fmt.Sprintf("spec.people.observers[%d]", i), "empty name")
		case seen[o]:
			c.Add(fmt.Sprintf("spec.people.observers[%d]", i), "%s is listed twice", o)
		}
		seen[o] = true
	}
	for _, role := range slices.Sorted(maps.Keys(pp.Signoff)) {
		p := "spec.people.signoff." + role
		if !slices.Contains(signoff.Roles, role) {
			c.Add(p, "unknown sign-off role %q (valid: %s)", role, strings.Join(signoff.Roles, ", "))
			continue
		}
		if len(pp.Signoff[role]) == 0 {
			c.Add(p, "names nobody")
		}
		for i, u := range pp.Signoff[role] {
			if strings.TrimSpace(u) == "" {
				c.Add(fmt.Sprintf("%s[%d]", p, i), "empty name")
			}
		}
	}
}

// steps checks spec.steps and resolves them. It is also Resolve: one code
// path decides what a step runs, for the loader and for the starter.
func (k *checker) steps(p *gameday.Plan) []Stage {
	c := k.c
	sp := &p.Spec
	if sp.OnFailure == "" {
		sp.OnFailure = gameday.OnFailureStop
	}
	if len(sp.Steps) == 0 {
		c.Add("spec.steps", "at least one step is required")
		return nil
	}
	if n := p.Experiments(); n > gameday.MaxSteps {
		c.Add("spec.steps", "%d experiments: at most %d in one plan (split it into several game days)", n, gameday.MaxSteps)
	}
	names := map[string]string{} // name -> path of its step
	claim := func(path, name string) {
		if prev, dup := names[name]; dup {
			c.Add(path, "duplicate step name %q (also %s): name the steps so each has its own", name, prev)
			return
		}
		names[name] = path
	}
	var stages []Stage
	for i := range sp.Steps {
		s := &sp.Steps[i]
		path := fmt.Sprintf("spec.steps[%d]", i)
		if s.OnFailure != "" {
			k.onFailure(path+".on_failure", s.OnFailure)
		}
		if !s.IsGroup() {
			r, ok := k.step(p, path, s, sp.OnFailure)
			if s.Name != "" {
				claim(path+".name", s.Name)
			}
			if ok {
				stages = append(stages, Stage{Name: r.Name, Steps: []Resolved{r}})
			}
			continue
		}
		if s.Scenario != "" || len(s.Set) > 0 {
			c.Add(path+".parallel", "a step is either one scenario or a parallel group, not both (move scenario and set into a member)")
		}
		switch {
		case s.Name == "":
			s.Name = fmt.Sprintf("group-%d", i+1)
		case !yamlx.IsDNSLabel(s.Name):
			c.Add(path+".name", "must be a DNS label (lowercase letters, digits and '-'), got %q", s.Name)
		}
		claim(path+".name", s.Name)
		switch n := len(s.Parallel); {
		case n == 0:
			c.Add(path+".parallel", "empty parallel group: list the steps to run together")
			continue
		case n > gameday.MaxParallel:
			c.Add(path+".parallel", "%d steps: at most %d run at once", n, gameday.MaxParallel)
		}
		policy := sp.OnFailure
		if s.OnFailure != "" {
			policy = s.OnFailure
		}
		st := Stage{Name: s.Name, Group: true}
		for j := range s.Parallel {
			m := &s.Parallel[j]
			mp := fmt.Sprintf("%s.parallel[%d]", path, j)
			if m.IsGroup() {
				c.Add(mp+".parallel", "parallel groups cannot be nested")
				continue
			}
			if m.OnFailure != "" {
				k.onFailure(mp+".on_failure", m.OnFailure)
			}
			r, ok := k.step(p, mp, m, policy)
			if m.Name != "" {
				claim(mp+".name", m.Name)
			}
			if ok {
				st.Steps = append(st.Steps, r)
			}
		}
		k.overlaps(path, st.Steps)
		stages = append(stages, st)
	}
	return stages
}

// step resolves one experiment step; ok is false when it cannot run.
func (k *checker) step(p *gameday.Plan, path string, s *gameday.Step, policy string) (Resolved, bool) {
	c := k.c
	if s.OnFailure != "" {
		policy = s.OnFailure
	}
	if s.Name != "" && !yamlx.IsDNSLabel(s.Name) {
		c.Add(path+".name", "must be a DNS label (lowercase letters, digits and '-'), got %q", s.Name)
	}
	if strings.TrimSpace(s.Scenario) == "" {
		c.Add(path+".scenario", "required: a catalog scenario name or a scenario file")
		return Resolved{}, false
	}
	sc, ok := k.scenario(path+".scenario", s.Scenario)
	if !ok {
		return Resolved{}, false
	}
	if s.Name == "" {
		// The scenario's name is a DNS label already.
		s.Name = sc.Metadata.Name
	}
	if env := sc.Metadata.Labels[scenarios.EnvironmentLabel]; env != "" && env != p.Spec.Environment {
		c.Add(path+".scenario", "scenario %s is for environment %s, the plan for %s", sc.Metadata.Name, env, p.Spec.Environment)
	}
	ov := scenarios.DescribeOverrides(sc, s.Set)
	bad := false
	for _, key := range slices.Sorted(maps.Keys(s.Set)) {
		one := scenarios.Clone(sc)
		if err := scenarios.ApplyOverrides(&one, map[string]string{key: s.Set[key]}); err != nil {
			c.Add(path+".set."+key, "%v", err)
			bad = true
		}
	}
	if bad {
		return Resolved{}, false
	}
	if err := scenarios.ApplyOverrides(&sc, s.Set); err != nil {
		c.Add(path+".set", "%v", err)
		return Resolved{}, false
	}
	var nobody []string
	for _, role := range gateRoles(sc) {
		if len(p.Spec.People.Signoff[role]) == 0 {
			nobody = append(nobody, role)
		}
	}
	if len(nobody) > 0 {
		c.Add(path+".scenario", "scenario %s waits for sign-off by %s: name who signs in spec.people.signoff (%s)", sc.Metadata.Name, strings.Join(nobody, ", "), strings.Join(nobody, ", "))
	}
	return Resolved{Name: s.Name, Source: s.Scenario, Scenario: sc, Overrides: ov, OnFailure: policy}, true
}

// gateRoles are the roles a scenario's sign-off gate will wait for: its
// own, or (none set) the roles with items to sign in its catalog
// checklist (evidence-verified items are nobody's), as the starter
// resolves them.
func gateRoles(sc scenarios.Scenario) []string {
	if len(sc.Spec.Signoff.Roles) > 0 || sc.Spec.Checklist == "" || IsFile(sc.Spec.Checklist) {
		return sc.Spec.Signoff.Roles
	}
	cl, err := checklists.Find(sc.Spec.Checklist)
	if err != nil {
		return nil // the scenario loader reports it
	}
	return checklist.SigningRoles(cl)
}

// scenarioCatalog parses the embedded scenario catalog once per process:
// it cannot change, and every plan names scenarios from it (values are
// cloned before anything writes to them).
var scenarioCatalog = sync.OnceValues(scenarios.Catalog)

// IsFile says whether a step names a scenario file rather than a catalog
// scenario: a path with a '/' or a name ending in .yaml or .yml. Unlike
// the CLI, a plan never looks at the disk to decide: what a step runs must
// not depend on the directory the plan was started from.
func IsFile(ref string) bool {
	return strings.Contains(ref, "/") || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml")
}

func (k *checker) scenario(path, ref string) (scenarios.Scenario, bool) {
	if IsFile(ref) {
		if k.dir == "" {
			k.c.Add(path, "catalog plans name catalog scenarios only, not files (%s)", ref)
			return scenarios.Scenario{}, false
		}
		file := ref
		if !filepath.IsAbs(file) {
			file = filepath.Join(k.dir, ref)
		}
		sc, err := scenarios.Load(file)
		if err != nil {
			k.c.Add(path, "%v", err)
			return sc, false
		}
		return sc, true
	}
	if k.catalog == nil {
		all, err := scenarioCatalog()
		k.catalog, k.broken = map[string]scenarios.Scenario{}, err
		for _, sc := range all {
			k.catalog[sc.Metadata.Name] = sc
			k.names = append(k.names, sc.Metadata.Name)
		}
	}
	if sc, ok := k.catalog[ref]; ok {
		return scenarios.Clone(sc), true
	}
	if k.broken != nil {
		// Maybe the entry is the broken one: say why, not "unknown".
		if _, err := scenarios.Find(ref); err != nil && !strings.Contains(err.Error(), "not in the catalog") {
			k.c.Add(path, "%v", err)
			return scenarios.Scenario{}, false
		}
	}
	if near := yamlx.Suggest(ref, k.names); len(near) > 0 {
		k.c.Add(path, "unknown scenario %q: did you mean %s? (`gameday scenarios list` shows the catalog; a file needs a '/' or .yaml)", ref, strings.Join(near, ", "))
	} else {
		k.c.Add(path, "unknown scenario %q: not in the catalog (%s); a file needs a '/' or .yaml", ref, strings.Join(k.names, ", "))
	}
	return scenarios.Scenario{}, false
}

// overlaps refuses a parallel group whose members act on overlapping
// targets: the second would be refused its target lease in define while
// the first holds it, unless both scenarios allow overlapping.
func (k *checker) overlaps(path string, steps []Resolved) {
	type held struct {
		step   Resolved
		leases []lease.Lease
	}
	var seen []held
	for _, r := range steps {
		ls := lease.ForFaults(lease.Holder{WorkflowID: r.Name}, r.Scenario.ChaosFaults(r.Name), nil, r.Scenario.AllowsOverlap())
		for _, h := range seen {
			if h.step.Scenario.AllowsOverlap() && r.Scenario.AllowsOverlap() {
				continue
			}
			for _, a := range h.leases {
				for _, b := range ls {
					if ok, what := lease.Overlap(a, b); ok {
						k.c.Add(path+".parallel", "steps %s and %s act on the same target (%s): run them one after the other, or set spec.overlap: allow on both scenarios", h.step.Name, r.Name, strings.Join(what, "; "))
					}
				}
			}
		}
		seen = append(seen, held{r, ls})
	}
}

func cloneSteps(ss []gameday.Step) []gameday.Step {
	if ss == nil {
		return nil
	}
	out := make([]gameday.Step, len(ss))
	for i, s := range ss {
		s.Set = maps.Clone(s.Set)
		s.Parallel = cloneSteps(s.Parallel)
		out[i] = s
	}
	return out
}
