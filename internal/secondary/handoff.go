package secondary

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/zone"
)

// NotifyPrefix holds the ephemeral keys through which a node that does
// not run the refresh loops hands the NOTIFY messages it accepted to the
// node that does (the leader): NotifyPrefix + <node> + "/" + <zone>, one
// per node and zone, owned by the node's session.
const NotifyPrefix = "secondary-notify/"

// notice is the value of a hand-over key.
type notice struct {
	Zone model.Name `json:"zone"`
	// Serial is the serial the NOTIFY announced, when it named one.
	Serial *uint32 `json:"serial,omitempty"`
	// Seq grows with every NOTIFY the node hands over, so that each one
	// is a change of the key that the leader sees, even when the zone
	// and serial repeat.
	Seq uint64 `json:"seq"`
}

func notifyKey(node string, z model.Name) string { return NotifyPrefix + node + "/" + string(z) }

// handoff is one session's hand-over of NOTIFY messages.
//
// The store is called without mu held: a NOTIFY for one zone never waits
// for etcd on behalf of another. The calls for one zone are ordered by
// its lock in writing, held across the Put of forward and the Delete of
// settle, so a key is never deleted by the settling of an earlier
// NOTIFY's serial than the one it announces.
type handoff struct {
	sess      store.Session
	published func() *zone.Snapshot

	mu      sync.Mutex
	seq     uint64
	pending map[model.Name]pending     // the keys put and not yet deleted
	writing map[model.Name]*sync.Mutex // per zone: its Put and Delete calls
	settled int64                      // the revision of the snapshot last settled
	// zones holds the settings of the secondary zones, against which a
	// NOTIFY is checked without a store read (nil until first read).
	zones   map[model.Name]control.SecondaryZone
	zonesAt store.Revision // the zone records read as of this revision
	names   string         // the zones of the snapshot they were read at
}

// pending is a key put: it goes once the zone is published at want.
type pending struct {
	seq  uint64
	want uint32
}

// zoneLock returns the lock that orders the store calls for z's key.
func (h *handoff) zoneLock(z model.Name) *sync.Mutex {
	h.mu.Lock()
	defer h.mu.Unlock()
	l := h.writing[z]
	if l == nil {
		l = new(sync.Mutex)
		h.writing[z] = l
	}
	return l
}

// forward puts the key of a NOTIFY for z that announced serial, unless
// the key put already announces that serial or a newer one.
func (h *handoff) forward(ctx context.Context, z model.Name, serial *uint32) error {
	var want uint32
	switch {
	case serial != nil:
		want = *serial
	default: // any serial newer than the one served now
		if zn := h.published().Zone(z.Wire()); zn != nil {
			want = zn.Serial() + 1
		} else {
			want = 1
		}
	}
	l := h.zoneLock(z)
	l.Lock()
	defer l.Unlock()
	h.mu.Lock()
	if p, ok := h.pending[z]; ok && !model.SerialLess(p.want, want) {
		h.mu.Unlock()
		return nil // the leader has it already
	}
	h.seq++
	seq := h.seq
	h.mu.Unlock()
	v, err := json.Marshal(notice{Zone: z, Serial: serial, Seq: seq})
	if err != nil {
		return err
	}
	if err := h.sess.Put(ctx, notifyKey(h.sess.Node(), z), v); err != nil {
		return fmt.Errorf("handing the NOTIFY to the leader: %w", err)
	}
	h.mu.Lock()
	h.pending[z] = pending{seq: seq, want: want}
	h.mu.Unlock()
	return nil
}

// settle deletes the keys of the zones that snap serves at the serial
// their NOTIFY announced, or newer: the leader has refreshed them.
func (h *handoff) settle(ctx context.Context, snap *zone.Snapshot) error {
	h.mu.Lock()
	var due []model.Name
	for z, p := range h.pending {
		if zn := snap.Zone(z.Wire()); zn != nil && !model.SerialLess(zn.Serial(), p.want) {
			due = append(due, z)
		}
	}
	h.mu.Unlock()
	for _, z := range due {
		if err := h.settleZone(ctx, snap, z); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.settled = snap.Revision()
	h.mu.Unlock()
	return nil
}

// settleZone deletes z's key when snap still serves what its NOTIFY,
// maybe a later one than when settle looked, announced.
func (h *handoff) settleZone(ctx context.Context, snap *zone.Snapshot, z model.Name) error {
	l := h.zoneLock(z)
	l.Lock()
	defer l.Unlock()
	h.mu.Lock()
	p, ok := h.pending[z]
	h.mu.Unlock()
	zn := snap.Zone(z.Wire())
	if !ok || zn == nil || model.SerialLess(zn.Serial(), p.want) {
		return nil
	}
	if err := h.sess.Delete(ctx, notifyKey(h.sess.Node(), z)); err != nil {
		return fmt.Errorf("deleting the NOTIFY hand-over of zone %s: %w", z, err)
	}
	h.mu.Lock()
	if h.pending[z] == p {
		delete(h.pending, z)
	}
	h.mu.Unlock()
	return nil
}

// settledAt returns the revision of the snapshot the hand-over last
// settled its keys at.
func (h *handoff) settledAt() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.settled
}

// zoneRecords is what tells which zone records changed: the publisher.
type zoneRecords interface {
	ZoneRecordsChanged(since store.Revision) ([]model.Name, store.Revision)
}

