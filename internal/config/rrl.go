package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// RRL configures response rate limiting of UDP answers (dns.rrl): per
// client network, kind of answer and name, a token bucket; over its rate,
// every slip-th answer is sent truncated (the client asks again over TCP)
// and the others are dropped. TCP is never limited. A zero value means
// the default.
type RRL struct {
	// Enabled turns it on or off (default on).
	Enabled *bool `yaml:"enabled"`
	// ResponsesPerSecond per bucket: positive answers per name and type,
	// NODATA per name, referrals per delegation, wildcard answers per
	// closest encloser (default 50).
	ResponsesPerSecond int `yaml:"responses_per_second"`
	// NXDomainPerSecond: NXDOMAIN answers per zone (default:
	// responses_per_second).
	NXDomainPerSecond int `yaml:"nxdomain_per_second"`
	// ErrorsPerSecond: error answers, all names together (default:
	// responses_per_second).
	ErrorsPerSecond int `yaml:"errors_per_second"`
	// Slip: every slip-th limited answer is sent truncated, the others
	// dropped; 0 drops them all (default 2).
	Slip *int `yaml:"slip"`
	// Window: a client that goes on asking while limited stays limited
	// until its rate over the window falls under the limit (default 15s).
	Window time.Duration `yaml:"window"`
	// IPv4Prefix and IPv6Prefix group clients into networks (default 24
	// and 56).
	IPv4Prefix int `yaml:"ipv4_prefix"`
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// TableSize is the number of buckets, shared by every reader (default
	// 65536).
	TableSize int `yaml:"table_size"`
	// Exempt lists networks (CIDR, or single addresses) never limited.
	Exempt []string `yaml:"exempt"`
}

// Bounds of dns.rrl.
const (
	MaxRRLRate      = 1_000_000
	MaxRRLSlip      = 10
	MaxRRLWindow    = time.Hour
	MinRRLTableSize = 16
	MaxRRLTableSize = 1 << 21
)

// On reports whether rate limiting is on.
func (r *RRL) On() bool { return r.Enabled == nil || *r.Enabled }

// SlipOrDefault returns slip as configured, or -1 for none, or 0 for the
// default.
func (r *RRL) SlipOrDefault() int {
	switch {
	case r.Slip == nil:
		return 0
	case *r.Slip == 0:
		return -1
	}
	return *r.Slip
}

// ExemptPrefixes returns exempt as networks (Validate first).
func (r *RRL) ExemptPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range r.Exempt {
		p, _ := parseNetwork(s)
		out = append(out, p)
	}
	return out
}

func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("write IPv4 networks as IPv4")
	}
	return p.Masked(), nil
}

func (r *RRL) check() error {
	for _, v := range []struct {
		key string
		n   int
	}{{"responses_per_second", r.ResponsesPerSecond}, {"nxdomain_per_second", r.NXDomainPerSecond}, {"errors_per_second", r.ErrorsPerSecond}} {
		if v.n < 0 || v.n > MaxRRLRate {
			return fmt.Errorf("dns.rrl.%s: %d is outside 0..%d", v.key, v.n, MaxRRLRate)
		}
	}
	if r.Slip != nil && (*r.Slip < 0 || *r.Slip > MaxRRLSlip) {
		return fmt.Errorf("dns.rrl.slip: %d is outside 0..%d", *r.Slip, MaxRRLSlip)
	}
	if r.Window != 0 && (r.Window < time.Second || r.Window > MaxRRLWindow) {
		return fmt.Errorf("dns.rrl.window: %v is outside 1s..%v", r.Window, MaxRRLWindow)
	}
	if r.IPv4Prefix < 0 || r.IPv4Prefix > 32 {
		return fmt.Errorf("dns.rrl.ipv4_prefix: %d is outside 1..32", r.IPv4Prefix)
	}
	if r.IPv6Prefix < 0 || r.IPv6Prefix > 128 {
		return fmt.Errorf("dns.rrl.ipv6_prefix: %d is outside 1..128", r.IPv6Prefix)
	}
	if r.TableSize != 0 && (r.TableSize < MinRRLTableSize || r.TableSize > MaxRRLTableSize) {
		return fmt.Errorf("dns.rrl.table_size: %d is outside %d..%d", r.TableSize, MinRRLTableSize, MaxRRLTableSize)
	}
	for i, s := range r.Exempt {
		if _, err := parseNetwork(s); err != nil {
			return fmt.Errorf("dns.rrl.exempt[%d]: %q is not a network (CIDR) or an address: %v", i, s, err)
		}
	}
	return nil
}
