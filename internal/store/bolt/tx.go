package bolt

import (
	"bytes"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/stratusdns/stratus/internal/store"
)

// readTx implements store.ReadTx on a bbolt transaction.
type readTx struct {
	data *bbolt.Bucket
	rev  store.Revision

	// mutations counts the writes made so far; Scan repositions its cursor
	// when the callback wrote to the transaction.
	mutations int
	done      bool
}

var _ store.ReadTx = (*readTx)(nil)

// newReadTx prepares a read transaction over btx.
func newReadTx(btx *bbolt.Tx) (*readTx, error) {
	data, meta := btx.Bucket(dataBucket), btx.Bucket(metaBucket)
	if data == nil || meta == nil {
		return nil, errors.New("missing bucket: not a Stratus store file")
	}
	rev, err := readRevision(meta)
	if err != nil {
		return nil, err
	}
	return &readTx{data: data, rev: rev}, nil
}

// end marks the transaction finished; later calls fail.
func (r *readTx) end() { r.done = true }

// Revision returns the revision the transaction reads (for a write
// transaction, the revision it started from).
func (r *readTx) Revision() store.Revision { return r.rev }

// Get returns the value at key. An empty stored value is returned as a
// non-nil empty slice.
func (r *readTx) Get(key string) ([]byte, bool, error) {
	if r.done {
		return nil, false, errTxDone
	}
	if key == "" {
		return nil, false, nil
	}
	k, v := r.data.Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, false, nil
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// Scan visits the keys with prefix that sort after start. When fn writes to
// the transaction, the cursor is repositioned after the key just visited, so
// deleting or rewriting keys while scanning visits every key once.
func (r *readTx) Scan(prefix, start string, fn func(key string, value []byte) error) error {
	if r.done {
		return errTxDone
	}
	seek := prefix
	if start > prefix {
		seek = start
	}
	p := []byte(prefix)
	c := r.data.Cursor()
	for k, v := c.Seek([]byte(seek)); k != nil && bytes.HasPrefix(k, p); {
		key := string(k)
		if key == start {
			k, v = c.Next()
			continue
		}
		if v == nil {
			v = []byte{}
		}
		before := r.mutations
		if err := fn(key, v); err != nil {
			if errors.Is(err, store.ErrStopScan) {
				return nil
			}
			return err
		}
		if r.done {
			return errTxDone
		}
		if r.mutations == before {
			k, v = c.Next()
			continue
		}
		k, v = c.Seek([]byte(key))
		if k != nil && string(k) == key {
			k, v = c.Next()
		}
	}
	return nil
}

// Count counts the keys with prefix.
func (r *readTx) Count(prefix string) (int, error) {
	if r.done {
		return 0, errTxDone
	}
	p := []byte(prefix)
	n := 0
	c := r.data.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		n++
	}
	return n, nil
}

// writeTx implements store.Tx and records the transaction's changes.
type writeTx struct {
	readTx
	events []store.Event  // first-change order, final state
	index  map[string]int // key -> position in events
}

var _ store.Tx = (*writeTx)(nil)

// Put stores a copy of value at key.
func (w *writeTx) Put(key string, value []byte) error {
	if w.done {
		return errTxDone
	}
	if key == "" {
		return store.ErrEmptyKey
	}
	// bbolt needs the value to stay unchanged until commit, and the watch
	// history keeps it afterwards: one private copy serves both.
	v := make([]byte, len(value))
	copy(v, value)
	if err := w.data.Put([]byte(key), v); err != nil {
		return fmt.Errorf("store/bolt: put %.64q: %w", key, err)
	}
	w.record(store.Event{Key: key, Value: v})
	return nil
}

// Delete removes key. Deleting a missing key changes nothing and is not
// recorded.
func (w *writeTx) Delete(key string) error {
	if w.done {
		return errTxDone
	}
	if key == "" {
		return store.ErrEmptyKey
	}
	if _, ok, err := w.Get(key); err != nil || !ok {
		return err
	}
	if err := w.data.Delete([]byte(key)); err != nil {
		return fmt.Errorf("store/bolt: delete %.64q: %w", key, err)
	}
	w.record(store.Event{Key: key, Deleted: true})
	return nil
}

// record notes a change of e.Key, keeping the key's first position.
func (w *writeTx) record(e store.Event) {
	w.mutations++
	if i, ok := w.index[e.Key]; ok {
		w.events[i] = e
		return
	}
	if w.index == nil {
		w.index = make(map[string]int)
	}
	w.index[e.Key] = len(w.events)
	w.events = append(w.events, e)
}
