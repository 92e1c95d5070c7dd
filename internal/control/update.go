package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
)

// PrereqKind is one of the prerequisites of RFC 2136 section 2.4.
type PrereqKind int

// The prerequisites.
const (
	NameInUse      PrereqKind = iota + 1 // some RRset has the name
	NameNotInUse                         // no RRset has the name
	RRsetExists                          // an RRset of the type exists, whatever its data
	RRsetNotExists                       // no RRset of the type exists
	RRsetEquals                          // the RRset is exactly Set (TTL aside)
)

func (k PrereqKind) String() string {
	switch k {
	case NameInUse:
		return "name is in use"
	case NameNotInUse:
		return "name is not in use"
	case RRsetExists:
		return "RRset exists"
	case RRsetNotExists:
		return "RRset does not exist"
	case RRsetEquals:
		return "RRset has exactly these records"
	}
	return fmt.Sprintf("prerequisite %d", int(k))
}

// Prereq is one prerequisite of an update.
type Prereq struct {
	Kind PrereqKind
	Name model.Name
	Type model.Type
	Set  *model.RRset // for RRsetEquals
}

// PrereqError reports the first prerequisite that does not hold.
type PrereqError struct{ Prereq Prereq }

func (e *PrereqError) Error() string {
	if e.Prereq.Kind == NameInUse || e.Prereq.Kind == NameNotInUse {
		return fmt.Sprintf("prerequisite %q does not hold for %s", e.Prereq.Kind, e.Prereq.Name)
	}
	return fmt.Sprintf("prerequisite %q does not hold for %s %s", e.Prereq.Kind, e.Prereq.Name, model.TypeString(e.Prereq.Type))
}

// UpdateOpKind is one of the update operations of RFC 2136 section 2.5.
type UpdateOpKind int

// The operations.
const (
	AddRR       UpdateOpKind = iota + 1 // add one record to an RRset
	DeleteRRset                         // delete the RRset of a type
	DeleteName                          // delete every RRset at a name
	DeleteRR                            // delete one record
)

// UpdateOp is one operation of an update.
type UpdateOp struct {
	Kind  UpdateOpKind
	Name  model.Name
	Type  model.Type
	TTL   uint32
	Rdata []byte
}

// ErrUpdateRefused means the zone's update ACL does not allow the update.
var ErrUpdateRefused = errors.New("refused by the zone's update ACL")

// DynamicUpdate applies an RFC 2136 update to zone z in one transaction:
// allow sees the zone's settings first (it returns ErrUpdateRefused to
// refuse), then every prerequisite is checked against the zone as it is
// (a *PrereqError names the first that fails), then the operations are
// applied in order, with the protections of section 3.4: the apex SOA and
// NS cannot be deleted, a SOA is replaced only by a later serial, and an
// add that would put a CNAME beside other data (or the reverse) is
// ignored. The serial advances under the zone's policy, as for any change.
func (s *Zones) DynamicUpdate(ctx context.Context, z model.Name, prereqs []Prereq, ops []UpdateOp, actor string, allow func(*model.ZoneSettings) error) (ChangeResult, error) {
	return s.editZone(withAuditAction(ctx, "zone.update"), z, actor, func(model.Name) string { return "update" }, func(e *edit, cur uint32) error {
		if err := allow(&e.zr.ZoneSettings); err != nil {
			return err
		}
		u := &updater{edit: e}
		for _, p := range prereqs {
			ok, err := u.holds(p)
			if err != nil {
				return err
			}
			if !ok {
				return &PrereqError{Prereq: p}
			}
		}
		for _, op := range ops {
			if err := u.apply(op, cur); err != nil {
				return err
			}
		}
		return nil
	})
}

// updater is an edit that also knows which types a name holds.
type updater struct {
	*edit
}

// types returns the types of the RRsets at name as the edit has them.
func (u *updater) types(name model.Name) ([]model.Type, error) {
	seen := map[model.Type]bool{}
	err := u.tx.Scan(schema.NameRRsetPrefix(u.zone, name), "", func(key string, _ []byte) error {
		_, k, ok := schema.ParseRRsetKey(key)
		if !ok || k.Name != name {
			return schema.BadKey(key)
		}
		seen[k.Type] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k := range u.next {
		if k.Name == name {
			seen[k.Type] = true
		}
	}
	var out []model.Type
	for t := range seen {
		set, err := u.current(model.Key{Name: name, Type: t})
		if err != nil {
			return nil, err
		}
		if set != nil {
			out = append(out, t)
		}
	}
	return out, nil
}

func (u *updater) holds(p Prereq) (bool, error) {
	switch p.Kind {
	case NameInUse, NameNotInUse:
		ts, err := u.types(p.Name)
		return (len(ts) > 0) == (p.Kind == NameInUse), err
	}
	set, err := u.current(model.Key{Name: p.Name, Type: p.Type})
	if err != nil {
		return false, err
	}
	switch p.Kind {
	case RRsetExists:
		return set != nil, nil
	case RRsetNotExists:
		return set == nil, nil
	case RRsetEquals:
		if set == nil {
			return false, nil
		}
		a, b := set.Clone(), p.Set.Clone()
		a.TTL, b.TTL = 0, 0
		return a.Equal(b), nil
	}
	return false, fmt.Errorf("control: unknown prerequisite %d", p.Kind)
}

// apply applies one operation; serial is the zone's serial before the
// update.
func (u *updater) apply(op UpdateOp, serial uint32) error {
	apex := op.Name == u.zone
	k := model.Key{Name: op.Name, Type: op.Type}
	switch op.Kind {
	case AddRR:
		if op.Type == model.TypeSOA {
			if !apex {
				return nil
			}
			f, err := model.ParseSOAFields(op.Rdata)
			if err != nil || !model.SerialLess(serial, f.Serial) {
				return err // a SOA that does not advance the serial is ignored
			}
			u.set(k, &model.RRset{Name: op.Name, Type: op.Type, TTL: op.TTL, Rdata: [][]byte{op.Rdata}})
			return nil
		}
		ts, err := u.types(op.Name)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if (t == model.TypeCNAME) != (op.Type == model.TypeCNAME) {
				return nil // CNAME and other data do not mix (section 3.4.2.2)
			}
		}
		return u.change(model.Change{Op: model.OpAdd, Name: op.Name, Type: op.Type, TTL: op.TTL, HasTTL: true, Rdata: [][]byte{op.Rdata}})
	case DeleteRRset:
		if apex && (op.Type == model.TypeSOA || op.Type == model.TypeNS) {
			return nil
		}
		return u.change(model.Change{Op: model.OpDelete, Name: op.Name, Type: op.Type})
	case DeleteName:
		ts, err := u.types(op.Name)
		if err != nil {
			return err
		}
		for _, t := range ts {
			if apex && (t == model.TypeSOA || t == model.TypeNS) {
				continue
			}
			if err := u.change(model.Change{Op: model.OpDelete, Name: op.Name, Type: t}); err != nil {
				return err
			}
		}
		return nil
	case DeleteRR:
		if apex && op.Type == model.TypeSOA {
			return nil
		}
		if apex && op.Type == model.TypeNS {
			set, err := u.current(k)
			if err != nil || set == nil || (len(set.Rdata) == 1 && set.Has(op.Rdata)) {
				return err // the last apex NS stays
			}
		}
		return u.change(model.Change{Op: model.OpDelete, Name: op.Name, Type: op.Type, Rdata: [][]byte{op.Rdata}})
	}
	return fmt.Errorf("control: unknown update operation %d", op.Kind)
}
