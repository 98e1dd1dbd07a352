package yamlx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Loader is the strict loader of one gameday/v1 kind, and its embedded
// catalog when it has one: the document type T, its schema, the rules
// (defaults and checks) and where the catalog lives. The scenario, checklist
// and Slack access loaders are each one Loader value, so they decode, report
// errors and resolve names the same way.
type Loader[T any] struct {
	Schema Schema
	// Check applies the kind's defaults to doc and records every problem in
	// c. It is called on parsed files (c.Root set, errors carry lines) and by
	// Validate on documents from elsewhere (no lines).
	Check func(c *Collector, doc *T)

	// The catalog; only All and Find use it.
	Catalog fs.FS              // *.yaml at its root, e.g. an embed.FS
	Dir     string             // what errors call the catalog's directory, e.g. "scenarios"
	Noun    string             // what Find calls one document, e.g. "scenario"
	Name    func(doc T) string // the document's name, for sorting All
}

// Parse strictly decodes and validates one document and returns it with
// defaults applied. Strictness matters because a typo would otherwise
// silently drop a setting. Any error is an Errors value whose entries name
// file, line and field, sorted by line.
func (l Loader[T]) Parse(file string, data []byte) (T, error) {
	var doc, zero T
	root, err := l.Schema.Decode(file, data, &doc)
	if err != nil {
		return zero, err
	}
	c := Collector{File: file, Root: root}
	l.Check(&c, &doc)
	if err := c.Err(); err != nil {
		return zero, err
	}
	return doc, nil
}

// Load reads and parses a file; see Parse.
func (l Loader[T]) Load(file string) (T, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		var zero T
		return zero, err
	}
	return l.Parse(file, data)
}

// Validate applies defaults to a document that did not come from a file
// (e.g. one carried as JSON in workflow input) and checks it by the same
// rules as Parse; the errors then have no line.
func (l Loader[T]) Validate(doc *T) error {
	var c Collector
	l.Check(&c, doc)
	return c.Err()
}

// entry is one catalog file with the name read leniently from it, so a
// broken entry can still be found by name and report its real errors
// instead of "not found" (say its back-end is not linked into this binary).
type entry struct {
	file string // as shown in errors: <Dir>/<file>
	name string
	data []byte
}

func (l Loader[T]) entries() ([]entry, error) {
	files, err := fs.Glob(l.Catalog, "*.yaml")
	if err != nil {
		return nil, err
	}
	out := make([]entry, 0, len(files))
	for _, f := range files {
		data, err := fs.ReadFile(l.Catalog, f)
		if err != nil {
			return nil, err
		}
		var head struct {
			Metadata struct{ Name string } `yaml:"metadata"`
		}
		_ = yaml.Unmarshal(data, &head)
		out = append(out, entry{file: path.Join(l.Dir, f), name: head.Metadata.Name, data: data})
	}
	return out, nil
}

// All parses every catalog entry, sorted by name. Every file is parsed, so
// one broken entry cannot hide another: the valid ones are returned with
// the errors of the others joined.
func (l Loader[T]) All() ([]T, error) {
	es, err := l.entries()
	if err != nil {
		return nil, err
	}
	var all []T
	var errs []error
	for _, e := range es {
		doc, err := l.Parse(e.file, e.data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, doc)
	}
	slices.SortStableFunc(all, func(a, b T) int { return strings.Compare(l.Name(a), l.Name(b)) })
	return all, errors.Join(errs...)
}

// Find resolves what a user typed: a file (anything that exists, or ends in
// .yaml/.yml), or the name of a catalog entry.
func (l Loader[T]) Find(nameOrFile string) (T, error) {
	var zero T
	if IsFileName(nameOrFile) {
		return l.Load(nameOrFile)
	}
	es, err := l.entries()
	if err != nil {
		return zero, err
	}
	var names []string
	for _, e := range es {
		if e.name == nameOrFile {
			return l.Parse(e.file, e.data)
		}
		if e.name != "" {
			names = append(names, e.name)
		}
	}
	slices.Sort(names)
	return zero, fmt.Errorf("unknown %s %q: not a file and not in the catalog (%s)", l.Noun, nameOrFile, strings.Join(names, ", "))
}

// IsFileName reports whether what a user typed names a file rather than a
// catalog entry: a regular file exists there, or it ends in .yaml or .yml.
func IsFileName(s string) bool {
	if fi, err := os.Stat(s); err == nil && fi.Mode().IsRegular() {
		return true
	}
	return strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}
