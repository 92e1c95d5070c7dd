package config

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestDNSIdentity: cookies are on by default with a random secret (none
// configured), the identity is the host name and the version none; each
// can be set, and identity and version turned off with "none".
func TestDNSIdentity(t *testing.T) {
	host, _ := os.Hostname()
	for _, tc := range []struct {
		name              string
		yaml              string
		cookies           bool
		secret, previous  string
		identity, version string
	}{
		{name: "defaults", yaml: "", cookies: true, identity: host},
		{name: "all set", yaml: "dns:\n  cookies: true\n  cookie_secret: E5E973E5A6B2A43F48E7DC849E37BFCF\n  cookie_secret_previous: dd3bdf9344b678b185a6f5cb60fca715\n  identity: ams-1\n  version: stratus\n",
			cookies: true, secret: "e5e973e5a6b2a43f48e7dc849e37bfcf", previous: "dd3bdf9344b678b185a6f5cb60fca715", identity: "ams-1", version: "stratus"},
		{name: "off", yaml: "dns:\n  cookies: false\n  identity: none\n  version: none\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			s, p := c.DNS.CookieSecrets()
			if c.DNS.Cookies != tc.cookies || hex.EncodeToString(s) != tc.secret || hex.EncodeToString(p) != tc.previous ||
				c.DNS.ServerIdentity() != tc.identity || c.DNS.ServerVersion() != tc.version {
				t.Errorf("cookies %v secret %x previous %x identity %q version %q", c.DNS.Cookies, s, p, c.DNS.ServerIdentity(), c.DNS.ServerVersion())
			}
		})
	}
}

func TestDNSIdentityErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"secret too short", "dns:\n  cookie_secret: e5e973e5a6b2a43f\n", "dns.cookie_secret: want 32 hex digits"},
		{"secret not hex", "dns:\n  cookie_secret: " + strings.Repeat("g", 32) + "\n", "dns.cookie_secret: want 32 hex digits"},
		{"previous too long", "dns:\n  cookie_secret: e5e973e5a6b2a43f48e7dc849e37bfcf\n  cookie_secret_previous: " + strings.Repeat("a", 34) + "\n", "dns.cookie_secret_previous: want 32 hex digits"},
		{"previous alone", "dns:\n  cookie_secret_previous: e5e973e5a6b2a43f48e7dc849e37bfcf\n", "dns.cookie_secret_previous: set only beside dns.cookie_secret"},
		{"cookies not a bool", "dns:\n  cookies: maybe\n", `"maybe" is not true or false`},
		{"identity too long", "dns:\n  identity: " + strings.Repeat("a", 129) + "\n", "dns.identity: 129 characters, at most 128"},
		{"version too long", "dns:\n  version: " + strings.Repeat("a", 256) + "\n", "dns.version: 256 characters, at most 255"},
		{"identity not printable", "dns:\n  identity: \"a\\tb\"\n", "dns.identity: character 2 is not printable ASCII"},
		{"version not ASCII", "dns:\n  version: \"stratus é\"\n", "dns.version: character 9 is not printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
