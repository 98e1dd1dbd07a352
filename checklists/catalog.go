package checklists

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/gameday/gameday/checklist"
	"gopkg.in/yaml.v3"
)

// The catalog ships inside the binary so the CLI and the worker gate
// releases from any directory, with checklists known to validate.
//
//go:embed *.yaml
var catalogFS embed.FS

// entry is one embedded file with the name read leniently from it, so a
// broken entry can still be found by name and report its real errors.
type entry struct {
	file string // as shown in errors: checklists/<file>
	name string
	data []byte
}

func entries() ([]entry, error) {
	files, err := fs.Glob(catalogFS, "*.yaml")
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(files))
	for _, f := range files {
		data, err := catalogFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var head struct {
			Metadata struct{ Name string } `yaml:"metadata"`
		}
		_ = yaml.Unmarshal(data, &head)
		out = append(out, entry{file: path.Join("checklists", f), name: head.Metadata.Name, data: data})
	}
	return out, nil
}

// Catalog parses every embedded checklist, sorted by name. Every file is
// parsed, so one broken entry cannot hide another.
func Catalog() ([]checklist.Checklist, error) {
	es, err := entries()
	if err != nil {
		return nil, err
	}
	var all []checklist.Checklist
	var errs []error
	for _, e := range es {
		cl, err := Parse(e.file, e.data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, cl)
	}
	slices.SortFunc(all, func(a, b checklist.Checklist) int { return strings.Compare(a.Metadata.Name, b.Metadata.Name) })
	return all, errors.Join(errs...)
}

// Find resolves what a user typed: a checklist file (anything that exists,
// or ends in .yaml/.yml), or the name of a catalog entry.
func Find(nameOrPath string) (checklist.Checklist, error) {
	if fi, err := os.Stat(nameOrPath); (err == nil && fi.Mode().IsRegular()) ||
		strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return Load(nameOrPath)
	}
	es, err := entries()
	if err != nil {
		return checklist.Checklist{}, err
	}
	var names []string
	for _, e := range es {
		if e.name == nameOrPath {
			return Parse(e.file, e.data)
		}
		if e.name != "" {
			names = append(names, e.name)
		}
	}
	slices.Sort(names)
	return checklist.Checklist{}, fmt.Errorf("unknown checklist %q: not a file and not in the catalog (%s)", nameOrPath, strings.Join(names, ", "))
}
