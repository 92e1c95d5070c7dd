package control

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/audit"
	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

// auditLog returns every entry of the audit log, by stream and sequence.
func auditLog(t *testing.T, e *env) map[string]AuditEntry {
	t.Helper()
	entries, _, err := e.svc.Audit.List(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]AuditEntry{}
	for _, en := range entries {
		out[fmt.Sprintf("%s/%d", en.Stream, en.Seq)] = en
	}
	return out
}

// newEntries returns the entries in after that are not in before.
func newEntries(before, after map[string]AuditEntry) []AuditEntry {
	var out []AuditEntry
	for k, en := range after {
		if _, ok := before[k]; !ok {
			out = append(out, en)
		}
	}
	return out
}

// rawDigest is the digest of the value stored under key, "" if absent.
func rawDigest(t *testing.T, e *env, key string) string {
	t.Helper()
	var d string
	if err := e.st.View(ctx, func(tx store.ReadTx) error {
		v, ok, err := tx.Get(key)
		d = audit.Digest(e.svc.Zones.digestKey, v, ok)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// rawSetsDigest is the digest of the RRsets stored under keys, in that
// order (the order a change writes them: the apex SOA first), computed
// from the stored bytes as an outside auditor would.
func rawSetsDigest(t *testing.T, e *env, keys ...string) string {
	t.Helper()
	h := setsHash{key: e.svc.Zones.digestKey}
	if err := e.st.View(ctx, func(tx store.ReadTx) error {
		for _, k := range keys {
			v, ok, err := tx.Get(k)
			if err != nil {
				return err
			}
			if ok {
				h.add(k, v)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return h.sum()
}

var (
	opsToken = audit.Token("t_ops", "ops")
	asOps    = audit.WithOrigin(context.Background(), opsToken, "192.0.2.7:40000")
)

// TestAuditEveryChange: each kind of change writes exactly one entry (or
// one per object it changes) in the object's stream, with the actor and
// source from the context (or the server's own), the action, and the
// digests of the object's stored encoding before and after.
func TestAuditEveryChange(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	svcName := model.MustName("api.example.com.")
	admin := &auth.Principal{TokenID: "t_admin", Name: "admin", Scopes: []string{auth.ScopeAll}}
	var tokenID string
	var lease = model.Endpoint{ID: "fn-1", Pool: "primary", Address: "192.0.2.10", LeaseTTL: model.Duration(30 * time.Second)}
	zoneKey := schema.ZoneKey(z)
	soaKey := schema.RRsetKey(z, model.Key{Name: z, Type: model.TypeSOA})
	wwwKey := schema.RRsetKey(z, model.Key{Name: "www.example.com.", Type: model.TypeA})
	epKey := schema.EndpointKey(svcName, "fn-1")
	secondary := model.MustName("sec.example.")

	type want struct {
		stream, action, actor, source string
		key                           string   // the object's one key (digests of its value)
		sets                          []string // or the RRset keys of a zone change
	}
	tests := []struct {
		name string
		do   func(t *testing.T) error
		want []want
	}{
		{"rrsets change", func(t *testing.T) error {
			_, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{Actor: "ops"})
			return err
		}, []want{{"zone:example.com.", "rrsets.change", "token:ops", "192.0.2.7:40000", "", []string{soaKey, wwwKey}}}},
		{"rrset delete", func(t *testing.T) error {
			_, err := e.svc.Zones.DeleteRRset(asOps, z, model.Key{Name: "www.example.com.", Type: model.TypeA}, WriteOptions{})
			return err
		}, []want{{"zone:example.com.", "rrsets.change", "token:ops", "192.0.2.7:40000", "", []string{soaKey, wwwKey}}}},
		{"dynamic update", func(t *testing.T) error {
			c := audit.WithOrigin(ctx, audit.TSIG("key.example."), "198.51.100.1")
			_, err := e.svc.Zones.DynamicUpdate(c, z, nil, []UpdateOp{addOp(t, "www.example.com.", "A", 60, "192.0.2.2")}, "key.example.", allowAll)
			return err
		}, []want{{"zone:example.com.", "zone.update", "tsig:key.example.", "198.51.100.1", "", []string{soaKey, wwwKey}}}},
		{"unsigned dynamic update", func(t *testing.T) error {
			c := audit.WithOrigin(ctx, audit.TSIG(""), "198.51.100.2")
			_, err := e.svc.Zones.DynamicUpdate(c, z, nil, []UpdateOp{addOp(t, "www.example.com.", "A", 60, "192.0.2.3")}, "update from 198.51.100.2", allowAll)
			return err
		}, []want{{"zone:example.com.", "zone.update", "tsig:unsigned", "198.51.100.2", "", []string{soaKey, wwwKey}}}},
		{"zone settings", func(t *testing.T) error {
			ttl := uint32(600)
			_, err := e.svc.Zones.UpdateZone(asOps, z, ZoneUpdate{DefaultTTL: &ttl}, "ops")
			return err
		}, []want{{"zone:example.com.", "zone.settings", "token:ops", "192.0.2.7:40000", zoneKey, nil}}},
		{"journal compaction", func(t *testing.T) error {
			_, err := e.svc.Zones.CompactJournal(asOps, z, 1)
			return err
		}, []want{{"zone:example.com.", "zone.compact-journal", "token:ops", "192.0.2.7:40000", zoneKey, nil}}},
		{"service create", func(t *testing.T) error {
			_, err := e.svc.Services.CreateService(asOps, newService(string(svcName)), ServiceWriteOptions{Actor: "ops"})
			return err
		}, []want{{"service:api.example.com.", "service.create", "token:ops", "192.0.2.7:40000", schema.ServiceKey(svcName), nil}}},
		{"service update", func(t *testing.T) error {
			s := newService(string(svcName))
			s.TTL = 42
			_, err := e.svc.Services.UpdateService(asOps, s, ServiceWriteOptions{})
			return err
		}, []want{{"service:api.example.com.", "service.update", "token:ops", "192.0.2.7:40000", schema.ServiceKey(svcName), nil}}},
		{"pool override", func(t *testing.T) error {
			_, err := e.svc.Services.SetPoolOverride(asOps, svcName, "backup", "down", "maintenance", 0, ServiceWriteOptions{Actor: "ops"})
			return err
		}, []want{{"service:api.example.com.", "pool.override", "token:ops", "192.0.2.7:40000", schema.ServiceKey(svcName), nil}}},
		{"drill override (server's own drill)", func(t *testing.T) error {
			_, err := e.svc.Services.SetPoolOverride(ctx, svcName, "backup", "", "", 0, ServiceWriteOptions{Actor: "drill failover"})
			return err
		}, []want{{"service:api.example.com.", "pool.override", "system:drill failover", "", schema.ServiceKey(svcName), nil}}},
		{"endpoint register", func(t *testing.T) error {
			_, _, err := e.svc.Endpoints.RegisterEndpoint(asOps, svcName, lease, "fn")
			return err
		}, []want{{"endpoint:api.example.com./fn-1", "endpoint.register", "token:ops", "192.0.2.7:40000", epKey, nil}}},
		{"endpoint renewal is not audited", func(t *testing.T) error {
			_, err := e.svc.Endpoints.RenewEndpoint(asOps, svcName, "fn-1")
			return err
		}, nil},
		{"endpoint override", func(t *testing.T) error {
			_, err := e.svc.Endpoints.SetEndpointOverride(asOps, svcName, "fn-1", "down", "deploy", "ops", time.Minute)
			return err
		}, []want{{"endpoint:api.example.com./fn-1", "endpoint.override", "token:ops", "192.0.2.7:40000", epKey, nil}}},
		{"endpoint lease lapse", func(t *testing.T) error {
			e.now = e.now.Add(time.Hour)
			gone, err := e.svc.Endpoints.ReapLapsed(ctx, e.now)
			if err == nil && len(gone) != 1 {
				err = fmt.Errorf("reaped %d endpoints, want 1", len(gone))
			}
			return err
		}, []want{{"endpoint:api.example.com./fn-1", "endpoint.lapse", "system:lease-reaper", "", epKey, nil}}},
		{"endpoint deregister", func(t *testing.T) error {
			if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, svcName, model.Endpoint{ID: "static", Pool: "backup", Address: "192.0.2.11"}, "x"); err != nil {
				return err
			}
			return e.svc.Endpoints.DeregisterEndpoint(asOps, svcName, "static", "ops")
		}, []want{
			{"endpoint:api.example.com./static", "endpoint.register", "system:x", "", "", nil},
			{"endpoint:api.example.com./static", "endpoint.deregister", "token:ops", "192.0.2.7:40000", "", nil},
		}},
		{"steered answers are not audited", func(t *testing.T) error {
			_, err := e.svc.SteeredAnswers.SetSteeredAnswers(ctx, z, []*model.RRset{set(t, "api.example.com.", "A", 30, "192.0.2.10")}, "steering")
			return err
		}, nil},
		{"service delete", func(t *testing.T) error {
			return e.svc.Services.DeleteService(asOps, svcName, ServiceWriteOptions{})
		}, []want{{"service:api.example.com.", "service.delete", "token:ops", "192.0.2.7:40000", schema.ServiceKey(svcName), nil}}},
		{"token create", func(t *testing.T) error {
			_, tok, err := e.svc.Tokens.CreateToken(asOps, "ci", []string{auth.ScopeZonesRead}, admin)
			tokenID = tok.ID
			return err
		}, []want{{"token:", "token.create", "token:ops", "192.0.2.7:40000", "token", nil}}},
		{"token delete", func(t *testing.T) error {
			return e.svc.Tokens.DeleteToken(asOps, tokenID, admin)
		}, []want{{"token:", "token.delete", "token:ops", "192.0.2.7:40000", "token", nil}}},
		{"tsig create", func(t *testing.T) error {
			_, err := e.svc.TSIGKeys.CreateTSIGKey(asOps, "xfr.example.", "", "", "ops")
			return err
		}, []want{{"tsig:xfr.example.", "tsig.create", "token:ops", "192.0.2.7:40000", schema.TSIGKey("xfr.example."), nil}}},
		{"tsig delete", func(t *testing.T) error {
			return e.svc.TSIGKeys.DeleteTSIGKey(asOps, "xfr.example.", "ops")
		}, []want{{"tsig:xfr.example.", "tsig.delete", "token:ops", "192.0.2.7:40000", schema.TSIGKey("xfr.example."), nil}}},
		{"drill run", func(t *testing.T) error {
			_, err := e.svc.DrillRuns.SaveDrillRun(ctx, DrillRun{Drill: "failover", Started: e.now, Ended: e.now.Add(time.Minute), Passed: true}, "drill failover")
			return err
		}, []want{{"drill:failover", "drill.run", "system:drill failover", "", schema.DrillRunKey("failover", e.now.Add(time.Hour).UnixNano()), nil}}},
		{"secondary zone create", func(t *testing.T) error {
			_, err := e.svc.Secondaries.CreateSecondaryZone(asOps, model.ZoneSettings{Name: secondary, Primaries: []model.NotifyTarget{{Address: netip.MustParseAddrPort("127.0.0.1:5300")}}}, "ops")
			return err
		}, []want{{"zone:sec.example.", "zone.create-secondary", "token:ops", "192.0.2.7:40000", schema.ZoneKey(secondary), nil}}},
		{"zone transfer in", func(t *testing.T) error {
			_, err := e.svc.Secondaries.LoadFromPrimary(ctx, secondary, []*model.RRset{
				set(t, "sec.example.", "SOA", 300, "ns.sec.example. host.sec.example. 7 3600 600 86400 300"),
				set(t, "sec.example.", "NS", 300, "ns.sec.example."),
			}, "127.0.0.1:5300")
			return err
		}, []want{{"zone:sec.example.", "zone.transfer", "system:secondary", "127.0.0.1:5300", "", []string{
			schema.RRsetKey(secondary, model.Key{Name: secondary, Type: model.TypeSOA}), schema.RRsetKey(secondary, model.Key{Name: secondary, Type: model.TypeNS}),
		}}}},
		{"secondary expiry", func(t *testing.T) error {
			return e.svc.Secondaries.ExpireSecondary(ctx, secondary)
		}, []want{{"zone:sec.example.", "zone.expire", "system:secondary", "", schema.ZoneKey(secondary), nil}}},
		{"zone delete", func(t *testing.T) error {
			return e.svc.Zones.DeleteZone(asOps, z, WriteOptions{})
		}, []want{{"zone:example.com.", "zone.delete", "token:ops", "192.0.2.7:40000", zoneKey, nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := auditLog(t, e)
			var beforeDigest []string
			for _, w := range tc.want {
				switch {
				case w.sets != nil:
					beforeDigest = append(beforeDigest, rawSetsDigest(t, e, w.sets...))
				case w.key != "" && w.key != "token":
					beforeDigest = append(beforeDigest, rawDigest(t, e, w.key))
				default:
					beforeDigest = append(beforeDigest, "?")
				}
			}
			if err := tc.do(t); err != nil {
				t.Fatal(err)
			}
			got := newEntries(before, auditLog(t, e))
			if len(got) != len(tc.want) {
				t.Fatalf("%d new entries, want %d: %+v", len(got), len(tc.want), got)
			}
			// Several entries of one change: in sequence order.
			if len(got) == 2 && got[0].Seq > got[1].Seq {
				got[0], got[1] = got[1], got[0]
			}
			for i, w := range tc.want {
				g := got[i]
				if !strings.HasPrefix(g.Stream, w.stream) || g.Action != w.action || g.Actor.Kind+":"+g.Actor.Name != w.actor || g.Source != w.source {
					t.Errorf("entry %+v, want stream %s action %s actor %s source %q", g, w.stream, w.action, w.actor, w.source)
				}
				if !g.Time.Equal(e.now) {
					t.Errorf("entry time %v, want the clock's %v", g.Time, e.now)
				}
				key := w.key
				if key == "token" {
					key = schema.TokenKey(strings.TrimPrefix(g.Stream, "token:"))
				}
				switch {
				case w.sets != nil:
					if after := rawSetsDigest(t, e, w.sets...); g.Before != beforeDigest[i] || g.After != after || g.Before == g.After {
						t.Errorf("digests %s -> %s, want %s -> %s", g.Before, g.After, beforeDigest[i], after)
					}
				case key != "" && beforeDigest[i] != "?":
					if after := rawDigest(t, e, key); g.Before != beforeDigest[i] || g.After != after || g.Before == g.After {
						t.Errorf("digests %s -> %s, want %s -> %s", g.Before, g.After, beforeDigest[i], after)
					}
				case key != "":
					if after := rawDigest(t, e, key); g.After != after || g.Before == g.After {
						t.Errorf("digests %s -> %s, want ... -> %s", g.Before, g.After, after)
					}
				}
			}
		})
	}
	rep, err := e.svc.Audit.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after every kind of change: %+v %v", rep, err)
	}
}

// TestAuditNoEntryWithoutChange: a change refused (validation, If-Match,
// a missing object) or that changes nothing writes no entry.
func TestAuditNoEntryWithoutChange(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TSIGKeys.CreateTSIGKey(ctx, "k.example.", "", "", "ops"); err != nil {
		t.Fatal(err)
	}
	stale := uint32(99)
	bad := uint32(0)
	tests := []struct {
		name string
		do   func(t *testing.T) error
	}{
		{"CNAME beside data", func(t *testing.T) error {
			_, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "ns1.example.com.", "CNAME", 300, "www.example.com.")}, WriteOptions{})
			return err
		}},
		{"If-Match", func(t *testing.T) error {
			_, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{IfMatch: &stale})
			return err
		}},
		{"no change", func(t *testing.T) error {
			res, err := e.svc.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "ns1.example.com.", "A", 300, "192.0.2.53")}, WriteOptions{})
			if err == nil && res.Changed {
				t.Errorf("the same record again changed the zone: %+v", res)
			}
			return errors.Join(err, errNoChange) // succeeds, changing nothing
		}},
		{"bad zone ttl", func(t *testing.T) error {
			_, err := e.svc.Zones.UpdateZone(asOps, z, ZoneUpdate{DefaultTTL: &bad}, "ops")
			return err
		}},
		{"endpoint in no pool", func(t *testing.T) error {
			_, _, err := e.svc.Endpoints.RegisterEndpoint(asOps, "api.example.com.", model.Endpoint{ID: "x", Pool: "nope", Address: "192.0.2.1"}, "ops")
			return err
		}},
		{"missing endpoint", func(t *testing.T) error {
			return e.svc.Endpoints.DeregisterEndpoint(asOps, "api.example.com.", "nope", "ops")
		}},
		{"token beyond the granter", func(t *testing.T) error {
			_, _, err := e.svc.Tokens.CreateToken(asOps, "x", []string{auth.ScopeAll}, &auth.Principal{Name: "r", Scopes: []string{auth.ScopeZonesRead}})
			return err
		}},
		{"tsig key twice", func(t *testing.T) error {
			_, err := e.svc.TSIGKeys.CreateTSIGKey(asOps, "k.example.", "", "", "ops")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := auditLog(t, e)
			if err := tc.do(t); err == nil {
				t.Fatal("the change was not refused")
			}
			if got := newEntries(before, auditLog(t, e)); len(got) != 0 {
				t.Errorf("%d entries written: %+v", len(got), got)
			}
		})
	}
}

