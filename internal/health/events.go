package health

import (
	"sort"
	"sync"
)

// Event actors used by the checker itself.
const (
	ActorCheck   = "check"
	ActorPush    = "push"
	ActorDamping = "damping"
)

// eventLog is a bounded, ordered log of events: a ring buffer that drops
// the oldest event when full. Sequence numbers increase by one per event,
// from 1 or from the last restored event.
type eventLog struct {
	mu    sync.Mutex
	buf   []Event // ring of up to limit events
	head  int     // index of the oldest event in buf
	n     int     // events kept
	limit int
	seq   uint64        // Seq of the newest event
	added chan struct{} // capacity 1: events were added since it was last read
}

func newEventLog(limit int) *eventLog {
	return &eventLog{limit: limit, added: make(chan struct{}, 1)}
}

// add appends ev, assigning its Seq, and returns it.
func (l *eventLog) add(ev Event) Event {
	l.mu.Lock()
	l.seq++
	ev.Seq = l.seq
	if l.n < l.limit { // not full yet: head stays 0
		l.buf = append(l.buf, ev)
		l.n++
	} else {
		l.buf[l.head] = ev
		l.head = (l.head + 1) % l.limit
	}
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default: // a reader has yet to see the earlier ones, and will see this
	}
	return ev
}

// restore fills an empty log with evs (ordered by Seq, increasing): the
// newest limit of them are kept and the next event follows the last. It
// reports false, changing nothing, when the log has events already.
func (l *eventLog) restore(evs []Event) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seq != 0 {
		return false
	}
	if len(evs) > l.limit {
		evs = evs[len(evs)-l.limit:]
	}
	l.buf = append([]Event(nil), evs...)
	l.head, l.n = 0, len(evs)
	if len(evs) > 0 {
		l.seq = evs[len(evs)-1].Seq
	}
	return true
}

// after returns the events with Seq > after, oldest first, at most limit
// of them (all when limit <= 0).
func (l *eventLog) after(after uint64, limit int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 || after >= l.seq {
		return nil
	}
	at := func(i int) *Event { return &l.buf[(l.head+i)%len(l.buf)] }
	// Restored events may leave gaps in the numbers: search, not subtract.
	skip := sort.Search(l.n, func(i int) bool { return at(i).Seq > after })
	count := l.n - skip
	if limit > 0 && count > limit {
		count = limit
	}
	out := make([]Event, count)
	for i := range out {
		out[i] = *at(skip + i)
	}
	return out
}
