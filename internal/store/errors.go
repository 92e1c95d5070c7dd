package store

import "errors"

var (
	// ErrCompacted means the requested revision is older than the history
	// the store still retains.
	ErrCompacted = errors.New("store: revision compacted")

	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store: closed")

	// ErrStopScan, returned by a Scan callback, stops the scan early
	// without error.
	ErrStopScan = errors.New("store: stop scan")

	// ErrEmptyKey means a Put or Delete was given an empty key.
	ErrEmptyKey = errors.New("store: empty key")
)
