package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// Instrument returns st measured: every Update that reaches a commit is
// timed (stratus_store_commit_duration_seconds) and counted by its result
// (stratus_store_commits_total{result}: ok, error, and conflict for each
// time an optimistic engine ran the transaction again because another
// commit changed what it read). An Update whose transaction function
// itself fails (a refused edit) commits nothing and is not counted.
//
// The returned store remembers when each of its recent revisions was
// committed (CommitTimes), which the snapshot publisher reads to measure
// how long a commit takes to be served. It implements Shared and
// MemoryReleaser when st does, and passes everything but Update through.
// A nil reg measures without exporting.
func Instrument(st Store, reg prometheus.Registerer) Store {
	m := &instrumented{Store: st, times: newCommitRing(commitRingSize)}
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: telemetry.Namespace,
		Subsystem: "store",
		Name:      "commit_duration_seconds",
		Help:      "Time a store update took, from the call to its commit (or failure), queueing and runs again after conflicts included.",
		Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	commits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: telemetry.Namespace,
		Subsystem: "store",
		Name:      "commits_total",
		Help:      "Store commits by result: ok, error, or conflict (a transaction run again because a commit changed what it read).",
	}, []string{"result"})
	m.ok, m.conflict, m.failed = commits.WithLabelValues("ok"), commits.WithLabelValues("conflict"), commits.WithLabelValues("error")
	if reg != nil {
		reg.MustRegister(m.duration, commits)
	}
	sh, shared := st.(Shared)
	mr, releaser := st.(MemoryReleaser)
	switch {
	case shared && releaser:
		return &struct {
			*instrumented
			Shared
			MemoryReleaser
		}{m, sh, mr}
	case shared:
		return &struct {
			*instrumented
			Shared
		}{m, sh}
	case releaser:
		return &struct {
			*instrumented
			MemoryReleaser
		}{m, mr}
	}
	return m
}

// CommitTimes is implemented by a store that remembers when its recent
// revisions were committed (Instrument's).
type CommitTimes interface {
	// CommitTime returns when this process saw rev committed, and false
	// when rev was not committed here or is no longer remembered.
	CommitTime(rev Revision) (time.Time, bool)
}

type instrumented struct {
	Store
	times                *commitRing
	duration             prometheus.Histogram
	ok, conflict, failed prometheus.Counter
}

// Update runs the inner Update and measures it.
func (m *instrumented) Update(ctx context.Context, fn func(tx Tx) error) (Revision, error) {
	start := time.Now()
	var fnErr error
	rev, err := m.Store.Update(WithConflictHook(ctx, m.conflict.Inc), func(tx Tx) error {
		fnErr = fn(tx)
		return fnErr
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return rev, err // the caller's own refusal: nothing was committed
	}
	now := time.Now()
	m.duration.Observe(now.Sub(start).Seconds())
	if err != nil {
		m.failed.Inc()
		return rev, err
	}
	m.ok.Inc()
	m.times.put(rev, now)
	return rev, nil
}

// CommitTime implements CommitTimes.
func (m *instrumented) CommitTime(rev Revision) (time.Time, bool) { return m.times.get(rev) }

// commitRingSize bounds the commit times remembered: far more revisions
// than the publisher is ever behind by while it follows the store.
const commitRingSize = 1024

// commitRing remembers the commit time of the last revisions committed,
// each in the slot of its revision modulo the size.
type commitRing struct {
	mu    sync.Mutex
	revs  []Revision
	times []time.Time
}

func newCommitRing(n int) *commitRing {
	return &commitRing{revs: make([]Revision, n), times: make([]time.Time, n)}
}

func (r *commitRing) put(rev Revision, t time.Time) {
	i := int(uint64(rev) % uint64(len(r.revs)))
	r.mu.Lock()
	if rev > r.revs[i] { // an Update that changed nothing returns one seen already
		r.revs[i], r.times[i] = rev, t
	}
	r.mu.Unlock()
}

func (r *commitRing) get(rev Revision) (time.Time, bool) {
	i := int(uint64(rev) % uint64(len(r.revs)))
	r.mu.Lock()
	defer r.mu.Unlock()
	if rev <= 0 || r.revs[i] != rev {
		return time.Time{}, false
	}
	return r.times[i], true
}

type conflictHookKey struct{}

// WithConflictHook returns ctx carrying fn, which an engine that runs
// transactions optimistically (store/etcd) calls, through Conflicted,
// each time an Update under ctx found its reads changed at commit and
// runs its transaction again.
func WithConflictHook(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, conflictHookKey{}, fn)
}

// Conflicted calls the hook WithConflictHook put in ctx, if any.
func Conflicted(ctx context.Context) {
	if fn, ok := ctx.Value(conflictHookKey{}).(func()); ok {
		fn()
	}
}
