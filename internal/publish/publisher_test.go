package publish

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/zone"
)

var ctx = context.Background()

// env is a control plane on a fresh bolt store with a running publisher.
type env struct {
	st  store.Store
	pub *Publisher
	svc *control.Plane
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, pub: New(st, slog.New(slog.NewTextHandler(os.Stderr, nil)))}
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.pub.Run(c) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	<-e.pub.Ready()
	e.svc = control.New(st, e.pub, control.Options{})
	return e
}

func mustCreate(t *testing.T, e *env, name string) model.Name {
	t.Helper()
	z := model.MustName(name)
	_, err := e.svc.Zones.CreateZone(ctx, control.NewZone{
		Settings:    model.ZoneSettings{Name: z, DefaultTTL: 300},
		Nameservers: []model.Name{model.MustName("ns1." + name), model.MustName("ns2.example.net.")},
	}, []*model.RRset{set(t, "ns1."+name, "A", 300, "192.0.2.53")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func set(t testing.TB, name, typ string, ttl uint32, data ...string) *model.RRset {
	t.Helper()
	ty, err := model.ParseType(typ)
	if err != nil {
		t.Fatal(err)
	}
	s := &model.RRset{Name: model.MustName(name), Type: ty, TTL: ttl}
	for _, d := range data {
		rd, err := model.ParseRdata(ty, d)
		if err != nil {
			t.Fatal(err)
		}
		s.Add(rd)
	}
	return s
}

// served looks a name up in the snapshot the DNS server would answer from.
func served(e *env, name string, qtype uint16) *zone.Answer {
	var a zone.Answer
	e.pub.Snapshots().Load().Lookup(&a, model.MustName(name).Wire(), qtype)
	return &a
}

// TestZoneRecordsChanged: the publisher names the zones whose record was
// written after a revision — created, settings changed — and forgets
// deleted ones.
func TestZoneRecordsChanged(t *testing.T) {
	e := newEnv(t)
	a := mustCreate(t, e, "a.test.")
	zs, since := e.pub.ZoneRecordsChanged(0)
	if !slices.Equal(zs, []model.Name{a}) || since == 0 {
		t.Fatalf("after creating %s: %v at %d", a, zs, since)
	}
	if zs, again := e.pub.ZoneRecordsChanged(since); len(zs) != 0 || again != since {
		t.Errorf("nothing changed, yet %v at %d", zs, again)
	}
	b := mustCreate(t, e, "b.test.")
	ttl := uint32(600)
	if _, err := e.svc.Zones.UpdateZone(ctx, a, control.ZoneUpdate{DefaultTTL: &ttl}, "test"); err != nil {
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
	if err := e.svc.Zones.DeleteZone(ctx, b, control.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if zs, _ := e.pub.ZoneRecordsChanged(0); !slices.Equal(zs, []model.Name{a}) {
		t.Errorf("after deleting %s: %v", b, zs)
	}
}

func TestPublisherLoadsExistingStore(t *testing.T) {
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := control.New(st, nil, control.Options{})
	z := model.MustName("example.com.")
	if _, err := svc.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: z}, Nameservers: []model.Name{"ns.example.net."}},
		[]*model.RRset{set(t, "www.example.com.", "A", 60, "192.0.2.1")}, "t"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = bolt.Open(filepath.Join(dir, "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := New(st, nil)
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(c) }()
	defer func() { cancel(); <-done }()
	<-pub.Ready()
	var a zone.Answer
	pub.Snapshots().Load().Lookup(&a, model.MustName("www.example.com.").Wire(), dns.TypeA)
	if len(a.Answer) != 1 {
		t.Errorf("reloaded snapshot misses www: %+v", a)
	}
}

func TestPublisherSkipsUnreadableRRsets(t *testing.T) {
	e := newEnv(t)
	z := mustCreate(t, e, "example.com.")
	add := model.Change{Op: model.OpAdd, Name: "www.example.com.", Type: dns.TypeA, Rdata: set(t, "www.example.com.", "A", 0, "192.0.2.1").Rdata}
	if _, err := e.svc.Zones.Apply(ctx, z, []model.Change{add}, control.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A value no decoder accepts, written behind the control plane's back.
	rev, err := e.st.Update(ctx, func(tx store.Tx) error {
		return tx.Put(schema.RRsetKey(z, model.Key{Name: "bad.example.com.", Type: dns.TypeA}), []byte{99})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pub.WaitFor(ctx, rev); err != nil {
		t.Fatalf("the publisher stopped at the unreadable value: %v", err)
	}
	if _, err := e.pub.load(ctx); err != nil {
		t.Fatalf("a full load fails on one unreadable value: %v", err)
	}
	if a := served(e, "www.example.com.", dns.TypeA); len(a.Answer) != 1 {
		t.Errorf("the rest of the zone is not served: %+v", a)
	}
}

// BenchmarkLoad measures loading a store holding a 100,000-record zone
// into a snapshot, as at start.
func BenchmarkLoad(b *testing.B) {
	const n = 100000
	z := model.MustName("big.test.")
	soa, _ := model.ParseRdata(model.TypeSOA, "ns1."+string(z)+" hostmaster."+string(z)+" 1 3600 600 1209600 60")
	ns, _ := model.ParseRdata(model.TypeNS, "ns1."+string(z))
	sets := []*model.RRset{
		{Name: z, Type: model.TypeSOA, TTL: 300, Rdata: [][]byte{soa}},
		{Name: z, Type: model.TypeNS, TTL: 300, Rdata: [][]byte{ns}},
	}
	for i := range n {
		sets = append(sets, &model.RRset{Name: model.Name(fmt.Sprintf("h%d.%s", i, z)), Type: model.TypeA, TTL: 300,
			Rdata: [][]byte{{10, byte(i >> 16), byte(i >> 8), byte(i)}}})
	}
	st, err := bolt.Open(filepath.Join(b.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := control.New(st, nil, control.Options{})
	if _, err := svc.Zones.Import(ctx, z, sets, control.ImportOptions{Mode: control.ImportCreate}); err != nil {
		b.Fatal(err)
	}
	pub := New(st, nil)
	for b.Loop() {
		if _, err := pub.load(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
