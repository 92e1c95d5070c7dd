package zone_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/zone"
)

// zoneModel is what a zone should hold: the records and steered marks of
// each name (presentation format), from which the nodes follow.
type zoneModel struct {
	origin  model.Name
	sets    map[model.Name]map[uint16]modelSet
	steered map[model.Name]bool
}

type modelSet struct {
	ttl   uint32
	rdata [][]byte
}

func (m *zoneModel) clone() *zoneModel {
	c := &zoneModel{origin: m.origin, sets: map[model.Name]map[uint16]modelSet{}, steered: map[model.Name]bool{}}
	for n, s := range m.sets {
		c.sets[n] = map[uint16]modelSet{}
		for t, set := range s {
			c.sets[n][t] = set
		}
	}
	for n := range m.steered {
		c.steered[n] = true
	}
	return c
}

// nodes returns every name that must be a node: the apex, each name with
// records or a steered mark, and all their ancestors in the zone.
func (m *zoneModel) nodes() map[model.Name]bool {
	out := map[model.Name]bool{m.origin: true}
	add := func(n model.Name) {
		for ; n != m.origin && !out[n]; n = n.Parent() {
			out[n] = true
		}
	}
	for n, s := range m.sets {
		if len(s) > 0 {
			add(n)
		}
	}
	for n := range m.steered {
		add(n)
	}
	return out
}

// check compares the zone in s with the model.
func (m *zoneModel) check(t *testing.T, s *zone.Snapshot, what string) {
	t.Helper()
	z := s.Zone(m.origin.Wire())
	want := m.nodes()
	if z.Len() != len(want) {
		t.Fatalf("%s: Len %d, want %d", what, z.Len(), len(want))
	}
	seen := 0
	z.Each(func(n *zone.Node) {
		seen++
		name, err := model.NameFromWire(n.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !want[name] {
			t.Fatalf("%s: unexpected node %s", what, name)
		}
	})
	if seen != len(want) {
		t.Fatalf("%s: Each visited %d nodes, want %d", what, seen, len(want))
	}
	for name := range want {
		n := z.Node(name.Wire())
		if n == nil {
			t.Fatalf("%s: node %s missing", what, name)
		}
		sets := n.Sets()
		ms := m.sets[name]
		if len(sets) != len(ms) {
			t.Fatalf("%s: %s has %d sets, want %d", what, name, len(sets), len(ms))
		}
		for i, set := range sets {
			if i > 0 && sets[i-1].Type >= set.Type {
				t.Fatalf("%s: %s: sets out of order", what, name)
			}
			w, ok := ms[set.Type]
			if !ok || w.ttl != set.TTL || !slices.EqualFunc(w.rdata, set.Rdata, bytes.Equal) {
				t.Fatalf("%s: %s type %d: got ttl %d %x, want %v %d %x", what, name, set.Type, set.TTL, set.Rdata, ok, w.ttl, w.rdata)
			}
			if n.Get(set.Type) != &sets[i] {
				t.Fatalf("%s: %s: Get(%d) is not the set", what, name, set.Type)
			}
		}
	}
	// Lookups: a name with data answers it; a steered mark changes
	// nothing here; a missing name below the apex is NXDOMAIN (the zone
	// has no wildcard or delegation).
	var a zone.Answer
	for name := range want {
		s.Lookup(&a, name.Wire(), dns.TypeA)
		if m.steered[name] {
			continue
		}
		if a.Rcode != dnsconst.RcodeSuccess {
			t.Fatalf("%s: %s A: rcode %d", what, name, a.Rcode)
		}
		if set, ok := m.sets[name][dns.TypeA]; ok && (len(a.Answer) != 1 || !slices.EqualFunc(a.Answer[0].Set.Rdata, set.rdata, bytes.Equal)) {
			t.Fatalf("%s: %s A: %d answers", what, name, len(a.Answer))
		}
	}
	s.Lookup(&a, model.MustName("nowhere."+string(m.origin)).Wire(), dns.TypeA)
	if a.Rcode != dnsconst.RcodeNXDomain {
		t.Fatalf("%s: nowhere: rcode %d", what, a.Rcode)
	}
}

// TestBuilderModel applies random changes through a series of builders,
// checks every snapshot against a model, and checks at the end that the
// earlier snapshots still hold what they held when built.
func TestBuilderModel(t *testing.T) {
	for _, size := range []int{50, 12000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { testBuilderModel(t, size) })
	}
}

