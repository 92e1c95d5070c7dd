package control

import (
	"context"
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// SOA defaults for new zones: refresh and retry suit secondaries that also
// get NOTIFY; a short negative TTL (MINIMUM) suits names that come and go.
const (
	DefaultSOARefresh = 3600
	DefaultSOARetry   = 600
	DefaultSOAExpire  = 1209600
	DefaultSOAMinimum = 300
)

// NewZone describes a zone to create from scratch.
type NewZone struct {
	Settings    model.ZoneSettings
	Nameservers []model.Name // at least one; the first is the SOA MNAME
	// Hostmaster is the SOA RNAME (default hostmaster.<zone>).
	Hostmaster model.Name
	// SOA timers; zero means the default.
	Refresh, Retry, Expire, Minimum uint32
}

// ZoneSets returns the SOA and NS sets a new zone starts with.
func (nz *NewZone) ZoneSets(now time.Time) ([]*model.RRset, error) {
	z := nz.Settings.Name
	if len(nz.Nameservers) == 0 {
		return nil, model.Errorf("nameservers", "a zone needs at least one name server")
	}
	ttl := nz.Settings.DefaultTTL
	if ttl == 0 {
		ttl = model.DefaultZoneTTL
	}
	host := nz.Hostmaster
	if host == "" {
		host = model.Name("hostmaster." + string(z))
		if z == model.Root {
			host = "hostmaster."
		}
	}
	or := func(v, def uint32) uint32 {
		if v == 0 {
			return def
		}
		return v
	}
	serial := uint32(1)
	if nz.Settings.SerialPolicy == model.SerialDate {
		y, m, d := now.UTC().Date()
		serial = uint32(y)*1000000 + uint32(m)*10000 + uint32(d)*100
	}
	soaText := fmt.Sprintf("%s %s %d %d %d %d %d", nz.Nameservers[0], host, serial,
		or(nz.Refresh, DefaultSOARefresh), or(nz.Retry, DefaultSOARetry), or(nz.Expire, DefaultSOAExpire), or(nz.Minimum, DefaultSOAMinimum))
	soa, err := model.ParseRdata(model.TypeSOA, soaText)
	if err != nil {
		return nil, model.Errorf("soa", "%v", err)
	}
	ns := &model.RRset{Name: z, Type: model.TypeNS, TTL: ttl}
	for i, n := range nz.Nameservers {
		rd, err := model.ParseRdata(model.TypeNS, string(n))
		if err != nil {
			return nil, model.Errorf(fmt.Sprintf("nameservers[%d]", i), "%v", err)
		}
		ns.Add(rd)
	}
	return []*model.RRset{{Name: z, Type: model.TypeSOA, TTL: ttl, Rdata: [][]byte{soa}}, ns}, nil
}

// CreateZone creates a zone with an SOA and NS records, plus extra sets.
func (s *Zones) CreateZone(ctx context.Context, nz NewZone, extra []*model.RRset, actor string) (ImportResult, error) {
	sets, err := nz.ZoneSets(s.opts.Clock())
	if err != nil {
		return ImportResult{}, err
	}
	sets = append(sets, extra...)
	return s.Import(ctx, nz.Settings.Name, sets, ImportOptions{
		WriteOptions: WriteOptions{Actor: actor},
		Mode:         ImportCreate,
		Settings:     nz.Settings,
	})
}

// DeleteZone removes a zone, its records and its journal.
func (s *Zones) DeleteZone(ctx context.Context, z model.Name, wo WriteOptions) error {
	rev, err := s.st.Update(zoneWrite(ctx, z), func(btx store.Tx) error {
		tx := s.audited(btx)
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		cur, err := storedSerial(tx, zr)
		if err != nil {
			return err
		}
		if err := wo.check(z, cur); err != nil {
			return err
		}
		services, err := scanServices(tx)
		if err != nil {
			return err
		}
		for _, svc := range services {
			if svc.Zone == z {
				return inUse("zone", "zone %s still has the service %s; delete its services first", z, svc.Name)
			}
		}
		for _, prefix := range []string{schema.ZoneRRsetPrefix(z), schema.SteeredPrefix(z), schema.JournalPrefix(z)} {
			if err := deletePrefix(btx, prefix); err != nil {
				return err
			}
		}
		if err := tx.Delete(schema.ZoneKey(z)); err != nil {
			return err
		}
		detail := fmt.Sprintf("serial %d, %d RRsets, %d records", cur, zr.RRsets, zr.Records)
		if err := tx.change(schema.AuditZoneStream(z), "zone.delete", "zone "+string(z), detail, schema.ZoneKey(z)); err != nil {
			return err
		}
		return tx.commit(ctx, wo.Actor)
	})
	if err != nil {
		return err
	}
	s.log.Info("zone deleted", "zone", z, "actor", wo.Actor)
	return s.published(ctx, rev)
}

// deletePrefix deletes every key with the prefix, in batches so that no
// scan runs while the same transaction deletes.
func deletePrefix(tx store.Tx, prefix string) error {
	for {
		var keys []string
		err := tx.Scan(prefix, "", func(key string, _ []byte) error {
			keys = append(keys, key)
			if len(keys) == 10000 {
				return store.ErrStopScan
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
	}
}

// ListZones returns every zone, sorted by name.
func (s *Zones) ListZones(ctx context.Context) ([]model.ZoneInfo, error) {
	var out []model.ZoneInfo
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		var records []zoneRecord
		err := scanZones(tx, schema.Fail, func(zr *zoneRecord) error {
			records = append(records, *zr)
			return nil
		})
		if err != nil {
			return err
		}
		for i := range records {
			serial, err := storedSerial(tx, &records[i])
			if err != nil {
				return err
			}
			out = append(out, records[i].Info(serial))
		}
		return nil
	})
	model.SortZoneInfos(out)
	return out, err
}

// GetZone returns one zone's settings and state.
func (s *Zones) GetZone(ctx context.Context, z model.Name) (model.ZoneInfo, error) {
	var info model.ZoneInfo
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		serial, err := storedSerial(tx, zr)
		if err != nil {
			return err
		}
		info = zr.Info(serial)
		return nil
	})
	return info, err
}
