package scenarios

import (
	"embed"

	"github.com/gameday/gameday/internal/yamlx"
)

// The catalog ships inside the binary so the demo and the CLI work from any
// directory, with scenarios that are known to validate.
//
//go:embed *.yaml
var catalogFS embed.FS

// loader is the strict scenario loader and its embedded catalog.
var loader = yamlx.Loader[Scenario]{
	Schema:  schema,
	Check:   func(c *yamlx.Collector, s *Scenario) { (&validator{c}).scenario(s) },
	Catalog: catalogFS,
	Dir:     "scenarios",
	Noun:    "scenario",
	Name:    func(s Scenario) string { return s.Metadata.Name },
}

// Catalog parses every embedded scenario, sorted by name. All files are
// parsed so one broken entry cannot hide another.
func Catalog() ([]Scenario, error) { return loader.All() }

// Find resolves what a user typed: a scenario file, or the name of a
// catalog entry. A catalog entry that fails validation (say its back-end is
// not linked into this binary) reports its real errors, not "not found".
func Find(nameOrPath string) (Scenario, error) { return loader.Find(nameOrPath) }
