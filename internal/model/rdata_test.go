package model

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseAndFormatRdata(t *testing.T) {
	tests := []struct {
		typ, in, want string
	}{
		{"A", "192.0.2.1", "192.0.2.1"},
		{"AAAA", "2001:DB8::1", "2001:db8::1"},
		{"MX", "10 Mail.Example.com.", "10 Mail.Example.com."},
		{"TXT", `"hello world" "second"`, `"hello world" "second"`},
		{"TXT", `unquoted`, `"unquoted"`},
		{"SRV", "10 5 443 www.example.com.", "10 5 443 www.example.com."},
		{"CAA", `0 issue "letsencrypt.org"`, `0 issue "letsencrypt.org"`},
		{"SOA", "ns.example. h.example. 1 2 3 4 5", "ns.example. h.example. 1 2 3 4 5"},
		{"TYPE65280", `\# 4 0a000001`, `\# 4 0a000001`},
		{"A", `\# 4 c0000201`, "192.0.2.1"},
		{"HTTPS", `1 . alpn="h2,h3" port=443`, `1 . alpn="h2,h3" port="443"`},
	}
	for _, tc := range tests {
		ty, err := ParseType(tc.typ)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := ParseRdata(ty, tc.in)
		if err != nil {
			t.Errorf("ParseRdata(%s, %q): %v", tc.typ, tc.in, err)
			continue
		}
		got, err := FormatRdata(ty, rd)
		if err != nil || got != tc.want {
			t.Errorf("FormatRdata(%s) of %q = %q, %v; want %q", tc.typ, tc.in, got, err, tc.want)
		}
		line, err := FormatRR("x.example.", ty, 60, rd)
		if err != nil || line != "x.example.\t60\tIN\t"+TypeString(ty)+"\t"+tc.want {
			t.Errorf("FormatRR = %q, %v", line, err)
		}
	}
}

func TestParseRdataErrors(t *testing.T) {
	tests := []struct {
		typ  uint16
		in   string
		want string
	}{
		{dns.TypeA, "", "empty"},
		{dns.TypeA, "999.1.1.1", "A"},
		{dns.TypeA, "192.0.2.1\n192.0.2.2", "one line"},
		{dns.TypeA, "$INCLUDE /etc/passwd", "'$'"},
		{dns.TypeCNAME, "target.example.net", "fully qualified"},
		{dns.TypeMX, "10 mail", "fully qualified"},
		{dns.TypeMX, `\# 0`, "invalid MX data"},
		{dns.TypeSRV, `\# 4 01000000`, "invalid SRV data"},
		{dns.TypeSOA, `\# 0`, "invalid SOA data"},
		{dns.TypeRRSIG, "A 13 2 300 20300101000000 20200101000000 1 example. aaaa", "DNSSEC signer"},
		{dns.TypeOPT, "x", "meta type"},
		{dns.TypeDNAME, "x.example.", "not supported"},
		{200, "x", "query or meta type"},
	}
	for _, tc := range tests {
		_, err := ParseRdata(tc.typ, tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRdata(%s, %q) = %v; want an error mentioning %q", TypeString(tc.typ), tc.in, err, tc.want)
		}
	}
}

func TestFormatRdataUnknownAndNull(t *testing.T) {
	if got, _ := FormatRdata(65280, []byte{10, 0, 0, 1}); got != `\# 4 0a000001` {
		t.Errorf("unknown type: %q", got)
	}
	if got, _ := FormatRdata(dns.TypeNULL, []byte{1, 2}); got != `\# 2 0102` {
		t.Errorf("NULL: %q", got)
	}
	if got, _ := FormatRdata(65280, nil); got != `\# 0` {
		t.Errorf("empty: %q", got)
	}
}

func TestParseType(t *testing.T) {
	for in, want := range map[string]uint16{"a": 1, "AAAA": 28, "type65280": 65280, " MX ": 15} {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "BOGUS", "TYPE0", "TYPE70000", "TYPE-1"} {
		if _, err := ParseType(in); err == nil {
			t.Errorf("ParseType(%q) accepted", in)
		}
	}
}
