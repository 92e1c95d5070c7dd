package model

import (
	"errors"
	"fmt"
)

// Error is a validation error. Field names the offending input in the
// caller's terms ("records[2].data", "name", "zone.example.com:12");
// Message says what is wrong.
type Error struct {
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns a validation *Error for field.
func Errorf(field, format string, args ...any) *Error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// WithField returns err with its field prefixed by prefix ("changes[3]"),
// or a new *Error naming prefix when err is not a validation error.
func WithField(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var ve *Error
	if errors.As(err, &ve) {
		f := prefix
		if ve.Field != "" {
			f = prefix + "." + ve.Field
		}
		return &Error{Field: f, Message: ve.Message}
	}
	return &Error{Field: prefix, Message: err.Error()}
}

// IsValidation reports whether err is (or wraps) a validation *Error.
func IsValidation(err error) bool {
	var ve *Error
	return errors.As(err, &ve)
}
