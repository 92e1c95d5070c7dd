package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsconst"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/publish"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/zone"
)

func newService(name string) model.Service {
	return model.Service{Name: model.MustName(name), Pools: []model.Pool{
		{Name: "primary", Priority: 1, Check: model.CheckSpec{Type: model.CheckPush}},
		{Name: "backup", Priority: 2},
	}}
}

// recordingSink is a ServiceSink that keeps what it was given.
type recordingSink struct {
	resets  int
	updates []publish.ServiceUpdate
}

func (r *recordingSink) ResetServices([]*model.Service, []*model.Endpoint) { r.resets++ }
func (r *recordingSink) UpdateServices(u publish.ServiceUpdate)            { r.updates = append(r.updates, u) }

func TestServiceLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	sink := &recordingSink{}
	e.pub.SetServiceSink(sink)
	z := mustCreate(t, e, "example.com.", "")
	s, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Zone != z || s.Version != 1 || s.TTL != model.DefaultServiceTTL {
		t.Errorf("created %+v", s)
	}
	// The name is steered in the snapshot as soon as the write returns.
	var a zone.Answer
	e.pub.Snapshots().Load().Lookup(&a, model.MustName("api.example.com.").Wire(), dns.TypeA)
	if a.Rcode != dnsconst.RcodeServFail {
		t.Errorf("steered name without a steering state: rcode %d, want SERVFAIL", a.Rcode)
	}
	if len(sink.updates) == 0 || len(sink.updates[len(sink.updates)-1].Services) != 1 {
		t.Errorf("sink updates %+v", sink.updates)
	}
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); !errors.Is(err, ErrServiceExists) {
		t.Errorf("duplicate: %v", err)
	}
	stale := uint64(7)
	upd := newService("api.example.com.")
	upd.TTL = 5
	if _, err := e.svc.Services.UpdateService(ctx, upd, ServiceWriteOptions{IfMatch: &stale}); err == nil || !strings.Contains(err.Error(), "version 1, not 7") {
		t.Errorf("stale update: %v", err)
	}
	s, err = e.svc.Services.UpdateService(ctx, upd, ServiceWriteOptions{})
	if err != nil || s.Version != 2 || s.TTL != 5 || s.DegradedTTL != 5 {
		t.Errorf("update: %+v %v", s, err)
	}
	if err := e.svc.Zones.DeleteZone(ctx, z, WriteOptions{}); !isInUse(err) || !strings.Contains(err.Error(), "service") {
		t.Errorf("deleting a zone holding a service: %v", err)
	}
	if err := e.svc.Services.DeleteService(ctx, "api.example.com.", ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.pub.Snapshots().Load().Lookup(&a, model.MustName("api.example.com.").Wire(), dns.TypeA)
	if a.Rcode != dnsconst.RcodeNXDomain {
		t.Errorf("deleted service's name: rcode %d, want NXDOMAIN", a.Rcode)
	}
}

