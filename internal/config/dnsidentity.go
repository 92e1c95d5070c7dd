package config

import (
	"encoding/hex"
	"fmt"
	"os"
)

// None is the value of dns.identity and dns.version that turns them off.
const None = "none"

// The longest identity (dnsserver.MaxIdentity: sent as NSID, it must
// leave every error response within 512 octets) and version (one TXT
// character-string).
const (
	maxIdentity = 128
	maxVersion  = 255
)

// checkIdentity checks the cookie secrets, the identity and the version.
func (d *DNS) checkIdentity() error {
	for _, s := range []struct{ key, val string }{
		{"dns.cookie_secret", d.CookieSecret}, {"dns.cookie_secret_previous", d.CookieSecretPrevious},
	} {
		if s.val == "" {
			continue
		}
		if b, err := hex.DecodeString(s.val); err != nil || len(b) != 16 {
			return fmt.Errorf("%s: want 32 hex digits (16 random octets, e.g. from `openssl rand -hex 16`), not %d characters", s.key, len(s.val))
		}
	}
	if d.CookieSecretPrevious != "" && d.CookieSecret == "" {
		return fmt.Errorf("dns.cookie_secret_previous: set only beside dns.cookie_secret, during a rollover")
	}
	for _, s := range []struct {
		key, val string
		max      int
	}{{"dns.identity", d.Identity, maxIdentity}, {"dns.version", d.Version, maxVersion}} {
		if err := checkTXT(s.val, s.max); err != nil {
			return fmt.Errorf("%s: %v", s.key, err)
		}
	}
	return nil
}

// checkTXT accepts up to max printable ASCII characters.
func checkTXT(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%d characters, at most %d", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7E {
			return fmt.Errorf("character %d is not printable ASCII", i+1)
		}
	}
	return nil
}

// CookieSecrets returns dns.cookie_secret and dns.cookie_secret_previous
// as octets (nil when not set). Validate first.
func (d *DNS) CookieSecrets() (secret, previous []byte) {
	secret, _ = hex.DecodeString(d.CookieSecret)
	previous, _ = hex.DecodeString(d.CookieSecretPrevious)
	if len(secret) == 0 {
		secret = nil
	}
	if len(previous) == 0 {
		previous = nil
	}
	return secret, previous
}

// ServerIdentity returns dns.identity: the host name when it is not set
// (none when that is unknown or not printable), "" when it is "none".
func (d *DNS) ServerIdentity() string {
	switch d.Identity {
	case None:
		return ""
	case "":
		h, err := os.Hostname()
		if err != nil || checkTXT(h, maxIdentity) != nil {
			return ""
		}
		return h
	}
	return d.Identity
}

// ServerVersion returns dns.version, "" when it is not set or "none".
func (d *DNS) ServerVersion() string {
	if d.Version == None {
		return ""
	}
	return d.Version
}