func testBuilderModel(t *testing.T, size int) {
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	m := &zoneModel{origin: model.MustName("m.test."), sets: map[model.Name]map[uint16]modelSet{}, steered: map[model.Name]bool{}}
	origin := m.origin.Wire()
	// Names up to three labels below the apex, so that empty
	// non-terminals come and go.
	names := make([]model.Name, size)
	for i := range names {
		n := fmt.Sprintf("n%d.", rng.IntN(size/3+1))
		for range rng.IntN(3) {
			n = fmt.Sprintf("l%d.%s", rng.IntN(4), n)
		}
		names[i] = model.MustName(n + string(m.origin))
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX}
	snap := zone.Empty()
	type kept struct {
		s *zone.Snapshot
		m *zoneModel
	}
	var old []kept
	for round := range 40 {
		b := zone.NewBuilder(snap)
		if round == 0 {
			// A rough size hint, as the store gives.
			if err := b.CreateZone(origin, string(m.origin), size/2); err != nil {
				t.Fatal(err)
			}
			soa, _ := model.ParseRdata(dns.TypeSOA, "ns.m.test. h.m.test. 1 2 3 4 5")
			if err := b.SetRRset(origin, origin, dns.TypeSOA, 60, [][]byte{soa}); err != nil {
				t.Fatal(err)
			}
			m.sets[m.origin] = map[uint16]modelSet{dns.TypeSOA: {60, [][]byte{soa}}}
		}
		changes := 1 + rng.IntN(5)
		if round < 3 {
			changes = size // large batches first, so the map grows
		}
		for range changes {
			name := names[rng.IntN(len(names))]
			typ := types[rng.IntN(len(types))]
			switch r := rng.IntN(10); {
			case r < 6:
				rd := make([][]byte, 1+rng.IntN(3))
				for i := range rd {
					rd[i] = []byte{byte(rng.IntN(256)), byte(rng.IntN(256)), 1, 2}
				}
				ttl := uint32(rng.IntN(1000))
				var err error
				if rng.IntN(2) == 0 {
					err = b.SetRRset(origin, name.Wire(), typ, ttl, rd)
				} else {
					var w []byte
					for _, r := range rd {
						w = append(append(w, byte(len(r)>>8), byte(len(r))), r...)
					}
					err = b.SetRRsetWire(origin, name.Wire(), typ, ttl, w)
				}
				if err != nil {
					t.Fatal(err)
				}
				if m.sets[name] == nil {
					m.sets[name] = map[uint16]modelSet{}
				}
				m.sets[name][typ] = modelSet{ttl, rd}
			case r < 9:
				if err := b.SetRRset(origin, name.Wire(), typ, 0, nil); err != nil {
					t.Fatal(err)
				}
				delete(m.sets[name], typ)
				if len(m.sets[name]) == 0 {
					delete(m.sets, name)
				}
			default:
				on := rng.IntN(2) == 0
				if err := b.SetSteered(origin, name.Wire(), on); err != nil {
					t.Fatal(err)
				}
				if on {
					m.steered[name] = true
				} else {
					delete(m.steered, name)
				}
			}
		}
		snap = b.Build(int64(round + 1))
		m.check(t, snap, fmt.Sprintf("round %d", round))
		if round%5 == 0 {
			old = append(old, kept{snap, m.clone()})
		}
	}
	if size > zone.ShardMax && zone.ShardCount(snap.Zone(origin)) < 2 {
		t.Errorf("%d names in %d shard", snap.Zone(origin).Len(), zone.ShardCount(snap.Zone(origin)))
	}
	for i, k := range old {
		k.m.check(t, k.s, fmt.Sprintf("kept snapshot %d", i))
	}
}

func TestSetRRsetWireRejectsMalformedRecords(t *testing.T) {
	b := zone.NewBuilder(zone.Empty())
	origin := model.MustName("w.test.").Wire()
	if err := b.CreateZone(origin, "w.test.", 0); err != nil {
		t.Fatal(err)
	}
	for _, recs := range [][]byte{{0}, {0, 4, 1, 2, 3}, {0, 1, 7, 0}} {
		if err := b.SetRRsetWire(origin, origin, dns.TypeA, 1, recs); err == nil {
			t.Errorf("records %x accepted", recs)
		}
	}
}
