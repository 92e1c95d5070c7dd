package schema

import (
	"errors"
	"fmt"
	"log/slog"
)

// ErrCorrupt is what every error about a stored record that cannot be
// decoded (or a key that cannot be parsed) matches with errors.Is.
var ErrCorrupt = errors.New("corrupt stored record")

// CorruptError names the key of a stored record that cannot be decoded.
type CorruptError struct {
	Key string
	Err error // why
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("schema: cannot read the record stored under %s: %v", e.Key, e.Err)
}

// Unwrap returns ErrCorrupt and the reason.
func (e *CorruptError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// Corrupt returns the error for the record stored under key, which cannot
// be read for the reason err.
func Corrupt(key string, err error) error { return &CorruptError{Key: key, Err: err} }

// errBadKey is the reason for a key that does not fit the layout.
var errBadKey = errors.New("the key does not fit the layout")

// BadKey returns the error for a key under one of the prefixes that does
// not fit the layout.
func BadKey(key string) error { return Corrupt(key, errBadKey) }

// Skip logs a record that a load for the query path or steering leaves
// out because it cannot be decoded (err, from a codec or BadKey). It is
// the one place that policy is carried out; see the package comment.
func Skip(log *slog.Logger, key string, err error) {
	log.Error("skipping a stored record that cannot be read", "key", key, "err", err)
}
