package control

import (
	"slices"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// TestZoneRecordsChanged: the publisher names the zones whose record was
// written after a revision — created, settings changed — and forgets
// deleted ones.
func TestZoneRecordsChanged(t *testing.T) {
	e := newEnv(t, Options{})
	a := mustCreate(t, e, "a.test.", model.SerialIncrement)
	zs, since := e.pub.ZoneRecordsChanged(0)
	if !slices.Equal(zs, []model.Name{a}) || since == 0 {
		t.Fatalf("after creating %s: %v at %d", a, zs, since)
	}
	if zs, again := e.pub.ZoneRecordsChanged(since); len(zs) != 0 || again != since {
		t.Errorf("nothing changed, yet %v at %d", zs, again)
	}
	b := mustCreate(t, e, "b.test.", model.SerialIncrement)
	ttl := uint32(600)
	if _, err := e.svc.Zones.UpdateZone(ctx, a, ZoneUpdate{DefaultTTL: &ttl}, "test"); err != nil {
		t.Fatal(err)
	}
	var rev store.Revision
	e.st.View(ctx, func(tx store.ReadTx) error { rev = tx.Revision(); return nil })
	if err := e.pub.WaitFor(ctx, rev); err != nil { // settings are written without waiting for the publisher
		t.Fatal(err)
	}
	zs, next := e.pub.ZoneRecordsChanged(since)
	slices.Sort(zs)
	if !slices.Equal(zs, []model.Name{a, b}) || next <= since {
		t.Errorf("after creating %s and changing %s: %v at %d (since %d)", b, a, zs, next, since)
	}
	if err := e.svc.Zones.DeleteZone(ctx, b, WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if zs, _ := e.pub.ZoneRecordsChanged(0); !slices.Equal(zs, []model.Name{a}) {
		t.Errorf("after deleting %s: %v", b, zs)
	}
}
