// Package errkind holds the error kinds shared by back-ends, loaders and
// sinks that must not depend on one another: the permanent-error marker
// (retrying cannot fix it, so activities make it non-retryable) and the
// bad-input error (FieldError). Pure: the standard library only.
package errkind

import "errors"

// PermanentError marks an error that retrying cannot fix (unknown target,
// invalid parameters, forbidden, a 4xx from Jira). Activities turn it into a
// non-retryable Temporal error; everything else is retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError (nil stays nil).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err (or anything it wraps) is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
