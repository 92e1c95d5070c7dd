package control

import (
	"context"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// ZoneUpdate changes a zone's settings; nil fields are left alone. Settings
// are not zone data: the serial does not change.
type ZoneUpdate struct {
	DefaultTTL *uint32
	Transfer   *[]model.ACLRule
	Update     *[]model.ACLRule
	NotifyACL  *[]model.ACLRule
	Notify     *[]model.NotifyTarget
	Primaries  *[]model.NotifyTarget // only for a secondary zone, never empty
}

// UpdateZone applies u to zone z's settings and returns them.
func (s *Zones) UpdateZone(ctx context.Context, z model.Name, u ZoneUpdate, actor string) (model.ZoneInfo, error) {
	if u.DefaultTTL != nil && (*u.DefaultTTL == 0 || *u.DefaultTTL > model.MaxTTL) {
		return model.ZoneInfo{}, model.Errorf("default_ttl", "%d is outside 1..%d", *u.DefaultTTL, model.MaxTTL)
	}
	var info model.ZoneInfo
	_, err := s.st.Update(zoneWrite(ctx, z), func(btx store.Tx) error {
		tx := s.audited(btx)
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		if u.DefaultTTL != nil {
			zr.DefaultTTL = *u.DefaultTTL
		}
		for _, l := range []struct{ from, to *[]model.ACLRule }{
			{u.Transfer, &zr.ACL.Transfer}, {u.Update, &zr.ACL.Update}, {u.NotifyACL, &zr.ACL.Notify},
		} {
			if l.from != nil {
				*l.to = *l.from
			}
		}
		if u.Notify != nil {
			zr.Notify = *u.Notify
		}
		if u.Primaries != nil {
			switch {
			case !zr.IsSecondary():
				return model.Errorf("primaries", "%s is a zone of this server's own, not a secondary", z)
			case len(*u.Primaries) == 0:
				return model.Errorf("primaries", "a secondary zone needs at least one primary (delete the zone to stop serving it)")
			}
			zr.Primaries = *u.Primaries
		}
		if err := checkTransferSettings(tx, &zr.ZoneSettings); err != nil {
			return err
		}
		if err := saveZone(tx, zr); err != nil {
			return err
		}
		serial, err := storedSerial(tx, zr)
		if err != nil {
			return err
		}
		info = zr.Info(serial)
		if err := tx.change(schema.AuditZoneStream(z), "zone.settings", "zone "+string(z), "", schema.ZoneKey(z)); err != nil {
			return err
		}
		return tx.commit(ctx, actor)
	})
	if err != nil {
		return model.ZoneInfo{}, err
	}
	s.log.Info("zone settings changed", "zone", z, "by", actor)
	return info, nil
}

// checkTransferSettings validates a zone's ACLs and NOTIFY targets and
// checks that every TSIG key they name exists.
func checkTransferSettings(tx store.ReadTx, zs *model.ZoneSettings) error {
	refs, err := zs.ValidateTransfer()
	if err != nil {
		return err
	}
	for _, r := range refs {
		_, ok, err := tx.Get(schema.TSIGKey(r.Key))
		if err != nil {
			return err
		}
		if !ok {
			return model.Errorf(r.Field, "no TSIG key %s (create it with stratus tsig create)", r.Key)
		}
	}
	return nil
}

// zonesUsingKey returns the zones whose settings name the TSIG key k.
func zonesUsingKey(tx store.ReadTx, k model.Name) ([]model.Name, error) {
	var out []model.Name
	err := scanZones(tx, schema.Fail, func(zr *zoneRecord) error {
		refs, _ := zr.ValidateTransfer()
		for _, r := range refs {
			if r.Key == k {
				out = append(out, zr.Name)
				break
			}
		}
		return nil
	})
	return out, err
}
