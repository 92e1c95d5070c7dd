package control

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
)

func holder(scopes ...string) *auth.Principal {
	return &auth.Principal{TokenID: "holder", Name: "holder", Scopes: scopes}
}

// tokenNames returns the names of the stored tokens, sorted.
func tokenNames(t *testing.T, e *env) []string {
	t.Helper()
	toks, err := e.svc.Tokens.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tk := range toks {
		out = append(out, tk.Name)
	}
	return out
}

// TestTokenGrantsOnlyWhatItHolds: a token creates or replaces only tokens
// whose scopes it holds itself, as Allows decides ("*" holds everything,
// "<x>:write" holds "<x>:read", "services:write" holds
// "endpoints:write"); otherwise the write is refused naming what it lacks,
// and nothing is written.
func TestTokenGrantsOnlyWhatItHolds(t *testing.T) {
	tests := []struct {
		name    string
		holds   []string
		grants  []string
		missing []string // nil: allowed
	}{
		{"* grants *", []string{"*"}, []string{"*"}, nil},
		{"* grants any scope", []string{"*"}, []string{"zones:write", "tokens:admin", "tsig:admin"}, nil},
		{"tokens:admin grants tokens:admin", []string{"tokens:admin"}, []string{"tokens:admin"}, nil},
		{"tokens:admin cannot grant *", []string{"tokens:admin"}, []string{"*"}, []string{"*"}},
		{"tokens:admin cannot grant zones:write", []string{"tokens:admin"}, []string{"zones:write"}, []string{"zones:write"}},
		{"tokens:admin cannot grant tsig:admin", []string{"tokens:admin"}, []string{"tokens:admin", "tsig:admin"}, []string{"tsig:admin"}},
		{"names every scope it lacks once", []string{"tokens:admin"}, []string{"zones:read", "*", "zones:read"}, []string{"zones:read", "*"}},
		{"zones:write holds zones:read", []string{"tokens:admin", "zones:write"}, []string{"zones:read"}, nil},
		{"zones:read does not hold zones:write", []string{"tokens:admin", "zones:read"}, []string{"zones:write"}, []string{"zones:write"}},
		{"services:write holds read and endpoints:write", []string{"tokens:admin", "services:write"}, []string{"services:read", "endpoints:write"}, nil},
		{"endpoints:write does not hold services:write", []string{"tokens:admin", "endpoints:write"}, []string{"services:write"}, []string{"services:write"}},
		{"zones:write does not hold services:read", []string{"tokens:admin", "zones:write"}, []string{"services:read"}, []string{"services:read"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []string{"create", "replace"} {
				e := newEnv(t, Options{})
				by := holder(tc.holds...)
				var err error
				if op == "create" {
					_, _, err = e.svc.Tokens.CreateToken(ctx, "new", tc.grants, by)
				} else {
					_, _, err = e.svc.Tokens.ReplaceToken(ctx, "new", tc.grants, by)
				}
				names := tokenNames(t, e)
				if tc.missing == nil {
					if err != nil || !slices.Equal(names, []string{"new"}) {
						t.Errorf("%s: %v, tokens %v; want it created", op, err, names)
					}
					continue
				}
				var se *ScopeError
				if !errors.As(err, &se) || !slices.Equal(se.Missing, tc.missing) || se.Token != "holder" {
					t.Errorf("%s: %v (%#v), want a ScopeError missing %v", op, err, se, tc.missing)
				}
				if len(names) != 0 {
					t.Errorf("%s: refused, but tokens %v were written", op, names)
				}
			}
		})
	}
}

// TestReplaceTokenHoldsWhatItReplaces: replacing a token takes its scopes
// away, so the replacing token must hold them too.
func TestReplaceTokenHoldsWhatItReplaces(t *testing.T) {
	e := newEnv(t, Options{})
	if _, _, err := e.svc.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Tokens.CreateToken(ctx, "ops", []string{"tokens:admin"}, auth.Local("test")); err != nil {
		t.Fatal(err)
	}
	before, _ := e.svc.Tokens.Tokens(ctx)
	_, _, err := e.svc.Tokens.ReplaceToken(ctx, "admin", []string{"tokens:admin"}, holder("tokens:admin"))
	var se *ScopeError
	if !errors.As(err, &se) || !slices.Equal(se.Missing, []string{"*"}) {
		t.Fatalf("replacing the * token by a tokens:admin token: %v", err)
	}
	if after, _ := e.svc.Tokens.Tokens(ctx); !slices.EqualFunc(before, after, func(a, b auth.Token) bool { return a.ID == b.ID }) {
		t.Errorf("refused replace changed the tokens: %v -> %v", before, after)
	}
}