func TestServiceNameRules(t *testing.T) {
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Zones.Apply(ctx, "example.com.", []model.Change{
		change(t, model.OpAdd, "www.example.com.", "A", 0, "192.0.2.1"),
		change(t, model.OpAdd, "txt.example.com.", "TXT", 0, `"x"`),
		change(t, model.OpAdd, "sub.example.com.", "NS", 0, "ns.example.net."),
	}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	apexFlat := newService("example.com.")
	apexFlat.Flatten = true
	with := func(f func(*model.Service)) model.Service {
		s := newService("api.example.com.")
		f(&s)
		return s
	}
	tests := []struct {
		name  string
		svc   model.Service
		field string
		msg   string
	}{
		{"outside every zone", newService("api.example.org."), "name", "in no zone"},
		{"beside A records", newService("www.example.com."), "name", "has A records"},
		{"beside other records without flatten", newService("txt.example.com."), "name", "needs the name to itself"},
		{"below a delegation", newService("api.sub.example.com."), "name", "delegation"},
		{"at the apex without flatten", newService("example.com."), "flatten", "must flatten"},
		{"at a wildcard", newService("*.example.com."), "name", "wildcard"},
		{"health after a choosing filter", with(func(s *model.Service) { s.Chain = []string{"priority", "health"} }), "chain", "health must come right after jurisdiction"},
		{"jurisdictions without jurisdiction first", with(func(s *model.Service) {
			s.Jurisdictions = []string{"eu"}
			s.Pools[0].Jurisdiction = "eu"
			s.Chain = []string{"health", "jurisdiction"}
		}), "chain", "must start with the jurisdiction filter"},
		{"too many pools", with(func(s *model.Service) {
			for i := len(s.Pools); i <= model.MaxPools; i++ {
				s.Pools = append(s.Pools, model.Pool{Name: fmt.Sprintf("p%d", i), Priority: 3})
			}
		}), "pools", "at most 64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Services.CreateService(ctx, tc.svc, ServiceWriteOptions{})
			var ve *model.Error
			if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Message, tc.msg) {
				t.Errorf("err = %v, want field %s mentioning %q", err, tc.field, tc.msg)
			}
		})
	}
	// A flattened service may share the apex with SOA and NS.
	if _, err := e.svc.Services.CreateService(ctx, apexFlat, ServiceWriteOptions{}); err != nil {
		t.Errorf("flattened apex service: %v", err)
	}
	// Records a service would contradict are refused afterwards.
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []model.Change{
		change(t, model.OpAdd, "api.example.com.", "A", 0, "192.0.2.1"),
		change(t, model.OpAdd, "api.example.com.", "TXT", 0, `"x"`),
		change(t, model.OpAdd, "example.com.", "AAAA", 0, "2001:db8::1"),
	} {
		if _, err := e.svc.Zones.Apply(ctx, "example.com.", []model.Change{c}, WriteOptions{}); !model.IsValidation(err) || !strings.Contains(err.Error(), "steered service") {
			t.Errorf("%s %s beside a service: %v", c.Name, model.TypeString(c.Type), err)
		}
	}
	// A delegation at or above a service would hide it.
	if _, err := e.svc.Services.CreateService(ctx, newService("a.b.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"b.example.com.", "a.b.example.com."} {
		_, err := e.svc.Zones.Apply(ctx, "example.com.", []model.Change{change(t, model.OpAdd, owner, "NS", 0, "ns.example.net.")}, WriteOptions{})
		if !model.IsValidation(err) || !strings.Contains(err.Error(), "steered service a.b.example.com.") {
			t.Errorf("NS at %s above a service: %v", owner, err)
		}
	}
	if _, err := e.svc.Zones.Apply(ctx, "example.com.", []model.Change{change(t, model.OpAdd, "c.b.example.com.", "NS", 0, "ns.example.net.")}, WriteOptions{}); err != nil {
		t.Errorf("NS beside a service's parent: %v", err)
	}
	if _, err := e.svc.Zones.Apply(ctx, "example.com.", []model.Change{change(t, model.OpAdd, "example.com.", "TXT", 0, `"apex txt is fine"`)}, WriteOptions{}); err != nil {
		t.Errorf("TXT beside a flattened apex service: %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	reg := model.Endpoint{ID: "fn-1", Pool: "primary", Address: "fn-1.example.net", LeaseTTL: model.Duration(30 * time.Second)}
	got, created, err := e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", reg, "fn")
	if err != nil || !created || !got.Expires.Equal(e.now.Add(30*time.Second)) {
		t.Fatalf("register: %+v %v %v", got, created, err)
	}
	// Registering again is safe: it renews and keeps the creation time.
	e.now = e.now.Add(10 * time.Second)
	got, created, err = e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", reg, "fn")
	if err != nil || created || !got.Expires.Equal(e.now.Add(30*time.Second)) || !got.Created.Equal(e.now.Add(-10*time.Second)) {
		t.Errorf("register again: %+v %v %v", got, created, err)
	}
	e.now = e.now.Add(20 * time.Second)
	if got, err = e.svc.Endpoints.RenewEndpoint(ctx, "api.example.com.", "fn-1"); err != nil || !got.Expires.Equal(e.now.Add(30*time.Second)) {
		t.Errorf("renew: %+v %v", got, err)
	}
	if _, err := e.svc.Endpoints.SetEndpointOverride(ctx, "api.example.com.", "fn-1", "down", "deploy", "bob", 0); err != nil {
		t.Fatal(err)
	}
	eps, _ := e.svc.Endpoints.Endpoints(ctx, "api.example.com.")
	if len(eps) != 1 || eps[0].Override == nil || eps[0].Override.Actor != "bob" {
		t.Errorf("override: %+v", eps)
	}
	// Registering again keeps the override and, without a ttl, the lease;
	// moving to another address or pool keeps the override too: only
	// services:write clears it (a function's token must not undo an
	// operator's drain by registering elsewhere).
	noTTL := reg
	noTTL.LeaseTTL = 0
	if got, _, err = e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", noTTL, "fn"); err != nil || got.Override == nil || got.LeaseTTL != reg.LeaseTTL {
		t.Errorf("register again without ttl: %+v %v", got, err)
	}
	moved := reg
	moved.Address = "fn-1b.example.net"
	if got, _, err = e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", moved, "fn"); err != nil || got.Override == nil || got.Override.Actor != "bob" {
		t.Errorf("register at a new address: %+v %v", got, err)
	}
	if eps, _ := e.svc.Endpoints.Endpoints(ctx, "api.example.com."); len(eps) != 1 || eps[0].Override == nil || eps[0].Address != moved.Address {
		t.Errorf("stored after registering at a new address: %+v", eps)
	}
	otherPool := moved
	otherPool.Pool = "backup"
	if got, _, err = e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", otherPool, "fn"); err != nil || got.Override == nil || got.Override.Actor != "bob" {
		t.Errorf("register in another pool: %+v %v", got, err)
	}
	for _, bad := range []struct {
		ep    model.Endpoint
		field string
	}{
		{model.Endpoint{ID: "x", Pool: "nope", Address: "192.0.2.1"}, "pool"},
		{model.Endpoint{ID: "bad id!", Pool: "primary", Address: "192.0.2.1"}, "id"},
		{model.Endpoint{ID: "x", Pool: "primary", Address: "not an address"}, "address"},
		{model.Endpoint{ID: "x", Pool: "primary", Address: "192.0.2.1", LeaseTTL: model.Duration(time.Millisecond)}, "ttl"},
		{model.Endpoint{ID: "x", Pool: "primary", Address: "192.0.2.1", CheckTarget: "192.0.2.1:99999"}, "check_target"},
	} {
		_, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", bad.ep, "fn")
		var ve *model.Error
		if !errors.As(err, &ve) || ve.Field != bad.field {
			t.Errorf("%+v: %v, want an error on %s", bad.ep, err, bad.field)
		}
	}
	// Lapsed leases cannot be renewed, and the reaper removes them.
	e.now = e.now.Add(time.Minute)
	if _, err := e.svc.Endpoints.RenewEndpoint(ctx, "api.example.com.", "fn-1"); !errors.Is(err, ErrEndpointNotFound) {
		t.Errorf("renewing a lapsed lease: %v", err)
	}
	gone, err := e.svc.Endpoints.ReapLapsed(ctx, e.now)
	if err != nil || len(gone) != 1 {
		t.Errorf("reap: %v %v", gone, err)
	}
	if err := e.svc.Endpoints.DeregisterEndpoint(ctx, "api.example.com.", "fn-1", "fn"); !errors.Is(err, ErrEndpointNotFound) {
		t.Errorf("deregistering a reaped endpoint: %v", err)
	}
	// A pool with endpoints cannot be removed from the service.
	if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", model.Endpoint{ID: "b", Pool: "backup", Address: "192.0.2.9"}, "fn"); err != nil {
		t.Fatal(err)
	}
	upd := newService("api.example.com.")
	upd.Pools = upd.Pools[:1]
	if _, err := e.svc.Services.UpdateService(ctx, upd, ServiceWriteOptions{}); !isInUse(err) || !strings.Contains(err.Error(), `"backup" still has endpoint`) {
		t.Errorf("dropping a pool with endpoints: %v", err)
	}
}

