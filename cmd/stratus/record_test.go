package main

import (
	"strings"
	"testing"
)

// TestRecordErrorsNameTheArguments: errors about record arguments name what
// the user typed, never the API's field paths.
func TestRecordErrorsNameTheArguments(t *testing.T) {
	s := newTestAPI(t)
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"record", "add", "example.com", "www", "A", "192.0.2.1", "999.1.1.1"}, exitInvalid,
			`error: invalid A record data "999.1.1.1": not an IPv4 address` + "\n"},
		{[]string{"record", "set", "example.com", "www", "AAAA", "192.0.2.1"}, exitInvalid,
			`error: invalid AAAA record data "192.0.2.1": not an IPv6 address (an IPv4 address goes in an A record)` + "\n"},
		{[]string{"record", "add", "example.com", "www", "CNAME", "target.example.net"}, exitInvalid,
			`error: domain names in CNAME data must be fully qualified (end with a dot): "target.example.net"` + "\n"},
		{[]string{"record", "add", "example.com", "www.example.org.", "A", "192.0.2.1"}, exitInvalid,
			`error: name "www.example.org.": `},
		{[]string{"record", "add", "example.com", "www", "BOGUS", "x"}, exitInvalid,
			`error: type "BOGUS": unknown record type`},
		{[]string{"record", "add", "example.com", "@", "CNAME", "x.example.net."}, exitInvalid,
			`error: @ CNAME: `},
		{[]string{"record", "add", "example.com", "www", "A", "192.0.2.1", "--ttl", "4294967295"}, exitInvalid,
			`error: --ttl: `},
		{[]string{"record", "delete", "example.com", "www", "BOGUS"}, exitInvalid,
			`error: type "BOGUS": unknown record type`},
	}
	for _, tc := range tests {
		out, errOut, code := s.cli(tc.args...)
		if code != tc.code || !strings.HasPrefix(errOut, tc.want) || strings.Contains(errOut, "changes[") {
			t.Errorf("stratus %s: exit %d\nstderr %q\nwant exit %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
		_ = out
	}
}
