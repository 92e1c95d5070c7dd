package auth

import (
	"slices"
	"testing"
)

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

// TestTable: the table authenticates the tokens it holds, refuses a wrong
// secret for one of them, and does not know the others (nor, once
// deleted or reset away, a token it held).
func TestTable(t *testing.T) {
	tokA, a, _ := Generate()
	tokB, b, _ := Generate()
	a.Name, a.Scopes = "a", []string{ScopeAll}
	b.Name, b.Scopes = "b", []string{ScopeEndpointsWrite}
	var tab Table
	if _, known := tab.Authenticate(tokA); known {
		t.Fatal("the empty table knows a token")
	}
	tab.Reset([]Token{a})
	tab.Apply([]Token{b}, nil)
	for _, tc := range []struct {
		tok   string
		known bool
		name  string
	}{
		{tokA, true, "a"},
		{tokB, true, "b"},
		{tokA + "x", true, ""},
		{"stratus_0123456789ab_secret", false, ""},
		{"not a token", false, ""},
	} {
		p, known := tab.Authenticate(tc.tok)
		if known != tc.known || (p == nil) != (tc.name == "") || (p != nil && p.Name != tc.name) {
			t.Errorf("Authenticate(%q) = %+v, %v; want %q, %v", tc.tok, p, known, tc.name, tc.known)
		}
	}
	if p, _ := tab.Authenticate(tokB); p.TokenID != b.ID || !p.Allows(ScopeEndpointsWrite) || p.Allows(ScopeZonesRead) {
		t.Errorf("b's principal: %+v", p)
	}
	tab.Apply(nil, []string{a.ID})
	if _, known := tab.Authenticate(tokA); known {
		t.Error("a deleted token is still known")
	}
	tab.Reset(nil)
	if _, known := tab.Authenticate(tokB); known || tab.Len() != 0 {
		t.Error("a reset left a token behind")
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		holds, grants, missing []string
	}{
		{[]string{ScopeAll}, []string{ScopeAll, ScopeTokens, ScopeTSIG}, nil},
		{[]string{ScopeTokens}, []string{ScopeAll}, []string{ScopeAll}},
		{[]string{ScopeTokens}, []string{ScopeTokens, ScopeZonesRead, ScopeZonesRead}, []string{ScopeZonesRead}},
		{[]string{ScopeZonesWrite}, []string{ScopeZonesRead, ScopeZonesWrite}, nil},
		{[]string{ScopeZonesRead}, []string{ScopeZonesWrite}, []string{ScopeZonesWrite}},
		{[]string{ScopeServicesWrite}, []string{ScopeEndpointsWrite, ScopeServicesRead}, nil},
		{[]string{ScopeEndpointsWrite}, []string{ScopeServicesRead}, []string{ScopeServicesRead}},
		{nil, []string{ScopeZonesRead}, []string{ScopeZonesRead}},
	}
	for _, tc := range tests {
		p := &Principal{Scopes: tc.holds}
		if got := p.Missing(tc.grants); !slices.Equal(got, tc.missing) {
			t.Errorf("%v granting %v: missing %v, want %v", tc.holds, tc.grants, got, tc.missing)
		}
	}
	for _, tc := range []struct {
		scopes []string
		want   bool
	}{
		{[]string{ScopeAll}, true}, {[]string{ScopeZonesRead, ScopeTokens}, true},
		{[]string{ScopeZonesWrite, ScopeTSIG}, false}, {nil, false},
	} {
		if got := AdministersTokens(tc.scopes); got != tc.want {
			t.Errorf("AdministersTokens(%v) = %v", tc.scopes, got)
		}
	}
}
