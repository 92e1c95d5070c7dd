package control

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// A token's last use is kept in memory (Authenticate notes it, a map
// write under a lock) and written to its stored record by FlushLastUse,
// which RunLastUse calls once a minute: every authenticated request
// being a store write would make each read a write, and each renewal
// two. So a token is written at most once a minute per node, and the
// tokens used in that minute are written together, up to
// lastUseGroup in one transaction. A flush keeps the later of the stored
// time and its own, so nodes sharing a store (each flushing what it saw)
// never move a token's last use back, but a flush is otherwise
// last-writer-wins: the record is up to a minute behind, and the uses of
// the last minute before a node dies are lost.

// DefaultLastUseFlush is how often RunLastUse writes the last uses.
const DefaultLastUseFlush = time.Minute

// lastUseGroup bounds the tokens one flush transaction writes (within
// etcd's default of 128 operations a transaction).
const lastUseGroup = 64

// lastUse holds the last use of each token not yet written.
type lastUse struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// touch notes that token id was used at now.
func (l *lastUse) touch(id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = make(map[string]time.Time)
	}
	if prev, ok := l.seen[id]; !ok || now.After(prev) {
		l.seen[id] = now
	}
}

// take returns the uses noted and forgets them.
func (l *lastUse) take() map[string]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.seen
	l.seen = nil
	return m
}

// putBack notes again the uses a failed flush did not write, unless a
// later use of the same token was noted meanwhile.
func (l *lastUse) putBack(m map[string]time.Time) {
	for id, at := range m {
		l.touch(id, at)
	}
}

// FlushLastUse writes the last uses noted since the previous flush to
// the tokens' stored records, in transactions of up to 64 tokens, and
// returns how many records it wrote. A token deleted meanwhile, or whose
// stored last use is as late already (another node's), is left alone.
// It does not wait for the publisher: nothing served depends on it. On
// an error the uses not written are kept for the next flush.
func (s *Tokens) FlushLastUse(ctx context.Context) (int, error) {
	seen := s.used.take()
	if len(seen) == 0 {
		return 0, nil
	}
	ids := slices.Sorted(maps.Keys(seen))
	written := 0
	for len(ids) > 0 {
		group := ids[:min(len(ids), lastUseGroup)]
		ids = ids[len(group):]
		n := 0
		_, err := s.st.Update(ctx, func(tx store.Tx) error {
			n = 0
			for _, id := range group {
				key := schema.TokenKey(id)
				b, ok, err := tx.Get(key)
				if err != nil {
					return err
				}
				if !ok {
					continue // deleted meanwhile
				}
				t, err := schema.DecodeToken(key, b)
				if err != nil {
					return err
				}
				at := seen[id].UTC()
				if !at.After(t.LastUsed) {
					continue
				}
				t.LastUsed = at
				nb, err := schema.EncodeToken(t)
				if err != nil {
					return err
				}
				if err := tx.Put(key, nb); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			rest := make(map[string]time.Time, len(group)+len(ids))
			for _, id := range append(group, ids...) {
				rest[id] = seen[id]
			}
			s.used.putBack(rest)
			return written, err
		}
		written += n
	}
	return written, nil
}

// RunLastUse flushes the tokens' last uses every interval (at most
// DefaultLastUseFlush when zero or less) on clk until ctx ends, then once
// more, bounded by 5 s, so that a node shutting down keeps what it saw.
func (s *Tokens) RunLastUse(ctx context.Context, clk clock.Clock, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultLastUseFlush
	}
	t := clk.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if _, err := s.FlushLastUse(fctx); err != nil {
				s.log.Warn("writing the tokens' last use at shutdown", "err", err)
			}
			return
		case <-t.C():
		}
		if _, err := s.FlushLastUse(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("writing the tokens' last use; kept for the next flush", "err", err)
		}
		t.Reset(interval)
	}
}
