package control

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/auth"
)

// TestTokenOutlivesItsCreator: a token that expires creates, or replaces
// others with, only tokens that expire no later than itself; otherwise an
// *auth.OutlivesError names both times and nothing is written. A creator
// that never expires (the local operator, a token without an expiry)
// grants any expiry.
func TestTokenOutlivesItsCreator(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) // newEnv's clock
	hour := now.Add(time.Hour)
	tests := []struct {
		name    string
		by      time.Time // the creator's expiry; zero: never
		expires time.Time // the new token's; zero: never
		refused string    // "" allowed; otherwise in the message
	}{
		{"never grants never", time.Time{}, time.Time{}, ""},
		{"never grants an expiry", time.Time{}, now.Add(24 * time.Hour), ""},
		{"expiring grants earlier", hour, now.Add(30 * time.Minute), ""},
		{"expiring grants the same", hour, hour, ""},
		{"expiring cannot grant never", hour, time.Time{},
			`token "holder" expires at 2026-11-26T13:00:00Z: it cannot create a token that never expires; give it an expiry no later than 2026-11-26T13:00:00Z`},
		{"expiring cannot grant later", hour, hour.Add(time.Second),
			`token "holder" expires at 2026-11-26T13:00:00Z: it cannot create a token that expires at 2026-11-26T13:00:01Z`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := []string{"create"}
			if tc.expires.IsZero() { // ReplaceToken makes tokens that never expire
				ops = append(ops, "replace")
			}
			for _, op := range ops {
				e := newEnv(t, Options{})
				by := holder("tokens:admin", "zones:read")
				by.Expires = tc.by
				var err error
				if op == "create" {
					_, _, err = e.svc.Tokens.IssueToken(ctx, TokenSpec{Name: "new", Scopes: []string{"zones:read"}, Expires: tc.expires}, by)
				} else {
					_, _, err = e.svc.Tokens.ReplaceToken(ctx, "new", []string{"zones:read"}, by)
				}
				names := tokenNames(t, e)
				if tc.refused == "" {
					if err != nil || len(names) != 1 {
						t.Errorf("%s: %v, tokens %v; want it created", op, err, names)
					}
					continue
				}
				var oe *auth.OutlivesError
				if !errors.As(err, &oe) || !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("%s: %v, want an OutlivesError with %q", op, err, tc.refused)
				}
				if len(names) != 0 {
					t.Errorf("%s: refused, but tokens %v were written", op, names)
				}
			}
		})
	}
}

