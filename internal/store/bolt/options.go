package bolt

import (
	"strconv"
	"time"
)

// Defaults used for zero fields of Options.
const (
	DefaultHistoryBytes     = 64 << 20
	DefaultHistoryRevisions = 10000
	DefaultTimeout          = time.Second
	// DefaultMmapBytes is 1 GiB on 64-bit platforms and 64 MiB on 32-bit
	// ones, where address space is scarce.
	DefaultMmapBytes = 64<<20 + (strconv.IntSize/64)*(1<<30-64<<20)
)

// Options configures Open. The zero value is valid: zero or negative fields
// take the defaults above.
type Options struct {
	// HistoryBytes bounds the approximate memory, in bytes, used by the
	// in-memory watch history (keys, values and a fixed per-event overhead).
	// The newest batch is kept even when it alone is larger, until every
	// running Watch has been given it.
	HistoryBytes int

	// HistoryRevisions bounds the number of revisions kept in the watch
	// history.
	HistoryRevisions int

	// Timeout is how long Open waits for the exclusive file lock held by
	// another open Store before failing with ErrLocked.
	Timeout time.Duration

	// MmapBytes is the initial size of bbolt's memory map. It reserves
	// address space only; the file grows with the data. While the file
	// fits in the map, open read transactions (View) never delay writers;
	// once it outgrows the map, bbolt remaps it and the next writer that
	// needs more room waits for every open View to end.
	MmapBytes int
}

// withDefaults returns o with every unset field replaced by its default.
func (o Options) withDefaults() Options {
	if o.HistoryBytes <= 0 {
		o.HistoryBytes = DefaultHistoryBytes
	}
	if o.HistoryRevisions <= 0 {
		o.HistoryRevisions = DefaultHistoryRevisions
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MmapBytes <= 0 {
		o.MmapBytes = DefaultMmapBytes
	}
	return o
}
