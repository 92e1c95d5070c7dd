// Package bolt is the embedded storage engine of Stratus: a store.Store kept
// in a single file with go.etcd.io/bbolt.
//
// # Layout
//
// The file holds two buckets:
//
//   - "data" maps every key to its value;
//   - "meta" holds the current revision under the key "revision", as a
//     big-endian uint64 (absent means revision 0).
//
// # Revisions
//
// Every Update whose fn changes at least one key writes its changes and the
// next revision in the same bbolt transaction, so the data and the revision
// can never disagree, and commits it with bbolt's fsync. A change is a Put
// (even of the value already stored) or a Delete of a key that exists at that
// point of the transaction. A transaction without changes, including one that
// only deletes missing keys, is rolled back and creates no revision.
//
// # Watch history
//
// Writers are serialized by a mutex held around the bbolt commit, so the
// in-memory watch history is appended in commit order before watchers are
// woken. The history is a queue of Batches bounded by Options.HistoryRevisions
// and Options.HistoryBytes; the oldest batches are dropped first, and a
// watcher that needs a dropped batch gets store.ErrCompacted. The newest
// batch is kept even when it alone exceeds the bounds, until every running
// watcher has been given it. The history is
// not persisted: after Open it starts empty at the revision found in the
// file, so watching from that revision works and watching from an older one
// fails with store.ErrCompacted.
//
// Batches handed to Watch callbacks are shared by all watchers and must not
// be modified; they may be kept after the callback returns.
//
// # Readers and writers
//
// View runs in a bbolt read transaction and never waits for writers. bbolt
// maps the file into memory with Options.MmapBytes of address space (1 GiB
// by default); while the file fits, writers never wait for readers either.
// When the file outgrows the map, the writer that remaps it waits for open
// Views to end, so a View callback must never wait for an Update.
//
// The pages of the map that reads touch count in the process's resident
// memory until the kernel reclaims them; ReleaseMemory drops them (the
// page cache keeps them), so that a scan of the whole store does not leave
// the whole file resident.
//
// # Locking
//
// bbolt takes an exclusive lock on the file, so only one Store (in this or
// any other process) can have a given file open. Open waits Options.Timeout
// for the lock and then fails with an error wrapping ErrLocked.
package bolt
