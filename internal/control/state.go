package control

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// zoneRecord is what "zones/<zone>" holds: the zone's settings and the
// bookkeeping the write path keeps current in the same transaction.
type zoneRecord struct {
	model.ZoneSettings
	Secondary    model.SecondaryState `json:"secondary,omitzero"`
	Updated      time.Time            `json:"updated"`
	RRsets       int                  `json:"rrsets"`
	Records      int                  `json:"records"`
	JournalFirst uint64               `json:"journal_first"` // oldest entry kept; 0 when none
	JournalNext  uint64               `json:"journal_next"`  // sequence of the next entry
	// JournalChanges counts the entries kept of changes other than the
	// steered answers alone; JournalSteered lists the sequence numbers of
	// the steered-answer entries kept, oldest first (journal.go).
	JournalChanges int      `json:"journal_changes,omitempty"`
	JournalSteered []uint64 `json:"journal_steered,omitempty"`
}

func loadZone(tx store.ReadTx, z model.Name) (*zoneRecord, error) {
	b, ok, err := tx.Get(zoneKey(z))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrZoneNotFound, z)
	}
	var zr zoneRecord
	if err := json.Unmarshal(b, &zr); err != nil {
		return nil, fmt.Errorf("control: corrupt zone record %s: %w", z, err)
	}
	return &zr, nil
}

// scanZones reads every zone record, in key order.
func scanZones(tx store.ReadTx, fn func(zr *zoneRecord) error) error {
	return tx.Scan(prefixZones, "", func(key string, value []byte) error {
		var zr zoneRecord
		if err := json.Unmarshal(value, &zr); err != nil {
			return fmt.Errorf("control: corrupt zone record %s: %w", key, err)
		}
		return fn(&zr)
	})
}

func saveZone(tx store.Tx, zr *zoneRecord) error {
	b, err := json.Marshal(zr)
	if err != nil {
		return err
	}
	return tx.Put(zoneKey(zr.Name), b)
}

// getRRset reads one RRset, or nil when it does not exist.
func getRRset(tx store.ReadTx, z model.Name, k model.Key) (*model.RRset, error) {
	b, ok, err := tx.Get(rrsetKey(z, k))
	if err != nil || !ok {
		return nil, err
	}
	return decodeRRset(k, b)
}

// putRRset writes or (for a nil or empty set) deletes one RRset.
func putRRset(tx store.Tx, z model.Name, k model.Key, s *model.RRset) error {
	if s == nil || len(s.Rdata) == 0 {
		return tx.Delete(rrsetKey(z, k))
	}
	b, err := encodeRRset(s)
	if err != nil {
		return err
	}
	return tx.Put(rrsetKey(z, k), b)
}

// setsAt reads every RRset at one owner name.
func setsAt(tx store.ReadTx, z, owner model.Name) ([]*model.RRset, error) {
	var out []*model.RRset
	prefix := nameRRsetPrefix(z, owner)
	err := tx.Scan(prefix, "", func(key string, value []byte) error {
		t, err := model.ParseType(key[len(prefix):])
		if err != nil {
			return fmt.Errorf("control: bad key %q", key)
		}
		s, err := decodeRRset(model.Key{Name: owner, Type: t}, value)
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// storedSerial is zoneSerial for reads, where a secondary zone that has
// no data yet (or has expired) is at serial 0.
func storedSerial(tx store.ReadTx, zr *zoneRecord) (uint32, error) {
	soa, err := getRRset(tx, zr.Name, model.Key{Name: zr.Name, Type: model.TypeSOA})
	if err != nil || (soa == nil && zr.IsSecondary()) {
		return 0, err
	}
	serial, err := soaSerial(zr.Name, soa)
	return serial, err
}

// zoneSerial reads the serial from the zone's SOA record.
func zoneSerial(tx store.ReadTx, z model.Name) (uint32, *model.RRset, error) {
	soa, err := getRRset(tx, z, model.Key{Name: z, Type: model.TypeSOA})
	if err != nil {
		return 0, nil, err
	}
	serial, err := soaSerial(z, soa)
	if err != nil {
		return 0, nil, err
	}
	return serial, soa, nil
}

// soaSerial is the serial of zone z's SOA set, which must hold one record.
func soaSerial(z model.Name, soa *model.RRset) (uint32, error) {
	if soa == nil || len(soa.Rdata) != 1 {
		return 0, fmt.Errorf("control: zone %s has no SOA record", z)
	}
	f, err := model.ParseSOAFields(soa.Rdata[0])
	if err != nil {
		return 0, err
	}
	return f.Serial, nil
}

func (zr *zoneRecord) info(serial uint32) model.ZoneInfo {
	return model.ZoneInfo{ZoneSettings: zr.ZoneSettings, Secondary: zr.Secondary, Serial: serial, RRsets: zr.RRsets, Records: zr.Records, Updated: zr.Updated}
}
