package control

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/schema"
	"github.com/stratusdns/stratus/internal/store"
)

func bound(b auth.Bindings, scopes ...string) *auth.Principal {
	p := holder(scopes...)
	p.Bindings = b
	return p
}

// TestTokenBindingsWithinTheGrantors: a token creates, replaces and
// deletes only tokens bound within its own bindings: for every kind it is
// bound in, the other token must be bound in it too, to some of the same
// names. Otherwise a *auth.BindingError names the token, the binding and
// what is beyond it, and nothing is written.
func TestTokenBindingsWithinTheGrantors(t *testing.T) {
	api := auth.Bindings{Services: []string{"api.example.com."}}
	tests := []struct {
		name    string
		holds   auth.Bindings
		grants  auth.Bindings
		refused string // "" allowed; otherwise in the message
	}{
		{"unbound grants unbound", auth.Bindings{}, auth.Bindings{}, ""},
		{"unbound grants bound", auth.Bindings{}, api, ""},
		{"bound grants the same", api, api, ""},
		{"bound grants narrower kinds", api, auth.Bindings{Services: api.Services, Pools: []string{"p"}}, ""},
		{"bound cannot grant unbound", api, auth.Bindings{}, `token "holder" is bound to service api.example.com.: it cannot grant a token without a service binding`},
		{"bound cannot grant another service", api, auth.Bindings{Services: []string{"web.example.com."}}, "cannot grant a token bound to service web.example.com."},
		{"bound cannot grant a superset", api, auth.Bindings{Services: []string{"api.example.com.", "web.example.com."}}, "web.example.com."},
		{"bound to a zone cannot grant a zone beyond", auth.Bindings{Zones: []string{"example.com."}}, auth.Bindings{Zones: []string{"example.org."}}, "zone example.org."},
		{"bound to a zone cannot grant a pool-bound token", auth.Bindings{Zones: []string{"example.com."}}, auth.Bindings{Pools: []string{"p"}}, "without a zone binding"},
		{"bound to pools cannot grant other pools", auth.Bindings{Pools: []string{"p"}}, auth.Bindings{Pools: []string{"p", "q"}}, "pool q"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			by := bound(tc.holds, "tokens:admin", "endpoints:write")
			_, rec, err := e.svc.Tokens.IssueToken(ctx, TokenSpec{Name: "new", Scopes: []string{"endpoints:write"}, Bindings: tc.grants}, by)
			checkRefusal(t, "create", err, tc.refused)
			if tc.refused != "" {
				if names := tokenNames(t, e); len(names) != 0 {
					t.Errorf("refused, but tokens %v were created", names)
				}
				// The same token made by the operator: by cannot delete it.
				if _, rec, err = e.svc.Tokens.IssueToken(ctx, TokenSpec{Name: "new", Scopes: []string{"endpoints:write"}, Bindings: tc.grants}, auth.Local("test")); err != nil {
					t.Fatal(err)
				}
			}
			checkRefusal(t, "delete", e.svc.Tokens.DeleteToken(ctx, rec.ID, by), tc.refused)
		})
	}
}

func checkRefusal(t *testing.T, op string, err error, refused string) {
	t.Helper()
	if refused == "" {
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
		return
	}
	var be *auth.BindingError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), refused) {
		t.Errorf("%s: %v, want a BindingError with %q", op, err, refused)
	}
}

