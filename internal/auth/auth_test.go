package auth

import "testing"

func TestGenerateParseVerify(t *testing.T) {
	tok, rec, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	id, secret, ok := Parse(tok)
	if !ok || id != rec.ID {
		t.Fatalf("Parse(%q) = %q, %v", tok, id, ok)
	}
	if !rec.Verify(secret) {
		t.Error("the token's own secret does not verify")
	}
	if rec.Verify(secret + "x") {
		t.Error("a wrong secret verifies")
	}
	for _, bad := range []string{"", "stratus_", "stratus_abc_def", "bearer " + tok, "stratus_0123456789ab"} {
		if _, _, ok := Parse(bad); ok {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestAllows(t *testing.T) {
	admin := &Principal{Scopes: []string{ScopeAll}}
	writer := &Principal{Scopes: []string{ScopeZonesWrite}}
	reader := &Principal{Scopes: []string{ScopeZonesRead}}
	tests := []struct {
		p     *Principal
		scope string
		want  bool
	}{
		{admin, ScopeTokens, true},
		{writer, ScopeZonesRead, true},
		{writer, ScopeZonesWrite, true},
		{writer, ScopeTokens, false},
		{reader, ScopeZonesWrite, false},
		{reader, ScopeZonesRead, true},
		{&Principal{}, ScopeZonesRead, false},
	}
	for _, tc := range tests {
		if got := tc.p.Allows(tc.scope); got != tc.want {
			t.Errorf("%v.Allows(%s) = %v", tc.p.Scopes, tc.scope, got)
		}
	}
}
