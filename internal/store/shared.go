package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Shared is implemented by engines that several Stratus nodes use at once
// (store/etcd). Each node opens one Session on it: its presence in the
// cluster, the keys that live only as long as the node does (its member
// record, its health votes), and its part in electing the node that runs
// the work that must run once (lease reaping, materialisation and NOTIFY,
// secondary refreshes, scheduled drills).
//
// An engine used by one node only (store/bolt) does not implement Shared;
// that node uses a local Session (local.NewSession in store/local), which
// is alone in its cluster and leads it at once.
//
// # What Done promises, and what it cannot
//
// Session.Done and Term.Done close when this node's lease is lost:
// closed, resigned, expired on the servers, or not renewed for the ttl
// because the node could not reach them. They cannot close at the very
// instant the servers let the lease go: the two are told apart by the
// network and by two clocks, and the node's own goroutines may be paused
// (scheduling, GC, a frozen process) at that instant. So another node's
// term may begin before this node's Done is closed. Work that must run
// once therefore writes with a fenced context (Term.Fence): the store
// itself refuses the write of a term that has ended.
type Shared interface {
	// Session starts node's session: a lease the engine keeps alive while
	// it can reach its servers. When the node stops, is frozen or is cut
	// off from the store for longer than ttl, the session ends on the
	// servers: its ephemeral keys vanish and its leadership passes on.
	// node names the node; two live sessions with the same name are an
	// error.
	Session(ctx context.Context, node string, ttl time.Duration) (Session, error)
}

// Session is one node's presence in a shared store.
//
// Ephemeral keys live outside the revisioned data: putting one creates no
// Revision and Store.Watch never reports it. Every node sees every live
// session's ephemeral keys (List, WatchEphemeral), each with the name of
// the node whose session holds it (Event.Owner): a consumer that trusts a
// key for a node (a vote under the node's name) checks that the node's
// own live session holds it.
type Session interface {
	// Node is the node name the session was opened with.
	Node() string

	// Put stores value at the ephemeral key, owned by this session (a key
	// another session put becomes this session's).
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes an ephemeral key this session put. A missing key is
	// not an error; a key another session owns is, and stays.
	Delete(ctx context.Context, key string) error
	// Apply writes a batch of ephemeral keys, all owned by this session:
	// an event puts its key (as Put) or, when Deleted, removes it (as
	// Delete). A key given twice takes its last event. The engine writes
	// the batch in as few requests as its limits allow (store/etcd: etcd
	// transactions within --max-txn-ops and --max-request-bytes), so
	// watchers may see it in several parts. An empty key fails the batch
	// before anything is written. A delete of a key another session owns
	// is refused and named in the error, and the rest of the batch is
	// written; any other error may leave a part of the batch written:
	// apply it again.
	Apply(ctx context.Context, events []Event) error
	// List returns the ephemeral keys under prefix of every live session.
	List(ctx context.Context, prefix string) ([]Event, error)
	// WatchEphemeral calls fn with the ephemeral keys under prefix: first
	// (and again after any gap it could not replay) a batch with Reset set
	// holding every live key, then each change as it happens, a key whose
	// session ended arriving as Deleted. It returns when ctx is done
	// (ctx.Err()), fn fails (that error) or this session ends
	// (ErrSessionEnded). While the store cannot be reached it waits and
	// resumes with a Reset batch.
	WatchEphemeral(ctx context.Context, prefix string, fn func(EphemeralBatch) error) error

	// Campaign blocks until this session leads election (or ctx is done,
	// or the session ends), then returns the term. value is what Leader
	// shows of it. A session campaigns for one term of an election at a
	// time: a second Campaign for the same election waits until the
	// first term has ended. Candidates lead in the order they began to
	// campaign. While the store does not answer, Campaign waits; it
	// returns ErrSessionEnded when the session ends first.
	Campaign(ctx context.Context, election string, value []byte) (Term, error)
	// Leader returns the value the current leader of election campaigned
	// with, and ErrNoLeader when there is none.
	Leader(ctx context.Context, election string) ([]byte, error)

	// Done is closed when the session has ended: closed, expired on the
	// servers, or not renewed for its ttl (see Shared). After that every
	// method but Node, List, Leader and Done returns ErrSessionEnded.
	Done() <-chan struct{}
	// Close ends the session at once: its keys vanish and its terms end.
	Close() error
}

// EphemeralBatch is a change to the ephemeral keys WatchEphemeral follows.
type EphemeralBatch struct {
	// Reset means Events is the whole set of live keys: forget the ones
	// seen before.
	Reset  bool
	Events []Event
}

// Term is one period in which a session leads an election.
type Term interface {
	// Fence returns ctx carrying this term: an Update given the returned
	// context commits only while the term lasts, and otherwise fails with
	// ErrFenced, having written nothing. A deposed leader's late writes
	// are thus refused by the store itself, not by the leader's own
	// belief that it still leads.
	Fence(ctx context.Context) context.Context
	// Done is closed when the term has ended: resigned, the session ended,
	// or another session leads.
	Done() <-chan struct{}
	// Resign gives up leadership: the term ends (Done closes) at once.
	// An error means the store may show this session as the leader
	// until it hears of the resignation or the session ends; fences of
	// the term are refused all the same.
	Resign(ctx context.Context) error
}

// Fence is the term a context carries from Term.Fence to an engine's
// Update. Each engine knows the fences of its own sessions (store/etcd:
// the term's election key and its create revision, compared in the
// commit; store/bolt: a LocalFence) and fails an Update whose context
// carries any other with an error naming the mismatch. View, and the reads
// inside an Update, ignore the fence.
type Fence interface {
	// Done is closed when the term has ended (Term.Done).
	Done() <-chan struct{}
}

// LocalFence is the Fence of a term decided inside this process
// (store/local), which an engine checks inside its write transaction.
type LocalFence interface {
	Fence
	// Hold reports whether the term still lasts and, when it does, keeps
	// it from ending until release is called: the engine holds the
	// fence from its check until its commit is durable, so a term that
	// has ended (its Resign or Close returned) never sees a write of its
	// own commit after. Hold never blocks.
	Hold() (release func(), ok bool)
}

type fenceKey struct{}

// WithFence returns ctx carrying f; Term implementations return it from
// Fence.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceFrom returns the fence ctx carries, or nil.
func FenceFrom(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}

var (
	// ErrFenced means a write carried a term that has ended.
	ErrFenced = errors.New("store: write fenced: this node no longer leads")
	// ErrNoLeader means no session leads the election.
	ErrNoLeader = errors.New("store: no leader")
	// ErrSessionEnded means the session has expired or was closed.
	ErrSessionEnded = errors.New("store: session ended")
)

// LastEvents returns events with each key once, holding its last event,
// in the order of those last events; it fails with ErrEmptyKey (naming
// the event) when a key is empty. Session.Apply implementations use it.
func LastEvents(events []Event) ([]Event, error) {
	last := make(map[string]int, len(events))
	for i, e := range events {
		if e.Key == "" {
			return nil, fmt.Errorf("event %d of %d: %w", i, len(events), ErrEmptyKey)
		}
		last[e.Key] = i
	}
	if len(last) == len(events) {
		return events, nil
	}
	out := make([]Event, 0, len(last))
	for i, e := range events {
		if last[e.Key] == i {
			out = append(out, e)
		}
	}
	return out, nil
}
