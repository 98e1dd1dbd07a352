package yamlx

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/gameday/gameday/internal/errkind"
)

// Collector gathers validation problems rather than stopping at the first,
// placing each at the line of its field. Root is nil when the document was
// not parsed from a file (e.g. it arrived as JSON); the errors then carry no
// line.
type Collector struct {
	File string
	Root *yaml.Node
	Errs Errors
}

// Add records a problem with the field at path (see LineOf for the syntax).
func (c *Collector) Add(path, format string, args ...any) {
	c.Errs = append(c.Errs, &errkind.FieldError{File: c.File, Line: LineOf(c.Root, path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

// Err is nil when nothing was collected, else the errors sorted by line. The
// nil check matters: a nil Errors in an error interface is not a nil error.
func (c *Collector) Err() error {
	if len(c.Errs) == 0 {
		return nil
	}
	return c.Errs.Sorted()
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// IsDNSLabel reports whether s is a DNS-1123 label: lowercase letters,
// digits and '-', alphanumeric at both ends, at most 63 characters. Names
// and ids of that shape are safe in workflow ids, URLs and back-end object
// names alike.
func IsDNSLabel(s string) bool {
	return len(s) <= 63 && dnsLabel.MatchString(s)
}

// Type checks a document's apiVersion and kind.
func (c *Collector) Type(want Schema, apiVersion, kind string) {
	if apiVersion != want.APIVersion {
		c.Add("apiVersion", "must be %q, got %q", want.APIVersion, apiVersion)
	}
	if kind != want.Kind {
		c.Add("kind", "must be %q, got %q", want.Kind, kind)
	}
}

// Header checks what every named gameday/v1 document starts with:
// apiVersion, kind and a DNS-label metadata.name.
func (c *Collector) Header(want Schema, apiVersion, kind, name string) {
	c.Type(want, apiVersion, kind)
	// The name ends up in workflow ids and back-end object names.
	switch {
	case name == "":
		c.Add("metadata.name", "required")
	case !IsDNSLabel(name):
		c.Add("metadata.name", "must be a DNS-1123 label (lowercase letters, digits and '-', at most 63 characters), got %q", name)
	}
}
