package health

import "sync"

// Event actors used by the checker itself.
const (
	ActorCheck   = "check"
	ActorPush    = "push"
	ActorDamping = "damping"
)

// eventLog is a bounded, ordered log of events: a ring buffer that drops
// the oldest event when full. Sequence numbers start at 1 and increase by
// one per event, so the events kept always have consecutive numbers.
type eventLog struct {
	mu    sync.Mutex
	buf   []Event // ring of up to limit events
	head  int     // index of the oldest event in buf
	n     int     // events kept
	limit int
	seq   uint64 // Seq of the newest event
}

func newEventLog(limit int) *eventLog {
	return &eventLog{limit: limit}
}

// add appends ev, assigning its Seq, and returns it.
func (l *eventLog) add(ev Event) Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	ev.Seq = l.seq
	if l.n < l.limit { // not full yet: head stays 0
		l.buf = append(l.buf, ev)
		l.n++
		return ev
	}
	l.buf[l.head] = ev
	l.head = (l.head + 1) % l.limit
	return ev
}

// after returns the events with Seq > after, oldest first, at most limit
// of them (all when limit <= 0).
func (l *eventLog) after(after uint64, limit int) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 || after >= l.seq {
		return nil
	}
	first := l.seq - uint64(l.n) + 1 // Seq of the oldest event kept
	skip := 0
	if after >= first {
		skip = int(after - first + 1)
	}
	count := l.n - skip
	if limit > 0 && count > limit {
		count = limit
	}
	out := make([]Event, count)
	for i := range out {
		out[i] = l.buf[(l.head+skip+i)%len(l.buf)]
	}
	return out
}
