package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
)

// countingTx counts a transaction's reads of one key (Get) and of
// several (GetMany).
type countingTx struct {
	store.Tx
	g *gatedStore
}

func (c countingTx) Get(key string) ([]byte, bool, error) {
	c.g.mu.Lock()
	c.g.gets++
	c.g.mu.Unlock()
	return c.Tx.Get(key)
}

func (c countingTx) GetMany(keys []string) ([][]byte, []bool, error) {
	c.g.mu.Lock()
	c.g.getManys++
	c.g.mu.Unlock()
	return store.GetMany(c.Tx, keys)
}

// gatedStore holds every Update until the test opens the gate, so that
// renewals arriving meanwhile wait together; fail, when set, is the
// error Update n returns without running its function.
type gatedStore struct {
	store.Store
	mu      sync.Mutex
	updates int
	// gets and getManys count the reads of the Updates' transactions.
	gets, getManys int
	gate           chan struct{}
	fail           map[int]error
	// metrics, when set, is where the plane renewTogether makes
	// registers its lease metrics.
	metrics *prometheus.Registry
}

func (g *gatedStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Revision, error) {
	g.mu.Lock()
	g.updates++
	err := g.fail[g.updates]
	g.mu.Unlock()
	<-g.gate
	if err != nil {
		return 0, err
	}
	return g.Store.Update(ctx, func(tx store.Tx) error { return fn(countingTx{tx, g}) })
}

func (g *gatedStore) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.updates
}

// renewResult is what one RenewEndpoint call returned.
type renewResult struct {
	svc model.Name
	id  string
	got *model.Endpoint
	err error
}

// renewTogether renews each of firsts alone, in a transaction of its
// own (maxRenewalGroups of them), holds those transactions until every
// one of the others is queued behind them, then lets them all go and
// returns the results of the others, in order.
func renewTogether(t *testing.T, e *env, g *gatedStore, firsts, others []renewResult) []renewResult {
	t.Helper()
	if len(firsts) != maxRenewalGroups {
		t.Fatalf("%d first renewals, want %d (one per group in flight)", len(firsts), maxRenewalGroups)
	}
	plane := New(g, e.pub, Options{Clock: func() time.Time { return e.now }})
	if g.metrics != nil {
		plane.Endpoints.RegisterMetrics(g.metrics)
	}
	q := &plane.Endpoints.renewals
	// waitFor waits (on state) until cond holds.
	waitFor := func(what string, cond func(queued, updates int) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			q.mu.Lock()
			queued := len(q.queue)
			q.mu.Unlock()
			if cond(queued, g.count()) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 60s, %d renewals queued and %d transactions: want %s", queued, g.count(), what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	for i, r := range firsts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			plane.Endpoints.RenewEndpoint(ctx, r.svc, r.id)
		}()
		waitFor(fmt.Sprintf("%d transactions held", i+1), func(queued, updates int) bool { return queued == 0 && updates == i+1 })
	}
	out := make([]renewResult, len(others))
	for i, r := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.got, r.err = plane.Endpoints.RenewEndpoint(ctx, r.svc, r.id)
			out[i] = r
		}()
	}
	waitFor(fmt.Sprintf("%d renewals queued", len(others)), func(queued, updates int) bool {
		return queued == len(others) && updates == maxRenewalGroups
	})
	close(g.gate)
	wg.Wait()
	return out
}

