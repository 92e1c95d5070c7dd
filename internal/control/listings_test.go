package control

import (
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/testutil"
)

// put writes value under key behind the control plane's back.
func put(t *testing.T, e *env, key string, value []byte) {
	t.Helper()
	rev, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) })
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pub.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
}

// TestSecondaryZonesSkipsWhatCannotBeRead: the listing the refresh loops
// follow leaves out a zone record that cannot be read and lists a
// secondary zone whose SOA cannot be read without one, logging each key
// when first found and then at most hourly, so that every other secondary
// zone goes on being refreshed.
func TestSecondaryZonesSkipsWhatCannotBeRead(t *testing.T) {
	var logs testutil.LogBuffer
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	primaries := []model.NotifyTarget{{Address: netip.MustParseAddrPort("192.0.2.1:53")}}
	for _, z := range []model.Name{"good.test.", "nosoa.test."} {
		if _, err := e.svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: z, Primaries: primaries}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	soa := set(t, "good.test.", "SOA", 60, "ns1.good.test. hostmaster.good.test. 7 3600 600 1209600 60")
	ns := set(t, "good.test.", "NS", 60, "ns1.example.net.")
	if _, err := e.svc.Secondaries.LoadFromPrimary(ctx, "good.test.", []*model.RRset{soa, ns}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	badZone := schema.ZoneKey("bad.test.")
	badSOA := schema.RRsetKey("nosoa.test.", model.Key{Name: "nosoa.test.", Type: dns.TypeSOA})
	put(t, e, badZone, []byte("null"))
	put(t, e, badSOA, []byte{99})

	list := func() {
		t.Helper()
		zs, err := e.svc.Secondaries.SecondaryZones(ctx)
		if err != nil {
			t.Fatalf("listing the secondary zones: %v", err)
		}
		if len(zs) != 2 || zs[0].Name != "good.test." || zs[0].SOA == nil || zs[0].SOA.Serial != 7 ||
			zs[1].Name != "nosoa.test." || zs[1].SOA != nil {
			t.Errorf("secondary zones: %+v", zs)
		}
	}
	logged := func(when string, want int) {
		t.Helper()
		for _, key := range []string{badZone, badSOA} {
			if n := strings.Count(logs.String(), "key="+key+" "); n != want {
				t.Errorf("%s: %s logged %d times, want %d; logs:\n%s", when, key, n, want, logs.String())
			}
		}
	}
	list()
	logged("first listing", 1)
	e.now = e.now.Add(5 * time.Second)
	list()
	logged("listing again", 1)
	e.now = e.now.Add(relogSkipped)
	list()
	logged("an hour later", 2)
}

// reaperEnv returns a control plane logging to logs, with the service
// api.example.com. in example.com., and a function registering an
// endpoint of it with a one-minute lease.
func reaperEnv(t *testing.T, logs *testutil.LogBuffer) (e *env, api model.Name, register func(id string)) {
	t.Helper()
	e = newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	mustCreate(t, e, "example.com.", "")
	api = model.MustName("api.example.com.")
	if _, err := e.svc.Services.CreateService(ctx, newService(string(api)), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	register = func(id string) {
		t.Helper()
		ep := model.Endpoint{ID: id, Pool: "backup", Address: "192.0.2.10", LeaseTTL: model.Duration(time.Minute)}
		if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, api, ep, "fn"); err != nil {
			t.Fatal(err)
		}
	}
	return e, api, register
}

// TestReaperReadsLeases: the lease reaper reaps the lapsed endpoints
// beside one it cannot read, and logs that one when it first finds it,
// then at most hourly, and at once when it breaks again after a repair.
func TestReaperReadsLeases(t *testing.T) {
	var logs testutil.LogBuffer
	e, api, register := reaperEnv(t, &logs)
	bad := schema.EndpointKey(api, "bad")
	count := func() int { return strings.Count(logs.String(), "key="+bad+" ") }
	pass := func(when string, logged int) {
		t.Helper()
		register("ok")
		e.now = e.now.Add(2 * time.Minute)
		gone, err := e.svc.Endpoints.ReapLapsed(ctx, e.now)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if len(gone) != 1 || gone[0].ID != "ok" {
			t.Errorf("%s: reaped %+v, want ok", when, gone)
		}
		if got := count(); got != logged {
			t.Errorf("%s: %s logged %d times, want %d", when, bad, got, logged)
		}
	}
	put(t, e, bad, []byte("{}"))
	pass("first pass", 1)
	pass("next pass", 1)
	e.now = e.now.Add(relogSkipped)
	pass("an hour later", 2)
	// Deleted, then broken again: logged at once.
	if _, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Delete(bad) }); err != nil {
		t.Fatal(err)
	}
	pass("deleted", 2)
	put(t, e, bad, []byte("null"))
	pass("broken again", 3)
}

