package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The catalog ships inside the binary so the demo and the CLI work from any
// directory, with scenarios that are known to validate.
//
//go:embed *.yaml
var catalogFS embed.FS

// Catalog parses every embedded scenario, sorted by name. All files are
// parsed so one broken entry cannot hide another.
func Catalog() ([]Scenario, error) {
	files, err := catalogFS.ReadDir(".")
	if err != nil {
		return nil, err
	}
	var out []Scenario
	var errs []error
	for _, f := range files {
		data, err := catalogFS.ReadFile(f.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := Parse(path.Join("scenarios", f.Name()), data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Metadata.Name < out[j].Metadata.Name })
	return out, errors.Join(errs...)
}

// Find resolves what a user typed: a scenario file, or the name of a
// catalog entry.
func Find(nameOrPath string) (Scenario, error) {
	if isFile(nameOrPath) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return Load(nameOrPath)
	}
	files, err := catalogFS.ReadDir(".")
	if err != nil {
		return Scenario{}, err
	}
	var names []string
	for _, f := range files {
		data, err := catalogFS.ReadFile(f.Name())
		if err != nil {
			return Scenario{}, err
		}
		// Match on a lenient read of the name first, so a catalog entry that
		// fails validation (say its back-end is not linked into this binary)
		// reports its real errors instead of "not found".
		var head struct {
			Metadata struct{ Name string } `yaml:"metadata"`
		}
		_ = yaml.Unmarshal(data, &head)
		if head.Metadata.Name == nameOrPath {
			return Parse(path.Join("scenarios", f.Name()), data)
		}
		if head.Metadata.Name != "" {
			names = append(names, head.Metadata.Name)
		}
	}
	sort.Strings(names)
	return Scenario{}, fmt.Errorf("unknown scenario %q: not a file and not in the catalog (%s)", nameOrPath, strings.Join(names, ", "))
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
