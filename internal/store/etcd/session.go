package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratusdns/stratus/internal/store"
)

var _ store.Shared = (*Store)(nil)

// Session opens node's session: a lease of ttl (rounded up to whole
// seconds; etcd may raise it to its minimum, about 2 s) that the session
// renews every third of it, and the key P+"s/n/<node>" on that lease,
// which makes a second live session of node fail. Closing the Store ends
// its sessions.
func (s *Store) Session(ctx context.Context, node string, ttl time.Duration) (store.Session, error) {
	if node == "" {
		return nil, errors.New("store/etcd: session: empty node name")
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("store/etcd: session of node %q: ttl %v is not positive", node, ttl)
	}
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	secs := int64((ttl + time.Second - 1) / time.Second)
	sent := time.Now()
	gctx, cancel := context.WithTimeout(ctx, s.timeout)
	g, err := s.cli.Grant(gctx, secs)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("store/etcd: session of node %q: grant a lease: %w", node, s.callErr(ctx, err, "grant a lease"))
	}
	se := &session{
		s:         s,
		node:      node,
		lease:     g.ID,
		ttl:       time.Duration(g.TTL) * time.Second,
		nodeKey:   s.prefix + "s/n/" + node,
		done:      make(chan struct{}),
		stop:      make(chan struct{}),
		elections: map[string]chan struct{}{},
		terms:     map[*term]struct{}{},
	}
	se.deadline = sent.Add(se.ttl)
	tctx, cancel := context.WithTimeout(ctx, s.timeout)
	resp, err := s.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.CreateRevision(se.nodeKey), "=", 0)).
		Then(clientv3.OpPut(se.nodeKey, fmt.Sprintf("%016x", int64(g.ID)), clientv3.WithLease(g.ID))).
		Else(clientv3.OpGet(se.nodeKey)).Commit()
	cancel()
	if err == nil && !resp.Succeeded {
		err = fmt.Errorf("store/etcd: node %q has a live session already (lease %s); a session of a stopped node ends within its ttl", node, leaseOf(resp))
	} else if err != nil {
		err = fmt.Errorf("store/etcd: session of node %q: %w", node, s.callErr(ctx, err, "register the node"))
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
		_, _ = s.cli.Revoke(rctx, g.ID)
		cancel()
		return nil, err
	}
	se.wg.Add(1)
	go se.keepAlive()
	return se, nil
}

// leaseOf is the lease of the node key an Else branch read.
func leaseOf(resp *clientv3.TxnResponse) string {
	if len(resp.Responses) == 1 {
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) == 1 {
			return string(r.Kvs[0].Value)
		}
	}
	return "unknown"
}

// session is a store.Session on a Store.
type session struct {
	s       *Store
	node    string
	lease   clientv3.LeaseID
	ttl     time.Duration // as granted
	nodeKey string

	// deadline is when the lease may expire on the servers at the
	// earliest: the send of the last acknowledged renewal plus the ttl.
	// Only keepAlive uses it.
	deadline time.Time

	endOnce sync.Once
	done    chan struct{} // closed when the session has ended
	stop    chan struct{} // closed by Close: keepAlive revokes and returns
	stopped sync.Once
	wg      sync.WaitGroup

	mu sync.Mutex
	// elections holds a 1-buffered channel per election this session
	// campaigns in: a Campaign takes it and its term gives it back.
	elections map[string]chan struct{}
	terms     map[*term]struct{}
}

// renewEvery is how often a session renews its lease, as a part of the
// ttl; retryEvery is how soon it tries again after a failed renewal.
const (
	renewEvery = 3
	retryEvery = 10
)

// keepAlive renews the lease until the session is closed, the lease is
// gone on the servers, or no renewal was acknowledged before the deadline.
// A renewal acknowledged by etcd moves the deadline to the time it was
// sent plus the ttl: the servers renewed after that send, so by this
// node's clock the lease cannot expire before the deadline, and the
// session ends at it at the latest.
func (se *session) keepAlive() {
	defer se.wg.Done()
	s := se.s
	timer := time.NewTimer(se.ttl / renewEvery)
	defer timer.Stop()
	ended := false
	for !ended {
		select {
		case <-se.stop:
			se.end()
			rctx, cancel := context.WithTimeout(context.Background(), s.timeout)
			_, _ = s.cli.Revoke(rctx, se.lease)
			cancel()
			return
		case <-s.closed:
			ended = true
			continue
		case <-timer.C:
		}
		sent := time.Now()
		if !sent.Before(se.deadline) {
			ended = true // not renewed within the ttl
			break
		}
		until := sent.Add(s.timeout)
		if se.deadline.Before(until) {
			until = se.deadline
		}
		ctx, cancel := context.WithDeadline(context.Background(), until)
		resp, err := s.cli.KeepAliveOnce(ctx, se.lease)
		cancel()
		switch {
		case err == nil:
			se.deadline = sent.Add(time.Duration(resp.TTL) * time.Second)
			timer.Reset(se.ttl / renewEvery)
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			ended = true // expired on the servers
		default:
			wait := se.ttl / retryEvery
			if left := time.Until(se.deadline); left < wait {
				wait = max(left, 0)
			}
			timer.Reset(wait)
		}
	}
	se.end()
	// The servers may still hold the lease (renewals lost on the way):
	// give it up so that its keys and terms pass on now. Best effort.
	rctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	_, _ = s.cli.Revoke(rctx, se.lease)
	cancel()
}

