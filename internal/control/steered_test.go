package control

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// TestSteeredAnswers stores, replaces and clears the steered answers of
// two zones: each change is one serial bump, an unchanged set none, and
// SteeredZones lists the zones that have answers stored.
func TestSteeredAnswers(t *testing.T) {
	e := newEnv(t, Options{})
	a := mustCreate(t, e, "a.test.", model.SerialIncrement)
	b := mustCreate(t, e, "b.test.", model.SerialIncrement)
	zones := func() []model.Name {
		t.Helper()
		zs, err := e.svc.SteeredAnswers.SteeredZones(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return zs
	}
	serial := func(z model.Name) uint32 {
		t.Helper()
		info, err := e.svc.Zones.GetZone(ctx, z)
		if err != nil {
			t.Fatal(err)
		}
		return info.Serial
	}
	if zs := zones(); len(zs) != 0 {
		t.Fatalf("steered zones before any: %v", zs)
	}
	s0 := serial(a)
	www := set(t, "www.a.test.", "A", 30, "192.0.2.1", "192.0.2.2")
	if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, a, []*model.RRset{www}, "steering"); err != nil {
		t.Fatal(err)
	}
	if serial(a) != s0+1 {
		t.Errorf("serial %d after the first answers, want %d", serial(a), s0+1)
	}
	if res, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, a, []*model.RRset{www}, "steering"); err != nil || res.Changed {
		t.Fatalf("the same answers again: changed %v, %v", res.Changed, err)
	}
	if serial(a) != s0+1 {
		t.Errorf("an unchanged set bumped the serial to %d", serial(a))
	}
	if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, b, []*model.RRset{set(t, "api.b.test.", "AAAA", 30, "2001:db8::1")}, "steering"); err != nil {
		t.Fatal(err)
	}
	if zs := zones(); !slices.Equal(zs, []model.Name{a, b}) {
		t.Errorf("steered zones %v, want [%s %s]", zs, a, b)
	}
	if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, a, nil, "steering"); err != nil {
		t.Fatal(err)
	}
	if zs := zones(); !slices.Equal(zs, []model.Name{b}) {
		t.Errorf("steered zones after clearing %s: %v", a, zs)
	}
	if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, a, []*model.RRset{set(t, "www.b.test.", "A", 30, "192.0.2.1")}, "steering"); !model.IsValidation(err) {
		t.Errorf("an answer outside the zone: %v", err)
	}
}

