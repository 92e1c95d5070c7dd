package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/zone"
)

var ctx = context.Background()

// served looks a name up in the snapshot the DNS server would answer from.
func served(pub *publish.Publisher, name string, qtype uint16) *zone.Answer {
	var a zone.Answer
	pub.Snapshots().Load().Lookup(&a, model.MustName(name).Wire(), qtype)
	return &a
}

// TestZoneRecordsChanged: the publisher names the zones whose record was
// written after a revision — created, settings changed — and forgets
// deleted ones.
func TestZoneRecordsChanged(t *testing.T) {
	e := controltest.Start(t, control.Options{})
	a := controltest.CreateZone(t, e.Plane, "a.test.")
	zs, since := e.Pub.ZoneRecordsChanged(0)
	if !slices.Equal(zs, []model.Name{a}) || since == 0 {
		t.Fatalf("after creating %s: %v at %d", a, zs, since)
	}
	if zs, again := e.Pub.ZoneRecordsChanged(since); len(zs) != 0 || again != since {
		t.Errorf("nothing changed, yet %v at %d", zs, again)
	}
	b := controltest.CreateZone(t, e.Plane, "b.test.")
	ttl := uint32(600)
	if _, err := e.Plane.Zones.UpdateZone(ctx, a, control.ZoneUpdate{DefaultTTL: &ttl}, "test"); err != nil {
		t.Fatal(err)
	}
	var rev store.Revision
	e.Store.View(ctx, func(tx store.ReadTx) error { rev = tx.Revision(); return nil })
	if err := e.Pub.WaitFor(ctx, rev); err != nil { // settings are written without waiting for the publisher
		t.Fatal(err)
	}
	zs, next := e.Pub.ZoneRecordsChanged(since)
	slices.Sort(zs)
	if !slices.Equal(zs, []model.Name{a, b}) || next <= since {
		t.Errorf("after creating %s and changing %s: %v at %d (since %d)", b, a, zs, next, since)
	}
	if err := e.Plane.Zones.DeleteZone(ctx, b, control.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if zs, _ := e.Pub.ZoneRecordsChanged(0); !slices.Equal(zs, []model.Name{a}) {
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
		[]*model.RRset{controltest.RRset(t, "www.example.com.", "A", 60, "192.0.2.1")}, "t"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = bolt.Open(filepath.Join(dir, "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub := publish.New(st, nil)
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
	e := controltest.Start(t, control.Options{})
	z := controltest.CreateZone(t, e.Plane, "example.com.")
	add := model.Change{Op: model.OpAdd, Name: "www.example.com.", Type: dns.TypeA, Rdata: controltest.RRset(t, "www.example.com.", "A", 0, "192.0.2.1").Rdata}
	if _, err := e.Plane.Zones.Apply(ctx, z, []model.Change{add}, control.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A value no decoder accepts, written behind the control plane's back.
	rev, err := e.Store.Update(ctx, func(tx store.Tx) error {
		return tx.Put(schema.RRsetKey(z, model.Key{Name: "bad.example.com.", Type: dns.TypeA}), []byte{99})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Pub.WaitFor(ctx, rev); err != nil {
		t.Fatalf("the publisher stopped at the unreadable value: %v", err)
	}
	if _, err := publish.Load(ctx, e.Pub); err != nil {
		t.Fatalf("a full load fails on one unreadable value: %v", err)
	}
	if a := served(e.Pub, "www.example.com.", dns.TypeA); len(a.Answer) != 1 {
		t.Errorf("the rest of the zone is not served: %+v", a)
	}
}

// resetSink keeps the services of the last full load.
type resetSink struct {
	mu   sync.Mutex
	svcs []*model.Service
}

func (r *resetSink) ResetServices(svcs []*model.Service, _ []*model.Endpoint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.svcs = svcs
}

func (r *resetSink) UpdateServices(publish.ServiceUpdate) {}

// TestServiceThatCannotBeRead: a service whose record cannot be read
// (null, or a record of another service) is left out of what steering
// gets and logged, and its name — which its key gives — stays steered
// after the revision that wrote it is applied and after a full load
// alike.
func TestServiceThatCannotBeRead(t *testing.T) {
	api := model.MustName("api.example.com.")
	other, err := json.Marshal(model.Service{Name: "web.example.com.", Zone: "example.com."})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		value []byte
	}{{"null", []byte("null")}, {"empty", []byte("{}")}, {"another service", other}} {
		value := tc.value
		t.Run(tc.name, func(t *testing.T) {
			var logs testutil.LogBuffer
			e := controltest.Start(t, control.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			z := controltest.CreateZone(t, e.Plane, "example.com.")
			svc := model.Service{Name: api, Pools: []model.Pool{{Name: "primary", Priority: 1}}}
			if _, err := e.Plane.Services.CreateService(ctx, svc, control.ServiceWriteOptions{}); err != nil {
				t.Fatal(err)
			}
			steered := func(when string) {
				t.Helper()
				// Looked up without steering, a steered name answers
				// SERVFAIL; any other name of the zone does not.
				if a := served(e.Pub, string(api), dns.TypeA); a.Rcode != dns.RcodeServerFailure {
					t.Errorf("%s: %s is not steered (rcode %d)", when, api, a.Rcode)
				}
				if a := served(e.Pub, "www.example.com.", dns.TypeA); a.Rcode == dns.RcodeServerFailure {
					t.Errorf("%s: www.example.com. is steered", when)
				}
			}
			steered("before")
			rev, err := e.Store.Update(ctx, func(tx store.Tx) error { return tx.Put(schema.ServiceKey(api), value) })
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Pub.WaitFor(ctx, rev); err != nil {
				t.Fatal(err)
			}
			steered("after the revision")
			sink := &resetSink{}
			e.Pub.SetServiceSink(sink)
			if _, err := publish.Load(ctx, e.Pub); err != nil {
				t.Fatal(err)
			}
			steered("after a full load")
			if len(sink.svcs) != 0 {
				t.Errorf("steering was given %+v", sink.svcs[0])
			}
			if !strings.Contains(logs.String(), "key="+schema.ServiceKey(api)) {
				t.Errorf("the record was not logged; logs:\n%s", logs.String())
			}
			// A zone write that reads the service fails, naming its key.
			_, err = e.Plane.Zones.Apply(ctx, z, []model.Change{{Op: model.OpAdd, Name: api, Type: dns.TypeTXT,
				Rdata: controltest.RRset(t, string(api), "TXT", 0, "x").Rdata}}, control.WriteOptions{})
			if !errors.Is(err, schema.ErrCorrupt) || !strings.Contains(err.Error(), schema.ServiceKey(api)) {
				t.Errorf("a write beside the service: %v, want an error naming %s", err, schema.ServiceKey(api))
			}
		})
	}
}

// BenchmarkLoad measures loading a store holding a 100,000-record zone
// into a snapshot, as at start.
func BenchmarkLoad(b *testing.B) {
	const n = 100000
	z := model.MustName("big.test.")
	sets := controltest.BigZone(b, z, n)
	st, err := bolt.Open(filepath.Join(b.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := control.New(st, nil, control.Options{})
	if _, err := svc.Zones.Import(ctx, z, sets, control.ImportOptions{Mode: control.ImportCreate}); err != nil {
		b.Fatal(err)
	}
	pub := publish.New(st, nil)
	for b.Loop() {
		if _, err := publish.Load(ctx, pub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
