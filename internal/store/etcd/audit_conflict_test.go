package etcd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// interfering runs another node's write in the middle of each Update
// (once it has read what it reads, as it writes its audit head) and
// counts how often the Update's fn ran.
type interfering struct {
	store.Store
	other func() error
	runs  int
}

func (s *interfering) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	done := false
	return s.Store.Update(ctx, func(tx store.Tx) error {
		s.runs++
		return fn(&interferingTx{Tx: tx, before: func() error {
			if done {
				return nil
			}
			done = true
			return s.other()
		}})
	})
}

type interferingTx struct {
	store.Tx
	before func() error
}

func (t *interferingTx) Put(key string, value []byte) error {
	if strings.HasPrefix(key, schema.PrefixAuditHeads) {
		if err := t.before(); err != nil {
			return err
		}
	}
	return t.Tx.Put(key, value)
}

// TestAuditAddsNoConflictsOnEtcd: with the audit log, writes of two
// nodes to different zones, services, endpoints or tokens still commit
// side by side on etcd, each running once; writes to the same object
// still conflict (and the second runs again).
func TestAuditAddsNoConflictsOnEtcd(t *testing.T) {
	prefix := t.TempDir() + "/"
	key := []byte("0123456789abcdef0123456789abcdef")
	opts := control.Options{AuditKey: key}
	a, b := openPrefix(t, prefix), openPrefix(t, prefix)
	nodeB := control.New(b, nil, opts)
	ctx := context.Background()
	admin := &auth.Principal{Name: "admin", Scopes: []string{auth.ScopeAll}}
	for _, z := range []model.Name{"a.test.", "b.test."} {
		if _, err := nodeB.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: z}, Nameservers: []model.Name{"ns.example.net."}}, nil, "setup"); err != nil {
			t.Fatal(err)
		}
	}
	svc := func(name string) model.Service {
		return model.Service{Name: model.MustName(name), Pools: []model.Pool{{Name: "p", Priority: 1}}}
	}
	for _, s := range []string{"svc.a.test.", "svc.b.test."} {
		if _, err := nodeB.Services.CreateService(ctx, svc(s), control.ServiceWriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ep := func(id string) model.Endpoint { return model.Endpoint{ID: id, Pool: "p", Address: "192.0.2.1"} }
	for _, id := range []string{"e1", "e2"} {
		if _, _, err := nodeB.Endpoints.RegisterEndpoint(ctx, "svc.a.test.", ep(id), "setup"); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	record := func(z model.Name) func(p *control.Plane) error {
		return func(p *control.Plane) error {
			n++
			name := model.MustName("h" + strings.Repeat("x", n) + "." + string(z))
			_, err := p.Zones.Apply(ctx, z, []model.Change{{Op: model.OpAdd, Name: name, Type: model.TypeA, TTL: 60, HasTTL: true, Rdata: [][]byte{{192, 0, 2, 1}}}}, control.WriteOptions{})
			return err
		}
	}
	register := func(service model.Name, id string) func(p *control.Plane) error {
		return func(p *control.Plane) error {
			_, _, err := p.Endpoints.RegisterEndpoint(ctx, service, ep(id), "x")
			return err
		}
	}
	tests := []struct {
		name   string
		mine   func(p *control.Plane) error
		theirs func(p *control.Plane) error
		runs   int
	}{
		{"different zones", record("a.test."), record("b.test."), 1},
		{"two endpoints of one service", register("svc.a.test.", "e1"), register("svc.a.test.", "e2"), 1},
		{"endpoints of different services", register("svc.a.test.", "e1"), register("svc.b.test.", "e9"), 1},
		{"tokens", func(p *control.Plane) error {
			_, _, err := p.Tokens.CreateToken(ctx, "mine", []string{auth.ScopeZonesRead}, admin)
			return err
		}, func(p *control.Plane) error {
			_, _, err := p.Tokens.CreateToken(ctx, "theirs", []string{auth.ScopeZonesRead}, admin)
			return err
		}, 1},
		{"the same zone", record("a.test."), record("a.test."), 2},
		{"the same endpoint", register("svc.a.test.", "e1"), func(p *control.Plane) error {
			_, err := p.Endpoints.SetEndpointOverride(ctx, "svc.a.test.", "e1", "down", "", "x", time.Minute)
			return err
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ia := &interfering{Store: a, other: func() error { return tc.theirs(nodeB) }}
			if err := tc.mine(control.New(ia, nil, opts)); err != nil {
				t.Fatal(err)
			}
			if ia.runs != tc.runs {
				t.Errorf("the write ran %d times, want %d", ia.runs, tc.runs)
			}
		})
	}
	rep, err := nodeB.Audit.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
