package zonefile_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseErrorWording: a zone file with a mistake is refused with the
// file, the line and, in the words the API uses for the same mistake, what
// is wrong; the messages are in testdata/errors.golden.
func TestParseErrorWording(t *testing.T) {
	tests := []struct{ name, src string }{
		{"A data", apex + "www A 999.1.1.1\n"},
		{"A data with an IPv6 address", apex + "www 300 IN A 2001:db8::1\n"},
		{"AAAA data with an IPv4 address", apex + "www AAAA 192.0.2.1\n"},
		{"A data after an indented line", apex + "www A 192.0.2.1\n     A 192.0.2.300 ; comment\n"},
		{"two addresses", apex + "www A 192.0.2.1 192.0.2.2\n"},
		{"MX preference", apex + "@ MX 70000 mail\n"},
		{"SRV port", apex + "_sip._tcp SRV 1 2 x target\n"},
		{"multi-line SOA serial", "@ SOA ns1 hostmaster (\n  x ; serial\n  7200 3600 1209600 300 )\n"},
		{"CNAME target", apex + "www CNAME a..b\n"},
		{"TXT unclosed quote", apex + "www TXT \"abc\n"},
		{"owner", apex + strings.Repeat("a", 64) + " A 192.0.2.1\n"},
		{"TTL", apex + "www 1x A 192.0.2.1\n"},
		{"unknown type", apex + "www 300 FOO 1\n"},
		{"misspelt type", apex + "www AA 192.0.2.1\n"},
		{"class", apex + "www CLASS99999 A 192.0.2.1\n"},
		{"unclosed parenthesis", apex + "www TXT ( \"a\"\n"},
		{"extra closing parenthesis", apex + "www TXT \"a\" )\n"},
		{"$TTL value", "$TTL soon\n"},
		{"$TTL garbage", "$TTL 300 600\n"},
		{"$TTL missing", "$TTL\n"},
		{"$ORIGIN", "$ORIGIN " + strings.Repeat("b", 64) + ".\n"},
		{"$ORIGIN missing", "$ORIGIN\n"},
		{"$INCLUDE missing", "$INCLUDE\n"},
	}
	var got strings.Builder
	for _, tt := range tests {
		_, err := parseString(tt.src)
		if err == nil {
			t.Errorf("%s: Parse succeeded", tt.name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "dns: ") || strings.Contains(msg, "at line:") || strings.Contains(msg, "bad ") {
			t.Errorf("%s: %q still speaks miekg/dns", tt.name, msg)
		}
		got.WriteString(tt.name + ": " + msg + "\n")
	}
	golden := filepath.Join("testdata", "errors.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("messages differ from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", golden, got.String(), want)
	}
}