// TestSteeredJournalRetention: changes of the steered answers alone have
// their own bound in the journal, so that many health changes never push
// people's changes out of it; and an IXFR still gets every change from
// its serial when the journal holds them all, across both kinds of
// entries, and the whole zone when a dropped entry lies on the way.
func TestSteeredJournalRetention(t *testing.T) {
	e := newEnv(t, Options{JournalMaxEntries: 5})
	z := mustCreate(t, e, "example.com.", model.SerialIncrement)
	human := func(actor, name string) {
		t.Helper()
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, name, "A", 0, "192.0.2.10")}, WriteOptions{Actor: actor}); err != nil {
			t.Fatal(err)
		}
	}
	answers := []string{"192.0.2.1", "192.0.2.2"}
	flips := 0
	flip := func(n int) {
		t.Helper()
		for range n {
			flips++
			api := set(t, "api.example.com.", "A", 30, answers[flips%2])
			if _, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, z, []*model.RRset{api}, "steering"); err != nil {
				t.Fatal(err)
			}
		}
	}
	human("alice", "h1.example.com.")
	human("bob", "h2.example.com.")
	flip(50)
	human("carol", "h3.example.com.")
	flip(55)
	human("dave", "h4.example.com.")
	flip(2)

	j, err := e.svc.Zones.Journal(ctx, z, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var people []string
	steering := 0
	for _, x := range j {
		if x.Actor == "steering" {
			steering++
		} else {
			people = append(people, x.Actor)
		}
	}
	if want := []string{"test", "alice", "bob", "carol", "dave"}; !slices.Equal(people, want) || steering != DefaultJournalMaxSteered {
		t.Fatalf("journal after %d steering changes: %d steering entries and changes by %v; want %d and %v", flips, steering, people, DefaultJournalMaxSteered, want)
	}

	// The oldest steering entry kept, and the serial before it.
	var first JournalEntry
	for _, x := range j {
		if x.Actor == "steering" {
			first = x
			break
		}
	}
	cur := serialOf(t, e, z)
	tr, err := e.svc.Zones.ReadTransfer(ctx, z, &first.OldSerial, func(*model.ZoneSettings) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Incremental || len(tr.Journal) != DefaultJournalMaxSteered+2 {
		t.Fatalf("IXFR from %d (current %d): incremental %v with %d entries, want %d", first.OldSerial, cur, tr.Incremental, len(tr.Journal), DefaultJournalMaxSteered+2)
	}
	// Replaying it from the state at that serial gives the state now.
	lines := map[string]bool{}
	for _, h := range []string{"ns1", "h1", "h2"} {
		lines[h+".example.com.\t300\tIN\tA\t192.0.2."+map[bool]string{true: "53", false: "10"}[h == "ns1"]] = true
	}
	before := flips - DefaultJournalMaxSteered // the flips dropped, all before carol's change
	lines["api.example.com.\t30\tIN\tA\t"+answers[before%2]] = true
	prev := first.OldSerial
	for _, x := range tr.Journal {
		if x.OldSerial != prev || x.Reset {
			t.Fatalf("IXFR chain broken at %+v (expected old serial %d)", x, prev)
		}
		prev = x.NewSerial
		for _, l := range x.Removed {
			if !strings.Contains(l, "\tSOA\t") && !strings.Contains(l, "\tNS\t") {
				if !lines[l] {
					t.Fatalf("entry %d removes %q, which is not there", x.Seq, l)
				}
				delete(lines, l)
			}
		}
		for _, l := range x.Added {
			if !strings.Contains(l, "\tSOA\t") && !strings.Contains(l, "\tNS\t") {
				lines[l] = true
			}
		}
	}
	want := map[string]bool{
		"ns1.example.com.\t300\tIN\tA\t192.0.2.53": true, "api.example.com.\t30\tIN\tA\t" + answers[flips%2]: true,
		"h1.example.com.\t300\tIN\tA\t192.0.2.10": true, "h2.example.com.\t300\tIN\tA\t192.0.2.10": true,
		"h3.example.com.\t300\tIN\tA\t192.0.2.10": true, "h4.example.com.\t300\tIN\tA\t192.0.2.10": true,
	}
	if prev != cur || !maps.Equal(lines, want) {
		t.Errorf("IXFR replayed to serial %d (current %d):\n%v\nwant\n%v", prev, cur, lines, want)
	}

	// From before a dropped steering entry, or from a change whose next
	// entry was dropped: the whole zone.
	for _, from := range []uint32{first.OldSerial - 1, j[2].NewSerial, j[1].OldSerial} {
		tr, err := e.svc.Zones.ReadTransfer(ctx, z, &from, func(*model.ZoneSettings) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if tr.Incremental || tr.Records.Len() == 0 {
			t.Errorf("IXFR from %d: incremental %v, %d sets; want a full transfer", from, tr.Incremental, tr.Records.Len())
		}
	}

	// Compaction keeps the newest entries of either kind.
	if n, err := e.svc.Zones.CompactJournal(ctx, z, 3); err != nil || n != 3 {
		t.Fatalf("CompactJournal(3): %d, %v", n, err)
	}
	if j, _ := e.svc.Zones.Journal(ctx, z, 0, 0); len(j) != 3 || j[0].Actor != "dave" || j[2].NewSerial != cur {
		t.Errorf("after compaction to 3: %+v", j)
	}
	// And the bounds hold on from there.
	human("erin", "h5.example.com.")
	flip(1)
	if j, _ := e.svc.Zones.Journal(ctx, z, 0, 0); len(j) != 5 || j[0].Actor != "dave" {
		t.Errorf("after compaction and two changes: %d entries from %q", len(j), j[0].Actor)
	}
}

// TestJournalCountsFromAnOlderZoneRecord: a zone record written before the
// journal counted its entries by kind keeps its bound: every entry it has
// counts as a change.
func TestJournalCountsFromAnOlderZoneRecord(t *testing.T) {
	e := newEnv(t, Options{JournalMaxEntries: 3})
	z := mustCreate(t, e, "example.com.", model.SerialIncrement)
	for i := range 2 {
		if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, fmt.Sprintf("h%d.example.com.", i), "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.st.Update(ctx, func(tx store.Tx) error {
		zr, err := loadZone(tx, z)
		if err != nil {
			return err
		}
		zr.JournalChanges, zr.JournalSteered = 0, nil
		return saveZone(tx, zr)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "h9.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if j, _ := e.svc.Zones.Journal(ctx, z, 0, 0); len(j) != 3 || j[0].Seq != 2 {
		t.Errorf("journal: %d entries from seq %d, want 3 from 2", len(j), j[0].Seq)
	}
}
