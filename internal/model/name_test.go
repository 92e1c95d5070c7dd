package model

import (
	"strings"
	"testing"
)

func TestParseName(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"Example.COM", "example.com.", ""},
		{"www.example.com.", "www.example.com.", ""},
		{".", ".", ""},
		{`\065BC.example.`, "abc.example.", ""}, // escaped upper case folds too
		{`a\.b.example.`, `a\.b.example.`, ""},
		{`a\ b.example.`, `a\ b.example.`, ""},
		{"", "", "empty"},
		{"a..b", "", "not a valid domain name"},
		{"a b.example.", "", "white space"},
		{strings.Repeat("a", 64) + ".example.", "", "not a valid"},
		{strings.Repeat("abcdefghi.", 26) + "x.", "", "not a valid"},
	}
	for _, tc := range tests {
		got, err := ParseName(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseName(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("ParseName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNameFromWireRoundTrip(t *testing.T) {
	for _, s := range []string{"example.com.", `a\ b.example.`, `a\.b.c.`, `\000.x.`, "."} {
		n := MustName(s)
		back, err := NameFromWire(n.Wire())
		if err != nil || back != n {
			t.Errorf("%q: wire round trip gave %q, %v", s, back, err)
		}
		if _, err := ParseName(string(back)); err != nil {
			t.Errorf("%q: ParseName of the wire round trip: %v", s, err)
		}
	}
}

func TestResolveOwner(t *testing.T) {
	z := MustName("example.com.")
	tests := []struct{ in, want, err string }{
		{"@", "example.com.", ""},
		{"", "example.com.", ""},
		{"www", "www.example.com.", ""},
		{"WWW.Example.Com", "www.example.com.", ""},
		{"www.example.com", "www.example.com.", ""},
		{"www.example.com.", "www.example.com.", ""},
		{"example.com", "example.com.", ""},
		{"a.b", "a.b.example.com.", ""},
		{"notexample.com", "notexample.com.example.com.", ""},
		{"www.example.org.", "", "not in zone"},
		{"a..b", "", "not a valid"},
	}
	for _, tc := range tests {
		got, err := ResolveOwner(tc.in, z)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveOwner(%q) = %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("ResolveOwner(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestNameHelpers(t *testing.T) {
	n := MustName("a.b.example.com.")
	if n.Parent() != "b.example.com." || MustName("com.").Parent() != Root || Root.Parent() != Root {
		t.Error("Parent")
	}
	if n.Labels() != 4 || Root.Labels() != 0 {
		t.Error("Labels")
	}
	if !MustName("*.x.example.").IsWildcard() || MustName("a.*.example.").IsWildcard() {
		t.Error("IsWildcard")
	}
	if n.Relative("example.com.") != "a.b" || MustName("example.com.").Relative("example.com.") != "@" || n.Relative("other.") != "a.b.example.com." {
		t.Error("Relative")
	}
	if !n.IsSubdomainOf("example.com.") || n.IsSubdomainOf("xample.com.") {
		t.Error("IsSubdomainOf")
	}
}
