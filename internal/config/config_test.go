package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
data_dir: /var/lib/stratus
dns:
  listen: ["127.0.0.1:53", "[::1]:53"]
  udp_payload_size: 1400
  tcp_idle_timeout: 5s
api:
  listen: 127.0.0.1:9000
zones:
  default_nameservers: [ns1.example.net.]
journal:
  max_entries: 50
audit:
  key_file: /etc/stratus/audit.key
  retention: 720h
log:
  level: debug
  format: json
client:
  token_file: /etc/stratus/token
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/stratus" || len(c.DNS.Listen) != 2 || c.DNS.UDPPayloadSize != 1400 || c.DNS.TCPIdleTimeout != 5*time.Second ||
		c.API.Listen != "127.0.0.1:9000" || c.Journal.MaxEntries != 50 || c.Log.Format != "json" || c.Client.TokenFile != "/etc/stratus/token" ||
		c.Audit.KeyFile != "/etc/stratus/audit.key" || c.Audit.Retention != 720*time.Hour ||
		len(c.NameServers()) != 1 {
		t.Errorf("parsed %+v", c)
	}
}

func TestDefaultsWhenEmpty(t *testing.T) {
	c, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != DefaultDataDir || c.DNS.Listen[0] != DefaultDNSListen || c.API.Listen != DefaultAPIListen {
		t.Errorf("defaults: %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level key", "data_dri: x\n", `line 1: unknown key "data_dri"`},
		{"unknown nested key", "dns:\n  listen: [\"127.0.0.1:53\"]\n  lisen: x\n", `line 3: unknown key "dns.lisen"`},
		{"bad duration", "dns:\n  tcp_idle_timeout: soon\n", `line 2: "soon" is not a duration`},
		{"bad number", "journal:\n  max_entries: many\n", `line 2: "many" is not a whole number`},
		{"bad listen address", "dns:\n  listen: [localhost:53]\n", `dns.listen[0]: "localhost:53" is not ip:port`},
		{"bad api address", "api:\n  listen: ':8053'\n", `api.listen`},
		{"negative per-client tcp cap", "dns:\n  tcp_max_connections_per_client: -1\n", `tcp_max_connections_per_client, tcp_message_timeout and tcp_busy_idle_timeout must not be negative`},
		{"negative tcp message timeout", "dns:\n  tcp_message_timeout: -1s\n", `must not be negative`},
		{"per-client tcp cap over the total", "dns:\n  tcp_max_connections: 10\n  tcp_max_connections_per_client: 11\n", `dns.tcp_max_connections_per_client: 11 is more than tcp_max_connections (10)`},
		{"bad tcp exemption", "dns:\n  tcp_limit_exempt: [10.0.0.0/8, 10.1.2.3]\n", `dns.tcp_limit_exempt[1]: "10.1.2.3" is not a network`},
		{"bad payload size", "dns:\n  udp_payload_size: 100\n", `dns.udp_payload_size: 100 is outside 512..4096`},
		{"bad log level", "log:\n  level: loud\n", `log.level: "loud"`},
		{"bad name server", "zones:\n  default_nameservers: [\"a..b\"]\n", `zones.default_nameservers[0]`},
		{"bad location network", "steering:\n  locations: [{cidr: 10.0.0.0/33, region: x}]\n", `steering.locations[0].cidr: "10.0.0.0/33" is not a network`},
		{"bad location country", "steering:\n  locations:\n    - {cidr: 10.0.0.0/8, region: x}\n    - {cidr: 10.1.0.0/16, country: Germany}\n", `steering.locations[1]: `},
		{"drill without scenario", "drills: [{every: 1h}]\n", "drills[0].scenario: name a scenario file"},
		{"drill too often", "drills: [{scenario: x.yaml, every: 10s}]\n", "drills[0].every: 10s is shorter than 1m0s"},
		{"drill unknown key", "drills: [{scenario: x.yaml, cron: daily}]\n", `unknown key "drills[].cron"`},
		{"duplicate location", "steering:\n  locations:\n    - {cidr: 10.0.0.0/8, region: x}\n    - {cidr: 10.0.0.0/8, region: y}\n", `steering.locations[1]: `},
		{"syntax error", "dns: [\n", "t.yaml"},
		{"bad node name", "cluster:\n  node: a/b\n", `cluster.node: "a/b" may hold only letters, digits`},
		{"node name starts with a dash", "cluster:\n  node: -a\n", `cluster.node: "-a" may hold only`},
		{"node name too long", "cluster:\n  node: " + strings.Repeat("a", 64) + "\n", `cluster.node: "aaaa`},
		{"session ttl too short", "cluster:\n  session_ttl: 1s\n", "cluster.session_ttl: 1s is outside 2s..10m0s"},
		{"session ttl too long", "cluster:\n  session_ttl: 1h\n", "cluster.session_ttl: 1h0m0s is outside 2s..10m0s"},
		{"session ttl fraction", "cluster:\n  session_ttl: 2500ms\n", "cluster.session_ttl: 2.5s is not a whole number of seconds"},
		{"cluster unknown key", "cluster:\n  name: a\n", `unknown key "cluster.name"`},
		{"tls without key", "api:\n  tls: {cert_file: c.pem}\n", "api.tls: give both cert_file and key_file"},
		{"tls unknown client auth", "api:\n  tls: {cert_file: c.pem, key_file: k.pem, client_ca_file: ca.pem, client_auth: optional}\n", `api.tls.client_auth: "optional" is not require or verify_if_given`},
		{"client auth without ca", "api:\n  tls: {cert_file: c.pem, key_file: k.pem, client_auth: require}\n", "api.tls.client_auth: require needs api.tls.client_ca_file"},
		{"tls unknown key", "api:\n  tls: {cert: c.pem}\n", `unknown key "api.tls.cert"`},
		{"negative read timeout", "api:\n  read_timeout: -1s\n", "api.read_timeout: -1s must not be negative"},
		{"bad trusted proxy", "api:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.300]\n", `api.trusted_proxies: "10.0.0.300" is not an address or a CIDR such as 10.0.0.0/8`},
		{"negative rate", "api:\n  rate_limit: {per_token: -1}\n", "api.rate_limit: per_token, burst"},
		{"rate limit unknown key", "api:\n  rate_limit: {per_second: 1}\n", `unknown key "api.rate_limit.per_second"`},
		{"client cert without key", "client:\n  cert_file: c.pem\n", "client: give both cert_file and key_file"},
		{"audit retention too short", "audit:\n  retention: 10m\n", "audit.retention: 10m0s is shorter than 1h0m0s"},
		{"audit unknown key", "audit:\n  key: x\n", `unknown key "audit.key"`},
		{"two documents", "data_dir: a\n---\ndata_dir: b\n", "only one YAML document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCluster(t *testing.T) {
	c, err := Parse("t.yaml", []byte("cluster:\n  node: ns1.a-b_c\n  session_ttl: 4s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Cluster.NodeName(); err != nil || n != "ns1.a-b_c" || c.Cluster.TTL() != 4*time.Second {
		t.Fatalf("node %q %v, ttl %v", n, err, c.Cluster.TTL())
	}
	c, err = Parse("t.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if n, err := c.Cluster.NodeName(); err != nil || n != host || c.Cluster.TTL() != DefaultSessionTTL {
		t.Fatalf("default node %q %v (host %q), ttl %v", n, err, host, c.Cluster.TTL())
	}
}

func TestParseTCPLimits(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
dns:
  tcp_max_connections_per_client: 20
  tcp_message_timeout: 3s
  tcp_busy_idle_timeout: 500ms
  tcp_limit_exempt: [192.0.2.7/24, "2001:db8::/48"]
`))
	if err != nil {
		t.Fatal(err)
	}
	d := c.DNS
	got := fmt.Sprint(d.TCPMaxConnectionsPerClient, d.TCPMessageTimeout, d.TCPBusyIdleTimeout, d.TCPLimitExemptPrefixes())
	if want := "20 3s 500ms [192.0.2.0/24 2001:db8::/48]"; got != want {
		t.Errorf("parsed %s, want %s", got, want)
	}
}
