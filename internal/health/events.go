package health

import (
	"sort"
	"sync"
	"unicode/utf8"
)

// Event actors used by the checker itself.
const (
	ActorCheck   = "check"
	ActorPush    = "push"
	ActorDamping = "damping"
)

// MaxEventText bounds an event's reason and actor, in bytes: longer
// ones are cut (at a character boundary).
const MaxEventText = 1024

// eventOverhead is what an event takes besides its text.
const eventOverhead = 128

// eventSize is the bytes an event is counted for against EventBytes.
func eventSize(ev *Event) int {
	return eventOverhead + len(ev.Key) + len(ev.Reason) + len(ev.Actor)
}

// clipText cuts s to at most max bytes, at a character boundary.
func clipText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max-- // s[max] continues a character: cut before it
	}
	return s[:max]
}

// eventLog is a bounded, ordered log of events: a ring buffer that drops
// the oldest events when it holds limit of them or more than maxBytes
// (eventSize); the newest is always kept. Sequence numbers increase by
// one per event, from 1 or from the last restored event.
type eventLog struct {
	mu       sync.Mutex
	buf      []Event // ring of up to limit events
	head     int     // index of the oldest event in buf
	n        int     // events kept
	limit    int
	maxBytes int
	bytes    int           // eventSize of the kept events
	seq      uint64        // Seq of the newest event
	added    chan struct{} // capacity 1: events were added since it was last read
}

func newEventLog(limit, maxBytes int) *eventLog {
	return &eventLog{limit: limit, maxBytes: maxBytes, added: make(chan struct{}, 1)}
}

// add appends ev, assigning its Seq, and returns it. Its reason and
// actor are cut to MaxEventText.
func (l *eventLog) add(ev Event) Event {
	ev.Reason = clipText(ev.Reason, MaxEventText)
	ev.Actor = clipText(ev.Actor, MaxEventText)
	l.mu.Lock()
	l.seq++
	ev.Seq = l.seq
	switch {
	case l.n == len(l.buf) && len(l.buf) < l.limit: // grow
		if l.head != 0 {
			b := make([]Event, 0, l.n+1)
			for i := range l.n {
				b = append(b, l.buf[(l.head+i)%len(l.buf)])
			}
			l.buf, l.head = b, 0
		}
		l.buf = append(l.buf, ev)
	case l.n < len(l.buf):
		l.buf[(l.head+l.n)%len(l.buf)] = ev
	default: // full: ev takes the oldest's place
		l.dropOldest()
		l.buf[(l.head+l.n)%len(l.buf)] = ev
	}
	l.n++
	l.bytes += eventSize(&ev)
	for l.bytes > l.maxBytes && l.n > 1 {
		l.dropOldest()
	}
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default: // a reader has yet to see the earlier ones, and will see this
	}
	return ev
}

// dropOldest drops the oldest event; l.mu is held and l.n > 0.
func (l *eventLog) dropOldest() {
	l.bytes -= eventSize(&l.buf[l.head])
	l.buf[l.head] = Event{}
	l.head = (l.head + 1) % len(l.buf)
	l.n--
}

// restore fills an empty log with evs (ordered by Seq, increasing): the
// newest of them that fit the limits are kept and the next event follows
// the last. It reports false, changing nothing, when the log has events
// already.
func (l *eventLog) restore(evs []Event) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seq != 0 {
		return false
	}
	if len(evs) > 0 {
		l.seq = evs[len(evs)-1].Seq
	}
	if len(evs) > l.limit {
		evs = evs[len(evs)-l.limit:]
	}
	l.buf = make([]Event, 0, len(evs))
	l.bytes = 0
	for _, ev := range evs {
		ev.Reason = clipText(ev.Reason, MaxEventText)
		ev.Actor = clipText(ev.Actor, MaxEventText)
		l.buf = append(l.buf, ev)
		l.bytes += eventSize(&ev)
	}
	l.head, l.n = 0, len(l.buf)
	for l.bytes > l.maxBytes && l.n > 1 {
		l.dropOldest()
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
