package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stratusdns/stratus/internal/store"
)

var errTxDone = errors.New("store/etcd: transaction used after it ended")

// scanPage is how many keys one Range of a Scan reads.
const scanPage = 512

// readTx reads the store at one etcd revision.
type readTx struct {
	s       *Store
	ctx     context.Context
	rev     store.Revision
	etcdRev int64
	done    bool
}

func (r *readTx) Revision() store.Revision { return r.rev }

// getBase reads key at the snapshot: value (non-nil when found), found,
// and its mod revision (0 when missing).
func (r *readTx) getBase(key string) ([]byte, bool, int64, error) {
	resp, err := r.s.get(r.ctx, r.s.data+key, clientv3.WithRev(r.etcdRev))
	if err != nil {
		return nil, false, 0, err
	}
	if len(resp.Kvs) == 0 {
		return nil, false, 0, nil
	}
	kv := resp.Kvs[0]
	v := kv.Value
	if v == nil {
		v = []byte{}
	}
	return v, true, kv.ModRevision, nil
}

func (r *readTx) Get(key string) ([]byte, bool, error) {
	if r.done {
		return nil, false, errTxDone
	}
	v, ok, _, err := r.getBase(key)
	return v, ok, err
}

// getManyPage is how many keys one Txn of a GetMany reads: etcd's
// default --max-txn-ops (128) bounds a Txn's operations.
const getManyPage = 128

// getManyBase reads keys at the snapshot in one read-only Txn (one
// round trip) per getManyPage keys: values (non-nil when found), found,
// and mod revisions (0 when missing).
func (r *readTx) getManyBase(keys []string) ([][]byte, []bool, []int64, error) {
	values, found, mods := make([][]byte, len(keys)), make([]bool, len(keys)), make([]int64, len(keys))
	for lo := 0; lo < len(keys); lo += getManyPage {
		hi := min(lo+getManyPage, len(keys))
		ops := make([]clientv3.Op, 0, hi-lo)
		for _, k := range keys[lo:hi] {
			ops = append(ops, clientv3.OpGet(r.s.data+k, clientv3.WithRev(r.etcdRev)))
		}
		tctx, cancel := context.WithTimeout(r.ctx, r.s.timeout)
		resp, err := r.s.cli.Txn(tctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			return nil, nil, nil, r.s.callErr(r.ctx, err, "read")
		}
		if len(resp.Responses) != hi-lo {
			return nil, nil, nil, fmt.Errorf("store/etcd: read of %d keys: %d answers", hi-lo, len(resp.Responses))
		}
		for i, op := range resp.Responses {
			rng := op.GetResponseRange()
			if rng == nil {
				return nil, nil, nil, fmt.Errorf("store/etcd: read of %d keys: answer %d is not a read", hi-lo, i)
			}
			if len(rng.Kvs) == 0 {
				continue
			}
			kv := rng.Kvs[0]
			v := kv.Value
			if v == nil {
				v = []byte{}
			}
			values[lo+i], found[lo+i], mods[lo+i] = v, true, kv.ModRevision
		}
	}
	return values, found, mods, nil
}

// GetMany reads keys in one round trip (store.GetManyTx).
func (r *readTx) GetMany(keys []string) ([][]byte, []bool, error) {
	if r.done {
		return nil, nil, errTxDone
	}
	values, found, _, err := r.getManyBase(keys)
	return values, found, err
}

// basePage reads up to scanPage keys with prefix that sort after after, at
// the snapshot. more reports that keys may remain.
func (r *readTx) basePage(prefix, after string, keysOnly bool) (keys []string, vals [][]byte, more bool, err error) {
	from := r.s.data + prefix
	if after != "" {
		from = r.s.data + after + "\x00"
	}
	end := clientv3.GetPrefixRangeEnd(r.s.data + prefix)
	opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithRev(r.etcdRev), clientv3.WithLimit(scanPage), clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend)}
	if keysOnly {
		opts = append(opts, clientv3.WithKeysOnly())
	}
	resp, err := r.s.get(r.ctx, from, opts...)
	if err != nil {
		return nil, nil, false, err
	}
	for _, kv := range resp.Kvs {
		keys = append(keys, strings.TrimPrefix(string(kv.Key), r.s.data))
		v := kv.Value
		if v == nil {
			v = []byte{}
		}
		vals = append(vals, v)
	}
	return keys, vals, resp.More, nil
}

