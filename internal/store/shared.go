package store

import (
	"context"
	"errors"
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
// that node uses a local Session (see NewLocalSession in store/local),
// which is alone in its cluster and leads it at once.
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
// session's ephemeral keys (List, WatchEphemeral).
type Session interface {
	// Node is the node name the session was opened with.
	Node() string

	// Put stores value at the ephemeral key, owned by this session.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes an ephemeral key this session put.
	Delete(ctx context.Context, key string) error
	// List returns the ephemeral keys under prefix of every live session.
	List(ctx context.Context, prefix string) ([]Event, error)
	// WatchEphemeral calls fn with the ephemeral keys under prefix: first
	// (and again after any gap it could not replay) a batch with Reset set
	// holding every live key, then each change as it happens, a key whose
	// session ended arriving as Deleted. It returns when ctx is done
	// (ctx.Err()) or fn fails (that error).
	WatchEphemeral(ctx context.Context, prefix string, fn func(EphemeralBatch) error) error

	// Campaign blocks until this session leads election (or ctx is done),
	// then returns the term. value is what Leader shows of it.
	Campaign(ctx context.Context, election string, value []byte) (Term, error)
	// Leader returns the value the current leader of election campaigned
	// with, and ErrNoLeader when there is none.
	Leader(ctx context.Context, election string) ([]byte, error)

	// Done is closed when the session has ended: closed, or expired on the
	// servers.
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
	// Resign gives up leadership.
	Resign(ctx context.Context) error
}

var (
	// ErrFenced means a write carried a term that has ended.
	ErrFenced = errors.New("store: write fenced: this node no longer leads")
	// ErrNoLeader means no session leads the election.
	ErrNoLeader = errors.New("store: no leader")
	// ErrSessionEnded means the session has expired or was closed.
	ErrSessionEnded = errors.New("store: session ended")
)