// TestLastTokenAdmin: the last token that can administer tokens ("*" or
// "tokens:admin") is neither deleted nor replaced by one that cannot;
// another one can go while one is left.
func TestLastTokenAdmin(t *testing.T) {
	type tok struct{ name, scope string }
	type step struct {
		op     string // "delete" or "replace"
		name   string
		scopes []string // replace: the new token's scopes
		ok     bool
	}
	tests := []struct {
		name  string
		toks  []tok
		steps []step
	}{
		{"the only admin", []tok{{"admin", "*"}}, []step{{"delete", "admin", nil, false}}},
		{"the only admin among others", []tok{{"admin", "*"}, {"ci", "zones:write"}, {"fn", "endpoints:write"}},
			[]step{{"delete", "ci", nil, true}, {"delete", "admin", nil, false}, {"delete", "fn", nil, true}}},
		{"one of two admins", []tok{{"admin", "*"}, {"ops", "tokens:admin"}},
			[]step{{"delete", "admin", nil, true}, {"delete", "ops", nil, false}}},
		{"one of two * admins", []tok{{"a", "*"}, {"b", "*"}},
			[]step{{"delete", "b", nil, true}, {"delete", "a", nil, false}}},
		{"replace the only admin without tokens:admin", []tok{{"admin", "*"}},
			[]step{{"replace", "admin", []string{"zones:write"}, false}}},
		{"replace the only admin with tokens:admin", []tok{{"admin", "*"}},
			[]step{{"replace", "admin", []string{"tokens:admin", "zones:read"}, true}, {"delete", "admin", nil, false}}},
		{"replace the only admin with *", []tok{{"admin", "*"}},
			[]step{{"replace", "admin", []string{"*"}, true}}},
		{"replace one of two admins without it", []tok{{"admin", "*"}, {"ops", "tokens:admin"}},
			[]step{{"replace", "ops", []string{"zones:read"}, true}, {"replace", "admin", []string{"zones:read"}, false}}},
		{"no admin to keep", []tok{{"ci", "zones:read"}},
			[]step{{"replace", "ci", []string{"zones:write"}, true}, {"delete", "ci", nil, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			ids := map[string]string{}
			for _, tk := range tc.toks {
				_, rec, err := e.svc.Tokens.CreateToken(ctx, tk.name, []string{tk.scope}, auth.Local("test"))
				if err != nil {
					t.Fatal(err)
				}
				ids[tk.name] = rec.ID
			}
			for i, st := range tc.steps {
				before, _ := e.svc.Tokens.Tokens(ctx)
				var err error
				if st.op == "delete" {
					err = e.svc.Tokens.DeleteToken(ctx, ids[st.name], auth.Local("test"))
				} else {
					var rec auth.Token
					_, rec, err = e.svc.Tokens.ReplaceToken(ctx, st.name, st.scopes, auth.Local("test"))
					if err == nil {
						ids[st.name] = rec.ID
					}
				}
				if st.ok {
					if err != nil {
						t.Fatalf("step %d, %s %s: %v", i, st.op, st.name, err)
					}
					continue
				}
				var ue *InUseError
				if !errors.As(err, &ue) || !strings.Contains(ue.Message, "last token that can administer tokens") {
					t.Fatalf("step %d, %s %s: %v, want an InUseError about the last token admin", i, st.op, st.name, err)
				}
				after, _ := e.svc.Tokens.Tokens(ctx)
				if !slices.EqualFunc(before, after, func(a, b auth.Token) bool { return a.ID == b.ID && slices.Equal(a.Scopes, b.Scopes) }) {
					t.Fatalf("step %d: refused, but tokens changed: %v -> %v", i, before, after)
				}
			}
		})
	}
}

// TestDeleteTokenHoldsItsScopes: deleting a token takes its scopes away,
// so a tokens:admin token cannot delete the "*" token.
func TestDeleteTokenHoldsItsScopes(t *testing.T) {
	e := newEnv(t, Options{})
	_, admin, err := e.svc.Tokens.CreateToken(ctx, "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	_, ci, err := e.svc.Tokens.CreateToken(ctx, "ci", []string{"zones:write"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Tokens.CreateToken(ctx, "ops", []string{"tokens:admin"}, auth.Local("test")); err != nil {
		t.Fatal(err)
	}
	var se *ScopeError
	if err := e.svc.Tokens.DeleteToken(ctx, admin.ID, holder("tokens:admin")); !errors.As(err, &se) || !slices.Equal(se.Missing, []string{"*"}) {
		t.Errorf("tokens:admin deleting the * token: %v", err)
	}
	if err := e.svc.Tokens.DeleteToken(ctx, ci.ID, holder("tokens:admin")); !errors.As(err, &se) || !slices.Equal(se.Missing, []string{"zones:write"}) {
		t.Errorf("tokens:admin deleting a zones:write token: %v", err)
	}
	if got := tokenNames(t, e); !slices.Equal(got, []string{"admin", "ci", "ops"}) {
		t.Errorf("refused deletes changed the tokens: %v", got)
	}
	if err := e.svc.Tokens.DeleteToken(ctx, ci.ID, holder("tokens:admin", "zones:write")); err != nil {
		t.Errorf("a holder of zones:write deleting a zones:write token: %v", err)
	}
}

// TestConcurrentDeletesOfLastTwoAdmins: two deletes, each of one of the
// last two tokens that can administer tokens, run at once; the check is in
// the deleting transaction, so exactly one of them succeeds.
func TestConcurrentDeletesOfLastTwoAdmins(t *testing.T) {
	for round := 0; round < 20; round++ {
		e := newEnv(t, Options{})
		var ids []string
		for _, sc := range []string{"*", "tokens:admin"} {
			_, rec, err := e.svc.Tokens.CreateToken(ctx, "admin-"+sc, []string{sc}, auth.Local("test"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, rec.ID)
		}
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = e.svc.Tokens.DeleteToken(ctx, id, auth.Local("test"))
			}()
		}
		close(start)
		wg.Wait()
		var ok, refused int
		for _, err := range errs {
			var ue *InUseError
			switch {
			case err == nil:
				ok++
			case errors.As(err, &ue):
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d deletes succeeded, %d refused (%v); want 1 and 1", round, ok, refused, errs)
		}
		if got := tokenNames(t, e); len(got) != 1 {
			t.Fatalf("round %d: tokens left %v, want one", round, got)
		}
	}
}
