package control

import (
	"errors"
	"sort"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// edit assembles one change of one zone inside a store transaction and
// commits it: validation of the result, the RRset writes, the serial bump,
// the bookkeeping and the journal entry. Every write path ends in commit.
type edit struct {
	tx      store.Tx
	zone    model.Name
	zr      *zoneRecord
	created bool // the zone is new in this transaction

	// replace means next holds the whole new content of the zone (an
	// import): validation looks at next alone, and old was loaded in full.
	replace bool

	old     map[model.Key]*model.RRset // stored state of touched sets (nil: absent)
	next    map[model.Key]*model.RRset // new state of touched sets (nil: deleted)
	touched []model.Key                // in first-touch order

	// fromPrimary means the change comes from a secondary zone's primary:
	// the serial is the primary's, exactly.
	fromPrimary bool

	// steered marks the touched sets that are steered answers as
	// secondaries get them (steered.go): kept apart from the zone's data,
	// not validated as records, but journaled and transferred like them.
	steered map[model.Key]bool
}

func newEdit(tx store.Tx, zr *zoneRecord) *edit {
	return &edit{tx: tx, zone: zr.Name, zr: zr, old: map[model.Key]*model.RRset{}, next: map[model.Key]*model.RRset{}, steered: map[model.Key]bool{}}
}

// dataKeys returns the touched keys that are zone data, not steered
// answers.
func (e *edit) dataKeys() []model.Key {
	if len(e.steered) == 0 {
		return e.touched
	}
	var out []model.Key
	for _, k := range e.touched {
		if !e.steered[k] {
			out = append(out, k)
		}
	}
	return out
}

// current returns the set as the edit has it so far.
func (e *edit) current(k model.Key) (*model.RRset, error) {
	if s, ok := e.next[k]; ok {
		return s, nil
	}
	return e.stored(k)
}

// stored returns the set as it is in the store.
func (e *edit) stored(k model.Key) (*model.RRset, error) {
	if s, ok := e.old[k]; ok {
		return s, nil
	}
	if e.replace || e.created {
		return nil, nil
	}
	get := getRRset
	if e.steered[k] {
		get = getSteeredRRset
	}
	s, err := get(e.tx, e.zone, k)
	if err != nil {
		return nil, err
	}
	e.old[k] = s
	return s, nil
}

// change applies c to the set it names, as the edit has it so far. A
// change that leaves the set as it was is dropped at commit.
func (e *edit) change(c model.Change) error {
	if !c.Name.IsSubdomainOf(e.zone) {
		return model.Errorf("records", "%s is not in zone %s", c.Name, e.zone)
	}
	k := model.Key{Name: c.Name, Type: c.Type}
	cur, err := e.current(k)
	if err != nil {
		return err
	}
	next, err := c.Apply(cur, e.zr.DefaultTTL)
	if err != nil {
		return err
	}
	e.set(k, next)
	return nil
}

// set records the new state of one set (nil deletes it).
func (e *edit) set(k model.Key, s *model.RRset) {
	if _, ok := e.next[k]; !ok {
		e.touched = append(e.touched, k)
	}
	e.next[k] = s
}

// commitOptions carry what commit needs besides the edit.
type commitOptions struct {
	// digestKey keys the digests of the RRsets in the audit entry.
	digestKey []byte
	now       time.Time
	actor     string
	journal   journalBounds
	// journalMaxRecords: a change with more records than this is journaled
	// as a Reset entry.
	journalMaxRecords int
	// ownerField names the input responsible for an owner, for errors.
	ownerField func(owner model.Name) string
	// audit appends the change's audit entry (action: auditAction), unless
	// it changed only the steered answers (derived data, not audited).
	auditAction string
	audit       func(auditChange) error
}

// commit validates and writes the edit. It returns errNoChange when the
// edit changes nothing.
func (e *edit) commit(o commitOptions) (oldSerial, newSerial uint32, err error) {
	if err := e.validate(o); err != nil {
		return 0, 0, err
	}
	// Drop sets that end up as they were.
	changed := e.touched[:0]
	for _, k := range e.touched {
		old, err := e.stored(k)
		if err != nil {
			return 0, 0, err
		}
		nx := e.next[k]
		if (old == nil && nx == nil) || (old != nil && nx != nil && old.Equal(nx)) {
			delete(e.next, k)
			continue
		}
		changed = append(changed, k)
	}
	e.touched = changed
	if len(e.touched) == 0 && !e.created {
		return 0, 0, errNoChange
	}

	// The serial: the zone's policy advances it; a serial written into a
	// new SOA (by an operator or a zone file) may move it further.
	soaKey := model.Key{Name: e.zone, Type: model.TypeSOA}
	oldSOA, err := e.stored(soaKey)
	if err != nil {
		return 0, 0, err
	}
	newSOA, err := e.current(soaKey)
	if err != nil {
		return 0, 0, err
	}
	if newSOA == nil || len(newSOA.Rdata) != 1 {
		return 0, 0, model.Errorf(o.ownerField(e.zone), "the zone apex %s must keep its SOA record", e.zone)
	}
	requested, err := model.ParseSOAFields(newSOA.Rdata[0])
	if err != nil {
		return 0, 0, model.Errorf(o.ownerField(e.zone), "%v", err)
	}
	switch {
	case e.created:
		newSerial = requested.Serial
	case e.fromPrimary:
		newSerial = requested.Serial
		if oldSOA != nil {
			f, err := model.ParseSOAFields(oldSOA.Rdata[0])
			if err != nil {
				return 0, 0, err
			}
			oldSerial = f.Serial
		}
	default:
		f, err := model.ParseSOAFields(oldSOA.Rdata[0])
		if err != nil {
			return 0, 0, err
		}
		oldSerial = f.Serial
		newSerial = model.NextSerial(e.zr.SerialPolicy, oldSerial, o.now)
		if _, soaEdited := e.next[soaKey]; soaEdited {
			newSerial = model.LaterSerial(newSerial, requested.Serial)
		}
	}
	soa := newSOA.Clone()
	soa.Rdata[0] = model.WithSOASerial(soa.Rdata[0], newSerial)
	e.set(soaKey, soa)

	// The journal entry and the bookkeeping, from the diff.
	entry := &JournalEntry{Zone: e.zone, OldSerial: oldSerial, NewSerial: newSerial, Time: o.now, Actor: o.actor, Reset: e.created || oldSOA == nil}
	records := 0
	for _, k := range e.touched {
		old, _ := e.stored(k)
		if old != nil {
			records += len(old.Rdata)
		}
		if nx := e.next[k]; nx != nil {
			records += len(nx.Rdata)
		}
	}
	if records > o.journalMaxRecords {
		entry.Reset = true
	}
	keys := e.sortedTouched()
	for _, k := range keys {
		old, _ := e.stored(k)
		nx := e.next[k]
		if old != nil && !e.steered[k] {
			e.zr.RRsets--
			e.zr.Records -= len(old.Rdata)
		}
		if nx != nil && !e.steered[k] {
			e.zr.RRsets++
			e.zr.Records += len(nx.Rdata)
		}
		if !entry.Reset {
			if err := addDiff(entry, old, nx); err != nil {
				return 0, 0, err
			}
		}
	}
	e.zr.Updated = o.now
	if e.created {
		// The zone record goes first so that watchers create the zone
		// before they see its records.
		if err := saveZone(e.tx, e.zr); err != nil {
			return 0, 0, err
		}
	}
	digests := zoneDigests{on: o.audit != nil, before: setsHash{key: o.digestKey}, after: setsHash{key: o.digestKey}}
	for _, k := range keys {
		var err error
		if e.steered[k] {
			err = putSteeredRRset(e.tx, e.zone, k, e.next[k])
		} else {
			err = digests.put(e, k)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	// An entry of the steered answers alone counts against their own bound.
	entry.Steered = len(keys) > 1
	for _, k := range keys {
		if k != soaKey && !e.steered[k] {
			entry.Steered = false
		}
	}
	if err := appendJournal(e.tx, e.zr, entry, o.journal); err != nil {
		return 0, 0, err
	}
	if !entry.Steered && o.audit != nil {
		if err := o.audit(e.zoneAudit(o.auditAction, keys, &digests, oldSerial, newSerial)); err != nil {
			return 0, 0, err
		}
	}
	return oldSerial, newSerial, saveZone(e.tx, e.zr)
}

// sortedTouched returns the touched keys in store key order, which is the
// order bbolt inserts fastest, with the SOA first as IXFR lists it.
func (e *edit) sortedTouched() []model.Key {
	keys := append([]model.Key(nil), e.touched...)
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		aSOA := a.Name == e.zone && a.Type == model.TypeSOA
		bSOA := b.Name == e.zone && b.Type == model.TypeSOA
		if aSOA != bSOA {
			return aSOA
		}
		if a.Name != b.Name {
			return schema.KeyName(a.Name) < schema.KeyName(b.Name)
		}
		return model.TypeString(a.Type) < model.TypeString(b.Type)
	})
	return keys
}

// validate checks every owner name the edit touches, as it will be.
func (e *edit) validate(o commitOptions) error {
	byName := map[model.Name][]*model.RRset{}
	var names []model.Name
	touched := e.dataKeys()
	if e.replace || e.created {
		for _, k := range touched {
			if s := e.next[k]; s != nil {
				if _, ok := byName[k.Name]; !ok {
					names = append(names, k.Name)
				}
				byName[k.Name] = append(byName[k.Name], s)
			}
		}
		if _, ok := byName[e.zone]; !ok {
			names = append(names, e.zone)
		}
	} else {
		seen := map[model.Name]bool{}
		for _, k := range touched {
			if seen[k.Name] {
				continue
			}
			seen[k.Name] = true
			names = append(names, k.Name)
			stored, err := setsAt(e.tx, e.zone, k.Name)
			if err != nil {
				return err
			}
			var sets []*model.RRset
			have := map[model.Type]bool{}
			for _, s := range stored {
				have[s.Type] = true
				if _, ok := e.old[s.Key()]; !ok && !e.replace && !e.created {
					e.old[s.Key()] = s // read once: current need not read it again
				}
				cur, err := e.current(s.Key())
				if err != nil {
					return err
				}
				if cur != nil {
					sets = append(sets, cur)
				}
			}
			for _, k2 := range touched {
				if k2.Name == k.Name && !have[k2.Type] && e.next[k2] != nil {
					sets = append(sets, e.next[k2])
				}
			}
			byName[k.Name] = sets
		}
	}
	services, err := e.servicesAt(names)
	if err != nil {
		return err
	}
	var cuts []model.Name
	for _, n := range names {
		for _, set := range byName[n] {
			if set.Type == model.TypeNS && n != e.zone {
				cuts = append(cuts, n)
			}
		}
	}
	below, err := e.servicesBelow(cuts)
	if err != nil {
		return err
	}
	for _, n := range names {
		err := model.CheckNode(e.zone, n, byName[n])
		if err == nil {
			err = checkBesideService(services[n], byName[n])
		}
		if err == nil && below[n] != nil {
			err = model.Errorf("type", "%s would become a delegation, but the steered service %s lives at or below it (delete the service first)", n, below[n].Name)
		}
		if err != nil {
			if ve, ok := err.(*model.Error); ok {
				return &model.Error{Field: o.ownerField(n), Message: ve.Message}
			}
			return err
		}
	}
	return nil
}

// servicesAt returns the services living at any of names.
func (e *edit) servicesAt(names []model.Name) (map[model.Name]*model.Service, error) {
	out := map[model.Name]*model.Service{}
	if len(names) > 64 {
		// Many names (an import): read the services once.
		all, err := scanServices(e.tx)
		if err != nil {
			return nil, err
		}
		for _, s := range all {
			out[s.Name] = s
		}
		return out, nil
	}
	for _, n := range names {
		s, err := loadService(e.tx, n)
		switch {
		case err == nil:
			out[n] = s
		case !errors.Is(err, ErrServiceNotFound):
			// A read error, or a record that cannot be read: writing
			// beside a name that may be steered is refused.
			return nil, err
		}
	}
	return out, nil
}

// servicesBelow returns, for each of cuts that has one, a service of the
// zone at or below it: a delegation there would hide the service.
func (e *edit) servicesBelow(cuts []model.Name) (map[model.Name]*model.Service, error) {
	if len(cuts) == 0 {
		return nil, nil
	}
	all, err := scanServices(e.tx)
	if err != nil {
		return nil, err
	}
	isCut := make(map[model.Name]bool, len(cuts))
	for _, c := range cuts {
		isCut[c] = true
	}
	out := map[model.Name]*model.Service{}
	for _, s := range all {
		if s.Zone != e.zone {
			continue
		}
		for n := s.Name; n != e.zone && n != "."; n = n.Parent() {
			if isCut[n] {
				out[n] = s
			}
		}
	}
	return out, nil
}

// checkBesideService refuses records a service at the same name would
// contradict: A, AAAA and CNAME always, anything when the service may
// answer a CNAME (it does not flatten) outside the zone apex.
func checkBesideService(svc *model.Service, sets []*model.RRset) error {
	if svc == nil {
		return nil
	}
	for _, s := range sets {
		switch {
		case s.Type == model.TypeA || s.Type == model.TypeAAAA || s.Type == model.TypeCNAME:
			return model.Errorf("type", "%s is the steered service %s: it answers %s itself", s.Name, svc.Name, model.TypeString(s.Type))
		case !svc.Flatten && s.Name != svc.Zone:
			return model.Errorf("type", "%s is the steered service %s, which may answer a CNAME, so it can have no %s records", s.Name, svc.Name, model.TypeString(s.Type))
		}
	}
	return nil
}

// addDiff adds to j the records removed and added between two states of a
// set. A TTL change replaces every record (IXFR has no other way to say
// it).
func addDiff(j *JournalEntry, old, nx *model.RRset) error {
	var removed, added [][]byte
	switch {
	case old == nil:
		added = nx.Rdata
	case nx == nil:
		removed = old.Rdata
	case old.TTL != nx.TTL:
		removed, added = old.Rdata, nx.Rdata
	default:
		removed, added = old.Diff(nx), nx.Diff(old)
	}
	for _, r := range removed {
		line, err := model.FormatRR(old.Name, old.Type, old.TTL, r)
		if err != nil {
			return err
		}
		j.Removed = append(j.Removed, line)
	}
	for _, r := range added {
		line, err := model.FormatRR(nx.Name, nx.Type, nx.TTL, r)
		if err != nil {
			return err
		}
		j.Added = append(j.Added, line)
	}
	return nil
}
