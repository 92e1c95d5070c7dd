package control

import (
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// zoneRecord is what "zones/<zone>" holds (schema.ZoneRecord).
type zoneRecord = schema.ZoneRecord

func loadZone(tx store.ReadTx, z model.Name) (*zoneRecord, error) {
	key := schema.ZoneKey(z)
	b, ok, err := tx.Get(key)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrZoneNotFound, z)
	}
	return schema.DecodeZone(key, b)
}

// scanZones reads every zone record, in key order; one that cannot be
// read goes to onCorrupt.
func scanZones(tx store.ReadTx, onCorrupt schema.OnCorrupt, fn func(zr *zoneRecord) error) error {
	return tx.Scan(schema.PrefixZones, "", func(key string, value []byte) error {
		zr, err := schema.DecodeZone(key, value)
		if err != nil {
			return onCorrupt(key, err)
		}
		return fn(zr)
	})
}

func saveZone(tx store.Tx, zr *zoneRecord) error {
	b, err := schema.EncodeZone(zr)
	if err != nil {
		return err
	}
	return tx.Put(schema.ZoneKey(zr.Name), b)
}

// getRRset reads one RRset, or nil when it does not exist.
func getRRset(tx store.ReadTx, z model.Name, k model.Key) (*model.RRset, error) {
	key := schema.RRsetKey(z, k)
	b, ok, err := tx.Get(key)
	if err != nil || !ok {
		return nil, err
	}
	return schema.DecodeRRset(key, k, b)
}

// setsAt reads every RRset at one owner name. A key under the owner's
// prefix that is not the key of an RRset of zone z at owner, as RRsetKey
// writes it (another spelling of a type, "TYPE1" for "A"), is corrupt.
func setsAt(tx store.ReadTx, z, owner model.Name) ([]*model.RRset, error) {
	var out []*model.RRset
	err := tx.Scan(schema.NameRRsetPrefix(z, owner), "", func(key string, value []byte) error {
		kz, k, ok := schema.ParseRRsetKey(key)
		if !ok || kz != z || k.Name != owner || schema.RRsetKey(z, k) != key {
			return schema.BadKey(key)
		}
		s, err := schema.DecodeRRset(key, k, value)
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