// TestReaperSkipsWhatItCannotRead: a lapsed endpoint whose lease reads
// but whose record does not is left out, logged once, and never stops
// the reaping of the others.
func TestReaperSkipsWhatItCannotRead(t *testing.T) {
	var logs testutil.LogBuffer
	e, api, register := reaperEnv(t, &logs)
	register("ok")
	register("bad")
	bad := schema.EndpointKey(api, "bad")
	var stored []byte
	if err := e.st.View(ctx, func(tx store.ReadTx) error {
		b, _, err := tx.Get(bad)
		stored = b
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The lease reads; the weight does not.
	put(t, e, bad, []byte(strings.Replace(string(stored), `{`, `{"weight":"heavy",`, 1)))
	e.now = e.now.Add(2 * time.Minute)
	for pass := range 2 {
		gone, err := e.svc.Endpoints.ReapLapsed(ctx, e.now)
		if err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
		if want := 1 - pass; len(gone) != want || (want == 1 && gone[0].ID != "ok") {
			t.Errorf("pass %d: reaped %+v, want ok on the first pass only", pass, gone)
		}
	}
	if got := strings.Count(logs.String(), "key="+bad+" "); got != 1 {
		t.Errorf("%s logged %d times in two passes, want 1", bad, got)
	}
}

// TestSetsAtKeys: the RRsets at an owner are read from keys as RRsetKey
// writes them; another spelling of a key under the owner's prefix is
// corrupt.
func TestSetsAtKeys(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	www := model.MustName("www.example.com.")
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, string(www), "A", 0, "192.0.2.1")}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	value, err := schema.EncodeRRset(set(t, string(www), "A", 300, "192.0.2.2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"TYPE1", "a", " A"} {
		key := schema.NameRRsetPrefix(z, www) + typ
		if _, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Put(key, value) }); err != nil {
			t.Fatal(err)
		}
		err := e.st.View(ctx, func(tx store.ReadTx) error {
			_, err := setsAt(tx, z, www)
			return err
		})
		if !errors.Is(err, schema.ErrCorrupt) || !strings.Contains(err.Error(), key) {
			t.Errorf("reading the sets beside %q: %v, want an error naming it", key, err)
		}
		if _, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Delete(key) }); err != nil {
			t.Fatal(err)
		}
	}
}

// TestApplyStoreErrors: a change whose set cannot be read because the
// store fails is the server's error, returned as it is, not an error of
// the change (a client's, answered 4xx).
func TestApplyStoreErrors(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	key := schema.RRsetKey(z, model.Key{Name: "www.example.com.", Type: dns.TypeA})
	zones := New(failingStore{e.st, key}, e.pub, Options{}).Zones
	before := revisionOf(t, e.st)
	_, err := zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.7")}, WriteOptions{})
	if !errors.Is(err, errRead) || model.IsValidation(err) {
		t.Errorf("a change whose set cannot be read: %v, want the store's error, not a validation error", err)
	}
	if after := revisionOf(t, e.st); after != before {
		t.Errorf("the store moved from revision %d to %d", before, after)
	}
	// An error of the change itself still names it.
	_, err = zones.Apply(ctx, z, []model.Change{change(t, model.OpAdd, "x.example.com.", "A", 0, "192.0.2.7"),
		{Op: model.OpSet, Name: "y.example.com.", Type: dns.TypeA}}, WriteOptions{})
	var ve *model.Error
	if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, "changes[1]") {
		t.Errorf("an invalid change: %v, want an error on changes[1]", err)
	}
}

// TestNilPublisher: a plane given a nil publisher, untyped or a nil
// pointer, writes without waiting for one.
func TestNilPublisher(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name string
		pub  Publisher
	}{{"untyped", nil}, {"typed", (*publish.Publisher)(nil)}} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(e.st, tc.pub, Options{})
			z := model.Name(strings.ToLower(tc.name) + ".test.")
			if _, err := p.Zones.CreateZone(ctx, NewZone{Settings: model.ZoneSettings{Name: z}, Nameservers: []model.Name{"ns.example.net."}}, nil, "test"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSecondaryZoneOne: the one-zone read a NOTIFY is checked against
// gives a secondary zone's primaries and ACL, says "no" for a primary
// zone and a zone that does not exist, and fails on a record that cannot
// be read.
func TestSecondaryZoneOne(t *testing.T) {
	e := newEnv(t, Options{})
	primaries := []model.NotifyTarget{{Address: netip.MustParseAddrPort("192.0.2.1:53")}}
	acl := model.ZoneACL{Notify: []model.ACLRule{{Network: netip.MustParsePrefix("192.0.2.9/32")}}}
	if _, err := e.svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: primaries, ACL: acl}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Zones.CreateZone(ctx, NewZone{Settings: model.ZoneSettings{Name: "prim.test."}, Nameservers: []model.Name{"ns.example.net."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	sz, ok, err := e.svc.Secondaries.SecondaryZone(ctx, "sec.test.")
	if err != nil || !ok || sz.Name != "sec.test." || len(sz.Primaries) != 1 || sz.Primaries[0] != primaries[0] || len(sz.ACL.Notify) != 1 {
		t.Fatalf("sec.test.: %+v %v %v", sz, ok, err)
	}
	for _, z := range []model.Name{"prim.test.", "none.test."} {
		if _, ok, err := e.svc.Secondaries.SecondaryZone(ctx, z); ok || err != nil {
			t.Errorf("%s: ok %v err %v, want not a secondary zone", z, ok, err)
		}
	}
	put(t, e, schema.ZoneKey("bad.test."), []byte("null"))
	if _, ok, err := e.svc.Secondaries.SecondaryZone(ctx, "bad.test."); ok || err == nil {
		t.Errorf("bad.test.: ok %v err %v, want an error", ok, err)
	}
}
