// Package controltest starts a control plane for tests: a bolt store in
// the test's temporary directory, its publisher (publish.Publisher)
// running, and the plane; and builds the zones and records tests put in
// it.
package controltest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// Env is a control plane on a fresh store, with the publisher it waits
// for running.
type Env struct {
	Store store.Store // written behind the plane's back by tests of what it cannot read
	Pub   *publish.Publisher
	Plane *control.Plane
}

// Start returns a control plane on a fresh store, stopped when the test
// ends. The publisher logs to opts.Logger too.
func Start(t testing.TB, opts control.Options) *Env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "stratus.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pub := publish.New(st, opts.Logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); pub.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	select {
	case <-pub.Ready():
	case err := <-pub.Failed():
		t.Fatalf("the publisher cannot load the store: %v", err)
	}
	return &Env{Store: st, Pub: pub, Plane: control.New(st, pub, opts)}
}

// New returns a control plane on a fresh store, stopped when the test
// ends, and its publisher.
func New(t testing.TB, opts control.Options) (*control.Plane, *publish.Publisher) {
	t.Helper()
	e := Start(t, opts)
	return e.Plane, e.Pub
}

// CreateZone creates zone name (default TTL 300) served by ns1.<name>
// (192.0.2.53) and ns2.example.net.
func CreateZone(t testing.TB, p *control.Plane, name string) model.Name {
	t.Helper()
	z := model.MustName(name)
	_, err := p.Zones.CreateZone(context.Background(), control.NewZone{
		Settings:    model.ZoneSettings{Name: z, DefaultTTL: 300},
		Nameservers: []model.Name{model.MustName("ns1." + name), model.MustName("ns2.example.net.")},
	}, []*model.RRset{RRset(t, "ns1."+name, "A", 300, "192.0.2.53")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// RRset returns the RRset of the records data (in presentation format) of
// type typ at name.
func RRset(t testing.TB, name, typ string, ttl uint32, data ...string) *model.RRset {
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

// BigZone returns the sets of zone z holding n A records, its SOA and NS
// included: what benchmarks import and load.
func BigZone(t testing.TB, z model.Name, n int) []*model.RRset {
	t.Helper()
	sets := []*model.RRset{
		RRset(t, string(z), "SOA", 300, "ns1."+string(z)+" hostmaster."+string(z)+" 1 3600 600 1209600 60"),
		RRset(t, string(z), "NS", 300, "ns1."+string(z)),
	}
	for i := range n {
		sets = append(sets, &model.RRset{Name: model.Name(fmt.Sprintf("h%d.%s", i, z)), Type: model.TypeA, TTL: 300,
			Rdata: [][]byte{{10, byte(i >> 16), byte(i >> 8), byte(i)}}})
	}
	return sets
}
