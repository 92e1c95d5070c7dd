// Package etcd is the clustered store.Store engine: the store lives under a
// key prefix of an etcd v3 cluster, so several Stratus servers share one
// state, and several Stratus clusters can share one etcd (each under its own
// prefix; no prefix may be a prefix of another).
//
// # Layout
//
// Under the prefix P, the store key k is kept at P+"d/"+k and one meta key,
// P+"m/rev", is written by every committed Update. The sessions' keys
// (below) and the deletion markers (see Transactions) sort after both:
//
//	P+"d/<key>"                  the store's data
//	P+"m/rev"                    the meta key: its version is the revision
//	P+"s/n/<node>"               a node's live session, on its lease
//	P+"s/e/<key>"                an ephemeral key, on its session's lease
//	P+"s/l/<election>/<lease>"   a candidate of an election, on its lease
//	P+"x/<dir>"                  a deletion marker of a directory
//
// Watch follows the range from P+"d/" to the meta key only, so neither the
// sessions' keys nor the markers make a Stratus revision, and no watcher,
// Scan or Count sees them.
//
// # Revisions: a mapping, not etcd's revision
//
// store.Store wants revisions that count the store's own commits: 0 for the
// empty store, then 1, 2, 3... with no gaps. etcd's revision is global to the
// cluster: it starts at 1, and it moves on with every write to any key, also
// those of other Stratus clusters under other prefixes. So the Stratus
// revision is the etcd version of the meta key: every committed Update puts
// P+"m/rev" in the same etcd transaction as its data, and etcd increments a
// key's version by exactly one per put, atomically with the commit. The
// transaction reads the meta key back (a Get after the Put in its Then
// branch) to learn its revision. The meta key is never deleted (a delete
// would reset its version).
//
// The reverse mapping, from a Stratus revision R to the etcd revision to
// watch from, is a binary search over etcd revisions: the meta key's version
// read at etcd revision E is the Stratus revision at E, non-decreasing in E.
// Watch(R) finds an etcd revision E whose meta version is R and watches the
// prefix from E+1. The store remembers the etcd revisions of the last 64
// Stratus revisions it saw (head reads, its commits, watch batches), so the
// usual Watch(R) right after a View at R needs no search. A search that
// meets a compacted etcd revision goes on with later ones, and a watch
// etcd refuses as compacted starts again at etcd's compaction revision
// when the store was still at R there: Watch fails with
// store.ErrCompacted only when no retained etcd revision has the store at R.
//
// # Transactions
//
// View reads the meta key (a linearizable read), then reads everything at
// the etcd revision of that read, so fn sees one committed state. Every
// Get, Scan page and Count is a round trip to etcd; store.GetMany reads
// up to 128 keys in one (a read-only Txn of Gets at that revision, no
// raft proposal), and inside Update records each key it read as a Get
// does.
//
// Update is optimistic, like etcd's STM: fn runs against a snapshot at etcd
// revision B, its writes are buffered, and the commit is one etcd Txn whose
// If checks that nothing fn read changed since B:
//
//   - a key fn read (Get, GetMany): its mod revision is the one it saw (0 for a
//     key that was missing);
//   - a range fn read (Scan, Count): every key in it has a mod revision of
//     at most B, a compare with a range end, which etcd applies to every
//     key of the range (an empty range compares as one key of mod
//     revision 0): a key changed or added since fails it. A Scan that fn
//     stopped covers the keys up to the last one it was given;
//   - a key deleted from that range leaves nothing to compare, so every
//     commit that deletes also puts a deletion marker, P+"x/"+D, for the
//     root and for each of the deleted key's first two directories (the
//     parts of the key ending in "/"), and a range read compares the
//     marker of the directory covering its prefix (the prefix up to its
//     last "/", at most two levels deep): its mod revision is at most B.
//     Deletes in other directories move other markers. A marker is
//     written only with data, in the same Txn, and never deleted (its mod
//     revision is what counts).
//
// So writes to different zones, or registrations in different services,
// commit without running again, while an Update whose reads another
// commit changed - a key, a Scan's result, a count - runs fn again on a
// new snapshot. When that would take more than 64 compares, or a range
// held more than 1,000 keys (etcd reads the whole range, values included,
// in its one apply loop to check it), the Txn compares the meta key's mod
// revision instead: every commit changes it, so it covers every read at
// the price of conflicting with any concurrent commit. Each Update still
// gets its own Stratus revision.
//
// Updates that are known to conflict carry one conflict key
// (store.WithConflictKey: every write of a zone rewrites its SOA and zone
// record, so the control plane marks them with the zone's key). This
// process runs the Updates of one key one at a time, first come first
// served, so its own writes to a zone never make each other run again;
// only other processes' commits can. Before each re-run the Update waits
// a random time below a bound that doubles with each conflict, from 2 ms
// up to 100 ms, so that processes that conflicted do not meet again in
// step. With 200 writers on one zone through three processes this took
// the re-runs from about 100 per commit to under 1 (NOTES-etcd.md).
//
// # How big one Update can be
//
// One Update is one etcd Txn, bounded by two settings of the etcd servers:
//
//   - --max-txn-ops (default 128) bounds the Txn's writes and, separately,
//     its compares. The commit adds two operations on the meta key, and
//     spends at most 64 compares, so an Update may change at most
//     max-txn-ops - 2 keys: 126 by default; one that deletes, fewer by
//     the deletion markers it puts (one per distinct directory of the
//     deleted keys, two levels deep, and the root: a zone's deletion puts
//     up to 8). A write the control plane audits also puts, per object it
//     changes, the object's audit entry and its stream's head: a write of
//     one object (a zone import) keeps max-txn-ops - 4 keys of its own,
//     124 by default.
//   - --max-request-bytes (default 1.5 MiB) bounds the request: the keys
//     (with the prefix) and values written, and the keys compared.
//
// An Update over either limit fails, writing nothing, with an error naming
// the limit and the flag. Measured against etcd 3.4 started with
// --max-txn-ops 10000 --max-request-bytes 64MiB: 9998 keys commit, 9999 do
// not; 9998 values of 6600 bytes commit, of 6700 bytes do not. A zone
// import of 1,000,000 records does not fit in one Update on etcd.
//
// # History
//
// Watch replays history with an etcd watch from an etcd revision. When etcd
// has compacted past every etcd revision at which the store was at the
// watch's revision, Watch returns store.ErrCompacted. Compaction of etcd
// is the etcd operator's (--auto-compaction-*), since it is shared by every
// prefix; Options.HistoryRevisions additionally bounds the history this
// store serves, counted in Stratus revisions, so the engine behaves like
// store/bolt for watchers that fall behind.
//
// # Sessions, elections and fences
//
// Store implements store.Shared. A session is an etcd lease of the ttl
// (whole seconds; etcd raises a ttl under its minimum, about 2 s with the
// default election timeout) and the key P+"s/n/<node>" on it, created only
// when missing, so a second live session of a node fails naming it.
// The session renews its lease every third of the ttl with one
// keep-alive request of its own, bounded like every request. The lease
// cannot expire on the servers before the send of the last acknowledged
// renewal plus the ttl (the servers renewed it after that send), and that
// is the session's deadline: Done closes at it when no renewal was
// acknowledged since — a node cut off or etcd frozen — at once when etcd
// says the lease is gone, and on Close (which revokes the lease, so its
// keys vanish at once). The session then revokes its lease if it still
// can, so its keys and its leadership pass on without waiting for the
// servers' expiry.
//
// That order holds by this node's clock; the servers measure the ttl by
// theirs, and this node's goroutines may run late (scheduling, GC, a
// paused process). So Done may close after another node's term began, by
// however late this node ran, and the work of a term writes with a fenced
// context: the store itself refuses a deposed leader's write.
//
// Ephemeral keys are put on the session's lease; a Delete removes only a
// key on this session's lease (a Txn comparing the key's lease).
// WatchEphemeral reads the keys under its prefix (a Reset batch), then
// watches from the revision of that read; a watch etcd compacts or
// cancels (no leader) starts over with a Reset batch, and while etcd does
// not answer it retries until the session ends.
//
// Campaign creates the candidate key P+"s/l/<election>/<lease>" on the
// lease (a key left by an earlier term of the session is deleted first,
// so no two terms share a create revision), then waits until no
// candidate key created before it remains, watching the one just before
// it: candidates lead in the order they began, as with etcd's
// concurrency.Election. Leader is the value of the oldest candidate.
// A term watches its own key and ends when it is deleted (Resign, the
// lease revoked or expired) or its session ends.
//
// A fenced Update (store.WithFence with a term of a session on the same
// prefix) adds one compare to its commit: the term's candidate key still
// has the create revision it had when the term began. The Txn's Else
// branch reads that key, so a failed commit tells a deposed term
// (store.ErrFenced: nothing written, fn not run again) from a read set
// that changed (fn runs again). A term already ended fails with
// store.ErrFenced before fn runs.
//
// # Security
//
// Options.TLS reaches etcd over TLS (with client certificates when the
// servers run --client-cert-auth), Options.Username and Password log in
// when etcd has authentication enabled. The user needs readwrite
// permission on the prefix range only (etcdctl role grant-permission
// ROLE --prefix=true readwrite PREFIX). Open fails with an error naming
// what was wrong: an unknown server CA or a refused client certificate
// (found by dialing the endpoint itself, as the client only reports a
// timeout), an https endpoint without TLS configuration, a wrong username
// or password, a missing username, or a role without access to the prefix;
// an Update by a user with read-only access fails naming the user and the
// prefix.
package etcd
