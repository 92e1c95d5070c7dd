package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// zoneWrite marks ctx for an Update that writes zone z: every such Update
// rewrites the zone's SOA and its zone record, so an optimistic store
// runs a process's writes to one zone one at a time
// (store.WithConflictKey).
func zoneWrite(ctx context.Context, z model.Name) context.Context {
	return store.WithConflictKey(ctx, schema.ZoneKey(z))
}

// editZone runs one change of zone z, a zone of this server's own, as one
// store transaction: fill gets the edit and the zone's serial before the
// change and records what changes (or refuses with an error); then the
// edit commits. A change that changes nothing succeeds without a new
// serial. Either way the result is served before editZone returns.
func (s *core) editZone(ctx context.Context, z model.Name, actor string, ownerField func(model.Name) string, fill func(e *edit, serial uint32) error) (ChangeResult, error) {
	return s.runEdit(ctx, z, actor, ownerField, false, fill)
}

// runEdit is editZone for either kind of zone: with fromPrimary, z must be
// a secondary zone (its serial is 0 while it has no data), the edit may
// change what only a primary may, and the refresh is recorded with the
// change.
func (s *core) runEdit(ctx context.Context, z model.Name, actor string, ownerField func(model.Name) string, fromPrimary bool, fill func(e *edit, serial uint32) error) (ChangeResult, error) {
	res := ChangeResult{Zone: z}
	var readRev store.Revision
	tctx, span := startEdit(ctx, z, actor)
	rev, err := s.st.Update(zoneWrite(tctx, z), func(tx store.Tx) error {
		span.attempt()
		readRev = tx.Revision()
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		var cur uint32
		switch {
		case fromPrimary && !zr.IsSecondary():
			return fmt.Errorf("%w: %s", ErrNotSecondary, z)
		case fromPrimary:
			cur, err = storedSerial(tx, zr)
		default:
			if err := refuseIfSecondary(zr); err != nil {
				return err
			}
			cur, _, err = zoneSerial(tx, z)
		}
		if err != nil {
			return err
		}
		res = ChangeResult{Zone: z, OldSerial: cur, Serial: cur}
		e := newEdit(tx, zr)
		e.fromPrimary = fromPrimary
		if err := fill(e, cur); err != nil {
			return err
		}
		if fromPrimary { // saved with the change by commit
			zr.Secondary = model.SecondaryState{Refreshed: s.opts.Clock().UTC()}
		}
		old, serial, err := e.commit(s.commitOptions(ctx, tx, actor, ownerField))
		if err != nil {
			return err
		}
		res.OldSerial, res.Serial, res.Changed = old, serial, true
		return nil
	})
	span.end(tctx, res, rev, err)
	if errors.Is(err, errNoChange) {
		// Nothing to write, but what the caller sees must be served.
		return res, s.published(ctx, readRev)
	}
	if err != nil {
		return ChangeResult{}, err
	}
	return res, s.published(ctx, rev)
}
