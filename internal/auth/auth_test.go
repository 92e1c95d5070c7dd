package auth

import (
	"errors"
	"slices"
	"testing"
	"time"
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

// TestTableCheckExpiry: the table refuses a token whose expiry has
// passed, from the expiry it holds, with an *ExpiredError saying when.
func TestTableCheckExpiry(t *testing.T) {
	tok, rec, _ := Generate()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rec.Name, rec.Scopes, rec.Expires = "ci", []string{ScopeZonesRead}, at
	var tab Table
	tab.Reset([]Token{rec})
	for _, tc := range []struct {
		now     time.Time
		expired bool
	}{
		{at.Add(-time.Nanosecond), false},
		{at, true},
		{at.Add(time.Hour), true},
	} {
		p, known, err := tab.Check(tok, tc.now)
		var xe *ExpiredError
		if !known || p == nil || (err != nil) != tc.expired || (tc.expired && (!errors.As(err, &xe) || !xe.Expires.Equal(at))) {
			t.Errorf("at %s: %+v %v %v", tc.now, p, known, err)
		}
	}
}

// TestPrincipalBindings: each kind limits its own objects; an unbound
// kind allows every object; a pool binding refuses whole services.
func TestPrincipalBindings(t *testing.T) {
	p := &Principal{Name: "fn", Bindings: Bindings{Services: []string{"a.test."}, Pools: []string{"p"}}}
	if p.Service("a.test.") != nil || p.Pool("p") != nil || p.Zone("any.test.") != nil {
		t.Error("refused a bound object or an unbound kind")
	}
	for _, err := range []error{p.Service("b.test."), p.Pool("q"), p.WholeService("a.test.")} {
		var be *BindingError
		if !errors.As(err, &be) || be.Token != "fn" {
			t.Errorf("%v, want a BindingError", err)
		}
	}
	if got := p.Service("b.test.").Error(); got != `token "fn" is bound to service a.test.: it cannot act on service b.test.` {
		t.Errorf("message %q", got)
	}
}
