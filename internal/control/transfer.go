package control

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// ZoneTransfer is one zone as an outgoing zone transfer sends it, read in
// one store transaction so that serial, records and journal agree.
type ZoneTransfer struct {
	Settings model.ZoneSettings
	SOA      *model.RRset
	Serial   uint32
	// Incremental means Journal holds every change from the requested
	// serial to Serial (none when the secondary is up to date); otherwise
	// Records holds every RRset of the zone but the SOA, steered answers
	// included, for a full transfer.
	Incremental bool
	Journal     []JournalEntry
	Records     WireSets
}

// WireSets are the RRsets of a full transfer, packed: per set the owner
// (length, then lowercase wire format), type, TTL, record count and the
// records as stored (each a 16-bit length and RDATA), in blocks of about a
// megabyte, so that a zone of a million names costs tens of megabytes
// and a handful of allocations.
type WireSets struct {
	blocks [][]byte
	n      int
}

// Len returns the number of sets.
func (w *WireSets) Len() int { return w.n }

func (w *WireSets) add(owner []byte, t model.Type, ttl uint32, count int, records []byte) {
	need := 1 + len(owner) + 2 + 4 + 2 + 4 + len(records)
	if len(w.blocks) == 0 || cap(w.blocks[len(w.blocks)-1])-len(w.blocks[len(w.blocks)-1]) < need {
		w.blocks = append(w.blocks, make([]byte, 0, max(1<<20, need)))
	}
	b := w.blocks[len(w.blocks)-1]
	b = append(b, byte(len(owner)))
	b = append(b, owner...)
	b = binary.BigEndian.AppendUint16(b, uint16(t))
	b = binary.BigEndian.AppendUint32(b, ttl)
	b = binary.BigEndian.AppendUint16(b, uint16(count))
	b = binary.BigEndian.AppendUint32(b, uint32(len(records)))
	b = append(b, records...)
	w.blocks[len(w.blocks)-1] = b
	w.n++
}

// Range calls fn with every set in order; records is each record's 16-bit
// length and RDATA. The slices are valid during the call only.
func (w *WireSets) Range(fn func(owner []byte, t model.Type, ttl uint32, count int, records []byte) error) error {
	for _, b := range w.blocks {
		for len(b) > 0 {
			ol := int(b[0])
			owner := b[1 : 1+ol]
			b = b[1+ol:]
			t := model.Type(binary.BigEndian.Uint16(b))
			ttl := binary.BigEndian.Uint32(b[2:])
			count := int(binary.BigEndian.Uint16(b[6:]))
			rl := int(binary.BigEndian.Uint32(b[8:]))
			if err := fn(owner, t, ttl, count, b[12:12+rl]); err != nil {
				return err
			}
			b = b[12+rl:]
		}
	}
	return nil
}

// ReadTransfer reads zone z for a secondary. since is the serial the
// secondary has (IXFR), or nil for a full transfer (AXFR); an IXFR the
// journal cannot serve becomes a full transfer. allow sees the zone's
// settings before anything else is read and may refuse with an error,
// which ReadTransfer returns. Nothing stays locked once it returns: the
// records are copied out, so a slow secondary holds up no writer.
func (s *Zones) ReadTransfer(ctx context.Context, z model.Name, since *uint32, allow func(*model.ZoneSettings) error) (*ZoneTransfer, error) {
	var out *ZoneTransfer
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if err := allow(&zr.ZoneSettings); err != nil {
			return err
		}
		if zr.IsSecondary() && zr.Secondary.Refreshed.IsZero() || zr.Secondary.Expired {
			return fmt.Errorf("%w: %s has no data yet, or has expired", ErrZoneNotLoaded, z)
		}
		serial, soa, err := zoneSerial(tx, z)
		if err != nil {
			return err
		}
		out = &ZoneTransfer{Settings: zr.ZoneSettings, SOA: soa, Serial: serial}
		if since != nil {
			if !model.SerialLess(*since, serial) {
				out.Incremental = true // up to date, or ahead: the SOA alone
				return nil
			}
			entries, ok, err := journalChain(tx, z, *since, serial)
			if err != nil {
				return err
			}
			if ok {
				out.Incremental, out.Journal = true, entries
				return nil
			}
		}
		var keys schema.RRsetKeyReader
		apex := z.Wire()
		err = tx.Scan(schema.ZoneRRsetPrefix(z), "", func(key string, value []byte) error {
			_, _, owner, t, ok := keys.Read(key)
			if !ok {
				return schema.BadKey(key)
			}
			if t == model.TypeSOA && string(owner) == string(apex) {
				return nil
			}
			ttl, count, records, err := schema.RRsetRecords(key, value)
			if err != nil {
				return err
			}
			out.Records.add(owner, t, ttl, count, records)
			return nil
		})
		if err != nil {
			return err
		}
		return scanSteered(tx, z, func(set *model.RRset) error {
			var records []byte
			for _, rd := range set.Rdata {
				records = binary.BigEndian.AppendUint16(records, uint16(len(rd)))
				records = append(records, rd...)
			}
			out.Records.add(set.Name.Wire(), set.Type, set.TTL, len(set.Rdata), records)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if out.Records.Len() > bigTransfer {
		// The read left the store's pages resident; they are copied out.
		if r, ok := s.st.(store.MemoryReleaser); ok {
			r.ReleaseMemory()
		}
	}
	return out, nil
}

// bigTransfer is the number of sets of a full transfer after which the
// memory the read left resident is given back.
const bigTransfer = 100000

// journalChain returns the journal entries leading from serial from to
// serial to, oldest first, and whether the journal holds them all (none
// of them a reset).
func journalChain(tx store.ReadTx, z model.Name, from, to uint32) ([]JournalEntry, bool, error) {
	var chain []JournalEntry
	started := false
	err := tx.Scan(schema.JournalPrefix(z), "", func(key string, value []byte) error {
		e, err := schema.DecodeJournal(key, value)
		if err != nil {
			return err
		}
		if !started {
			if e.OldSerial != from || e.Reset {
				return nil
			}
			started = true
		}
		if e.Reset || (len(chain) > 0 && e.OldSerial != chain[len(chain)-1].NewSerial) {
			chain = nil
			return store.ErrStopScan
		}
		chain = append(chain, *e)
		return nil
	})
	if err != nil || len(chain) == 0 || chain[len(chain)-1].NewSerial != to {
		return nil, false, err
	}
	return chain, true, nil
}
