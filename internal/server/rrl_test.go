package server

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
)

// TestRRLConfig: dns.rrl reaches the DNS server as written; slip 0 means
// no slip at all, and an empty section the server's defaults.
func TestRRLConfig(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want dnsserver.RRLConfig
	}{
		{"", dnsserver.RRLConfig{}},
		{"dns:\n  rrl:\n    enabled: false\n", dnsserver.RRLConfig{Disabled: true}},
		{"dns:\n  rrl:\n    responses_per_second: 7\n    nxdomain_per_second: 3\n    errors_per_second: 2\n    slip: 0\n" +
			"    window: 4s\n    ipv4_prefix: 28\n    ipv6_prefix: 48\n    table_size: 4096\n    exempt: [127.0.0.0/8]\n",
			dnsserver.RRLConfig{ResponsesPerSecond: 7, NXDomainsPerSecond: 3, ErrorsPerSecond: 2, Slip: -1, Window: 4 * time.Second,
				IPv4Prefix: 28, IPv6Prefix: 48, TableSize: 4096, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}},
		{"dns:\n  rrl:\n    slip: 3\n", dnsserver.RRLConfig{Slip: 3}},
	} {
		cfg, err := config.Parse("t.yaml", []byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if got := rrlConfig(&cfg.DNS.RRL); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, want %+v", c.yaml, got, c.want)
		}
	}
}