// end marks the session ended: Done closes and every term ends.
func (se *session) end() {
	se.endOnce.Do(func() {
		se.mu.Lock()
		close(se.done)
		terms := make([]*term, 0, len(se.terms))
		for t := range se.terms {
			terms = append(terms, t)
		}
		se.mu.Unlock()
		for _, t := range terms {
			t.end()
		}
	})
}

func (se *session) ended() bool {
	select {
	case <-se.done:
		return true
	default:
		return false
	}
}

func (se *session) Node() string          { return se.node }
func (se *session) Done() <-chan struct{} { return se.done }

// Close ends the session and revokes its lease: its keys and its terms'
// election keys vanish from etcd. It returns once the revocation was
// answered or the request timeout passed (the lease then expires within
// its ttl).
func (se *session) Close() error {
	se.stopped.Do(func() { close(se.stop) })
	se.wg.Wait()
	return nil
}

// call bounds one request on behalf of the session by the request timeout
// and maps its error; a lease etcd no longer knows ends the session.
func (se *session) callErr(ctx context.Context, err error, what string) error {
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		se.end()
		return fmt.Errorf("store/etcd: %s: lease of node %q expired: %w", what, se.node, store.ErrSessionEnded)
	}
	return se.s.callErr(ctx, err, what)
}

// ephemeral is the etcd key of the ephemeral key k.
func (se *session) ephemeral(k string) string { return se.s.prefix + "s/e/" + k }

// Put stores an ephemeral key on the session's lease.
func (se *session) Put(ctx context.Context, key string, value []byte) error {
	if key == "" {
		return store.ErrEmptyKey
	}
	if se.ended() {
		return store.ErrSessionEnded
	}
	rctx, cancel := context.WithTimeout(ctx, se.s.timeout)
	defer cancel()
	_, err := se.s.cli.Put(rctx, se.ephemeral(key), string(value), clientv3.WithLease(se.lease))
	return se.callErr(ctx, err, "put ephemeral key "+key)
}

// Delete removes an ephemeral key of this session.
func (se *session) Delete(ctx context.Context, key string) error {
	if key == "" {
		return store.ErrEmptyKey
	}
	if se.ended() {
		return store.ErrSessionEnded
	}
	k := se.ephemeral(key)
	rctx, cancel := context.WithTimeout(ctx, se.s.timeout)
	defer cancel()
	resp, err := se.s.cli.Txn(rctx).
		If(clientv3.Compare(clientv3.LeaseValue(k), "=", se.lease)).
		Then(clientv3.OpDelete(k)).
		Else(clientv3.OpGet(k)).Commit()
	if err != nil {
		return se.callErr(ctx, err, "delete ephemeral key "+key)
	}
	if !resp.Succeeded {
		if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) == 1 {
			return fmt.Errorf("store/etcd: delete ephemeral key %q: it belongs to another session (lease %016x), not node %q's", key, r.Kvs[0].Lease, se.node)
		}
	}
	return nil
}

// maxApplyOps is the most events one Apply transaction carries. etcd's
// --max-txn-ops (default 128) bounds the operations of a transaction and
// counts a delete's nested transaction (its ownership compare) against
// what the outer one leaves: 127 events and their nested operations fit.
const maxApplyOps = 127

// maxApplyBytes bounds the keys and values one Apply transaction carries,
// below etcd's default --max-request-bytes (1.5 MiB) with room for the
// framing of its operations (applyOpBytes each, an estimate on the high
// side).
const (
	maxApplyBytes = 1 << 20
	applyOpBytes  = 64
)

