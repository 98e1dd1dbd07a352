// Package yamlx is the strict YAML loading shared by the gameday/v1 document
// kinds (Scenario, Checklist): exactly one document per file, unknown fields
// and wrong types rejected, and every problem reported as FILE:LINE: FIELD:
// MSG. It lives apart from the kinds so each loader keeps only its own rules
// and all of them point users at lines the same way.
package yamlx

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/gameday/gameday/internal/errkind"
)

// Errors is every problem found in one document, so a user fixes them in a
// single pass rather than one per run.
type Errors []*errkind.FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a *errkind.FieldError inside.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Sorted orders the errors by line, in place, keeping the order of errors on
// the same line, so the report reads top to bottom like the file.
func (es Errors) Sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
	return es
}

// WellFormed checks the contract every loader error keeps (fuzz tests use
// it): an Errors value, non-empty, sorted by line, each naming the file and
// saying something.
func WellFormed(err error, file string) error {
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return fmt.Errorf("error is not Errors: %T %v", err, err)
	}
	for i, e := range errs {
		if i > 0 && errs[i-1].Line > e.Line {
			return fmt.Errorf("errors not sorted by line:\n%v", err)
		}
		if e.File != file || e.Line < 0 || e.Msg == "" {
			return fmt.Errorf("malformed error %#v", e)
		}
	}
	return nil
}
