package zone_test

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// TestZoneSlot: every Zone of a name has the same slot, in snapshots
// built apart and in one derived by editing it; zones of other names
// have other slots.
func TestZoneSlot(t *testing.T) {
	com, other := model.MustName("example.com.").Wire(), model.MustName("other.test.").Wire()
	a := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom, "other.test.": zonetest.OtherTest})
	b := zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom})
	ed := zone.NewBuilder(a)
	if err := ed.SetRRset(com, model.MustName("www.example.com.").Wire(), dns.TypeA, 60, [][]byte{{203, 0, 113, 9}}); err != nil {
		t.Fatal(err)
	}
	c := ed.Build(2)
	if a.Zone(com) == c.Zone(com) || a.Zone(com) == b.Zone(com) {
		t.Fatal("the same *Zone in two snapshots: nothing tested")
	}
	s := a.Zone(com).Slot()
	if b.Zone(com).Slot() != s || c.Zone(com).Slot() != s {
		t.Errorf("example.com. slots %d, %d, %d", s, b.Zone(com).Slot(), c.Zone(com).Slot())
	}
	o := a.Zone(other).Slot()
	if o == s || o < 0 || s < 0 {
		t.Errorf("slots example.com. %d, other.test. %d", s, o)
	}
	if zone.SlotName(s) != "example.com." || zone.SlotName(o) != "other.test." || zone.SlotName(-1) != "" || zone.SlotName(1<<30) != "" {
		t.Errorf("slot names %q %q", zone.SlotName(s), zone.SlotName(o))
	}
}