// applyChunks splits evs into the events of successive Apply
// transactions, each within maxApplyOps and (unless one event alone
// exceeds it) maxApplyBytes.
func applyChunks(evs []store.Event) [][]store.Event {
	var chunks [][]store.Event
	start, size := 0, 0
	for i, e := range evs {
		n := applySize(e)
		if i > start && (i-start == maxApplyOps || size+n > maxApplyBytes) {
			chunks = append(chunks, evs[start:i])
			start, size = i, 0
		}
		size += n
	}
	if start < len(evs) {
		chunks = append(chunks, evs[start:])
	}
	return chunks
}

// applySize estimates the bytes e takes in an Apply transaction: a put
// its key and value, a delete its key thrice (compare, delete, get).
func applySize(e store.Event) int {
	if e.Deleted {
		return 3*len(e.Key) + applyOpBytes
	}
	return len(e.Key) + len(e.Value) + applyOpBytes
}

// Apply writes the events in etcd transactions of up to maxApplyOps
// events, one after another: a put on the session's lease, a delete in a
// nested transaction that deletes the key only while it is on the
// session's lease and otherwise reads it (to name its owner).
func (se *session) Apply(ctx context.Context, events []store.Event) error {
	evs, err := store.LastEvents(events)
	if err != nil {
		return fmt.Errorf("store/etcd: apply of %d ephemeral keys: %w", len(events), err)
	}
	if se.ended() {
		return store.ErrSessionEnded
	}
	var refused []string
	done := 0
	for _, chunk := range applyChunks(evs) {
		ops := make([]clientv3.Op, len(chunk))
		size := 0
		for i, e := range chunk {
			k := se.ephemeral(e.Key)
			size += applySize(e)
			if e.Deleted {
				ops[i] = clientv3.OpTxn(
					[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(k), "=", se.lease)},
					[]clientv3.Op{clientv3.OpDelete(k)},
					[]clientv3.Op{clientv3.OpGet(k, clientv3.WithKeysOnly())})
			} else {
				ops[i] = clientv3.OpPut(k, string(e.Value), clientv3.WithLease(se.lease))
			}
		}
		rctx, cancel := context.WithTimeout(ctx, se.s.timeout)
		resp, err := se.s.cli.Txn(rctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return se.applyError(ctx, len(evs), done, len(chunk), size, err)
		}
		for i, e := range chunk {
			r := resp.Responses[i].GetResponseTxn()
			if !e.Deleted || r == nil || r.Succeeded || len(r.Responses) != 1 {
				continue
			}
			if rr := r.Responses[0].GetResponseRange(); rr != nil && len(rr.Kvs) == 1 {
				refused = append(refused, fmt.Sprintf("%q (lease %016x)", e.Key, rr.Kvs[0].Lease))
			}
		}
		done += len(chunk)
	}
	if len(refused) > 0 {
		return fmt.Errorf("store/etcd: apply of %d ephemeral keys: delete of %s refused: the keys belong to other sessions, not node %q's", len(evs), strings.Join(refused, ", "), se.node)
	}
	return nil
}

// applyError explains a failed Apply transaction of n events (about size
// bytes) after done of keys events were written; when an etcd limit
// refused it, the error names the limit and the etcd flag that raises it.
func (se *session) applyError(ctx context.Context, keys, done, n, size int, err error) error {
	what := fmt.Sprintf("apply of %d ephemeral keys (%d written before)", keys, done)
	switch {
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return fmt.Errorf("store/etcd: %s: %d operations in one etcd transaction exceed the etcd servers' --max-txn-ops (default 128, and at least %d is needed); raise it on every etcd member: %w",
			what, n, maxApplyOps+1, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge) || status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("store/etcd: %s: a request of about %d bytes exceeds the etcd servers' --max-request-bytes (default 1.5 MiB); raise it on every etcd member: %w",
			what, size, err)
	}
	return se.callErr(ctx, err, what)
}

// List returns the live ephemeral keys under prefix, in key order, each
// with its owner: the node whose session key (s/n/<node>) is on the
// key's lease.
func (se *session) List(ctx context.Context, prefix string) ([]store.Event, error) {
	evs, _, _, err := se.list(ctx, prefix)
	return evs, err
}

// owners maps the lease of each live session to its node.
type owners map[clientv3.LeaseID]string

// add takes the session keys kvs (under P+"s/n/").
func (o owners) add(nodes string, kvs []*mvccpb.KeyValue) {
	for _, kv := range kvs {
		if kv.Lease != 0 {
			o[clientv3.LeaseID(kv.Lease)] = strings.TrimPrefix(string(kv.Key), nodes)
		}
	}
}