// TestTokenSpecChecks: bindings are made canonical (names parsed, each
// once); bad names, too many, and an expiry not in the future are
// refused naming the field, and nothing is written.
func TestTokenSpecChecks(t *testing.T) {
	e := newEnv(t, Options{})
	_, rec, err := e.svc.Tokens.IssueToken(ctx, TokenSpec{Name: "fn", Scopes: []string{"endpoints:write"},
		Bindings: auth.Bindings{Services: []string{"API.example.com", "api.example.com."}, Zones: []string{"Example.COM"}, Pools: []string{"p", "p"}},
		Expires:  e.now.Add(time.Hour)}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Bindings{Services: []string{"api.example.com."}, Zones: []string{"example.com."}, Pools: []string{"p"}}
	if rec.Bindings.String() != want.String() || !rec.Expires.Equal(e.now.Add(time.Hour)) {
		t.Errorf("stored %+v", rec)
	}
	stored, err := e.svc.Tokens.Token(ctx, rec.ID)
	if err != nil || stored.Bindings.String() != want.String() || !stored.Expires.Equal(rec.Expires) {
		t.Errorf("read back %+v %v", stored, err)
	}
	many := make([]string, MaxTokenBindings+1)
	for i := range many {
		many[i] = "p" + strings.Repeat("x", i%5) + string(rune('a'+i%26))
	}
	for _, tc := range []struct {
		spec  TokenSpec
		field string
	}{
		{TokenSpec{Bindings: auth.Bindings{Services: []string{"bad name!"}}}, "services[0]"},
		{TokenSpec{Bindings: auth.Bindings{Zones: []string{"ok.test", ".."}}}, "zones[1]"},
		{TokenSpec{Bindings: auth.Bindings{Pools: []string{"-p"}}}, "pools[0]"},
		{TokenSpec{Bindings: auth.Bindings{Pools: many}}, "pools"},
		{TokenSpec{Expires: e.now}, "expires"},
		{TokenSpec{Expires: e.now.Add(-time.Second)}, "expires"},
	} {
		tc.spec.Name, tc.spec.Scopes = "bad", []string{"zones:read"}
		_, _, err := e.svc.Tokens.IssueToken(ctx, tc.spec, auth.Local("test"))
		var me *model.Error
		if !errors.As(err, &me) || me.Field != tc.field {
			t.Errorf("%+v: %v, want an error on %s", tc.spec, err, tc.field)
		}
	}
	if names := tokenNames(t, e); len(names) != 1 {
		t.Errorf("tokens %v after refused creations", names)
	}
}

// countingStore counts the transactions a plane runs.
type countingStore struct {
	store.Store
	views, updates atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(store.ReadTx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

func (c *countingStore) Update(ctx context.Context, fn func(store.Tx) error) (store.Revision, error) {
	c.updates.Add(1)
	return c.Store.Update(ctx, fn)
}

// TestTokenExpiry: a token stops authenticating when its expiry passes,
// with an *auth.ExpiredError saying when; from the publisher's table
// without a store read, and from the store for a token the table does
// not hold.
func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, Options{})
	cs := &countingStore{Store: e.st}
	plane := New(cs, e.pub, Options{Clock: func() time.Time { return e.now }})
	storeOnly := New(e.st, nil, Options{Clock: func() time.Time { return e.now }})
	expires := e.now.Add(time.Hour)
	tok, _, err := plane.Tokens.IssueToken(ctx, TokenSpec{Name: "ci", Scopes: []string{"zones:read"}, Expires: expires}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	forever, _, err := plane.Tokens.CreateToken(ctx, "ops", []string{"zones:read"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step    time.Duration
		tok     string
		expired bool
	}{
		{0, tok, false},
		{59 * time.Minute, tok, false},
		{time.Minute, tok, true}, // at the expiry
		{24 * time.Hour, tok, true},
		{0, forever, false},
	} {
		e.now = e.now.Add(tc.step)
		for _, pl := range []*Plane{plane, storeOnly} {
			views := cs.views.Load()
			p, err := pl.Tokens.Authenticate(ctx, tc.tok)
			var xe *auth.ExpiredError
			switch {
			case tc.expired && (!errors.As(err, &xe) || !xe.Expires.Equal(expires) || !strings.Contains(err.Error(), `token "ci" expired at `+expires.Format(time.RFC3339))):
				t.Errorf("at %s: %v %v, want it expired at %s", e.now, p, err, expires)
			case !tc.expired && err != nil:
				t.Errorf("at %s: %v", e.now, err)
			}
			if pl == plane && cs.views.Load() != views {
				t.Errorf("at %s: authenticating read the store", e.now)
			}
		}
	}
}

// TestLastUse: authentication notes a token's last use in memory, and
// FlushLastUse writes what was noted, every token used in one
// transaction, never a token twice for one flush however often it was
// used, and never back in time.
func TestLastUse(t *testing.T) {
	e := newEnv(t, Options{})
	cs := &countingStore{Store: e.st}
	plane := New(cs, e.pub, Options{Clock: func() time.Time { return e.now }})
	toks := map[string]string{}
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		tok, rec, err := plane.Tokens.CreateToken(ctx, n, []string{"zones:read"}, auth.Local("test"))
		if err != nil {
			t.Fatal(err)
		}
		toks[n], ids[n] = tok, rec.ID
	}
	lastUsed := func(n string) time.Time {
		t.Helper()
		tk, err := plane.Tokens.Token(ctx, ids[n])
		if err != nil {
			t.Fatal(err)
		}
		return tk.LastUsed
	}
	t0 := e.now
	updates := cs.updates.Load()
	for i := range 100 {
		e.now = t0.Add(time.Duration(i) * time.Millisecond)
		for _, n := range []string{"a", "b"} {
			if _, err := plane.Tokens.Authenticate(ctx, toks[n]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := cs.updates.Load() - updates; got != 0 {
		t.Fatalf("200 authentications wrote the store %d times", got)
	}
	if n, err := plane.Tokens.FlushLastUse(ctx); err != nil || n != 2 {
		t.Fatalf("flush: %d %v, want 2 tokens written", n, err)
	}
	if got := cs.updates.Load() - updates; got != 1 {
		t.Errorf("the flush took %d transactions, want 1", got)
	}
	if !lastUsed("a").Equal(e.now) || !lastUsed("b").Equal(e.now) || !lastUsed("c").IsZero() {
		t.Errorf("last use a %s b %s c %s, want %s %s never", lastUsed("a"), lastUsed("b"), lastUsed("c"), e.now, e.now)
	}
	if n, err := plane.Tokens.FlushLastUse(ctx); err != nil || n != 0 {
		t.Errorf("a flush with nothing used: %d %v", n, err)
	}

	// Another node wrote a later use: this node's earlier one does not
	// move it back.
	later := e.now.Add(time.Hour)
	other := New(e.st, nil, Options{Clock: func() time.Time { return later }})
	if _, err := other.Tokens.Authenticate(ctx, toks["a"]); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Tokens.FlushLastUse(ctx); err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
	if _, err := plane.Tokens.Authenticate(ctx, toks["a"]); err != nil {
		t.Fatal(err)
	}
	if n, err := plane.Tokens.FlushLastUse(ctx); err != nil || n != 0 || !lastUsed("a").Equal(later) {
		t.Errorf("an earlier use over a later one: %d %v, last use %s, want %s", n, err, lastUsed("a"), later)
	}

	// A token deleted before the flush is not written back.
	if _, err := plane.Tokens.Authenticate(ctx, toks["c"]); err != nil {
		t.Fatal(err)
	}
	if err := plane.Tokens.DeleteToken(ctx, ids["c"], auth.Local("test")); err != nil {
		t.Fatal(err)
	}
	if n, err := plane.Tokens.FlushLastUse(ctx); err != nil || n != 0 {
		t.Errorf("flush of a deleted token: %d %v", n, err)
	}
	if _, ok, _ := getKey(e.st, schema.TokenKey(ids["c"])); ok {
		t.Error("the flush wrote a deleted token back")
	}
}

func getKey(st store.Store, key string) ([]byte, bool, error) {
	var b []byte
	var ok bool
	err := st.View(ctx, func(tx store.ReadTx) error {
		var err error
		b, ok, err = tx.Get(key)
		return err
	})
	return b, ok, err
}

// TestRunLastUse: the flush loop writes the last uses once an interval
// on its clock, at most once an interval per token, and once more when it
// stops.
func TestRunLastUse(t *testing.T) {
	e := newEnv(t, Options{})
	cs := &countingStore{Store: e.st}
	fake := clock.NewFake(e.now)
	plane := New(cs, e.pub, Options{Clock: fake.Now})
	tok, rec, err := plane.Tokens.CreateToken(ctx, "a", []string{"zones:read"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); plane.Tokens.RunLastUse(runCtx, fake, time.Minute) }()
	waitFor(t, "the loop's timer", func() bool { return fake.Armed() == 1 })
	updates := cs.updates.Load()
	used := fake.Now()
	for range 10 {
		if _, err := plane.Tokens.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	fake.Step(30 * time.Second)
	if got := cs.updates.Load() - updates; got != 0 {
		t.Errorf("written %d times before the interval", got)
	}
	fake.Step(30 * time.Second)
	waitFor(t, "the flush", func() bool {
		tk, err := plane.Tokens.Token(ctx, rec.ID)
		return err == nil && tk.LastUsed.Equal(used)
	})
	waitFor(t, "the loop's next timer", func() bool { return fake.Armed() == 1 })
	if got := cs.updates.Load() - updates; got != 1 {
		t.Errorf("%d writes for one interval of uses, want 1", got)
	}
	// Used again; the loop stops before its next interval and writes it.
	fake.Step(10 * time.Second)
	if _, err := plane.Tokens.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	if tk, err := plane.Tokens.Token(ctx, rec.ID); err != nil || !tk.LastUsed.Equal(fake.Now()) {
		t.Errorf("after stopping: last use %s %v, want %s", tk.LastUsed, err, fake.Now())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestLastAdminIsUnboundAndUnexpired: a bound or expired token that can
// administer tokens does not stand in for the last unbound one: a bound
// one can never create an unbound token, an expired one nothing.
func TestLastAdminIsUnboundAndUnexpired(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin, err := e.svc.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range []TokenSpec{
		{Name: "team", Scopes: []string{"*"}, Bindings: auth.Bindings{Services: []string{"api.example.com."}}},
		{Name: "temp", Scopes: []string{"tokens:admin"}, Expires: e.now.Add(time.Hour)},
	} {
		if _, _, err := e.svc.Tokens.IssueToken(ctx, spec, auth.Local("test")); err != nil {
			t.Fatal(err)
		}
	}
	e.now = e.now.Add(2 * time.Hour) // temp has expired
	var ue *InUseError
	if err := e.svc.Tokens.DeleteToken(ctx, admin.ID, auth.Local("test")); !errors.As(err, &ue) || !strings.Contains(err.Error(), "unbound, not expired") {
		t.Errorf("deleting the last unbound, unexpired admin: %v", err)
	}
	if names := tokenNames(t, e); len(names) != 3 {
		t.Errorf("tokens after the refusal: %v", names)
	}
}