// zone returns the settings of secondary zone z as last read; read is
// false when they have not been read yet.
func (h *handoff) zone(z model.Name) (sz control.SecondaryZone, ok, read bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.zones == nil {
		return sz, false, false
	}
	sz, ok = h.zones[z]
	return sz, ok, true
}

// readZones keeps the settings of the secondary zones in step with the
// store: all of them at first and whenever a zone is created or deleted,
// and otherwise those of the secondary zones whose record changed.
func (h *handoff) readZones(ctx context.Context, st Store, zs Zones) error {
	names := zoneNames(zs.Current())
	h.mu.Lock()
	all := h.zones == nil || names != h.names
	since := h.zonesAt
	known := h.zones
	h.mu.Unlock()
	rec, _ := zs.(zoneRecords)
	if !all && rec == nil {
		all = true
	}
	var changed []model.Name
	top := zs.Revision()
	if !all {
		changed, top = rec.ZoneRecordsChanged(since)
	}
	if all {
		if rec != nil {
			_, top = rec.ZoneRecordsChanged(0)
		}
		szs, err := st.SecondaryZones(ctx)
		if err != nil {
			return err
		}
		m := make(map[model.Name]control.SecondaryZone, len(szs))
		for _, sz := range szs {
			m[sz.Name] = sz
		}
		h.mu.Lock()
		h.zones, h.zonesAt, h.names = m, top, names
		h.mu.Unlock()
		return nil
	}
	for _, z := range changed {
		if _, ok := known[z]; !ok {
			continue // not a secondary zone: its settings do not matter here
		}
		sz, ok, err := st.SecondaryZone(ctx, z)
		if err != nil {
			return err
		}
		h.mu.Lock()
		if ok {
			h.zones[z] = sz
		} else {
			delete(h.zones, z)
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.zonesAt = top
	h.mu.Unlock()
	return nil
}

// zoneNames lists the zones snap serves, as one string.
func zoneNames(snap *zone.Snapshot) string {
	var b strings.Builder
	for _, z := range snap.Zones() {
		b.WriteString(z.Name())
		b.WriteByte(' ')
	}
	return b.String()
}

// Handoff lets this node hand the NOTIFY messages it accepts while it
// does not run the refresh loops (Run) to the node that does, through
// ephemeral keys of sess (NotifyPrefix), which that node follows
// (FollowHandoffs). A NOTIFY is checked against the settings of the
// secondary zones held in memory (read at the start and again when zone
// records change), so a NOTIFY for a zone that is no secondary zone here,
// or from a sender the zone does not allow, reads nothing from the store.
// Each key is deleted once zs publishes the zone at the serial its NOTIFY
// announced (any newer serial when it named none); a key whose serial
// never comes stays until a NOTIFY for a newer serial replaces it, or the
// session ends; a NOTIFY for the serial a key announces already, or an
// older one, writes nothing. It runs for the session (a
// cluster.SessionTask) until ctx is done. Without it, Notify answers as
// on a node alone: only the zones of Run are secondary zones here.
func (m *Manager) Handoff(ctx context.Context, sess store.Session, zs Zones) error {
	h := &handoff{sess: sess, published: zs.Current, pending: map[model.Name]pending{}, writing: map[model.Name]*sync.Mutex{}}
	m.mu.Lock()
	m.hand = h
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		if m.hand == h {
			m.hand = nil
		}
		m.mu.Unlock()
	}()
	for {
		rev := zs.Revision()
		if err := h.readZones(ctx, m.st, zs); err != nil && ctx.Err() == nil {
			m.log.Warn("cannot read the secondary zones' settings; trying again at the next revision", "err", err)
		}
		if err := h.settle(ctx, zs.Current()); err != nil && ctx.Err() == nil {
			m.log.Warn("cannot delete a NOTIFY hand-over; trying again at the next revision", "err", err)
		}
		if err := zs.WaitFor(ctx, rev+1); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// FollowHandoffs starts a refresh of every zone whose NOTIFY a node
// handed over (Handoff): each key of the first batch, which holds those
// handed over before this node began to follow them, and each key put
// since. It runs beside Run, on the node that runs the refresh loops,
// until ctx is done (nil) or sess ends.
func (m *Manager) FollowHandoffs(ctx context.Context, sess store.Session) error {
	err := sess.WatchEphemeral(ctx, NotifyPrefix, func(b store.EphemeralBatch) error {
		for _, ev := range b.Events {
			if ev.Deleted {
				continue
			}
			var n notice
			if err := json.Unmarshal(ev.Value, &n); err != nil || n.Zone == "" {
				m.log.Warn("ignoring a NOTIFY hand-over that cannot be read", "key", ev.Key, "err", err)
				continue
			}
			node, _, _ := strings.Cut(strings.TrimPrefix(ev.Key, NotifyPrefix), "/")
			args := []any{"zone", n.Zone, "node", node}
			if n.Serial != nil {
				args = append(args, "serial", *n.Serial)
			}
			m.log.Info("notify handed over", args...)
			m.kick(n.Zone)
		}
		return nil
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// kick starts a refresh of zone z, reading the zones again when it has
// no loop (yet).
func (m *Manager) kick(z model.Name) {
	m.mu.Lock()
	zl := m.zones[z]
	m.mu.Unlock()
	if zl == nil {
		select {
		case m.resync <- struct{}{}:
		default:
		}
		return
	}
	zl.kick()
}
