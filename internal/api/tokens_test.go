package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// createToken creates a token through the API as by and returns it.
func (e *apiEnv) createToken(t *testing.T, by, name string, scopes ...string) apiv1.CreatedToken {
	t.Helper()
	body, _ := json.Marshal(apiv1.CreateTokenRequest{Name: name, Scopes: scopes})
	r := e.do(t, "POST", "/v1/tokens", by, string(body))
	if r.status != http.StatusCreated {
		t.Fatalf("creating %s %v: %d %s", name, scopes, r.status, r.body)
	}
	var out apiv1.CreatedToken
	r.decode(t, &out)
	return out
}

// tokenList returns the stored tokens, sorted by name.
func (e *apiEnv) tokenList(t *testing.T) []auth.Token {
	t.Helper()
	toks, err := e.svc.Tokens.Tokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func (e *apiEnv) tokenID(t *testing.T, name string) string {
	t.Helper()
	for _, tk := range e.tokenList(t) {
		if tk.Name == name {
			return tk.ID
		}
	}
	t.Fatalf("no token %q", name)
	return ""
}

// TestTokenCannotGrantWhatItLacks: POST /v1/tokens gives only scopes the
// asking token holds; otherwise 403 naming the scopes it lacks, and no
// token is created.
func TestTokenCannotGrantWhatItLacks(t *testing.T) {
	tests := []struct {
		name    string
		holds   []string
		grants  []string
		missing []string // nil: 201
	}{
		{"* grants *", []string{"*"}, []string{"*"}, nil},
		{"tokens:admin grants tokens:admin", []string{"tokens:admin"}, []string{"tokens:admin"}, nil},
		{"tokens:admin mints *", []string{"tokens:admin"}, []string{"*"}, []string{"*"}},
		{"tokens:admin mints zones:write", []string{"tokens:admin"}, []string{"zones:read", "zones:write"}, []string{"zones:read", "zones:write"}},
		{"tokens:admin mints tsig:admin", []string{"tokens:admin"}, []string{"tsig:admin"}, []string{"tsig:admin"}},
		{"write holds read", []string{"tokens:admin", "zones:write"}, []string{"zones:read"}, nil},
		{"read does not hold write", []string{"tokens:admin", "zones:read"}, []string{"zones:write"}, []string{"zones:write"}},
		{"services:write holds endpoints:write", []string{"tokens:admin", "services:write"}, []string{"endpoints:write"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newAPI(t)
			by := e.createToken(t, e.admin, "holder", tc.holds...)
			body, _ := json.Marshal(apiv1.CreateTokenRequest{Name: "new", Scopes: tc.grants})
			r := e.do(t, "POST", "/v1/tokens", by.Secret, string(body))
			names := func() (out []string) {
				for _, tk := range e.tokenList(t) {
					out = append(out, tk.Name)
				}
				return out
			}()
			if tc.missing == nil {
				if r.status != http.StatusCreated || !slices.Contains(names, "new") {
					t.Fatalf("%d %s, tokens %v; want 201", r.status, r.body, names)
				}
				return
			}
			ae := r.apiError(t)
			if r.status != http.StatusForbidden || ae.Code != apiv1.CodePermissionDenied {
				t.Fatalf("%d %s; want 403 permission_denied", r.status, r.body)
			}
			want := `token "holder" cannot create a token with scopes it does not hold: ` + strings.Join(tc.missing, ", ")
			if ae.Message != want {
				t.Errorf("message %q, want %q", ae.Message, want)
			}
			if slices.Contains(names, "new") {
				t.Errorf("a refused token was created: %v", names)
			}
		})
	}
}

// TestTokenAdminCannotDeleteStar: a tokens:admin token cannot delete the
// "*" token (403), only tokens whose scopes it holds.
func TestTokenAdminCannotDeleteStar(t *testing.T) {
	e := newAPI(t)
	ops := e.createToken(t, e.admin, "ops", "tokens:admin")
	r := e.do(t, "DELETE", "/v1/tokens/"+e.tokenID(t, "admin"), ops.Secret, "")
	if ae := r.apiError(t); r.status != http.StatusForbidden || !strings.Contains(ae.Message, `does not hold: *`) {
		t.Fatalf("tokens:admin deleting the * token: %d %s", r.status, r.body)
	}
	if len(e.tokenList(t)) != 2 {
		t.Fatal("refused delete removed a token")
	}
	fn := e.createToken(t, ops.Secret, "peer", "tokens:admin")
	if r := e.do(t, "DELETE", "/v1/tokens/"+fn.ID, ops.Secret, ""); r.status != http.StatusNoContent {
		t.Fatalf("tokens:admin deleting a tokens:admin token: %d %s", r.status, r.body)
	}
}

// TestConcurrentDeletesKeepATokenAdmin: the last two tokens that can
// administer tokens delete each other at once; one wins, the other is
// refused (409, or 401 when its token is gone by the time it is checked),
// and one token that can administer tokens is left.
func TestConcurrentDeletesKeepATokenAdmin(t *testing.T) {
	for round := 0; round < 20; round++ {
		e := newAPI(t)
		a := e.createToken(t, e.admin, "a", "*")
		b := e.createToken(t, e.admin, "b", "*")
		if r := e.do(t, "DELETE", "/v1/tokens/"+e.tokenID(t, "admin"), a.Secret, ""); r.status != http.StatusNoContent {
			t.Fatalf("deleting the first admin: %d %s", r.status, r.body)
		}
		var wg sync.WaitGroup
		status := make([]int, 2)
		body := make([]string, 2)
		start := make(chan struct{})
		for i, pair := range [][2]apiv1.CreatedToken{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := e.do(t, "DELETE", "/v1/tokens/"+pair[1].ID, pair[0].Secret, "")
				status[i], body[i] = r.status, string(r.body)
			}()
		}
		close(start)
		wg.Wait()
		slices.Sort(status)
		if status[0] != http.StatusNoContent || (status[1] != http.StatusConflict && status[1] != http.StatusUnauthorized) {
			t.Fatalf("round %d: statuses %v %v; want one 204 and one 409 or 401", round, status, body)
		}
		var admins int
		for _, tk := range e.tokenList(t) {
			if auth.AdministersTokens(tk.Scopes) {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: %d tokens left that can administer tokens", round, admins)
		}
	}
}
