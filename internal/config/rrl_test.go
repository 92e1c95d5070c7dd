package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRRLParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
dns:
  rrl:
    responses_per_second: 20
    nxdomain_per_second: 10
    errors_per_second: 5
    slip: 0
    window: 5s
    ipv4_prefix: 32
    ipv6_prefix: 64
    table_size: 1024
    exempt: [127.0.0.0/8, "::1", 192.0.2.7, 2001:db8::/32]
`))
	if err != nil {
		t.Fatal(err)
	}
	r := c.DNS.RRL
	if !r.On() || r.ResponsesPerSecond != 20 || r.NXDomainPerSecond != 10 || r.ErrorsPerSecond != 5 || r.SlipOrDefault() != -1 ||
		r.Window != 5*time.Second || r.IPv4Prefix != 32 || r.IPv6Prefix != 64 || r.TableSize != 1024 {
		t.Errorf("parsed %+v", r)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	got := r.ExemptPrefixes()
	if len(got) != len(want) {
		t.Fatalf("exempt %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("exempt[%d] = %v, want %v", i, got[i], want[i])
		}
	}

	d, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.DNS.RRL.On() || d.DNS.RRL.SlipOrDefault() != 0 {
		t.Errorf("default rrl %+v: want on, default slip", d.DNS.RRL)
	}
	off, err := Parse("off.yaml", []byte("dns:\n  rrl:\n    enabled: false\n"))
	if err != nil || off.DNS.RRL.On() {
		t.Errorf("enabled: false: %v %+v", err, off.DNS.RRL)
	}
}

func TestRRLParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"responses_per_second: -1", "dns.rrl.responses_per_second: -1 is outside 0..1000000"},
		{"nxdomain_per_second: 2000000", "dns.rrl.nxdomain_per_second: 2000000 is outside"},
		{"errors_per_second: -5", "dns.rrl.errors_per_second: -5 is outside"},
		{"slip: 11", "dns.rrl.slip: 11 is outside 0..10"},
		{"slip: -1", "dns.rrl.slip: -1 is outside"},
		{"window: 100ms", "dns.rrl.window: 100ms is outside 1s..1h0m0s"},
		{"window: 2h", "dns.rrl.window: 2h0m0s is outside"},
		{"ipv4_prefix: 33", "dns.rrl.ipv4_prefix: 33 is outside 1..32"},
		{"ipv6_prefix: 129", "dns.rrl.ipv6_prefix: 129 is outside 1..128"},
		{"table_size: 8", "dns.rrl.table_size: 8 is outside 16..2097152"},
		{"exempt: [10.0.0.0/33]", `dns.rrl.exempt[0]: "10.0.0.0/33" is not a network`},
		{"exempt: [127.0.0.1, localhost]", `dns.rrl.exempt[1]: "localhost" is not a network`},
		{"exempt: [\"::ffff:10.0.0.0/104\"]", `dns.rrl.exempt[0]: "::ffff:10.0.0.0/104" is not a network (CIDR) or an address: write IPv4 networks as IPv4`},
		{"enabled: maybe", `line 3: `},
		{"rate: 5", `unknown key "dns.rrl.rate"`},
	} {
		_, err := Parse("t.yaml", []byte("dns:\n  rrl:\n    "+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
