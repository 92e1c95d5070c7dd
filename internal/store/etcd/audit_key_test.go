package etcd

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// TestAuditCheckKeyTogetherOnEtcd: nodes with different audit keys
// starting at once on an empty etcd: one commits the key's identity, the
// other finds it and is refused.
func TestAuditCheckKeyTogetherOnEtcd(t *testing.T) {
	keys := [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("ZZZZ456789abcdef0123456789abcdef")}
	for round := range 5 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			prefix := t.TempDir() + "/"
			errs := make([]error, len(keys))
			var wg sync.WaitGroup
			for i, k := range keys {
				p := control.New(openPrefix(t, prefix), nil, control.Options{AuditKey: k})
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = p.Audit.CheckKey(context.Background())
				}()
			}
			wg.Wait()
			started := 0
			for i, err := range errs {
				switch {
				case err == nil:
					started++
				case !strings.Contains(err.Error(), "audit.key_file"):
					t.Errorf("node %d: %v", i, err)
				}
			}
			if started != 1 {
				t.Errorf("%d nodes started (%v), want 1", started, errs)
			}
		})
	}
}

// TestDeleteServiceEndpointsOnEtcd: deleting a service writes an
// endpoint.delete entry per endpoint in the same transaction: three keys
// an endpoint. Under etcd's default --max-txn-ops (128) a service of 39
// endpoints is deleted; one of 40 is refused, naming the flag, and
// nothing is deleted.
func TestDeleteServiceEndpointsOnEtcd(t *testing.T) {
	ctx := context.Background()
	st := openPrefix(t, t.TempDir()+"/")
	p := control.New(st, nil, control.Options{AuditKey: []byte("0123456789abcdef0123456789abcdef")})
	if _, err := p.Zones.CreateZone(ctx, control.NewZone{Settings: model.ZoneSettings{Name: "a.test."}, Nameservers: []model.Name{"ns.example.net."}}, nil, "setup"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		endpoints int
		ok        bool
	}{{39, true}, {40, false}} {
		t.Run(fmt.Sprint(tc.endpoints), func(t *testing.T) {
			name := model.MustName(fmt.Sprintf("s%d.a.test.", tc.endpoints))
			if _, err := p.Services.CreateService(ctx, model.Service{Name: name, Pools: []model.Pool{{Name: "p", Priority: 1}}}, control.ServiceWriteOptions{}); err != nil {
				t.Fatal(err)
			}
			for i := range tc.endpoints {
				if _, _, err := p.Endpoints.RegisterEndpoint(ctx, name, model.Endpoint{ID: fmt.Sprintf("e%02d", i), Pool: "p", Address: "192.0.2.1"}, "setup"); err != nil {
					t.Fatal(err)
				}
			}
			err := p.Services.DeleteService(ctx, name, control.ServiceWriteOptions{})
			var left int
			if verr := st.View(ctx, func(tx store.ReadTx) error {
				var err error
				left, err = tx.Count(schema.EndpointPrefix(name))
				return err
			}); verr != nil {
				t.Fatal(verr)
			}
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "--max-txn-ops") || left != tc.endpoints {
					t.Fatalf("delete: %v, %d endpoints left; want refused naming --max-txn-ops, nothing deleted", err, left)
				}
				return
			}
			if err != nil || left != 0 {
				t.Fatalf("delete: %v, %d endpoints left", err, left)
			}
			log, _, err := p.Audit.List(ctx, control.AuditQuery{Object: "endpoint:"})
			if err != nil {
				t.Fatal(err)
			}
			last := map[string]string{}
			for _, e := range log {
				if strings.HasPrefix(e.Stream, schema.AuditEndpointStream(name, "")) {
					last[e.Stream] = e.Action
				}
			}
			for s, a := range last {
				if a != "endpoint.delete" {
					t.Errorf("%s ends at %s", s, a)
				}
			}
			if len(last) != tc.endpoints {
				t.Errorf("%d endpoint streams, want %d", len(last), tc.endpoints)
			}
		})
	}
	if rep, err := p.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
