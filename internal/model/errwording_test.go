package model

import (
	"testing"

	"github.com/miekg/dns"
)

// TestRdataErrorWording: bad record data is refused with a message that
// names the type, repeats the data and says what is wrong, in plain words.
func TestRdataErrorWording(t *testing.T) {
	tests := []struct {
		t    Type
		data string
		want string
	}{
		{dns.TypeA, "999.1.1.1", `invalid A record data "999.1.1.1": not an IPv4 address`},
		{dns.TypeA, "not-an-ip", `invalid A record data "not-an-ip": not an IPv4 address`},
		{dns.TypeA, "2001:db8::1", `invalid A record data "2001:db8::1": not an IPv4 address (an IPv6 address goes in an AAAA record)`},
		{dns.TypeAAAA, "192.0.2.1", `invalid AAAA record data "192.0.2.1": not an IPv6 address (an IPv4 address goes in an A record)`},
		{dns.TypeAAAA, "zz::1", `invalid AAAA record data "zz::1": not an IPv6 address`},
		{dns.TypeA, "192.0.2.1 192.0.2.2", `invalid A record data "192.0.2.1 192.0.2.2": unexpected "192.0.2.2" after the data (one record at a time)`},
		{dns.TypeMX, "mail.example.com.", `invalid MX record data "mail.example.com.": the preference must be a number from 0 to 65535, not "mail.example.com."`},
		{dns.TypeMX, "70000 mail.example.com.", `invalid MX record data "70000 mail.example.com.": the preference must be a number from 0 to 65535, not "70000"`},
		{dns.TypeSRV, "1 2 x target.example.com.", `invalid SRV record data "1 2 x target.example.com.": the port must be a number from 0 to 65535, not "x"`},
		{dns.TypeCNAME, "a..b.", `invalid CNAME record data "a..b.": "a..b." is not a valid domain name`},
		{dns.TypeMX, "10 mail.example.com", `domain names in MX data must be fully qualified (end with a dot): "10 mail.example.com"`},
	}
	for _, tc := range tests {
		_, err := ParseRdata(tc.t, tc.data)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %q:\n got %v\nwant %s", TypeString(tc.t), tc.data, err, tc.want)
		}
	}
}

// TestTargetErrorWording: an endpoint's answer is an address or a hostname
// with its domain; a name that is only probed may be single-label.
func TestTargetErrorWording(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"localhost.", `"localhost." is a single-label name: answered as a CNAME target it would send clients to a top-level domain; give an IP address or a hostname with its domain`},
		{"fn", `"fn" is a single-label name: answered as a CNAME target it would send clients to a top-level domain; give an IP address or a hostname with its domain`},
		{".", `"." is the root, not a hostname`},
		{"http://fn.example.net", `"http://fn.example.net" is not an IP address or a hostname`},
		{"fn.example.net", ""},
		{"192.0.2.1", ""},
	}
	for _, tc := range tests {
		_, err := ParseTarget(tc.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("ParseTarget(%q):\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
	for _, probe := range []string{"localhost", "localhost:8080", "localhost.:8080", "127.0.0.1:8080"} {
		if err := checkTarget(probe); err != nil {
			t.Errorf("check target %q: %v", probe, err)
		}
	}
	if err := checkTarget("localhost:0"); err == nil {
		t.Error("check target localhost:0 accepted")
	}
}