// auditFailStore fails every Put of an audit entry or head.
type auditFailStore struct{ store.Store }

var errAuditPut = errors.New("injected audit write error")

func (f auditFailStore) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	return f.Store.Update(ctx, func(tx store.Tx) error { return fn(auditFailTx{tx}) })
}

type auditFailTx struct{ store.Tx }

func (f auditFailTx) Put(key string, value []byte) error {
	if strings.HasPrefix(key, schema.PrefixAudit) || strings.HasPrefix(key, schema.PrefixAuditHeads) {
		return fmt.Errorf("%w: %s", errAuditPut, key)
	}
	return f.Tx.Put(key, value)
}

// TestAuditNoChangeWithoutEntry: when the audit entry cannot be written,
// the change fails and nothing of it is committed.
func TestAuditNoChangeWithoutEntry(t *testing.T) {
	e := newEnv(t, Options{})
	z := mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	broken := New(auditFailStore{e.st}, e.pub, Options{Clock: func() time.Time { return e.now }})
	admin := &auth.Principal{Name: "admin", Scopes: []string{auth.ScopeAll}}
	tests := []struct {
		name string
		do   func() error
	}{
		{"zone change", func() error {
			_, err := broken.Zones.Apply(asOps, z, []model.Change{change(t, model.OpAdd, "www.example.com.", "A", 300, "192.0.2.1")}, WriteOptions{})
			return err
		}},
		{"zone create", func() error {
			_, err := broken.Zones.CreateZone(asOps, NewZone{Settings: model.ZoneSettings{Name: "other.example."}, Nameservers: []model.Name{"ns.example.net."}}, nil, "ops")
			return err
		}},
		{"service create", func() error {
			_, err := broken.Services.CreateService(asOps, newService("www.example.com."), ServiceWriteOptions{})
			return err
		}},
		{"endpoint register", func() error {
			_, _, err := broken.Endpoints.RegisterEndpoint(asOps, "api.example.com.", model.Endpoint{ID: "a", Pool: "primary", Address: "192.0.2.1"}, "ops")
			return err
		}},
		{"token create", func() error {
			_, _, err := broken.Tokens.CreateToken(asOps, "ci", []string{auth.ScopeZonesRead}, admin)
			return err
		}},
		{"tsig create", func() error {
			_, err := broken.TSIGKeys.CreateTSIGKey(asOps, "k.example.", "", "", "ops")
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rev, err := e.st.Revision(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.do(); !errors.Is(err, errAuditPut) {
				t.Fatalf("the change without its entry: %v, want the audit write's error", err)
			}
			if now, _ := e.st.Revision(ctx); now != rev {
				t.Errorf("the store moved from revision %d to %d: the change was committed without its entry", rev, now)
			}
		})
	}
}

// TestAuditRetireTokens: the tokens a rotation retires are audited, each
// in its own stream, as deleted by the token that rotates.
func TestAuditRetireTokens(t *testing.T) {
	e := newEnv(t, Options{})
	admin := &auth.Principal{TokenID: "ops-id", Name: "ops", Scopes: []string{auth.ScopeAll}}
	_, old, err := e.svc.Tokens.CreateToken(asOps, "rotated", []string{auth.ScopeZonesRead}, admin)
	if err != nil {
		t.Fatal(err)
	}
	_, kept, err := e.svc.Tokens.CreateToken(asOps, "rotated", []string{auth.ScopeZonesRead}, admin)
	if err != nil {
		t.Fatal(err)
	}
	before := auditLog(t, e)
	removed, err := e.svc.Tokens.RetireTokens(asOps, "rotated", kept.ID, admin)
	if err != nil || len(removed) != 1 || removed[0] != old.ID {
		t.Fatalf("retire: %v %v, want [%s]", removed, err, old.ID)
	}
	got := newEntries(before, auditLog(t, e))
	if len(got) != 1 {
		t.Fatalf("%d new entries, want 1: %+v", len(got), got)
	}
	g := got[0]
	if g.Stream != "token:"+old.ID || g.Action != "token.delete" || g.Actor.Kind+":"+g.Actor.Name != "token:ops" || g.Source != "192.0.2.7:40000" {
		t.Errorf("entry %+v, want token.delete of %s by token:ops", g, old.ID)
	}
	if g.Before == "" || g.After != "" {
		t.Errorf("digests %q -> %q, want the token's -> none", g.Before, g.After)
	}
	if rep, err := e.svc.Audit.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}