// TestAuthenticatedPrincipalExpires: the principal of an expiring token
// carries its expiry, from the publisher's table and from the store
// alike, so that it cannot create a token that never expires.
func TestAuthenticatedPrincipalExpires(t *testing.T) {
	e := newEnv(t, Options{})
	storeOnly := New(e.st, nil, Options{Clock: func() time.Time { return e.now }})
	expires := e.now.Add(time.Hour)
	tok, _, err := e.svc.Tokens.IssueToken(ctx, TokenSpec{Name: "temp", Scopes: []string{"tokens:admin"}, Expires: expires}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	for name, pl := range map[string]*Plane{"table": e.svc, "store": storeOnly} {
		p, err := pl.Tokens.Authenticate(ctx, tok)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !p.Expires.Equal(expires) {
			t.Errorf("%s: principal expires %v, want %v", name, p.Expires, expires)
		}
		var oe *auth.OutlivesError
		if _, _, err := pl.Tokens.IssueToken(ctx, TokenSpec{Name: "forever", Scopes: []string{"tokens:admin"}}, p); !errors.As(err, &oe) {
			t.Errorf("%s: creating a token that never expires: %v, want an OutlivesError", name, err)
		}
	}
	if names := tokenNames(t, e); len(names) != 1 {
		t.Errorf("tokens %v", names)
	}
}

// TestLastPermanentTokenAdmin: while the store holds an unbound token
// that can administer tokens and never expires, a write keeps one (or
// puts one): expiring admins do not stand in for it, since once they
// expire no token administers tokens. With none that never expires, an
// unexpired one is kept, as before.
func TestLastPermanentTokenAdmin(t *testing.T) {
	type tok struct {
		name, scope string
		expires     time.Duration // zero: never
	}
	type step struct {
		op   string // "delete", "replace" (with tokens:admin), "retire" (keep the last token of the name)
		name string
		ok   bool
	}
	tests := []struct {
		name      string
		permanent bool // the store holds an unbound admin that never expires
		toks      []tok
		steps     []step
	}{
		{"an expiring * cannot delete the permanent one", true, []tok{{"admin", "*", 0}, {"temp", "*", time.Hour}},
			[]step{{"delete", "admin", false}, {"delete", "temp", true}}},
		{"an expiring tokens:admin does not stand in", true, []tok{{"admin", "tokens:admin", 0}, {"temp", "tokens:admin", time.Hour}},
			[]step{{"delete", "admin", false}}},
		{"one of two permanent ones goes", true, []tok{{"admin", "*", 0}, {"ops", "tokens:admin", 0}, {"temp", "*", time.Hour}},
			[]step{{"delete", "admin", true}, {"delete", "ops", false}, {"delete", "temp", true}}},
		{"replaced by a permanent one", true, []tok{{"admin", "*", 0}, {"temp", "*", time.Hour}},
			[]step{{"replace", "admin", true}, {"delete", "admin", false}, {"delete", "temp", true}}},
		{"not retired for an expiring one", true, []tok{{"admin", "*", 0}, {"admin", "*", time.Hour}},
			[]step{{"retire", "admin", false}}},
		{"only expiring ones: an unexpired one is kept", false, []tok{{"a", "*", time.Hour}, {"b", "tokens:admin", 2 * time.Hour}},
			[]step{{"delete", "a", true}, {"delete", "b", false}}},
		{"a bound permanent one does not count", false, []tok{{"team", "*", 0}, {"a", "*", time.Hour}, {"b", "*", time.Hour}},
			[]step{{"delete", "a", true}, {"delete", "b", false}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			ids := map[string]string{}
			for _, tk := range tc.toks {
				spec := TokenSpec{Name: tk.name, Scopes: []string{tk.scope}}
				if tk.expires != 0 {
					spec.Expires = e.now.Add(tk.expires)
				}
				if tk.name == "team" {
					spec.Bindings = auth.Bindings{Services: []string{"api.example.com."}}
				}
				_, rec, err := e.svc.Tokens.IssueToken(ctx, spec, auth.Local("test"))
				if err != nil {
					t.Fatal(err)
				}
				ids[tk.name] = rec.ID
			}
			for i, st := range tc.steps {
				before, _ := e.svc.Tokens.Tokens(ctx)
				var err error
				switch st.op {
				case "delete":
					err = e.svc.Tokens.DeleteToken(ctx, ids[st.name], auth.Local("test"))
				case "replace":
					var rec auth.Token
					if _, rec, err = e.svc.Tokens.ReplaceToken(ctx, st.name, []string{"tokens:admin"}, auth.Local("test")); err == nil {
						ids[st.name] = rec.ID
					}
				case "retire":
					_, err = e.svc.Tokens.RetireTokens(ctx, st.name, ids[st.name], auth.Local("test"))
				}
				if st.ok {
					if err != nil {
						t.Fatalf("step %d, %s %s: %v", i, st.op, st.name, err)
					}
					continue
				}
				want := "last token that can administer tokens (scope" // only expiring ones: as before
				if tc.permanent {
					want = "last token that can administer tokens and never expires"
				}
				var ue *InUseError
				if !errors.As(err, &ue) || !strings.Contains(ue.Message, want) {
					t.Fatalf("step %d, %s %s: %v, want an InUseError with %q", i, st.op, st.name, err, want)
				}
				if after, _ := e.svc.Tokens.Tokens(ctx); len(after) != len(before) {
					t.Fatalf("step %d: refused, but tokens changed: %v -> %v", i, before, after)
				}
			}
		})
	}
}