func TestPoolOverridesAreNotPartOfTheDefinition(t *testing.T) {
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	svc := newService("api.example.com.")
	svc.Pools[1].Override = &model.Override{State: "down"}
	s, err := e.svc.Services.CreateService(ctx, svc, ServiceWriteOptions{})
	if err != nil || s.Pools[1].Override != nil {
		t.Fatalf("an override in a new definition: %+v %v", s.Pools[1], err)
	}
	if _, err := e.svc.Services.SetPoolOverride(ctx, "api.example.com.", "primary", "down", "maintenance", 0, ServiceWriteOptions{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	// Applying a definition read before the override keeps it.
	s, err = e.svc.Services.UpdateService(ctx, newService("api.example.com."), ServiceWriteOptions{})
	if err != nil || s.Pools[0].Override == nil || s.Pools[0].Override.Actor != "bob" {
		t.Errorf("update after an override: %+v %v", s.Pools[0], err)
	}
	got, _ := e.svc.Services.GetService(ctx, "api.example.com.")
	if got.Pools[0].Override == nil {
		t.Errorf("stored pool lost its override: %+v", got.Pools[0])
	}
}

func TestEndpointLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("registers the most endpoints a service may have")
	}
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.st.Update(ctx, func(tx store.Tx) error {
		for i := range model.MaxEndpoints {
			ep := &model.Endpoint{Service: "api.example.com.", ID: fmt.Sprintf("fn-%d", i), Pool: "primary", Address: "192.0.2.1"}
			if err := saveEndpoint(tx, ep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	one := model.Endpoint{ID: "one-more", Pool: "primary", Address: "192.0.2.2"}
	if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", one, "fn"); !model.IsValidation(err) || !strings.Contains(err.Error(), "the most a service may have") {
		t.Errorf("endpoint beyond the limit: %v", err)
	}
	// Re-registering an existing endpoint is still allowed.
	again := model.Endpoint{ID: "fn-7", Pool: "primary", Address: "192.0.2.1"}
	if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", again, "fn"); err != nil {
		t.Errorf("re-registering at the limit: %v", err)
	}
}

// isInUse reports whether err is an *InUseError (answered 409).
func isInUse(err error) bool {
	var ue *InUseError
	return errors.As(err, &ue)
}

// failingStore fails every read of one key inside write transactions.
type failingStore struct {
	store.Store
	key string
}

var errRead = errors.New("injected read error")

func (f failingStore) Update(ctx context.Context, fn func(tx store.Tx) error) (store.Revision, error) {
	return f.Store.Update(ctx, func(tx store.Tx) error { return fn(failingTx{tx, f.key}) })
}

type failingTx struct {
	store.Tx
	key string
}

func (f failingTx) Get(key string) ([]byte, bool, error) {
	if key == f.key {
		return nil, false, fmt.Errorf("%w: %s", errRead, key)
	}
	return f.Tx.Get(key)
}

// TestRecordsBesideAServiceThatCannotBeRead: a zone write that cannot
// read whether a name is steered — a store read error, or a service
// record that cannot be decoded — fails, naming the key, and writes
// nothing: it must not put records beside a steered name.
func TestRecordsBesideAServiceThatCannotBeRead(t *testing.T) {
	api := model.MustName("api.example.com.")
	key := schema.ServiceKey(api)
	tests := []struct {
		name  string
		setup func(e *env) *Zones // returns the zones to write with
		want  error
	}{
		{"read error", func(e *env) *Zones {
			return New(failingStore{e.st, key}, e.pub, Options{}).Zones
		}, errRead},
		{"corrupt record", func(e *env) *Zones {
			if _, err := e.st.Update(ctx, func(tx store.Tx) error { return tx.Put(key, []byte("{")) }); err != nil {
				t.Fatal(err)
			}
			return e.svc.Zones
		}, schema.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			z := mustCreate(t, e, "example.com.", "")
			if _, err := e.svc.Services.CreateService(ctx, newService(string(api)), ServiceWriteOptions{}); err != nil {
				t.Fatal(err)
			}
			svc := tc.setup(e)
			before := revisionOf(t, e.st)
			_, err := svc.Apply(ctx, z, []model.Change{change(t, model.OpAdd, string(api), "A", 0, "192.0.2.7")}, WriteOptions{})
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), key) {
				t.Errorf("writing an A record at the service's name: %v, want %v naming %s", err, tc.want, key)
			}
			if after := revisionOf(t, e.st); after != before {
				t.Errorf("the store moved from revision %d to %d", before, after)
			}
		})
	}
}
