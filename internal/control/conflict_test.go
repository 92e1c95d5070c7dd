package control

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// conflictKeys is a store that records the conflict key of every Update.
type conflictKeys struct {
	store.Store
	mu   sync.Mutex
	keys []string
}

func (c *conflictKeys) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	c.mu.Lock()
	c.keys = append(c.keys, store.ConflictKey(ctx))
	c.mu.Unlock()
	return c.Store.Update(ctx, fn)
}

// TestZoneWritesCarryConflictKey: every write of a zone runs under the
// zone's conflict key, so that an optimistic store takes a process's
// writes to one zone in turn.
func TestZoneWritesCarryConflictKey(t *testing.T) {
	e := newEnv(t, Options{})
	rec := &conflictKeys{Store: e.st}
	plane := New(rec, e.pub, Options{Clock: func() time.Time { return e.now }})
	z := model.MustName("conflict.test.")
	ttl := uint32(600)
	for _, tc := range []struct {
		name  string
		write func() error
	}{
		{"create", func() error {
			_, err := plane.Zones.CreateZone(ctx, NewZone{Settings: model.ZoneSettings{Name: z, DefaultTTL: 300},
				Nameservers: []model.Name{model.MustName("ns1.example.net.")}}, nil, "test")
			return err
		}},
		{"apply", func() error {
			_, err := plane.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.conflict.test.", "A", 0, "192.0.2.1")}, WriteOptions{})
			return err
		}},
		{"dynamic update", func() error {
			_, err := plane.Zones.DynamicUpdate(ctx, z, nil, []UpdateOp{{Kind: AddRR, Name: model.MustName("dyn.conflict.test."), Type: model.TypeA, TTL: 60, Rdata: []byte{192, 0, 2, 2}}}, "test", func(*model.ZoneSettings) error { return nil })
			return err
		}},
		{"import", func() error {
			_, err := plane.Zones.Import(ctx, z, []*model.RRset{
				set(t, "conflict.test.", "SOA", 300, "ns1.example.net. hostmaster.conflict.test. 100 3600 600 86400 300"),
				set(t, "conflict.test.", "NS", 300, "ns1.example.net.")}, ImportOptions{Mode: ImportReplace})
			return err
		}},
		{"settings", func() error {
			_, err := plane.Zones.UpdateZone(ctx, z, ZoneUpdate{DefaultTTL: &ttl}, "test")
			return err
		}},
		{"compact journal", func() error { _, err := plane.Zones.CompactJournal(ctx, z, 1); return err }},
		{"delete", func() error { return plane.Zones.DeleteZone(ctx, z, WriteOptions{}) }},
	} {
		rec.keys = nil
		if err := tc.write(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(rec.keys) != 1 || rec.keys[0] != schema.ZoneKey(z) {
			t.Errorf("%s: Updates under conflict keys %q, want one under %q", tc.name, rec.keys, schema.ZoneKey(z))
		}
	}
}
