package config

import (
	"strings"
	"testing"
	"time"
)

func TestQueryLogParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
query_log:
  enabled: true
  output: /var/log/stratus/queries.log
  max_size_mb: 10
  max_backups: 3
  max_age: 36h
  sample_rate: 0.25
  anonymize: false
  ipv4_prefix: 16
  ipv6_prefix: 32
`))
	if err != nil {
		t.Fatal(err)
	}
	q := c.QueryLog
	v4, v6 := q.Prefixes()
	if !q.Enabled || q.Path() != "/var/log/stratus/queries.log" || q.SizeMB() != 10 || q.MaxBackups != 3 ||
		q.Rate() != 0.25 || q.Anonymized() || v4 != 16 || v6 != 32 || q.MaxAge != 36*time.Hour {
		t.Errorf("parsed %+v", q)
	}
	c, err = Parse("t.yaml", []byte("query_log: {enabled: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	q = c.QueryLog
	v4, v6 = q.Prefixes()
	if q.Path() != "stdout" || q.SizeMB() != DefaultQueryLogMaxSizeMB || q.MaxAge != 0 || q.Rate() != 1 || !q.Anonymized() || v4 != 24 || v6 != 48 {
		t.Errorf("defaults %+v", q)
	}
}

func TestDnstapParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte("dnstap:\n  tcp: 127.0.0.1:6000\n  identity: ns1\n  version: v1\n  queue_size: 100\n  messages: [auth_response]\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := c.Dnstap
	qr, rs := d.Sends()
	if !d.On() || d.TCP != "127.0.0.1:6000" || d.Identity != "ns1" || d.Version != "v1" || d.Queue() != 100 || qr || !rs {
		t.Errorf("parsed %+v", d)
	}
	c, err = Parse("t.yaml", []byte("dnstap:\n  socket: /run/dnstap.sock\n"))
	if err != nil {
		t.Fatal(err)
	}
	d = c.Dnstap
	qr, rs = d.Sends()
	if !d.On() || d.Queue() != DefaultDnstapQueueSize || !qr || !rs {
		t.Errorf("defaults %+v", d)
	}
	c, _ = Parse("t.yaml", nil)
	if c.Dnstap.On() || c.QueryLog.Enabled {
		t.Errorf("on by default: %+v %+v", c.Dnstap, c.QueryLog)
	}
}

func TestTapConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"query_log: {sample_rate: 1.5}\n", "query_log.sample_rate: 1.5 is outside 1e-06..1"},
		{"query_log: {sample_rate: 0}\n", "query_log.sample_rate: 0 is outside"},
		{"query_log: {sample_rate: -0.1}\n", "query_log.sample_rate: -0.1 is outside"},
		{"query_log: {max_size_mb: -1}\n", "query_log: max_size_mb, max_backups and max_age must not be negative"},
		{"query_log: {ipv4_prefix: 33}\n", "query_log.ipv4_prefix: 33 is outside 0..32"},
		{"query_log: {ipv6_prefix: 129}\n", "query_log.ipv6_prefix: 129 is outside 0..128"},
		{"query_log: {outptu: x}\n", `unknown key "query_log.outptu"`},
		{"dnstap: {socket: /a, tcp: 127.0.0.1:1}\n", "dnstap: give socket or tcp, not both"},
		{"dnstap: {tcp: localhost:6000}\n", `dnstap.tcp: "localhost:6000" is not ip:port`},
		{"dnstap: {socket: /a, queue_size: -1}\n", "dnstap.queue_size: -1 is outside 0..1048576"},
		{"dnstap: {socket: /a, messages: [client_query]}\n", `dnstap.messages[0]: "client_query" is not auth_query or auth_response`},
		{"dnstap: {sock: /a}\n", `unknown key "dnstap.sock"`},
	} {
		_, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
