package server

import (
	"log/slog"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
)

// dnsCookies returns the DNS server's cookie settings from the dns section
// of the configuration, saying in the log when the secret is a random one
// that no other node shares.
func dnsCookies(c *config.DNS, log *slog.Logger) dnsserver.Cookies {
	secret, previous := c.CookieSecrets()
	if c.Cookies && secret == nil {
		log.Info("dns cookies use a secret made at start: set dns.cookie_secret, the same on every node answering for one address, for their cookies to be valid at each other")
	}
	return dnsserver.Cookies{Off: !c.Cookies, Secret: secret, Previous: previous}
}
