package zonefile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/zonefile"
)

// FuzzParse feeds arbitrary text to Parse. It must not panic, and whatever
// it accepts must export and import again to the same RRsets.
func FuzzParse(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "alltypes.zone"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(golden))
	f.Add(minimal)
	f.Add(minimal + "www CNAME ns1\nwww A 192.0.2.1\n")
	f.Add(minimal + "$GENERATE 1-3 h$ A 192.0.2.$\n")
	// $GENERATE edge cases: ranges too large or backwards, a step, a
	// single value, modifiers, negative offsets, a generated owner outside
	// the zone, and $GENERATE inside parentheses.
	f.Add(minimal + "$GENERATE 0-65536 g$ A 192.0.2.1\n")
	f.Add(minimal + "$GENERATE 9-1 g$ A 192.0.2.1\n")
	f.Add(minimal + "$GENERATE 0-99999999999999999999 g$ A 192.0.2.1\n")
	f.Add(minimal + "$GENERATE 0-10/0 g$ A 192.0.2.1\n")
	f.Add(minimal + "$GENERATE 0-20/7 g$ A 192.0.2.${0,3,d}\n")
	f.Add(minimal + "$GENERATE 7-7 ${-7,4,x}.g TXT \"${100,0,X}\"\n")
	f.Add(minimal + "$GENERATE 1-2 g$.other.test. A 192.0.2.$\n")
	f.Add(minimal + "$GENERATE 1-2 g$ ( A\n 192.0.2.$ )\n")
	f.Add(minimal + "$GENERATE 1-3 g$ CNAME h$\n$GENERATE 1-3 g$ A 192.0.2.$\n")
	f.Add(minimal + "$GENERATE 1-2 \\$g$ TXT \"$$\"\n")
	f.Add(minimal + "$ORIGIN sub.example.com.\n@ NS ns\n  DS 1 2 3 abcd\nns A 192.0.2.9\n")
	f.Add(minimal + "t TXT \"a\\\"b\" ( \"c;d\"\n e ) ; f\n")
	f.Add(minimal + "u TYPE65280 \\# 2 abcd\nv A \\# 4 c0000201\n")
	f.Add(minimal + "s HTTPS 1 . alpn=h2 port=443 ipv6hint=2001:db8::1 no-default-alpn\n")
	f.Add("$INCLUDE x\n")
	f.Add(minimal + `h HINFO "cpu" "os"
l LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
s SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
k DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
u URI 10 1 "https://example.com/"
r RP mbox.example.com. txt.example.com.
a AFSDB 1 afs.example.com.
e EUI48 00-00-5e-00-53-2a
p APL 1:192.168.32.0/21 !1:192.168.38.0/28
d DHCID AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=
z ZONEMD 2018031900 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE
c CSYNC 66 3 A NS AAAA
o OPENPGPKEY mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq
n NULL \# 3 abcdef
`)
	f.Add(minimal + "d NS ns\nd DS \\# 4 00000000\nt TLSA \\# 3 000000\nm MX \\# 3 000100\nx TXT \\# 1 00\n")
	f.Fuzz(func(t *testing.T, src string) { checkRoundTrip(t, src) })
}

// checkRoundTrip parses src and, if that succeeds, checks that the export
// succeeds and imports again to the same RRsets. It returns the export and
// the error of the first Parse.
func checkRoundTrip(t *testing.T, src string) ([]byte, error) {
	t.Helper()
	sets, err := zonefile.Parse(bytes.NewReader([]byte(src)), zonefile.ParseOptions{Origin: origin})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := zonefile.Write(&out, origin, sets); err != nil {
		t.Fatalf("Write of a parsed zone failed: %v\ninput:\n%s", err, src)
	}
	again, err := zonefile.Parse(bytes.NewReader(out.Bytes()), zonefile.ParseOptions{Origin: origin, File: "export"})
	if err != nil {
		t.Fatalf("re-import failed: %v\ninput:\n%s\nexport:\n%s", err, src, out.Bytes())
	}
	if ok, diff := sameSets(sets, again); !ok {
		t.Fatalf("import -> export -> import changed the zone: %s\ninput:\n%s\nexport:\n%s", diff, src, out.Bytes())
	}
	return out.Bytes(), nil
}

// TestFuzzRegressions holds the inputs FuzzParse found failing, by name.
// (The fuzzer's own copies are in testdata/fuzz/FuzzParse.)
func TestFuzzRegressions(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		export string // a substring of the export, when Parse succeeds
		err    string // a substring of the error, when it fails
	}{
		{
			// miekg/dns reads an unknown key in an SVCB "mandatory"
			// list as key 65535 and writes it as an empty list, which
			// reads back differently: Write falls back to RFC 3597.
			name:   "SVCB mandatory with an unknown key",
			src:    "@ SOA 0 0 (0 0 0 0 00)\n Ns 0\n SVCB 0 0 mandatory=00\n",
			export: "@\t3600\tIN\tSVCB\t\\# 23 ",
		},
		{
			// "\# 0" leaves miekg/dns's zero MX, which packs into two
			// octets of preference and no exchange: not valid MX data.
			name: "MX in generic form without data",
			src:  "@ IN SOA 0 0(0 000 0 0 0 00)\n NS 0\n0 MX \\# 0\n",
			err:  "zone:3: MX record for 0.example.com. has invalid data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := checkRoundTrip(t, tt.src)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Errorf("Parse: %v", err)
			case !strings.Contains(string(out), tt.export):
				t.Errorf("export has no %q:\n%s", tt.export, out)
			}
		})
	}
}
