package control

import (
	"context"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// JournalEntry records one committed change of a zone
// (schema.JournalEntry): the serial before and after, and every record
// removed and added, as zone-file lines.
type JournalEntry = schema.JournalEntry

// journalBounds are the bounds of a zone's journal: changes (max) and,
// apart from them, changes of the steered answers alone (maxSteered).
type journalBounds struct {
	max, maxSteered int
}

// A zone's journal keeps its entries under one sequence. The zone record
// counts the entries of changes (JournalChanges) and lists the sequence
// numbers of the steered-answer entries (JournalSteered, at most
// maxSteered of them); each kind is bounded on its own, so the oldest
// entry to go may be in the middle of the sequence. A reader following
// the serials from one entry to the next (IXFR) then finds a gap and takes
// the whole zone. JournalFirst is the oldest entry kept of either kind.

// appendJournal writes e as the zone's next entry and drops the oldest
// entries of its kind beyond its bound, all inside tx.
func appendJournal(tx store.Tx, zr *zoneRecord, e *JournalEntry, b journalBounds) error {
	zr.UpgradeJournal()
	e.Seq = zr.JournalNext
	data, err := schema.EncodeJournal(e)
	if err != nil {
		return err
	}
	if err := tx.Put(schema.JournalKey(zr.Name, e.Seq), data); err != nil {
		return err
	}
	if zr.JournalFirst == 0 {
		zr.JournalFirst = e.Seq
	}
	zr.JournalNext++
	if e.Steered {
		zr.JournalSteered = append(zr.JournalSteered, e.Seq)
		n := len(zr.JournalSteered) - max(b.maxSteered, 1)
		if n <= 0 {
			return nil
		}
		for _, seq := range zr.JournalSteered[:n] {
			if err := tx.Delete(schema.JournalKey(zr.Name, seq)); err != nil {
				return err
			}
		}
		zr.JournalSteered = append([]uint64(nil), zr.JournalSteered[n:]...)
		return findJournalFirst(tx, zr)
	}
	zr.JournalChanges++
	if n := zr.JournalChanges - max(b.max, 1); n > 0 {
		return dropJournal(tx, zr, n, false)
	}
	return nil
}

// dropJournal deletes the oldest n entries: of changes alone, or of
// either kind when all is set.
func dropJournal(tx store.Tx, zr *zoneRecord, n int, all bool) error {
	steered := make(map[uint64]bool, len(zr.JournalSteered))
	for _, seq := range zr.JournalSteered {
		steered[seq] = true
	}
	var drop []string
	err := tx.Scan(schema.JournalPrefix(zr.Name), "", func(key string, _ []byte) error {
		seq, err := schema.JournalSeq(zr.Name, key)
		if err != nil {
			return err
		}
		if steered[seq] && !all {
			return nil
		}
		drop = append(drop, key)
		if steered[seq] {
			delete(steered, seq)
		} else {
			zr.JournalChanges--
		}
		if len(drop) == n {
			return store.ErrStopScan
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, key := range drop {
		if err := tx.Delete(key); err != nil {
			return err
		}
	}
	kept := zr.JournalSteered[:0]
	for _, seq := range zr.JournalSteered {
		if steered[seq] {
			kept = append(kept, seq)
		}
	}
	zr.JournalSteered = kept
	zr.JournalChanges = max(zr.JournalChanges, 0)
	return findJournalFirst(tx, zr)
}

// findJournalFirst sets zr.JournalFirst to the oldest entry kept, 0 when
// none is.
func findJournalFirst(tx store.ReadTx, zr *zoneRecord) error {
	zr.JournalFirst = 0
	return tx.Scan(schema.JournalPrefix(zr.Name), "", func(key string, _ []byte) error {
		seq, err := schema.JournalSeq(zr.Name, key)
		if err != nil {
			return err
		}
		zr.JournalFirst = seq
		return store.ErrStopScan
	})
}

// Journal returns the zone's journal entries with sequence numbers of at
// least fromSeq, oldest first, at most limit of them (0 means all).
func (s *Zones) Journal(ctx context.Context, z model.Name, fromSeq uint64, limit int) ([]JournalEntry, error) {
	var out []JournalEntry
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		if _, err := loadZone(tx, z); err != nil {
			return err
		}
		start := ""
		if fromSeq > 0 {
			start = schema.JournalKey(z, fromSeq-1)
		}
		return tx.Scan(schema.JournalPrefix(z), start, func(key string, value []byte) error {
			e, err := schema.DecodeJournal(key, value)
			if err != nil {
				return err
			}
			out = append(out, *e)
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
func (s *Zones) JournalPage(ctx context.Context, z model.Name, q JournalQuery) ([]JournalEntry, bool, error) {
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
			key := schema.JournalKey(z, seq-1)
			v, ok, err := tx.Get(key)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			e, err := schema.DecodeJournal(key, v)
			if err != nil {
				return err
			}
			out = append(out, *e)
		}
		return nil
	})
	return out, more, err
}

// CompactJournal keeps only the newest keep (at least one) entries of a
// zone's journal, of either kind, and returns how many remain. Readers that
// need older changes (IXFR) fall back to the whole zone.
func (s *Zones) CompactJournal(ctx context.Context, z model.Name, keep int) (int, error) {
	if keep < 1 {
		return 0, model.Errorf("keep", "keep at least 1 entry, not %d", keep)
	}
	var remaining int
	_, err := s.st.Update(zoneWrite(ctx, z), func(btx store.Tx) error {
		tx := s.audited(btx)
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		n := zr.JournalLen() - keep
		if n <= 0 {
			remaining = zr.JournalLen()
			return nil
		}
		if err := dropJournal(btx, zr, n, true); err != nil {
			return err
		}
		remaining = zr.JournalLen()
		if err := saveZone(tx, zr); err != nil {
			return err
		}
		detail := fmt.Sprintf("%d journal entries dropped, %d kept", n, remaining)
		if err := tx.change(schema.AuditZoneStream(z), "zone.compact-journal", "zone "+string(z), detail, schema.ZoneKey(z)); err != nil {
			return err
		}
		return tx.commit(ctx, "")
	})
	return remaining, err
}
