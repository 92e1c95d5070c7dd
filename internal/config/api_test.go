package config

import (
	"fmt"
	"testing"
	"time"
)

func TestParseAPI(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
api:
  listen: 0.0.0.0:8443
  tls: {cert_file: /etc/stratus/api.pem, key_file: /etc/stratus/api.key, client_ca_file: /etc/stratus/clients.pem, client_auth: verify_if_given}
  read_timeout: 5s
  zonefile_timeout: 1h
  rate_limit: {per_token: 2.5, burst: 10, failures_per_address: 1, failures_burst: 3}
  trusted_proxies: [127.0.0.1, 10.1.2.3/8, "2001:db8::/32"]
client:
  server: https://ns1.example.net:8443
  ca_file: /etc/stratus/ca.pem
  cert_file: /etc/stratus/me.pem
  key_file: /etc/stratus/me.key
`))
	if err != nil {
		t.Fatal(err)
	}
	a := c.API
	if a.TLS == nil || a.TLS.ClientAuth != ClientAuthVerifyIfGiven || a.TLS.KeyFile != "/etc/stratus/api.key" || a.ReadTimeout != 5*time.Second ||
		a.ZoneFileTimeout != time.Hour || a.RateLimit != (RateLimit{PerToken: 2.5, Burst: 10, FailuresPerAddress: 1, FailuresBurst: 3}) ||
		a.Scheme() != "https" || a.Loopback() || c.Client.CAFile != "/etc/stratus/ca.pem" || c.Client.KeyFile != "/etc/stratus/me.key" {
		t.Errorf("parsed %+v %+v %+v", a, a.TLS, c.Client)
	}
	if got := fmt.Sprint(a.TrustedProxyPrefixes()); got != "[127.0.0.1/32 10.0.0.0/8 2001:db8::/32]" {
		t.Errorf("trusted proxies %s", got)
	}
	for listen, loop := range map[string]bool{"127.0.0.1:1": true, "127.8.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "[::]:1": false, "192.0.2.1:1": false} {
		if got := (&API{Listen: listen}).Loopback(); got != loop {
			t.Errorf("Loopback(%s) = %v", listen, got)
		}
	}
}
