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

	// ErrUnavailable means the store did not answer in time (a networked
	// engine whose servers are down, frozen or out of reach). Nothing was
	// changed by a read; a write may be retried once the store answers.
	ErrUnavailable = errors.New("store: unavailable")

	// ErrEmptyKey means a Put or Delete was given an empty key.
	ErrEmptyKey = errors.New("store: empty key")
)
