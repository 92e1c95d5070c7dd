package secondary

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

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
type handoff struct {
	sess      store.Session
	published func() *zone.Snapshot

	mu      sync.Mutex // held across each Put and Delete of the keys
	seq     uint64
	pending map[model.Name]pending // the keys put and not yet deleted
	settled int64                  // the revision of the snapshot last settled
}

// pending is a key put: it goes once the zone is published at want.
type pending struct {
	seq  uint64
	want uint32
}

// forward puts the key of a NOTIFY for z that announced serial.
func (h *handoff) forward(ctx context.Context, z model.Name, serial *uint32) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
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
	v, err := json.Marshal(notice{Zone: z, Serial: serial, Seq: h.seq})
	if err != nil {
		return err
	}
	if err := h.sess.Put(ctx, notifyKey(h.sess.Node(), z), v); err != nil {
		return fmt.Errorf("handing the NOTIFY to the leader: %w", err)
	}
	h.pending[z] = pending{seq: h.seq, want: want}
	return nil
}

// settle deletes the keys of the zones that snap serves at the serial
// their NOTIFY announced, or newer: the leader has refreshed them.
func (h *handoff) settle(ctx context.Context, snap *zone.Snapshot) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for z, p := range h.pending {
		zn := snap.Zone(z.Wire())
		if zn == nil || model.SerialLess(zn.Serial(), p.want) {
			continue
		}
		if err := h.sess.Delete(ctx, notifyKey(h.sess.Node(), z)); err != nil {
			return fmt.Errorf("deleting the NOTIFY hand-over of zone %s: %w", z, err)
		}
		delete(h.pending, z)
	}
	h.settled = snap.Revision()
	return nil
}

// settledAt returns the revision of the snapshot the hand-over last
// settled its keys at.
func (h *handoff) settledAt() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.settled
}

// Handoff lets this node hand the NOTIFY messages it accepts while it
// does not run the refresh loops (Run) to the node that does, through
// ephemeral keys of sess (NotifyPrefix), which that node follows
// (FollowHandoffs). Each key is deleted once zs publishes the zone at the
// serial its NOTIFY announced (any newer serial when it named none); a
// key whose serial never comes stays until the next NOTIFY for the zone
// replaces it, or the session ends. It runs for the session (a
// cluster.SessionTask) until ctx is done. Without it, Notify answers as
// on a node alone: only the zones of Run are secondary zones here.
func (m *Manager) Handoff(ctx context.Context, sess store.Session, zs Zones) error {
	h := &handoff{sess: sess, published: zs.Current, pending: map[model.Name]pending{}}
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
