package errkind

import (
	"fmt"
	"strings"
)

// FieldError is bad input: one problem with one field of a document or of a
// fault's parameters. It is the one bad-input type: the back-ends return it
// from their parameter checks (Field relative to the params, no file), the
// strict loaders (package yamlx) place it at FILE:LINE with the full field
// path, so an operator can jump straight to it instead of bisecting a YAML
// file under time pressure. Line is 0 when the input did not come from a
// file.
type FieldError struct {
	File  string
	Line  int
	Field string // path such as spec.guards[1].threshold; empty if none applies
	Msg   string
}

// Error renders "FILE:LINE: FIELD: MSG", the format editors and CI
// annotators understand; empty parts are left out.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}
