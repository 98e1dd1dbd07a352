package plans

import (
	"embed"
	"path/filepath"

	"github.com/gameday/gameday/gameday"
	"github.com/gameday/gameday/internal/yamlx"
)

// The catalog ships inside the binary, like the scenarios it names, so
// `gameday gameday start demo-shop` works from any directory.
//
//go:embed *.yaml
var catalogFS embed.FS

// loader is the strict plan loader and its embedded catalog. Its Check is
// the catalog's: catalog plans may not name scenario files (fileLoader
// gives a plan file its own directory).
var loader = yamlx.Loader[gameday.Plan]{
	Schema:  schema,
	Check:   func(c *yamlx.Collector, p *gameday.Plan) { (&checker{c: c}).plan(p) },
	Catalog: catalogFS,
	Dir:     "plans",
	Noun:    "game-day plan",
	Name:    func(p gameday.Plan) string { return p.Metadata.Name },
}

// Catalog parses every embedded plan, sorted by name. Every file is parsed,
// so one broken entry cannot hide another.
func Catalog() ([]gameday.Plan, error) { return loader.All() }

// Find resolves what a user typed: a plan file (anything that exists, or
// ends in .yaml/.yml), or the name of a catalog plan. dir is where the
// plan's step files are found: the file's directory, or "" for a catalog
// plan (which names catalog scenarios only).
func Find(nameOrFile string) (p gameday.Plan, dir string, err error) {
	if yamlx.IsFileName(nameOrFile) {
		p, err = Load(nameOrFile)
		return p, filepath.Dir(nameOrFile), err
	}
	p, err = loader.Find(nameOrFile)
	return p, "", err
}
