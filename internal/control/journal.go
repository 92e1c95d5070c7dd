package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// JournalEntry records one committed change of a zone: the serial before
// and after and every record removed and added, as zone-file lines. It is
// what IXFR (RFC 1995) and change watchers replay. An entry marked Reset
// (a zone's creation, or a change too large to record record by record)
// cannot be replayed: a reader that needs it must take the whole zone.
type JournalEntry struct {
	Seq       uint64     `json:"seq"`
	Zone      model.Name `json:"zone"`
	OldSerial uint32     `json:"old_serial"`
	NewSerial uint32     `json:"new_serial"`
	Time      time.Time  `json:"time"`
	Actor     string     `json:"actor"`
	Reset     bool       `json:"reset,omitempty"`
	Removed   []string   `json:"removed,omitempty"`
	Added     []string   `json:"added,omitempty"`
}

// appendJournal writes e as the zone's next entry and drops the oldest
// entries beyond max, all inside tx.
func appendJournal(tx store.Tx, zr *zoneRecord, e *JournalEntry, max int) error {
	e.Seq = zr.JournalNext
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := tx.Put(journalKey(zr.Name, e.Seq), b); err != nil {
		return err
	}
	if zr.JournalFirst == 0 {
		zr.JournalFirst = e.Seq
	}
	zr.JournalNext++
	return compactJournal(tx, zr, max)
}

// compactJournal deletes the oldest entries until at most keep remain.
func compactJournal(tx store.Tx, zr *zoneRecord, keep int) error {
	if keep < 1 {
		keep = 1
	}
	for zr.JournalFirst != 0 && zr.JournalNext-zr.JournalFirst > uint64(keep) {
		if err := tx.Delete(journalKey(zr.Name, zr.JournalFirst)); err != nil {
			return err
		}
		zr.JournalFirst++
	}
	return nil
}

// Journal returns the zone's journal entries with sequence numbers of at
// least fromSeq, oldest first, at most limit of them (0 means all).
func (s *Service) Journal(ctx context.Context, z model.Name, fromSeq uint64, limit int) ([]JournalEntry, error) {
	var out []JournalEntry
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		if _, err := loadZone(tx, z); err != nil {
			return err
		}
		start := ""
		if fromSeq > 0 {
			start = journalKey(z, fromSeq-1)
		}
		return tx.Scan(journalPrefix(z), start, func(key string, value []byte) error {
			var e JournalEntry
			if err := json.Unmarshal(value, &e); err != nil {
				return fmt.Errorf("control: corrupt journal entry %s: %w", key, err)
			}
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				return store.ErrStopScan
			}
			return nil
		})
	})
	return out, err
}

// JournalQuery selects a page of a zone's journal: oldest first from
// sequence number From (0: the oldest kept), or, with Newest, newest first
// from the entry before sequence number Before (0: the newest). Limit is
// the most entries (0: all).
type JournalQuery struct {
	From   uint64
	Newest bool
	Before uint64
	Limit  int
}

// JournalPage returns the zone's journal entries q selects, and whether
// more entries follow them in the same order (older ones for Newest).
func (s *Service) JournalPage(ctx context.Context, z model.Name, q JournalQuery) ([]JournalEntry, bool, error) {
	if !q.Newest {
		limit := q.Limit
		if limit > 0 {
			limit++ // one more, to know whether there is more
		}
		out, err := s.Journal(ctx, z, q.From, limit)
		if err != nil || q.Limit <= 0 || len(out) <= q.Limit {
			return out, false, err
		}
		return out[:q.Limit], true, nil
	}
	var out []JournalEntry
	more := false
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out, more = nil, false
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if zr.JournalFirst == 0 {
			return nil
		}
		next := zr.JournalNext // the entry after the newest
		if q.Before > 0 && q.Before < next {
			next = q.Before
		}
		for seq := next; seq > zr.JournalFirst; seq-- {
			if q.Limit > 0 && len(out) == q.Limit {
				more = true
				return nil
			}
			key := journalKey(z, seq-1)
			v, ok, err := tx.Get(key)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			var e JournalEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("control: corrupt journal entry %s: %w", key, err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, more, err
}

// CompactJournal keeps only the newest keep (at least one) entries of a
// zone's journal and returns how many remain. Readers that need older
// changes (IXFR) fall back to the whole zone.
func (s *Service) CompactJournal(ctx context.Context, z model.Name, keep int) (int, error) {
	if keep < 1 {
		return 0, model.Errorf("keep", "keep at least 1 entry, not %d", keep)
	}
	var remaining int
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		before := zr.JournalFirst
		if err := compactJournal(tx, zr, keep); err != nil {
			return err
		}
		remaining = int(zr.JournalNext - zr.JournalFirst)
		if zr.JournalFirst == 0 {
			remaining = 0
		}
		if zr.JournalFirst == before {
			return nil
		}
		return saveZone(tx, zr)
	})
	return remaining, err
}
