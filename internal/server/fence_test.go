package server

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/cluster"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/local"
)

// TestLeaderWritesCarryTheFence: every write the leader's tasks make
// (reaping, steered answers, secondary refreshes, drill faults and
// reports) reaches store.Update with the context it was given: with the
// fence of a term that has ended, each is refused with store.ErrFenced
// and the store does not move; with a live term's, each commits.
func TestLeaderWritesCarryTheFence(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	e := controltest.Start(t, control.Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	p := e.Plane
	z := controltest.CreateZone(t, p, "example.com.")
	if _, err := p.Services.CreateService(ctx, model.Service{Name: "api.example.com.", Pools: []model.Pool{{Name: "primary", Priority: 1}}}, control.ServiceWriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Endpoints.RegisterEndpoint(ctx, "api.example.com.", model.Endpoint{ID: "fn-1", Pool: "primary", Address: "192.0.2.1", LeaseTTL: model.Duration(30 * time.Second)}, "fn"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "sec.example.", DefaultTTL: 300, Primaries: []model.NotifyTarget{{Address: netip.MustParseAddrPort("127.0.0.1:53")}}}, Nameservers: []model.Name{"ns1.example.net."}}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute) // fn-1's lease has lapsed

	sess, err := local.NewSession("node1")
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	dp := drillPlane{services: p.Services, endpoints: p.Endpoints}
	keep := drillKeeper{p.DrillRuns}
	answers := []*model.RRset{controltest.RRset(t, "api.example.com.", "A", 60, "192.0.2.1")}
	writes := []struct {
		name string
		do   func(ctx context.Context) error
	}{
		{"reap", func(ctx context.Context) error { _, err := p.Endpoints.ReapLapsed(ctx, now); return err }},
		{"steered answers", func(ctx context.Context) error {
			_, err := p.SteeredAnswers.SetSteeredAnswers(ctx, z, answers, "steering")
			return err
		}},
		{"secondary refresh", func(ctx context.Context) error {
			_, err := p.Secondaries.MarkRefreshed(ctx, "sec.example.", "no answer")
			return err
		}},
		{"drill fault", func(ctx context.Context) error {
			return dp.SetFault(ctx, drill.Fault{Service: "api.example.com.", Pool: "primary"}, "drill", "drill", time.Minute)
		}},
		{"drill report", func(ctx context.Context) error {
			_, err := keep.KeepRun(ctx, drill.Record{Drill: "d", Started: now, Ended: now, Report: []byte(`{}`)}, "schedule")
			return err
		}},
	}

	term, err := sess.Campaign(ctx, cluster.Election, nil)
	if err != nil {
		t.Fatal(err)
	}
	ended := term.Fence(ctx)
	if err := term.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	rev, _ := e.Store.Revision(ctx)
	for _, w := range writes {
		if err := w.do(ended); !errors.Is(err, store.ErrFenced) {
			t.Errorf("%s with an ended term: %v, want store.ErrFenced", w.name, err)
		}
	}
	if after, _ := e.Store.Revision(ctx); after != rev {
		t.Errorf("the store moved from revision %d to %d under an ended term", rev, after)
	}

	term, err = sess.Campaign(ctx, cluster.Election, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := term.Fence(ctx)
	for _, w := range writes {
		if err := w.do(live); err != nil {
			t.Errorf("%s with a live term: %v", w.name, err)
		}
	}
	if after, _ := e.Store.Revision(ctx); after <= rev {
		t.Errorf("nothing committed under a live term (revision %d)", after)
	}
}