// startAfter is where a Scan(prefix, start) begins: keys after the result.
func startAfter(prefix, start string) string {
	if start > prefix || (start != "" && start == prefix) {
		return start
	}
	return ""
}

func (r *readTx) Scan(prefix, start string, fn func(key string, value []byte) error) error {
	if r.done {
		return errTxDone
	}
	after := startAfter(prefix, start)
	for {
		keys, vals, more, err := r.basePage(prefix, after, false)
		if err != nil {
			return err
		}
		for i, k := range keys {
			if err := fn(k, vals[i]); err != nil {
				if errors.Is(err, store.ErrStopScan) {
					return nil
				}
				return err
			}
		}
		if !more || len(keys) == 0 {
			return nil
		}
		after = keys[len(keys)-1]
	}
}

func (r *readTx) Count(prefix string) (int, error) {
	if r.done {
		return 0, errTxDone
	}
	resp, err := r.s.get(r.ctx, r.s.data+prefix, clientv3.WithPrefix(), clientv3.WithRev(r.etcdRev), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return int(resp.Count), nil
}

// write is the buffered final state of a key written in a writeTx.
type write struct {
	value   []byte
	deleted bool
	// existed reports that the key exists at the snapshot; known only
	// for deleted keys (a delete of a key that never existed is no change).
	existed bool
}

// writeTx buffers writes over a readTx and records what it read.
type writeTx struct {
	readTx
	writes map[string]*write
	order  []string         // keys in first-change order
	reads  map[string]int64 // key -> mod revision seen (0: missing)
	// ranges are the key ranges Scan and Count read, dirs the marker
	// directories that cover them (see markerDir).
	ranges []keyRange
	dirs   map[string]bool
	// wide is set when a range held more than maxRangeKeys keys: the
	// commit then compares the meta key instead.
	wide    bool
	metaMod int64  // the meta key's mod revision at the snapshot
	fence   *fence // the term the commit must still be in, or nil
}

// keyRange is a range [from, end) of etcd keys a Scan or Count read, and
// how many keys it held.
type keyRange struct {
	from, end string
	keys      int
}

// maxKeyCompares is the most compares a commit spends (one per key read,
// per range read and per marker directory); an Update that needs more
// compares the meta key alone, so its compares never count against
// etcd's --max-txn-ops.
const maxKeyCompares = 64

// maxRangeKeys is the most keys a range compare may cover: etcd reads
// every key of the range, values included, to apply it, in its one apply
// loop. An Update that read a larger range compares the meta key.
const maxRangeKeys = 1000

// markerDepth is how many levels of directories have deletion markers.
const markerDepth = 2

// markerDir is the directory whose deletion marker covers the keys with
// prefix: the longest part of prefix ending in "/" with at most
// markerDepth slashes ("" for the root).
func markerDir(prefix string) string {
	end := 0
	for i := 0; i < len(prefix); i++ {
		if prefix[i] == '/' {
			end = i + 1
			if strings.Count(prefix[:end], "/") == markerDepth {
				break
			}
		}
	}
	return prefix[:end]
}

// markerDirs returns the directories whose markers a delete of key
// moves: the root and every directory of key down to markerDepth,
// key itself when it ends in "/". Every markerDir(P) of a prefix P of
// key is among them.
func markerDirs(key string) []string {
	dirs := []string{""}
	for i := 0; i < len(key) && len(dirs) <= markerDepth; i++ {
		if key[i] == '/' {
			dirs = append(dirs, key[:i+1])
		}
	}
	return dirs
}

func (w *writeTx) Get(key string) ([]byte, bool, error) {
	if w.done {
		return nil, false, errTxDone
	}
	if wr, ok := w.writes[key]; ok {
		if wr.deleted {
			return nil, false, nil
		}
		return wr.value, true, nil
	}
	v, ok, mod, err := w.getBase(key)
	if err != nil {
		return nil, false, err
	}
	w.reads[key] = mod
	return v, ok, nil
}

// GetMany reads the keys the transaction has not written in one round
// trip and records each of them in the read set, as Get does.
func (w *writeTx) GetMany(keys []string) ([][]byte, []bool, error) {
	if w.done {
		return nil, nil, errTxDone
	}
	values, found := make([][]byte, len(keys)), make([]bool, len(keys))
	var base []string
	var at []int
	for i, k := range keys {
		if wr, ok := w.writes[k]; ok {
			if !wr.deleted {
				values[i], found[i] = wr.value, true
			}
			continue
		}
		base = append(base, k)
		at = append(at, i)
	}
	if len(base) == 0 {
		return values, found, nil
	}
	bv, bf, mods, err := w.getManyBase(base)
	if err != nil {
		return nil, nil, err
	}
	for j, k := range base {
		values[at[j]], found[at[j]] = bv[j], bf[j]
		w.reads[k] = mods[j]
	}
	return values, found, nil
}

func (w *writeTx) Put(key string, value []byte) error {
	if w.done {
		return errTxDone
	}
	if key == "" {
		return store.ErrEmptyKey
	}
	wr, ok := w.writes[key]
	if !ok {
		wr = &write{}
		w.writes[key] = wr
		w.order = append(w.order, key)
	}
	wr.value = append(make([]byte, 0, len(value)), value...)
	wr.deleted = false
	return nil
}

func (w *writeTx) Delete(key string) error {
	if w.done {
		return errTxDone
	}
	if key == "" {
		return store.ErrEmptyKey
	}
	wr, ok := w.writes[key]
	if !ok {
		_, existed, mod, err := w.getBase(key)
		if err != nil {
			return err
		}
		w.reads[key] = mod
		wr = &write{existed: existed}
		w.writes[key] = wr
		w.order = append(w.order, key)
	} else if !wr.deleted && !wr.existed {
		// Put earlier in this transaction: whether the delete is a
		// change depends on the snapshot.
		_, existed, mod, err := w.getBase(key)
		if err != nil {
			return err
		}
		w.reads[key] = mod
		wr.existed = existed
	}
	wr.value, wr.deleted = nil, true
	return nil
}

// overlay returns the buffered keys with prefix that sort after after and
// not after upto ("" means no upper bound), sorted.
func (w *writeTx) overlay(prefix, after, upto string) []string {
	var ks []string
	for k := range w.writes {
		if strings.HasPrefix(k, prefix) && k > after && (upto == "" || k <= upto) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// Scan merges the snapshot with the buffered writes. The callback may write
// to the key it was given.
func (w *writeTx) Scan(prefix, start string, fn func(key string, value []byte) error) error {
	if w.done {
		return errTxDone
	}
	return w.scan(prefix, start, false, fn)
}

// scan is Scan, reading keys only when keysOnly is set, and records the
// range it read: up to the last key fn was given when fn stopped it.
func (w *writeTx) scan(prefix, start string, keysOnly bool, fn func(key string, value []byte) error) error {
	after := startAfter(prefix, start)
	r := keyRange{from: w.s.data + prefix, end: clientv3.GetPrefixRangeEnd(w.s.data + prefix)}
	if after != "" {
		r.from = w.s.data + after + "\x00"
	}
	w.dirs[markerDir(prefix)] = true
	defer func() { w.readRange(r) }()
	for {
		keys, vals, more, err := w.basePage(prefix, after, keysOnly)
		if err != nil {
			return err
		}
		upto := ""
		if more && len(keys) > 0 {
			upto = keys[len(keys)-1]
		}
		base := make(map[string][]byte, len(keys))
		for i, k := range keys {
			base[k] = vals[i]
		}
		merged := append(slices.Clone(keys), w.overlay(prefix, after, upto)...)
		slices.Sort(merged)
		merged = slices.Compact(merged)
		for _, k := range merged {
			v, ok := base[k]
			if ok {
				r.keys++
			}
			if wr, buffered := w.writes[k]; buffered {
				v, ok = wr.value, !wr.deleted
			}
			if !ok {
				continue
			}
			if err := fn(k, v); err != nil {
				if errors.Is(err, store.ErrStopScan) {
					r.end = w.s.data + k + "\x00"
					return nil
				}
				return err
			}
		}
		if upto == "" {
			return nil
		}
		after = upto
	}
}

// readRange records that the transaction read r.
func (w *writeTx) readRange(r keyRange) {
	if r.keys > maxRangeKeys {
		w.wide = true
	}
	w.ranges = append(w.ranges, r)
}

func (w *writeTx) Count(prefix string) (int, error) {
	if w.done {
		return 0, errTxDone
	}
	if len(w.overlay(prefix, "", "")) > 0 {
		n := 0
		err := w.scan(prefix, "", true, func(string, []byte) error { n++; return nil })
		return n, err
	}
	n, err := w.readTx.Count(prefix)
	if err != nil {
		return 0, err
	}
	w.dirs[markerDir(prefix)] = true
	w.readRange(keyRange{from: w.s.data + prefix, end: clientv3.GetPrefixRangeEnd(w.s.data + prefix), keys: n})
	return n, nil
}

// commit sends the buffered writes as one Txn. ok is false when a read
// changed since the snapshot (the caller runs fn again). A transaction
// without changes commits nothing and returns the snapshot's revision.
//
// A delete also puts the deletion markers of the key's directories
// (markerDirs), so that a range read finds the deletion (compares).
func (w *writeTx) commit() (rev store.Revision, ok bool, err error) {
	var ops []clientv3.Op
	size := 0
	marked := map[string]bool{}
	var marks []string
	for _, k := range w.order {
		wr := w.writes[k]
		switch {
		case !wr.deleted:
			ops = append(ops, clientv3.OpPut(w.s.data+k, string(wr.value)))
			size += len(w.s.data) + len(k) + len(wr.value)
		case wr.existed:
			ops = append(ops, clientv3.OpDelete(w.s.data+k))
			size += len(w.s.data) + len(k)
			for _, d := range markerDirs(k) {
				if !marked[d] {
					marked[d] = true
					marks = append(marks, d)
				}
			}
		}
	}
	if len(ops) == 0 {
		return w.rev, true, nil
	}
	keys := len(ops)
	for _, d := range marks {
		ops = append(ops, clientv3.OpPut(w.s.marks+d, ""))
		size += len(w.s.marks) + len(d)
	}
	ops = append(ops, clientv3.OpPut(w.s.meta, ""), clientv3.OpGet(w.s.meta))
	cmps, csize := w.compares()
	size += csize
	var orElse []clientv3.Op
	if f := w.fence; f != nil {
		// The Else branch reads the fence key at the same revision, so
		// a failed If tells a deposed term from a changed read set.
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.created))
		orElse = append(orElse, clientv3.OpGet(f.key, clientv3.WithKeysOnly()))
		size += len(f.key)
	}
	tctx, cancel := context.WithTimeout(w.ctx, w.s.timeout)
	resp, err := w.s.cli.Txn(tctx).If(cmps...).Then(ops...).Else(orElse...).Commit()
	cancel()
	if err != nil {
		return 0, false, w.s.commitError(keys, len(ops), len(cmps), size, w.s.callErr(w.ctx, err, "commit"))
	}
	if !resp.Succeeded {
		if f := w.fence; f != nil {
			r := resp.Responses[0].GetResponseRange()
			if r == nil || len(r.Kvs) == 0 || r.Kvs[0].CreateRevision != f.created {
				return 0, false, store.ErrFenced
			}
		}
		return 0, false, nil
	}
	get := resp.Responses[len(resp.Responses)-1].GetResponseRange()
	if get == nil || len(get.Kvs) != 1 {
		return 0, false, errors.New("store/etcd: commit: no revision read back")
	}
	w.s.remember(get.Kvs[0].Version, resp.Header.Revision)
	return get.Kvs[0].Version, true, nil
}

// compares returns the Txn's If, and the bytes of keys it names: that
// nothing fn read changed since the snapshot (etcd revision B).
//
//   - A key read: its mod revision is the one read (0: still missing).
//   - A range read (Scan, Count): every key in it has a mod revision of
//     at most B, which catches keys changed and keys added (an empty
//     range compares as one key of mod revision 0); and the deletion
//     marker of the directory covering it (markerDir) too, as a key
//     deleted from the range leaves nothing in it to compare.
//
// When that takes more than maxKeyCompares compares, or a range held
// more than maxRangeKeys keys, the meta key's mod revision alone is
// compared: every commit changes it, so it covers every read at the
// price of conflicting with any concurrent commit.
func (w *writeTx) compares() (cmps []clientv3.Cmp, size int) {
	ranges := mergeRanges(w.ranges)
	wide := w.wide
	for _, r := range ranges {
		wide = wide || r.keys > maxRangeKeys
	}
	if wide || len(w.reads)+len(ranges)+len(w.dirs) > maxKeyCompares {
		return []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(w.s.meta), "=", w.metaMod)}, len(w.s.meta)
	}
	for k, mod := range w.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.s.data+k), "=", mod))
		size += len(w.s.data) + len(k)
	}
	below := w.etcdRev + 1
	for _, r := range ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.from), "<", below).WithRange(r.end))
		size += len(r.from) + len(r.end)
	}
	for d := range w.dirs {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(w.s.marks+d), "<", below))
		size += len(w.s.marks) + len(d)
	}
	return cmps, size
}

