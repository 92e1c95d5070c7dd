package control

import (
	"context"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
)

// WriteOptions apply to every write.
type WriteOptions struct {
	// IfMatch, when set, is the serial the caller last read; the write
	// fails with *PreconditionError if the zone has moved on.
	IfMatch *uint32
	// Actor names who made the change (a token name, "zone-file", ...).
	Actor string
}

// check fails with *PreconditionError when IfMatch is set and is not the
// zone's current serial.
func (wo *WriteOptions) check(z model.Name, cur uint32) error {
	if wo.IfMatch != nil && *wo.IfMatch != cur {
		return &PreconditionError{Zone: string(z), Expected: uint64(*wo.IfMatch), Current: uint64(cur)}
	}
	return nil
}

// ChangeResult reports a committed (or no-op) change.
type ChangeResult struct {
	Zone      model.Name `json:"zone"`
	OldSerial uint32     `json:"old_serial"`
	Serial    uint32     `json:"serial"`
	Changed   bool       `json:"changed"`
}

// Apply applies changes to one zone atomically: all of them or none. A
// change list that leaves the zone as it was succeeds without a new serial
// (Changed is false).
func (s *Zones) Apply(ctx context.Context, z model.Name, changes []model.Change, wo WriteOptions) (ChangeResult, error) {
	return s.apply(ctx, z, changes, wo, nil)
}

// DeleteRRset deletes one RRset, failing with ErrRRsetNotFound (before
// If-Match is checked) when the zone has none such.
func (s *Zones) DeleteRRset(ctx context.Context, z model.Name, k model.Key, wo WriteOptions) (ChangeResult, error) {
	return s.apply(ctx, z, []model.Change{{Op: model.OpDelete, Name: k.Name, Type: k.Type}}, wo, &k)
}

// apply is Apply; when mustExist is set, that RRset must exist when the
// transaction starts.
func (s *Zones) apply(ctx context.Context, z model.Name, changes []model.Change, wo WriteOptions, mustExist *model.Key) (ChangeResult, error) {
	if len(changes) == 0 {
		return ChangeResult{}, model.Errorf("changes", "no changes given")
	}
	for i := range changes {
		c := &changes[i]
		if !c.Name.IsSubdomainOf(z) {
			return ChangeResult{}, model.Errorf(fmt.Sprintf("changes[%d].name", i), "%s is not in zone %s", c.Name, z)
		}
		if err := model.CheckStorableType(c.Type); err != nil {
			return ChangeResult{}, model.Errorf(fmt.Sprintf("changes[%d].type", i), "%v", err)
		}
	}
	ownerField := func(owner model.Name) string {
		for i := range changes {
			if changes[i].Name == owner {
				return fmt.Sprintf("changes[%d]", i)
			}
		}
		return "changes"
	}
	return s.editZone(withAuditAction(ctx, "rrsets.change"), z, wo.Actor, ownerField, func(e *edit, cur uint32) error {
		if mustExist != nil {
			set, err := getRRset(e.tx, z, *mustExist)
			if err != nil {
				return err
			}
			if set == nil {
				return fmt.Errorf("%w: %s %s in zone %s", ErrRRsetNotFound, mustExist.Name, model.TypeString(mustExist.Type), z)
			}
		}
		if err := wo.check(z, cur); err != nil {
			return err
		}
		for i := range changes {
			if err := e.change(changes[i]); err != nil {
				if !model.IsValidation(err) {
					return err // the store's fault (a read that failed, a corrupt record), not the change's
				}
				return model.WithField(fmt.Sprintf("changes[%d]", i), err)
			}
		}
		return nil
	})
}
