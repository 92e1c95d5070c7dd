package control

import (
	"errors"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
)

func addOp(t *testing.T, name, typ string, ttl uint32, data string) UpdateOp {
	s := set(t, name, typ, ttl, data)
	return UpdateOp{Kind: AddRR, Name: s.Name, Type: s.Type, TTL: ttl, Rdata: s.Rdata[0]}
}

func allowAll(*model.ZoneSettings) error { return nil }

func TestDynamicUpdateProtections(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", model.SerialIncrement)
	up := func(ops ...UpdateOp) ChangeResult {
		t.Helper()
		res, err := e.svc.Zones.DynamicUpdate(ctx, z, nil, ops, "key.", allowAll)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	up(addOp(t, "alias.example.com.", "CNAME", 60, "www.example.com."))
	// A's beside the CNAME, and a CNAME beside the A's, are ignored.
	if res := up(addOp(t, "alias.example.com.", "A", 60, "192.0.2.1")); res.Changed {
		t.Errorf("an A beside a CNAME was added: %+v", res)
	}
	up(addOp(t, "host.example.com.", "A", 60, "192.0.2.2"))
	if res := up(addOp(t, "host.example.com.", "CNAME", 60, "www.example.com.")); res.Changed {
		t.Errorf("a CNAME beside an A was added: %+v", res)
	}
	// The apex SOA and NS survive every delete; the last NS stays.
	before := serialOf(t, e, z)
	up(UpdateOp{Kind: DeleteName, Name: z}, UpdateOp{Kind: DeleteRRset, Name: z, Type: model.TypeSOA}, UpdateOp{Kind: DeleteRRset, Name: z, Type: model.TypeNS})
	if sets, _, _ := e.svc.Zones.RRsets(ctx, z, RRsetFilter{Name: z}); len(sets) != 2 {
		t.Errorf("apex after deletes: %v", sets)
	}
	ns1, ns2 := set(t, "example.com.", "NS", 0, "ns1.example.com."), set(t, "example.com.", "NS", 0, "ns2.example.net.")
	up(UpdateOp{Kind: DeleteRR, Name: z, Type: model.TypeNS, Rdata: ns1.Rdata[0]})
	up(UpdateOp{Kind: DeleteRR, Name: z, Type: model.TypeNS, Rdata: ns2.Rdata[0]})
	if sets, _, _ := e.svc.Zones.RRsets(ctx, z, RRsetFilter{Name: z, Type: model.TypeNS}); len(sets) != 1 || len(sets[0].Rdata) != 1 {
		t.Errorf("apex NS after deleting both: %v", sets)
	}
	// A SOA with a lower serial is ignored; a higher one is taken.
	cur := serialOf(t, e, z)
	if cur != before+1 {
		t.Errorf("serial %d after one effective delete from %d", cur, before)
	}
	if res := up(addOp(t, "example.com.", "SOA", 300, "ns1.example.com. hostmaster.example.com. 1 3600 600 1209600 300")); res.Changed {
		t.Errorf("a SOA with an older serial was taken: %+v", res)
	}
	up(addOp(t, "example.com.", "SOA", 300, "ns1.example.com. hostmaster.example.com. 500 7200 600 1209600 300"))
	if s := serialOf(t, e, z); s != 500 {
		t.Errorf("serial %d after a SOA with serial 500", s)
	}
}

func TestDynamicUpdatePrerequisites(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", model.SerialIncrement)
	www := set(t, "www.example.com.", "A", 60, "192.0.2.1", "192.0.2.2")
	if _, err := e.svc.Zones.DynamicUpdate(ctx, z, nil, []UpdateOp{addOp(t, "www.example.com.", "A", 60, "192.0.2.1"), addOp(t, "www.example.com.", "A", 60, "192.0.2.2")}, "k.", allowAll); err != nil {
		t.Fatal(err)
	}
	serial := serialOf(t, e, z)
	other := set(t, "www.example.com.", "A", 60, "192.0.2.1")
	for _, tc := range []struct {
		p    Prereq
		hold bool
	}{
		{Prereq{Kind: NameInUse, Name: www.Name}, true},
		{Prereq{Kind: NameInUse, Name: "nope.example.com."}, false},
		{Prereq{Kind: NameNotInUse, Name: "nope.example.com."}, true},
		{Prereq{Kind: NameNotInUse, Name: "example.com."}, false},
		{Prereq{Kind: RRsetExists, Name: www.Name, Type: model.TypeA}, true},
		{Prereq{Kind: RRsetExists, Name: www.Name, Type: model.TypeAAAA}, false},
		{Prereq{Kind: RRsetNotExists, Name: www.Name, Type: model.TypeAAAA}, true},
		{Prereq{Kind: RRsetNotExists, Name: www.Name, Type: model.TypeA}, false},
		{Prereq{Kind: RRsetEquals, Name: www.Name, Type: model.TypeA, Set: www}, true},
		{Prereq{Kind: RRsetEquals, Name: www.Name, Type: model.TypeA, Set: other}, false},
	} {
		_, err := e.svc.Zones.DynamicUpdate(ctx, z, []Prereq{tc.p}, []UpdateOp{{Kind: DeleteName, Name: "nothing.example.com."}}, "k.", allowAll)
		var pe *PrereqError
		if held := !errors.As(err, &pe); held != tc.hold || (held && err != nil) {
			t.Errorf("%v on %s: %v, want holds=%v", tc.p.Kind, tc.p.Name, err, tc.hold)
		}
	}
	// A failed prerequisite or a refusal changes nothing.
	_, err := e.svc.Zones.DynamicUpdate(ctx, z, []Prereq{{Kind: NameInUse, Name: "nope.example.com."}}, []UpdateOp{addOp(t, "new.example.com.", "A", 60, "192.0.2.9")}, "k.", allowAll)
	if err == nil {
		t.Fatal("a failed prerequisite applied")
	}
	_, err = e.svc.Zones.DynamicUpdate(ctx, z, nil, []UpdateOp{addOp(t, "new.example.com.", "A", 60, "192.0.2.9")}, "k.", func(*model.ZoneSettings) error { return ErrUpdateRefused })
	if !errors.Is(err, ErrUpdateRefused) {
		t.Fatalf("refusal: %v", err)
	}
	if s := serialOf(t, e, z); s != serial {
		t.Errorf("serial moved from %d to %d", serial, s)
	}
}
