package server

import (
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
)

// rrlConfig turns dns.rrl into the DNS server's rate limiting settings.
func rrlConfig(r *config.RRL) dnsserver.RRLConfig {
	return dnsserver.RRLConfig{
		Disabled:           !r.On(),
		ResponsesPerSecond: r.ResponsesPerSecond,
		NXDomainsPerSecond: r.NXDomainPerSecond,
		ErrorsPerSecond:    r.ErrorsPerSecond,
		Slip:               r.SlipOrDefault(),
		Window:             r.Window,
		IPv4Prefix:         r.IPv4Prefix,
		IPv6Prefix:         r.IPv6Prefix,
		TableSize:          r.TableSize,
		Exempt:             r.ExemptPrefixes(),
	}
}
