// Package store defines the durable, revisioned key-value store that holds all
// of Stratus's state: zones, records, the zone journals and API tokens.
//
// The interface is deliberately small and shaped like etcd's data model so
// that an embedded engine (store/bolt, the default) and a clustered engine
// (etcd) can be swapped without changing callers:
//
//   - every committed write transaction produces exactly one new Revision,
//     a strictly increasing int64 shared by the whole store;
//   - reads see one consistent revision;
//   - Watch replays committed changes from a revision in order, so a reader
//     can load a full copy at revision R and then follow every later change;
//   - history is bounded: watching from a revision that is no longer
//     retained fails with ErrCompacted and the watcher reloads.
//
// Keys are strings, ordered bytewise; values are opaque bytes. The meaning of
// keys (the layout) belongs to the packages above this one (see
// internal/control). Every engine must pass the conformance suite in
// store/storetest.
package store

import "context"

// Revision identifies a committed state of the whole store. The empty store
// is at revision 0; every write transaction that changes at least one key
// produces the next revision.
type Revision = int64

// Store is a durable, revisioned, transactional key-value store.
//
// All methods are safe for concurrent use.
type Store interface {
	// View runs fn in a read-only transaction that sees a single committed
	// revision. Values handed to fn are valid only until fn returns.
	View(ctx context.Context, fn func(tx ReadTx) error) error

	// Update runs fn in a read-write transaction. When fn returns nil and the
	// transaction changed at least one key, the changes are committed
	// durably (synced to stable storage) before Update returns the new
	// revision. When fn returns an error nothing is written and Update
	// returns that error unchanged. A transaction that changes nothing
	// returns the current revision and creates no new one.
	//
	// Engines with optimistic concurrency may run fn more than once, so fn
	// must not have side effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) (Revision, error)

	// Watch calls fn with every committed change whose revision is greater
	// than from, one Batch per revision, in revision order, until ctx is
	// done (Watch then returns ctx.Err()) or fn returns an error (which
	// Watch returns). Watch returns ErrCompacted (perhaps wrapped: test
	// with errors.Is), at once or later, when the changes after from are no
	// longer retained; the caller should reload with View and watch again
	// from the revision it read.
	//
	// A slow fn never blocks writers: it falls behind and, if it falls
	// further behind than the retained history, gets ErrCompacted.
	//
	// fn may keep the Batch after it returns but must not modify it: an
	// engine may hand the same Batch to every watcher.
	Watch(ctx context.Context, from Revision, fn func(Batch) error) error

	// Revision returns the latest committed revision.
	Revision(ctx context.Context) (Revision, error)

	// Close releases the store. Calls after Close return ErrClosed.
	Close() error
}

// ReadTx reads one consistent revision of the store.
type ReadTx interface {
	// Revision is the revision this transaction reads. Inside Update it is
	// the revision the transaction started from; its commit gets a later
	// one.
	Revision() Revision

	// Get returns the value stored at key and whether it exists. The value
	// is valid only until the transaction ends; copy it to keep it.
	Get(key string) (value []byte, ok bool, err error)

	// Scan calls fn for every key that starts with prefix and sorts after
	// start (start == "" means from the first key with the prefix), in
	// ascending bytewise key order. Returning ErrStopScan from fn ends the
	// scan without error; any other error ends it and is returned. Values are
	// valid only until fn returns.
	Scan(prefix, start string, fn func(key string, value []byte) error) error

	// Count returns how many keys start with prefix, without reading
	// their values.
	Count(prefix string) (int, error)
}

// Tx is a read-write transaction. Reads observe the transaction's own
// earlier writes. A Scan callback may Put or Delete the key it was given;
// the scan then goes on with the next key.
type Tx interface {
	ReadTx

	// Put stores value at key. The store keeps its own copy of value.
	Put(key string, value []byte) error

	// Delete removes key. Deleting a missing key is not an error and is
	// not a change: it adds no Event and, alone, creates no revision.
	Delete(key string) error
}

// Event is one key change inside a committed revision.
type Event struct {
	Key     string
	Value   []byte // nil when Deleted
	Deleted bool
	// Owner, on an ephemeral key that List or WatchEphemeral delivers (not
	// Deleted), is the node whose live session holds the key; empty when
	// no live session does (a key written outside any session). Empty on
	// Store.Watch events.
	Owner string
}

// Batch is every change committed in one revision, in the order the
// transaction made them (a key written twice appears once, with its final
// state).
type Batch struct {
	Revision Revision
	Events   []Event
	// More is set when the next revision was already committed as this
	// batch was delivered: a watcher can gather a run of batches (a group
	// commit) and act once, on the batch with More unset.
	More bool
}

// MemoryReleaser is implemented by engines that can give back the memory
// a read of the whole store leaves resident (store/bolt: the pages of its
// memory map). The snapshot publisher calls ReleaseMemory after it loads
// the store.
type MemoryReleaser interface {
	ReleaseMemory() error
}

// GetManyTx is implemented by transactions that read several keys at
// once for little more than the price of one Get (store/etcd: one round
// trip for all of them, where a Get each is a round trip each). Use
// GetMany, which falls back to a Get per key.
type GetManyTx interface {
	// GetMany reads keys as Get reads each of them (inside Update: the
	// transaction's own writes first, and each key read counts as a Get
	// for conflicts), at the transaction's revision. values[i] and
	// found[i] are Get(keys[i])'s; values are valid only until the
	// transaction ends.
	GetMany(keys []string) (values [][]byte, found []bool, err error)
}

// GetMany reads keys in tx: in one request where tx implements
// GetManyTx, with a Get per key otherwise.
func GetMany(tx ReadTx, keys []string) (values [][]byte, found []bool, err error) {
	if m, ok := tx.(GetManyTx); ok {
		return m.GetMany(keys)
	}
	values, found = make([][]byte, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		if values[i], found[i], err = tx.Get(k); err != nil {
			return nil, nil, err
		}
	}
	return values, found, nil
}
