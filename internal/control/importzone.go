package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// ImportMode says whether an import may create or replace a zone.
type ImportMode int

const (
	// ImportCreate creates a new zone; it fails with ErrZoneExists.
	ImportCreate ImportMode = iota
	// ImportReplace replaces the content of an existing zone.
	ImportReplace
	// ImportUpsert creates the zone or replaces its content.
	ImportUpsert
)

// ImportOptions configure Import.
type ImportOptions struct {
	WriteOptions
	Mode ImportMode
	// Settings apply when the zone is created; Name is ignored.
	Settings model.ZoneSettings
}

// ImportResult reports an import.
type ImportResult struct {
	ChangeResult
	Created bool `json:"created"`
	RRsets  int  `json:"rrsets"`
	Records int  `json:"records"`
}

// Import makes sets the whole content of zone z in one transaction:
// records not in sets are removed, the rest written, the serial advanced
// (or, for a new zone, taken from the SOA in sets). sets must hold the
// apex SOA and NS records and be valid as a whole (zonefile.Parse checks
// that); Import checks it again.
func (s *Zones) Import(ctx context.Context, z model.Name, sets []*model.RRset, o ImportOptions) (ImportResult, error) {
	policy, err := model.ParseSerialPolicy(string(o.Settings.SerialPolicy))
	if err != nil {
		return ImportResult{}, model.Errorf("serial_policy", "%v", err)
	}
	if o.Settings.DefaultTTL > model.MaxTTL {
		return ImportResult{}, model.Errorf("default_ttl", "%d is larger than the maximum TTL %d", o.Settings.DefaultTTL, model.MaxTTL)
	}
	seen := make(map[model.Key]bool, len(sets))
	for i, set := range sets {
		if !set.Name.IsSubdomainOf(z) {
			return ImportResult{}, model.Errorf(fmt.Sprintf("records[%d]", i), "%s is not in zone %s", set.Name, z)
		}
		if seen[set.Key()] {
			return ImportResult{}, model.Errorf(fmt.Sprintf("records[%d]", i), "%s %s appears twice", set.Name, model.TypeString(set.Type))
		}
		seen[set.Key()] = true
	}
	res := ImportResult{ChangeResult: ChangeResult{Zone: z}}
	now := s.opts.Clock().UTC()
	var readRev store.Revision
	tctx, span := startEdit(ctx, z, o.Actor)
	rev, err := s.st.Update(zoneWrite(tctx, z), func(tx store.Tx) error {
		span.attempt()
		readRev = tx.Revision()
		res = ImportResult{ChangeResult: ChangeResult{Zone: z}}
		zr, err := loadZone(tx, z)
		switch {
		case errors.Is(err, ErrZoneNotFound):
			if o.Mode == ImportReplace {
				return err
			}
			if o.IfMatch != nil {
				return &PreconditionError{Zone: string(z), Expected: uint64(*o.IfMatch)}
			}
			settings := o.Settings
			settings.Name = z
			settings.SerialPolicy = policy
			if settings.DefaultTTL == 0 {
				settings.DefaultTTL = model.DefaultZoneTTL
			}
			settings.Created = now
			if err := checkTransferSettings(tx, &settings); err != nil {
				return err
			}
			zr = &zoneRecord{ZoneSettings: settings, JournalNext: 1}
			res.Created = true
		case err != nil:
			return err
		case o.Mode == ImportCreate:
			return fmt.Errorf("%w: %s", ErrZoneExists, z)
		case zr.IsSecondary():
			return refuseIfSecondary(zr)
		default:
			if o.Settings.SerialPolicy != "" && policy != zr.SerialPolicy {
				return model.Errorf("serial_policy", "zone %s uses the %s serial policy; a serial policy applies only when the import creates the zone", z, zr.SerialPolicy)
			}
			cur, _, err := zoneSerial(tx, z)
			if err != nil {
				return err
			}
			res.OldSerial, res.Serial = cur, cur
			if err := o.check(z, cur); err != nil {
				return err
			}
		}
		e := newEdit(tx, zr)
		e.created = res.Created
		e.replace = true
		if !res.Created {
			if err := e.loadAll(); err != nil {
				return err
			}
			for k := range e.old {
				e.set(k, nil)
			}
		}
		for _, set := range sets {
			e.set(set.Key(), set)
		}
		old, serial, err := e.commit(s.commitOptions(withAuditAction(ctx, importAction(res.Created)), tx, o.Actor, func(owner model.Name) string { return string(owner) }))
		if err != nil {
			return err
		}
		res.OldSerial, res.Serial, res.Changed = old, serial, true
		res.RRsets, res.Records = zr.RRsets, zr.Records
		return nil
	})
	span.end(tctx, res.ChangeResult, rev, err)
	if errors.Is(err, errNoChange) {
		res.RRsets, res.Records = len(sets), countRecords(sets)
		return res, s.published(ctx, readRev)
	}
	if err != nil {
		return ImportResult{}, err
	}
	return res, s.published(ctx, rev)
}

// loadAll reads every stored set of the zone into e.old.
func (e *edit) loadAll() error {
	prefix := schema.ZoneRRsetPrefix(e.zone)
	return e.tx.Scan(prefix, "", func(key string, value []byte) error {
		_, k, ok := schema.ParseRRsetKey(key)
		if !ok {
			return schema.BadKey(key)
		}
		s, err := schema.DecodeRRset(key, k, value)
		if err != nil {
			return err
		}
		e.old[k] = s
		return nil
	})
}

func countRecords(sets []*model.RRset) int {
	n := 0
	for _, s := range sets {
		n += len(s.Rdata)
	}
	return n
}
