package access

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is a missing object, or one the caller may not see.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated is a missing, unknown, revoked or expired token,
	// or a disabled user. It never says which, so tokens cannot be probed.
	ErrUnauthenticated = errors.New("invalid or expired token")
	// ErrForbidden is an action reserved for admins.
	ErrForbidden = errors.New("admin only")
	// ErrConflict is a name already taken.
	ErrConflict = errors.New("already exists")
)

// ValidationError is bad input; Field names the offending input field
// (the JSON field name, which is also the CLI flag name without "--").
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