// TestRenewalsGrouped renews 70 leases and a few that cannot be renewed
// while maxRenewalGroups renewals' transactions are held: they commit in
// two transactions (64, then the rest), each renewal gets its own endpoint's
// new lease (their TTLs differ), and those that cannot be renewed fail
// alone, with their own errors.
func TestRenewalsGrouped(t *testing.T) {
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	svcs := []model.Name{"api.example.com.", "web.example.com."}
	for _, s := range svcs {
		if _, err := e.svc.Services.CreateService(ctx, newService(string(s)), ServiceWriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	register := func(svc model.Name, id string, ttl time.Duration) {
		t.Helper()
		ep := model.Endpoint{ID: id, Pool: "primary", Address: id + ".example.net", LeaseTTL: model.Duration(ttl)}
		if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, svc, ep, "test"); err != nil {
			t.Fatal(err)
		}
	}
	register(svcs[0], "lapsed", 10*time.Second)
	register(svcs[0], "static", 0)
	e.now = e.now.Add(time.Minute) // "lapsed" lapses
	ttl := func(i int) time.Duration { return time.Duration(30+i) * time.Second }
	var others []renewResult
	for i := 0; i < 70; i++ {
		svc := svcs[i%2]
		id := fmt.Sprintf("fn-%d", i)
		register(svc, id, ttl(i))
		others = append(others, renewResult{svc: svc, id: id})
	}
	var firsts []renewResult
	for i := 0; i < maxRenewalGroups; i++ {
		id := fmt.Sprintf("first-%d", i)
		register(svcs[1], id, time.Hour)
		firsts = append(firsts, renewResult{svc: svcs[1], id: id})
	}
	// The same endpoint twice, and three that cannot be renewed, among
	// the others.
	bad := []renewResult{{svc: svcs[1], id: "fn-3"}, {svc: svcs[0], id: "unknown"}, {svc: svcs[0], id: "static"}, {svc: svcs[0], id: "lapsed"}}
	others = append(others[:10], append(bad, others[10:]...)...)
	e.now = e.now.Add(5 * time.Second)
	renewedAt := e.now

	g := &gatedStore{Store: e.st, gate: make(chan struct{}), metrics: prometheus.NewRegistry()}
	results := renewTogether(t, e, g, firsts, others)
	// The group commits counted by size: 1, 1, 64 and the other 10;
	// every renewal but the 3 that cannot be made.
	if err := testutil.GatherAndCompare(g.metrics, strings.NewReader(`
# HELP stratus_control_renewal_batch_size Renewals committed together in one store transaction (group commit).
# TYPE stratus_control_renewal_batch_size histogram
stratus_control_renewal_batch_size_bucket{le="1"} 2
stratus_control_renewal_batch_size_bucket{le="2"} 2
stratus_control_renewal_batch_size_bucket{le="4"} 2
stratus_control_renewal_batch_size_bucket{le="8"} 2
stratus_control_renewal_batch_size_bucket{le="16"} 3
stratus_control_renewal_batch_size_bucket{le="32"} 3
stratus_control_renewal_batch_size_bucket{le="64"} 4
stratus_control_renewal_batch_size_bucket{le="+Inf"} 4
stratus_control_renewal_batch_size_sum 76
stratus_control_renewal_batch_size_count 4
# HELP stratus_health_renewals_total Endpoint lease renewals committed.
# TYPE stratus_health_renewals_total counter
stratus_health_renewals_total 73
`), "stratus_control_renewal_batch_size", "stratus_health_renewals_total"); err != nil {
		t.Error(err)
	}

	want := maxRenewalGroups + 2
	if n := g.count(); n != want {
		t.Errorf("%d transactions for %d + %d renewals, want %d (%d of one, then %d and %d)", n, maxRenewalGroups, len(others), want, maxRenewalGroups, maxRenewalsPerTxn, len(others)-maxRenewalsPerTxn)
	}
	// Each transaction reads its renewals' endpoints at once (on etcd
	// one round trip), not one by one.
	if g.gets != 0 || g.getManys != want {
		t.Errorf("the %d transactions read with %d Gets and %d GetManys, want 0 and %d", want, g.gets, g.getManys, want)
	}
	for _, r := range results {
		switch r.id {
		case "unknown":
			if !errors.Is(r.err, ErrEndpointNotFound) {
				t.Errorf("unknown: %v, want not found", r.err)
			}
			continue
		case "static":
			if !model.IsValidation(r.err) || !strings.Contains(r.err.Error(), "no lease") {
				t.Errorf("static: %v, want no lease to renew", r.err)
			}
			continue
		case "lapsed":
			if !errors.Is(r.err, ErrEndpointNotFound) || !strings.Contains(r.err.Error(), "lapsed") {
				t.Errorf("lapsed: %v, want its lease lapsed", r.err)
			}
			continue
		}
		var i int
		fmt.Sscanf(r.id, "fn-%d", &i)
		want := renewedAt.Add(ttl(i))
		if r.err != nil || r.got.ID != r.id || r.got.Service != r.svc || !r.got.Expires.Equal(want) || !r.got.Renewed.Equal(renewedAt) {
			t.Errorf("%s/%s: %+v %v, want expires %s", r.svc, r.id, r.got, r.err, want)
			continue
		}
		stored, err := e.svc.Endpoints.Endpoint(ctx, r.svc, r.id)
		if err != nil || !stored.Expires.Equal(want) {
			t.Errorf("%s/%s stored: %+v %v, want expires %s", r.svc, r.id, stored, err, want)
		}
	}
	// What could not be renewed is as it was.
	if got, err := e.svc.Endpoints.Endpoint(ctx, svcs[0], "lapsed"); err != nil || !got.Expires.Equal(renewedAt.Add(-time.Minute+5*time.Second)) {
		t.Errorf("lapsed endpoint changed: %+v %v", got, err)
	}
}

// TestRenewalsGroupFailsTogether: when the transaction of a group fails,
// every renewal in it gets that error and none is written; the next
// group commits.
func TestRenewalsGroupFailsTogether(t *testing.T) {
	e := newEnv(t, Options{})
	mustCreate(t, e, "example.com.", "")
	svc := model.Name("api.example.com.")
	if _, err := e.svc.Services.CreateService(ctx, newService(string(svc)), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	register := func(id string) renewResult {
		t.Helper()
		ep := model.Endpoint{ID: id, Pool: "primary", Address: id + ".example.net", LeaseTTL: model.Duration(time.Minute)}
		if _, _, err := e.svc.Endpoints.RegisterEndpoint(ctx, svc, ep, "test"); err != nil {
			t.Fatal(err)
		}
		return renewResult{svc: svc, id: id}
	}
	var firsts, others []renewResult
	for i := 0; i < maxRenewalGroups; i++ {
		firsts = append(firsts, register(fmt.Sprintf("held-%d", i)))
	}
	for i := 0; i < 5; i++ {
		others = append(others, register(fmt.Sprintf("fn-%d", i)))
	}
	before := e.now
	e.now = e.now.Add(10 * time.Second)
	boom := errors.New("the store is unreachable")
	// The transaction after the held ones, which holds the others,
	// fails.
	g := &gatedStore{Store: e.st, gate: make(chan struct{}), fail: map[int]error{maxRenewalGroups + 1: boom}}
	for _, r := range renewTogether(t, e, g, firsts, others) {
		if !errors.Is(r.err, boom) || r.got != nil {
			t.Errorf("%s: %+v %v, want the transaction's error", r.id, r.got, r.err)
		}
		got, err := e.svc.Endpoints.Endpoint(ctx, svc, r.id)
		if err != nil || !got.Expires.Equal(before.Add(time.Minute)) {
			t.Errorf("%s written by a failed transaction: %+v %v", r.id, got, err)
		}
	}
	// The held renewals, each alone in its transaction, were written.
	for _, r := range firsts {
		if got, _ := e.svc.Endpoints.Endpoint(ctx, svc, r.id); !got.Expires.Equal(e.now.Add(time.Minute)) {
			t.Errorf("%s: %+v, want renewed by its own transaction", r.id, got)
		}
	}
	// And the group is not stuck.
	e.now = e.now.Add(time.Second)
	if got, err := e.svc.Endpoints.RenewEndpoint(ctx, svc, "fn-1"); err != nil || !got.Expires.Equal(e.now.Add(time.Minute)) {
		t.Errorf("renew after a failed group: %+v %v", got, err)
	}
}

// TestRegistrationsCounted checks that committed registrations count,
// new or again, and refused ones do not.
func TestRegistrationsCounted(t *testing.T) {
	e := newEnv(t, Options{})
	reg := prometheus.NewRegistry()
	e.svc.Endpoints.RegisterMetrics(reg)
	mustCreate(t, e, "example.com.", "")
	if _, err := e.svc.Services.CreateService(ctx, newService("api.example.com."), ServiceWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []model.Endpoint{
		{ID: "a", Pool: "primary", Address: "192.0.2.1", LeaseTTL: model.Duration(time.Minute)},
		{ID: "a", Pool: "primary", Address: "192.0.2.1", LeaseTTL: model.Duration(time.Minute)}, // again
		{ID: "b", Pool: "nosuchpool", Address: "192.0.2.2"},                                     // refused
	} {
		e.svc.Endpoints.RegisterEndpoint(ctx, "api.example.com.", ep, "test")
	}
	if _, err := e.svc.Endpoints.RenewEndpoint(ctx, "api.example.com.", "a"); err != nil {
		t.Fatal(err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP stratus_health_registrations_total Endpoint registrations committed (new endpoints and registrations again).
# TYPE stratus_health_registrations_total counter
stratus_health_registrations_total 2
# HELP stratus_health_renewals_total Endpoint lease renewals committed.
# TYPE stratus_health_renewals_total counter
stratus_health_renewals_total 1
`), "stratus_health_registrations_total", "stratus_health_renewals_total"); err != nil {
		t.Error(err)
	}
}
