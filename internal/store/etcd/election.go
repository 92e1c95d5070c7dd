package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/stratusdns/stratus/internal/store"
)

// electionArea is the etcd key prefix of election's candidates.
func (s *Store) electionArea(election string) string { return s.prefix + "s/l/" + election + "/" }

func checkElection(election string) error {
	if election == "" || strings.Contains(election, "/") {
		return fmt.Errorf("store/etcd: election name %q must be non-empty and hold no \"/\"", election)
	}
	return nil
}

// Campaign puts the candidate key P+"s/l/<election>/<lease>" on the
// session's lease and waits until no candidate key created before it
// remains: candidates lead in the order of their keys' create revisions,
// as etcd's concurrency.Election does.
func (se *session) Campaign(ctx context.Context, election string, value []byte) (store.Term, error) {
	if err := checkElection(election); err != nil {
		return nil, err
	}
	if se.ended() {
		return nil, store.ErrSessionEnded
	}
	// One term per election at a time for this session.
	se.mu.Lock()
	slot := se.elections[election]
	if slot == nil {
		slot = make(chan struct{}, 1)
		se.elections[election] = slot
	}
	se.mu.Unlock()
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-se.done:
		return nil, store.ErrSessionEnded
	}
	return se.campaign(ctx, election, value, slot)
}

// campaign runs a Campaign holding the election's slot, which the term
// gives back when it ends (or campaign, when it fails before there is a
// term).
func (se *session) campaign(ctx context.Context, election string, value []byte, slot chan struct{}) (*term, error) {
	s := se.s
	key := s.electionArea(election) + fmt.Sprintf("%016x", int64(se.lease))
	var created int64
	for created == 0 {
		rctx, cancel := context.WithTimeout(ctx, s.timeout)
		resp, err := s.cli.Txn(rctx).
			If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, string(value), clientv3.WithLease(se.lease))).Commit()
		cancel()
		if err != nil {
			<-slot
			return nil, se.callErr(ctx, err, "campaign in "+election)
		}
		if resp.Succeeded {
			created = resp.Header.Revision
			break
		}
		// A key of an earlier term whose resignation did not reach
		// etcd: delete it, so that a new term never has the create
		// revision (and thus the fence) of an ended one.
		rctx, cancel = context.WithTimeout(ctx, s.timeout)
		_, err = s.cli.Delete(rctx, key)
		cancel()
		if err != nil {
			<-slot
			return nil, se.callErr(ctx, err, "campaign in "+election)
		}
	}
	t := &term{se: se, election: election, key: key, created: created, slot: slot, done: make(chan struct{})}
	// Register the term first, so that the session's end ends it.
	se.mu.Lock()
	if se.ended() {
		se.mu.Unlock()
		t.resign()
		return nil, store.ErrSessionEnded
	}
	se.terms[t] = struct{}{}
	se.mu.Unlock()
	if err := se.waitTurn(ctx, t); err != nil {
		t.resign()
		return nil, err
	}
	// The watch counts in the session's WaitGroup, which Close waits
	// for; it is added while the session lasts (keepAlive still counts).
	se.mu.Lock()
	if se.ended() {
		se.mu.Unlock()
		t.resign()
		return nil, store.ErrSessionEnded
	}
	se.wg.Add(1)
	t.wg.Add(1)
	se.mu.Unlock()
	go t.watch()
	return t, nil
}

// waitTurn waits until no candidate key of t's election was created before
// t's, retrying reads etcd does not answer.
func (se *session) waitTurn(ctx context.Context, t *term) error {
	s := se.s
	area := s.electionArea(t.election)
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-se.done:
			return store.ErrSessionEnded
		case <-t.done:
			return store.ErrSessionEnded
		case <-time.After(wait):
		}
		wait = min(max(2*wait, 100*time.Millisecond), s.timeout)
		// Is t still a candidate, and who campaigned before it?
		rctx, cancel := context.WithTimeout(ctx, s.timeout)
		resp, err := s.cli.Txn(rctx).
			If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.created)).
			Then(clientv3.OpGet(area, clientv3.WithPrefix(), clientv3.WithMaxCreateRev(t.created-1),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(1))).Commit()
		cancel()
		if err != nil {
			if err := se.callErr(ctx, err, "campaign in "+t.election); !errors.Is(err, store.ErrUnavailable) {
				return err
			}
			continue
		}
		if !resp.Succeeded {
			// The key vanished: the lease expired.
			se.end()
			return store.ErrSessionEnded
		}
		prev := resp.Responses[0].GetResponseRange()
		if len(prev.Kvs) == 0 {
			return nil
		}
		// Wait for the candidate before t to go.
		wait = 0
		if err := se.waitDelete(ctx, t, string(prev.Kvs[0].Key), resp.Header.Revision); err != nil {
			return err
		}
	}
}

