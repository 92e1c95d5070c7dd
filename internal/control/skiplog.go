package control

import (
	"log/slog"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/schema"
)

// relogSkipped is how long a listing made again and again stays quiet
// about a record it cannot read, having logged it.
const relogSkipped = time.Hour

// skipLog carries out the policy for records that cannot be read
// (schema.Skip) for a listing read again and again: the lease reaper's
// (every few seconds) and the secondary zones' (every few seconds).
// Logging each such record on every pass would bury the rest of the log,
// so a record is logged when a pass first finds it, then once an hour
// while it stays unreadable: an hour rather than once per process, so
// that a server running for months still says now and then what it
// leaves out. A record a whole pass no longer finds unreadable (repaired,
// or deleted) is forgotten, so that breaking again is logged at once.
type skipLog struct {
	mu     sync.Mutex
	logged map[string]time.Time // when each record was last logged
}

// skipPass is one pass of a listing over the store.
type skipPass struct {
	l     *skipLog
	log   *slog.Logger
	now   time.Time
	found map[string]bool
}

// pass starts a pass at now, logging to log.
func (l *skipLog) pass(log *slog.Logger, now time.Time) *skipPass {
	return &skipPass{l: l, log: log, now: now, found: map[string]bool{}}
}

// skip is the pass's schema.OnCorrupt: it leaves the record out, logging
// it unless it was logged less than relogSkipped ago.
func (p *skipPass) skip(key string, err error) error {
	p.found[key] = true
	l := p.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.logged[key]; ok && p.now.Sub(t) < relogSkipped && !p.now.Before(t) {
		return nil
	}
	if l.logged == nil {
		l.logged = map[string]time.Time{}
	}
	l.logged[key] = p.now
	schema.Skip(p.log, key, err)
	return nil
}

// done ends the pass: the records it did not find unreadable are
// forgotten.
func (p *skipPass) done() {
	l := p.l
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.logged {
		if !p.found[k] {
			delete(l.logged, k)
		}
	}
}
