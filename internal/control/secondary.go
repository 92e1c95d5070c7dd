package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// Secondary zones take their content from primaries by zone transfer
// (internal/secondary does the transfers). Their serial is the primary's;
// nothing else may change them.

// ErrNotSecondary means the zone takes no transfers.
var ErrNotSecondary = errors.New("not a secondary zone")

// ErrZoneNotLoaded means a secondary zone has no data to serve.
var ErrZoneNotLoaded = errors.New("the secondary zone is not loaded")

// refuseIfSecondary fails a write that does not come from the primary.
func refuseIfSecondary(zr *zoneRecord) error {
	if zr.IsSecondary() {
		return model.Errorf("zone", "%s is a secondary zone of %s: change it at the primary", zr.Name, zr.Primaries[0].Address)
	}
	return nil
}

// CreateSecondaryZone creates a zone that takes its content from its
// primaries. It has no records (and answers SERVFAIL) until the first
// transfer.
func (s *Secondaries) CreateSecondaryZone(ctx context.Context, zs model.ZoneSettings, actor string) (model.ZoneInfo, error) {
	if !zs.IsSecondary() {
		return model.ZoneInfo{}, model.Errorf("primaries", "a secondary zone needs at least one primary")
	}
	zs.Created = s.opts.Clock().UTC()
	if zs.DefaultTTL == 0 {
		zs.DefaultTTL = model.DefaultZoneTTL
	}
	zr := &zoneRecord{ZoneSettings: zs, JournalNext: 1}
	rev, err := s.st.Update(zoneWrite(ctx, zs.Name), func(btx store.Tx) error {
		tx := s.audited(btx)
		_, ok, err := tx.Get(schema.ZoneKey(zs.Name))
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("%w: %s", ErrZoneExists, zs.Name)
		}
		if err := checkTransferSettings(tx, &zr.ZoneSettings); err != nil {
			return err
		}
		if err := saveZone(tx, zr); err != nil {
			return err
		}
		if err := tx.change(schema.AuditZoneStream(zs.Name), "zone.create-secondary", "zone "+string(zs.Name), "", schema.ZoneKey(zs.Name)); err != nil {
			return err
		}
		return tx.commit(ctx, actor)
	})
	if err != nil {
		return model.ZoneInfo{}, err
	}
	s.log.Info("secondary zone created", "zone", zs.Name, "primaries", len(zs.Primaries), "by", actor)
	return zr.Info(0), s.published(ctx, rev)
}

// SecondaryZone is what the transfer engine needs of a secondary zone.
type SecondaryZone struct {
	Name      model.Name
	Primaries []model.NotifyTarget
	ACL       model.ZoneACL
	State     model.SecondaryState
	// SOA is the zone's SOA, nil before the first transfer.
	SOA *model.SOAFields
}

// SecondaryZones returns every secondary zone. It is the listing the
// refresh loops of internal/secondary follow, which keeps the secondary
// zones served: a zone record that cannot be read is logged and left out
// (skipLog), and a zone whose SOA cannot be read is logged and listed
// without one, as before its first transfer, so that its refresh loop
// goes on and records in the zone's state why its transfers fail.
func (s *Secondaries) SecondaryZones(ctx context.Context) ([]SecondaryZone, error) {
	var out []SecondaryZone
	err := s.st.View(ctx, func(tx store.ReadTx) error {
		out = nil
		pass := s.skips.pass(s.log, s.opts.Clock())
		defer pass.done()
		return scanZones(tx, pass.skip, func(zr *zoneRecord) error {
			if !zr.IsSecondary() {
				return nil
			}
			sz := SecondaryZone{Name: zr.Name, Primaries: zr.Primaries, ACL: zr.ACL, State: zr.Secondary}
			soa, err := getRRset(tx, zr.Name, model.Key{Name: zr.Name, Type: model.TypeSOA})
			switch {
			case errors.Is(err, schema.ErrCorrupt):
				pass.skip(schema.RRsetKey(zr.Name, model.Key{Name: zr.Name, Type: model.TypeSOA}), err)
			case err != nil:
				return err
			}
			if soa != nil && len(soa.Rdata) == 1 {
				if f, err := model.ParseSOAFields(soa.Rdata[0]); err == nil {
					sz.SOA = &f
				}
			}
			out = append(out, sz)
			return nil
		})
	})
	return out, err
}

// SecondaryZone returns the settings of secondary zone z (its SOA left
// out), as a NOTIFY for it is checked against them: ok is false when z
// is no zone here or not a secondary one. One read, whatever the number
// of zones.
func (s *Secondaries) SecondaryZone(ctx context.Context, z model.Name) (sz SecondaryZone, ok bool, err error) {
	err = s.st.View(ctx, func(tx store.ReadTx) error {
		zr, err := loadZone(tx, z)
		switch {
		case errors.Is(err, ErrZoneNotFound):
			sz, ok = SecondaryZone{}, false
			return nil
		case err != nil:
			return err
		}
		sz = SecondaryZone{Name: zr.Name, Primaries: zr.Primaries, ACL: zr.ACL, State: zr.Secondary}
		ok = zr.IsSecondary()
		return nil
	})
	return sz, ok, err
}