// waitDelete waits until key is deleted after etcd revision rev, or until
// the watch ends (the caller looks again).
func (se *session) waitDelete(ctx context.Context, t *term, key string, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := se.s.cli.Watch(clientv3.WithRequireLeader(wctx), key, clientv3.WithRev(rev+1), clientv3.WithFilterPut())
	defer func() {
		cancel()
		for range wch {
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-se.done:
			return store.ErrSessionEnded
		case <-t.done:
			return store.ErrSessionEnded
		case resp, ok := <-wch:
			if !ok || resp.Err() != nil || resp.CompactRevision != 0 || resp.Canceled {
				return nil
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete {
					return nil
				}
			}
		}
	}
}

// Leader returns the value of the oldest candidate of election.
func (se *session) Leader(ctx context.Context, election string) ([]byte, error) {
	if err := checkElection(election); err != nil {
		return nil, err
	}
	s := se.s
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	resp, err := s.cli.Get(rctx, s.electionArea(election), clientv3.WithFirstCreate()...)
	if err != nil {
		return nil, s.callErr(ctx, err, "read the leader of "+election)
	}
	if len(resp.Kvs) == 0 {
		return nil, store.ErrNoLeader
	}
	return append([]byte{}, resp.Kvs[0].Value...), nil
}

// term is one term of a session in an election.
type term struct {
	se       *session
	election string
	key      string // the candidate key
	created  int64  // its create revision: the fence
	slot     chan struct{}

	endOnce sync.Once
	done    chan struct{}
	wg      sync.WaitGroup // the watch goroutine
}

// fence is an etcd term carried by a context: Update adds the compare
// CreateRevision(key) == created to its commit.
type fence struct {
	prefix  string
	key     string
	created int64
	done    <-chan struct{}
}

func (f *fence) Done() <-chan struct{} { return f.done }

// Fence returns ctx carrying the term.
func (t *term) Fence(ctx context.Context) context.Context {
	return store.WithFence(ctx, &fence{prefix: t.se.s.prefix, key: t.key, created: t.created, done: t.done})
}

func (t *term) Done() <-chan struct{} { return t.done }

// Resign deletes the term's candidate key (when it is still this term's)
// and ends the term.
func (t *term) Resign(ctx context.Context) error {
	t.end()
	s := t.se.s
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.cli.Txn(rctx).
		If(clientv3.Compare(clientv3.CreateRevision(t.key), "=", t.created)).
		Then(clientv3.OpDelete(t.key)).Commit()
	t.wg.Wait()
	return s.callErr(ctx, err, "resign from "+t.election)
}

// resign ends a term that never led: best effort, bounded.
func (t *term) resign() {
	ctx, cancel := context.WithTimeout(context.Background(), t.se.s.timeout)
	defer cancel()
	_ = t.Resign(ctx)
}

// end ends the term locally: Done closes and the session may campaign in
// the election again.
func (t *term) end() {
	t.endOnce.Do(func() {
		se := t.se
		se.mu.Lock()
		delete(se.terms, t)
		se.mu.Unlock()
		close(t.done)
		if t.slot != nil {
			<-t.slot
		}
	})
}

// watch ends the term when its candidate key is deleted (resigned, or the
// lease expired) or replaced.
func (t *term) watch() {
	defer t.se.wg.Done()
	defer t.wg.Done()
	s := t.se.s
	rev := t.created
	wait := time.Duration(0)
	for {
		select {
		case <-t.done:
			return
		case <-time.After(wait):
		}
		wait = min(max(2*wait, 100*time.Millisecond), s.timeout)
		gone, next, err := t.follow(rev)
		if gone {
			t.end()
			return
		}
		if err == nil && next > rev {
			rev, wait = next, 0
		}
	}
}

// follow watches the candidate key after etcd revision rev. gone reports
// that it no longer holds this term; next is the revision to go on from.
func (t *term) follow(rev int64) (gone bool, next int64, err error) {
	s := t.se.s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-t.done:
		case <-s.closed:
		case <-ctx.Done():
		}
		cancel()
	}()
	wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), t.key, clientv3.WithRev(rev+1))
	defer func() {
		cancel()
		for range wch {
		}
	}()
	for resp := range wch {
		if resp.CompactRevision != 0 || resp.Err() != nil || resp.Canceled {
			break
		}
		for _, ev := range resp.Events {
			if ev.Type == clientv3.EventTypeDelete || ev.Kv.CreateRevision != t.created {
				return true, 0, nil
			}
		}
	}
	if s.isClosed() {
		return true, 0, nil
	}
	// Look at the key itself before watching again.
	rctx, rcancel := context.WithTimeout(ctx, s.timeout)
	defer rcancel()
	resp, err := s.cli.Get(rctx, t.key)
	if err != nil {
		return false, 0, err
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != t.created {
		return true, 0, nil
	}
	return false, resp.Header.Revision, nil
}
