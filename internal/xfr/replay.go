package xfr

import (
	"container/heap"
	"log/slog"
	"sync"
	"time"
)

// DefaultMaxFudge is the largest Fudge (allowed clock skew, in seconds)
// a signed request may give; one that gives more is refused with BADTIME.
// 300 is what RFC 8945 section 10 recommends, and what BIND, Knot,
// nsupdate and dig send.
const DefaultMaxFudge = 300

// DefaultReplayEntries is how many MACs of signed UPDATE and NOTIFY
// requests are remembered, at most, while their time window lasts.
const DefaultReplayEntries = 65536

// TSIGLimits bound what signed requests may ask for.
type TSIGLimits struct {
	// MaxFudge is the largest Fudge accepted, in seconds (0:
	// DefaultMaxFudge).
	MaxFudge uint16
	// ReplayEntries bounds the MACs remembered to refuse replays
	// (0: DefaultReplayEntries).
	ReplayEntries int
}

// replayCache remembers the MACs of the signed requests that change
// something (UPDATE, NOTIFY) for as long as they would pass the time
// check: a MAC signed at T with fudge F verifies until T+F, so it is kept
// until then. A request whose MAC is remembered is a copy of one already
// served and is refused (RFC 8945 section 5.2.3 lets a server refuse a
// request signed earlier than one it has seen with BADTIME; this refuses
// exact copies only, so that clients sharing a key need not agree on the
// order of their clocks).
//
// Memory is bounded: entries leave when their window closes, and at most
// max are kept; beyond that the one whose window closes first is dropped
// (and said so in the log), which reopens that one request to replay for
// the rest of its window.
type replayCache struct {
	mu     sync.Mutex
	max    int
	byMAC  map[string]int64 // key name + MAC -> last second it verifies
	expiry expiryHeap
	log    *slog.Logger
}

func newReplayCache(max int, log *slog.Logger) *replayCache {
	if max <= 0 {
		max = DefaultReplayEntries
	}
	return &replayCache{max: max, byMAC: make(map[string]int64), log: log}
}

// seen records the MAC mac of key, valid until the Unix second until,
// and reports whether it was already there at now.
func (c *replayCache) seen(key, mac string, until int64, now time.Time) bool {
	id := key + "\x00" + mac
	sec := now.Unix()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.expiry) > 0 && c.expiry[0].until < sec {
		e := heap.Pop(&c.expiry).(expiryEntry)
		if c.byMAC[e.id] == e.until {
			delete(c.byMAC, e.id)
		}
	}
	if u, ok := c.byMAC[id]; ok && u >= sec {
		if c.log != nil {
			c.log.Warn("tsig: replayed request refused (BADTIME)", "key", key)
		}
		return true
	}
	for len(c.byMAC) >= c.max && len(c.expiry) > 0 {
		e := heap.Pop(&c.expiry).(expiryEntry)
		if c.byMAC[e.id] == e.until {
			delete(c.byMAC, e.id)
			if c.log != nil {
				c.log.Warn("tsig: replay cache full; the MAC closest to its expiry was dropped, so a copy of that request would be accepted until it expires", "limit", c.max)
			}
		}
	}
	c.byMAC[id] = until
	heap.Push(&c.expiry, expiryEntry{until: until, id: id})
	return false
}

// len is the number of MACs remembered.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byMAC)
}

type expiryEntry struct {
	until int64
	id    string
}

// expiryHeap orders entries by the end of their window, soonest first.
type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].until < h[j].until }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// SetTSIGLimits sets the largest Fudge signed requests may give and the
// size of the replay cache. Call it before serving.
func (s *Handler) SetTSIGLimits(l TSIGLimits) {
	s.tsig = l
	s.replays = newReplayCache(l.ReplayEntries, s.limited)
}