// LoadFromPrimary makes sets (a full transfer, SOA included) the content of
// secondary zone z, at the primary's serial, and records the refresh.
func (s *Secondaries) LoadFromPrimary(ctx context.Context, z model.Name, sets []*model.RRset, primary string) (ChangeResult, error) {
	return s.fromPrimary(ctx, z, primary, func(e *edit) error {
		e.replace = true
		if err := e.loadAll(); err != nil {
			return err
		}
		for k := range e.old {
			e.set(k, nil)
		}
		seen := map[model.Key]bool{}
		for _, set := range sets {
			if !set.Name.IsSubdomainOf(z) {
				return model.Errorf("records", "%s is not in zone %s", set.Name, z)
			}
			if seen[set.Key()] {
				return model.Errorf("records", "%s %s appears twice", set.Name, model.TypeString(set.Type))
			}
			seen[set.Key()] = true
			e.set(set.Key(), set)
		}
		return nil
	})
}

// IXFRDelta is one difference sequence of an incremental transfer: the
// records to remove and to add, in the zone at serial From, giving serial
// To. The SOA records are not part of the lists.
type IXFRDelta struct {
	From, To       uint32
	Removed, Added []*model.RRset
	SOA            *model.RRset // the SOA at To
}

// ApplyFromPrimary applies an incremental transfer to secondary zone z,
// which must be at the serial the first delta starts from (else
// ErrSerialMismatch: take a full transfer).
func (s *Secondaries) ApplyFromPrimary(ctx context.Context, z model.Name, deltas []IXFRDelta, primary string) (ChangeResult, error) {
	return s.fromPrimary(ctx, z, primary, func(e *edit) error {
		cur, _, err := zoneSerial(e.tx, z)
		if err != nil || len(deltas) == 0 || cur != deltas[0].From {
			return ErrSerialMismatch
		}
		for _, d := range deltas {
			for _, set := range d.Removed {
				if err := e.change(model.Change{Op: model.OpDelete, Name: set.Name, Type: set.Type, Rdata: set.Rdata}); err != nil {
					return err
				}
			}
			for _, set := range d.Added {
				if err := e.change(model.Change{Op: model.OpAdd, Name: set.Name, Type: set.Type, TTL: set.TTL, HasTTL: true, Rdata: set.Rdata}); err != nil {
					return err
				}
			}
			e.set(model.Key{Name: z, Type: model.TypeSOA}, d.SOA)
		}
		return nil
	})
}

// ErrSerialMismatch means an incremental transfer does not start at the
// zone's serial.
var ErrSerialMismatch = errors.New("the incremental transfer does not start at the zone's serial")

// fromPrimary runs one change of a secondary zone coming from its primary,
// and records the successful refresh (with the change, or alone when
// nothing changed).
func (s *Secondaries) fromPrimary(ctx context.Context, z model.Name, primary string, fill func(*edit) error) (ChangeResult, error) {
	ctx = withAuditAction(audit.WithOrigin(ctx, audit.System("secondary"), primary), "zone.transfer")
	res, err := s.runEdit(ctx, z, "primary "+primary, func(model.Name) string { return "records" }, true,
		func(e *edit, _ uint32) error { return fill(e) })
	if err == nil && !res.Changed {
		_, err = s.MarkRefreshed(ctx, z, "")
	}
	return res, err
}

// MarkRefreshed records a refresh attempt of secondary zone z: a success
// (failure "") or the failure's message. It returns the zone's state.
func (s *Secondaries) MarkRefreshed(ctx context.Context, z model.Name, failure string) (model.SecondaryState, error) {
	var st model.SecondaryState
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if !zr.IsSecondary() {
			return fmt.Errorf("%w: %s", ErrNotSecondary, z)
		}
		if failure == "" {
			zr.Secondary.Refreshed = s.opts.Clock().UTC()
			zr.Secondary.LastError = ""
			zr.Secondary.Expired = false
		} else {
			zr.Secondary.LastError = failure
		}
		st = zr.Secondary
		return saveZone(tx, zr)
	})
	return st, err
}

// ExpireSecondary takes secondary zone z out of service: no primary has
// answered for the SOA's expire time (RFC 1035 section 4.3.5). Its records
// are removed, so it answers SERVFAIL until the next transfer.
func (s *Secondaries) ExpireSecondary(ctx context.Context, z model.Name) error {
	rev, err := s.st.Update(zoneWrite(ctx, z), func(btx store.Tx) error {
		tx := s.audited(btx)
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if !zr.IsSecondary() {
			return fmt.Errorf("%w: %s", ErrNotSecondary, z)
		}
		records := zr.Records
		for _, prefix := range []string{schema.ZoneRRsetPrefix(z), schema.JournalPrefix(z)} {
			if err := deletePrefix(btx, prefix); err != nil {
				return err
			}
		}
		zr.RRsets, zr.Records, zr.JournalFirst, zr.JournalChanges, zr.JournalSteered = 0, 0, 0, 0, nil
		zr.Secondary.Expired = true
		if err := saveZone(tx, zr); err != nil {
			return err
		}
		detail := fmt.Sprintf("no primary answered for the SOA expire time; %d records removed", records)
		if err := tx.change(schema.AuditZoneStream(z), "zone.expire", "zone "+string(z), detail, schema.ZoneKey(z)); err != nil {
			return err
		}
		return tx.commit(ctx, "secondary")
	})
	if err != nil {
		return err
	}
	s.log.Warn("secondary zone expired: answering SERVFAIL until a primary answers", "zone", z)
	return s.published(ctx, rev)
}
