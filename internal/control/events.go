package control

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Health events, kept so that what happened before a restart (or a crash)
// can still be shown, and so that their sequence numbers go on:
//
//	events/<seq:016x>          one health event (schema.StoredEvent)
//	events/<node>/<seq:016x>   one health event of a node of a cluster
//
// A node alone on its store (bbolt) uses the first form. The nodes of a
// cluster (on etcd) each number their own events, so each keeps them under
// its own name: two writers never contend for one sequence.
//
// They are not zone data: writing them moves no serial and adds no
// journal entry. The health checker logs events in memory; an EventLog
// writes them in batches (see steerctl.Options.Events), keeping the newest
// up to a count and a size in bytes.

// Defaults of EventLimits.
const (
	DefaultEventCount = 10000
	DefaultEventBytes = 4 << 20
)

// EventLimits bound the events kept in the store; the oldest go first.
type EventLimits struct {
	Count int // events (default 10000)
	Bytes int // octets of their stored values (default 4 MiB)
}

func (l EventLimits) withDefaults() EventLimits {
	if l.Count <= 0 {
		l.Count = DefaultEventCount
	}
	if l.Bytes <= 0 {
		l.Bytes = DefaultEventBytes
	}
	return l
}

// StoredEvent is a health event as kept in the store
// (schema.StoredEvent): a change of an endpoint's or pool's state, with
// its reason and actor.
type StoredEvent = schema.StoredEvent

// EventLog keeps health events in the store, bounded. One EventLog
// writes a store's events (or one node's): it knows what it has written
// and never scans them again.
type EventLog struct {
	st     store.Store
	lim    EventLimits
	prefix string // schema.EventPrefix of the node

	mu    sync.Mutex
	kept  []keptEvent // oldest first
	bytes int         // sum of kept sizes
}

type keptEvent struct {
	seq  uint64
	size int
}

// OpenEventLog reads the events kept in st, oldest first, and returns
// the log that appends to them. Events beyond lim (after a lower limit
// was configured) go with the next Append. An event that cannot be read
// is logged and left out (and goes in its turn): it must not keep the
// server from starting.
func OpenEventLog(ctx context.Context, st store.Store, lim EventLimits, log *slog.Logger) (*EventLog, []StoredEvent, error) {
	return OpenNodeEventLog(ctx, st, "", lim, log)
}

// OpenNodeEventLog is OpenEventLog for one node of several sharing st:
// the node's events are kept apart from the others' (node "" is the
// layout of a node alone). The limits bound each node's events.
func OpenNodeEventLog(ctx context.Context, st store.Store, node string, lim EventLimits, log *slog.Logger) (*EventLog, []StoredEvent, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.Contains(node, "/") {
		return nil, nil, model.Errorf("node", "%q contains a /", node)
	}
	l := &EventLog{st: st, lim: lim.withDefaults(), prefix: schema.EventPrefix(node)}
	var evs []StoredEvent
	err := st.View(ctx, func(tx store.ReadTx) error {
		evs, l.kept, l.bytes = nil, nil, 0
		return tx.Scan(l.prefix, "", func(key string, value []byte) error {
			seq, ok := schema.ParseSeqKey(l.prefix, key)
			if node == "" && !ok && strings.Contains(key[len(l.prefix):], "/") {
				return nil // a node's of a cluster
			}
			if !ok {
				schema.Skip(log, key, schema.BadKey(key))
				return nil
			}
			l.kept = append(l.kept, keptEvent{seq, len(value)})
			l.bytes += len(value)
			ev, err := schema.DecodeEvent(key, value)
			if err != nil {
				schema.Skip(log, key, err)
				return nil
			}
			ev.Seq = seq
			evs = append(evs, *ev)
			return nil
		})
	})
	if err != nil {
		return nil, nil, err
	}
	if drop := len(evs) - l.lim.Count; drop > 0 {
		evs = evs[drop:]
	}
	return l, evs, nil
}

// Last returns the sequence number of the newest event kept (0: none).
func (l *EventLog) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.kept) == 0 {
		return 0
	}
	return l.kept[len(l.kept)-1].seq
}

// Append writes evs in one transaction and drops the oldest events beyond
// the limits in the same transaction. Sequence numbers must increase,
// beyond the newest kept; every event needs a key and must fit the byte
// limit. A bad event fails the whole batch, which then changes nothing.
func (l *EventLog) Append(ctx context.Context, evs []StoredEvent) error {
	if len(evs) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	last := uint64(0)
	if len(l.kept) > 0 {
		last = l.kept[len(l.kept)-1].seq
	}
	values := make([][]byte, len(evs))
	for i, ev := range evs {
		field := fmt.Sprintf("events[%d]", i)
		switch {
		case ev.Seq <= last:
			return model.Errorf(field+".seq", "%d does not follow %d", ev.Seq, last)
		case ev.Key == "":
			return model.Errorf(field+".key", "missing")
		}
		b, err := schema.EncodeEvent(&ev)
		if err != nil {
			return err
		}
		if len(b) > l.lim.Bytes {
			return model.Errorf(field, "%d octets, more than the %d kept in all", len(b), l.lim.Bytes)
		}
		values[i] = b
		last = ev.Seq
	}
	// What is kept afterwards: the old kept events and the new ones, less
	// the oldest beyond the limits.
	kept := make([]keptEvent, 0, len(l.kept)+len(evs))
	kept = append(kept, l.kept...)
	bytes := l.bytes
	for i, ev := range evs {
		kept = append(kept, keptEvent{ev.Seq, len(values[i])})
		bytes += len(values[i])
	}
	drop := 0
	for len(kept)-drop > l.lim.Count || bytes > l.lim.Bytes {
		bytes -= kept[drop].size
		drop++
	}
	_, err := l.st.Update(ctx, func(tx store.Tx) error {
		for i, ev := range evs {
			if err := tx.Put(schema.SeqKey(l.prefix, ev.Seq), values[i]); err != nil {
				return err
			}
		}
		for _, k := range kept[:drop] {
			if err := tx.Delete(schema.SeqKey(l.prefix, k.seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	l.kept, l.bytes = append([]keptEvent(nil), kept[drop:]...), bytes
	return nil
}
