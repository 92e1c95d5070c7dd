package secondary

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// fixedZones is a Zones that always shows one snapshot.
type fixedZones struct{ snap *zone.Snapshot }

func (f fixedZones) Revision() store.Revision { return 1 }
func (f fixedZones) WaitFor(ctx context.Context, _ store.Revision) error {
	<-ctx.Done()
	return ctx.Err()
}
func (f fixedZones) Current() *zone.Snapshot { return f.snap }

// TestNotifyUnknownNameReadsNothingAgain: a NOTIFY for a name without a
// refresh loop asks for the zone list to be read again only when the name
// is a zone of the published snapshot that the last read did not see. A
// flood of NOTIFY messages for names that are no zone here, or for
// primary zones, costs map lookups, not reads of every secondary zone.
func TestNotifyUnknownNameReadsNothingAgain(t *testing.T) {
	snap := zonetest.Build(t, map[string]string{
		"primary.test.": "@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
		"new.test.":     "@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
	})
	from := netip.MustParseAddr("192.0.2.9")
	for _, tc := range []struct {
		name     string
		follow   bool
		synced   []string
		zone     string
		wantKick bool
	}{
		{"no zone of that name", true, []string{"primary.test.", "new.test."}, "nope.test.", false},
		{"a zone the last read saw", true, []string{"primary.test.", "new.test."}, "primary.test.", false},
		{"a zone created since the last read", true, []string{"primary.test."}, "new.test.", true},
		{"before the zones are followed", false, nil, "nope.test.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New(nil, nil, Options{Clock: clock.NewFake(time.Now())}, nil)
			m.running = true
			if tc.follow {
				m.published = fixedZones{snap}
				m.synced = map[string]bool{}
				for _, z := range tc.synced {
					m.synced[z] = true
				}
			}
			for range 100 {
				known, allowed, err := m.Notify(context.Background(), model.Name(tc.zone), "", from, nil)
				if known || allowed || err != nil {
					t.Fatalf("NOTIFY for %s: known %v allowed %v err %v", tc.zone, known, allowed, err)
				}
			}
			if kicked := len(m.resync) == 1; kicked != tc.wantKick {
				t.Errorf("the zone list is to be read again: %v, want %v", kicked, tc.wantKick)
			}
		})
	}
}

// TestCheckNotify: what the query path is told of an unsigned NOTIFY,
// from memory, agrees with what Notify would answer, and says when only
// Notify can tell.
func TestCheckNotify(t *testing.T) {
	snap := zonetest.Build(t, map[string]string{
		"sec.test.": "@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
		"new.test.": "@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
	})
	m := New(nil, nil, Options{Clock: clock.NewFake(time.Now())}, nil)
	m.running = true
	m.zones["sec.test."] = &zoneLoop{zone: control.SecondaryZone{Name: "sec.test.",
		Primaries: []model.NotifyTarget{{Address: netip.MustParseAddrPort("192.0.2.1:53")}}}}
	m.published = fixedZones{snap}
	m.synced = map[string]bool{"sec.test.": true}
	for _, tc := range []struct {
		zone, from           string
		known, allowed, sure bool
	}{
		{"sec.test.", "192.0.2.1", true, true, true},
		{"sec.test.", "192.0.2.9", true, false, true},
		{"nope.test.", "192.0.2.1", false, false, true},
		{"new.test.", "192.0.2.1", false, false, false}, // created since the last read
	} {
		known, allowed, sure := m.CheckNotify(model.Name(tc.zone), netip.MustParseAddr(tc.from))
		if known != tc.known || allowed != tc.allowed || sure != tc.sure {
			t.Errorf("CheckNotify(%s from %s) = %v %v %v, want %v %v %v", tc.zone, tc.from, known, allowed, sure, tc.known, tc.allowed, tc.sure)
		}
	}
	if len(m.resync) != 0 {
		t.Error("CheckNotify asked for the zone list to be read again")
	}
}
