package checklists

import (
	"embed"

	"github.com/gameday/gameday/checklist"
	"github.com/gameday/gameday/internal/yamlx"
)

// The catalog ships inside the binary so the CLI and the worker gate
// releases from any directory, with checklists known to validate.
//
//go:embed *.yaml
var catalogFS embed.FS

// loader is the strict checklist loader and its embedded catalog.
var loader = yamlx.Loader[checklist.Checklist]{
	Schema:  schema,
	Check:   check,
	Catalog: catalogFS,
	Dir:     "checklists",
	Noun:    "checklist",
	Name:    func(cl checklist.Checklist) string { return cl.Metadata.Name },
}

// Catalog parses every embedded checklist, sorted by name. Every file is
// parsed, so one broken entry cannot hide another.
func Catalog() ([]checklist.Checklist, error) { return loader.All() }

// Find resolves what a user typed: a checklist file (anything that exists,
// or ends in .yaml/.yml), or the name of a catalog entry.
func Find(nameOrPath string) (checklist.Checklist, error) { return loader.Find(nameOrPath) }