// mergeRanges returns the union of rs as disjoint ranges in key order; a
// merged range's keys is the sum of its parts' (at least the keys in it).
func mergeRanges(rs []keyRange) []keyRange {
	if len(rs) == 0 {
		return nil
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b keyRange) int { return strings.Compare(a.from, b.from) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r.from <= last.end {
			last.end = max(last.end, r.end)
			last.keys += r.keys
			continue
		}
		out = append(out, r)
	}
	return out
}

// commitError explains a failed commit of keys changed keys (ops
// operations, cmps compares, about size bytes of keys and values); when an
// etcd limit refused it, the error names the limit and the etcd flag that
// raises it.
func (s *Store) commitError(keys, ops, cmps, size int, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrPermissionDenied):
		return fmt.Errorf("store/etcd: commit of %d keys: etcd user %q may not write under the prefix %q: grant it a role with readwrite permission on the prefix: %w",
			keys, s.user, s.prefix, err)
	case errors.Is(err, rpctypes.ErrTooManyOps):
		return fmt.Errorf("store/etcd: commit of %d keys: %d operations and %d compares in one etcd transaction exceed the etcd servers' --max-txn-ops (default 128); raise it on every etcd member: %w",
			keys, ops, cmps, err)
	case errors.Is(err, rpctypes.ErrRequestTooLarge) || status.Code(err) == codes.ResourceExhausted:
		return fmt.Errorf("store/etcd: commit of %d keys: a request of about %d bytes exceeds the etcd servers' --max-request-bytes (default 1.5 MiB); raise it on every etcd member: %w",
			keys, size, err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		// One etcd transaction: all of it or none of it, but which one
		// is not known when etcd did not answer.
		return fmt.Errorf("store/etcd: commit of %d keys (applied whole or not at all; read before retrying): %w", keys, err)
	}
	return fmt.Errorf("store/etcd: commit of %d keys: %w", keys, err)
}
