package control

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// keyRecorder is a store that records the keys each Update reads and
// writes.
type keyRecorder struct {
	store.Store
	mu  sync.Mutex
	txs []*recordedTx
}

type recordedTx struct {
	store.Tx
	read, written map[string]bool
}

func (r *keyRecorder) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	return r.Store.Update(ctx, func(tx store.Tx) error {
		rt := &recordedTx{Tx: tx, read: map[string]bool{}, written: map[string]bool{}}
		r.mu.Lock()
		r.txs = append(r.txs, rt)
		r.mu.Unlock()
		return fn(rt)
	})
}

func (t *recordedTx) Get(key string) ([]byte, bool, error) {
	t.read[key] = true
	return t.Tx.Get(key)
}

func (t *recordedTx) Put(key string, value []byte) error {
	t.written[key] = true
	return t.Tx.Put(key, value)
}

func (t *recordedTx) Delete(key string) error {
	t.written[key] = true
	return t.Tx.Delete(key)
}

// objectKeyOf returns the prefix of the store keys of the object a
// stream records.
func objectKeyOf(stream string) string {
	kind, name, _ := strings.Cut(stream, ":")
	switch kind {
	case "zone":
		return schema.PrefixZones + name
	case "service":
		return schema.PrefixServices + name
	case "endpoint":
		return schema.PrefixEndpoints + name
	case "token":
		return schema.PrefixTokens + name
	case "tsig":
		return schema.PrefixTSIG + name
	case "drill":
		return schema.PrefixDrillRuns + name + "/"
	}
	return "?"
}

// TestAuditAddsNoConflicts: the audit keys a write reads and writes (its
// streams' heads and entries) belong to objects whose own keys the write
// writes anyway. So two writes share an audit key only when they already
// write the same object: the audit log adds no conflict between writes
// that had none (on etcd, writes to different zones, services, endpoints
// or tokens still commit side by side).
func TestAuditAddsNoConflicts(t *testing.T) {
	e := newEnv(t, Options{})
	rec := &keyRecorder{Store: e.st}
	p := New(rec, e.pub, Options{Clock: func() time.Time { return e.now }})
	admin := &auth.Principal{Name: "admin", Scopes: []string{auth.ScopeAll}}
	z := model.MustName("example.com.")
	svc := model.MustName("api.example.com.")
	ep := model.Endpoint{ID: "fn-1", Pool: "primary", Address: "192.0.2.1", LeaseTTL: model.Duration(time.Minute)}
	ttl := uint32(600)
	var tokID string
	writes := []struct {
		name string
		do   func() error
	}{
		{"zone create", func() error {
			_, err := p.Zones.CreateZone(asOps, NewZone{Settings: model.ZoneSettings{Name: z}, Nameservers: []model.Name{"ns.example.net."}}, nil, "x")
			return err
		}},
		{"rrsets", func() error {
			_, err := p.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1")}, WriteOptions{})
			return err
		}},
		{"settings", func() error { _, err := p.Zones.UpdateZone(asOps, z, ZoneUpdate{DefaultTTL: &ttl}, "x"); return err }},
		{"service", func() error {
			_, err := p.Services.CreateService(asOps, newService(string(svc)), ServiceWriteOptions{})
			return err
		}},
		{"pool override", func() error {
			_, err := p.Services.SetPoolOverride(asOps, svc, "backup", "down", "", 0, ServiceWriteOptions{})
			return err
		}},
		{"register", func() error { _, _, err := p.Endpoints.RegisterEndpoint(asOps, svc, ep, "x"); return err }},
		{"endpoint override", func() error {
			_, err := p.Endpoints.SetEndpointOverride(asOps, svc, "fn-1", "down", "", "x", 0)
			return err
		}},
		{"lapse", func() error {
			e.now = e.now.Add(time.Hour)
			_, err := p.Endpoints.ReapLapsed(ctx, e.now)
			return err
		}},
		{"token", func() error {
			_, tok, err := p.Tokens.CreateToken(asOps, "ci", []string{auth.ScopeZonesRead}, admin)
			tokID = tok.ID
			return err
		}},
		{"token delete", func() error { return p.Tokens.DeleteToken(asOps, tokID, admin) }},
		{"tsig", func() error { _, err := p.TSIGKeys.CreateTSIGKey(asOps, "k.example.", "", "", "x"); return err }},
		{"drill run", func() error {
			_, err := p.DrillRuns.SaveDrillRun(asOps, DrillRun{Drill: "d", Started: e.now, Ended: e.now}, "x")
			return err
		}},
		{"service delete", func() error { return p.Services.DeleteService(asOps, svc, ServiceWriteOptions{}) }},
		{"zone delete", func() error { return p.Zones.DeleteZone(asOps, "example.com.", WriteOptions{}) }},
	}
	for _, w := range writes {
		rec.txs = nil
		if err := w.do(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		audited := 0
		for _, tx := range rec.txs {
			for key := range mergeKeys(tx.read, tx.written) {
				var stream string
				switch {
				case strings.HasPrefix(key, schema.PrefixAuditHeads):
					stream = strings.TrimPrefix(key, schema.PrefixAuditHeads)
				case strings.HasPrefix(key, schema.PrefixAuditCheckpoints):
					t.Errorf("%s: a write touches the checkpoint %s", w.name, key)
					continue
				case strings.HasPrefix(key, schema.PrefixAudit):
					stream, _, _ = schema.ParseAuditEntryKey(key)
				default:
					continue
				}
				audited++
				obj := objectKeyOf(stream)
				found := false
				for k := range tx.written {
					found = found || strings.HasPrefix(k, obj)
				}
				if !found {
					t.Errorf("%s: touches %s, but writes no key of its object (%s)", w.name, key, obj)
				}
			}
		}
		if audited == 0 {
			t.Errorf("%s: no audit key touched", w.name)
		}
	}
}

func mergeKeys(a, b map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