// list reads the ephemeral keys under prefix, the live sessions' leases
// and the etcd revision read, all at one revision.
func (se *session) list(ctx context.Context, prefix string) ([]store.Event, owners, int64, error) {
	area, nodes := se.ephemeral(""), se.s.prefix+"s/n/"
	rctx, cancel := context.WithTimeout(ctx, se.s.timeout)
	defer cancel()
	resp, err := se.s.cli.Txn(rctx).Then(
		clientv3.OpGet(area+prefix, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)),
		clientv3.OpGet(nodes, clientv3.WithPrefix()),
	).Commit()
	if err != nil {
		return nil, nil, 0, se.s.callErr(ctx, err, "list ephemeral keys")
	}
	own := owners{}
	own.add(nodes, resp.Responses[1].GetResponseRange().Kvs)
	kvs := resp.Responses[0].GetResponseRange().Kvs
	evs := make([]store.Event, 0, len(kvs))
	for _, kv := range kvs {
		evs = append(evs, store.Event{Key: strings.TrimPrefix(string(kv.Key), area), Value: append([]byte{}, kv.Value...), Owner: own[clientv3.LeaseID(kv.Lease)]})
	}
	return evs, own, resp.Header.Revision, nil
}

// ownerOf returns the node whose session holds lease, reading the live
// sessions again when lease is not one of own (a session begun since).
func (se *session) ownerOf(ctx context.Context, own owners, lease int64) string {
	if lease == 0 {
		return ""
	}
	if n, ok := own[clientv3.LeaseID(lease)]; ok {
		return n
	}
	nodes := se.s.prefix + "s/n/"
	rctx, cancel := context.WithTimeout(ctx, se.s.timeout)
	defer cancel()
	if resp, err := se.s.cli.Get(rctx, nodes, clientv3.WithPrefix()); err == nil {
		own.add(nodes, resp.Kvs)
	}
	return own[clientv3.LeaseID(lease)]
}

// afterEphemeralLoad, when set by a test, runs after WatchEphemeral read
// the keys and before it starts the etcd watch.
var afterEphemeralLoad func()

// WatchEphemeral calls fn with the ephemeral keys under prefix: a Reset
// batch, then each etcd watch response's changes. A compacted or
// cancelled watch, or one that ends, starts over with a Reset batch.
func (se *session) WatchEphemeral(ctx context.Context, prefix string, fn func(store.EphemeralBatch) error) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-se.done:
		case <-se.s.closed:
		case <-wctx.Done():
		}
		cancel()
	}()
	area := se.ephemeral("")
	backoff := time.Duration(0)
	for {
		if se.s.isClosed() {
			return store.ErrClosed
		}
		if se.ended() {
			return store.ErrSessionEnded
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-wctx.Done():
				continue
			}
		}
		evs, own, rev, err := se.list(wctx, prefix)
		if err != nil {
			// Unreachable: wait and load again; the session ends
			// within its ttl if that lasts.
			backoff = min(max(2*backoff, 100*time.Millisecond), se.s.timeout)
			continue
		}
		backoff = 0
		if afterEphemeralLoad != nil {
			afterEphemeralLoad()
		}
		if err := fn(store.EphemeralBatch{Reset: true, Events: evs}); err != nil {
			return err
		}
		err = se.follow(wctx, area, prefix, rev, own, fn)
		if err != nil {
			return err
		}
		if wctx.Err() == nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), se.s.timeout)
		}
	}
}

// follow runs one etcd watch of the ephemeral keys under prefix after etcd
// revision rev, handing fn each response's changes, with the owners of
// the keys put (own: the live sessions' leases as list read them). It returns nil when
// the watch ended (compacted, cancelled, wctx done) and fn's error.
func (se *session) follow(wctx context.Context, area, prefix string, rev int64, own owners, fn func(store.EphemeralBatch) error) error {
	ctx, cancel := context.WithCancel(wctx)
	defer cancel()
	wch := se.s.cli.Watch(clientv3.WithRequireLeader(ctx), area+prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	defer func() {
		cancel()
		for range wch {
		}
	}()
	for resp := range wch {
		if resp.CompactRevision != 0 || resp.Err() != nil || resp.Canceled {
			return nil
		}
		b := store.EphemeralBatch{Events: make([]store.Event, 0, len(resp.Events))}
		for _, ev := range resp.Events {
			e := store.Event{Key: strings.TrimPrefix(string(ev.Kv.Key), area)}
			if ev.Type == clientv3.EventTypeDelete {
				e.Deleted = true
			} else {
				e.Value = append([]byte{}, ev.Kv.Value...)
				e.Owner = se.ownerOf(ctx, own, ev.Kv.Lease)
			}
			b.Events = append(b.Events, e)
		}
		if len(b.Events) == 0 {
			continue
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}
