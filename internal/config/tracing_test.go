package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTracingDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Tracing
	if tr.On() || tr.Ratio() != 1 || tr.Service() != "stratus" {
		t.Errorf("defaults: on %v, ratio %v, service %q; want off, 1, stratus", tr.On(), tr.Ratio(), tr.Service())
	}
}

func TestTracingParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
tracing:
  endpoint: http://127.0.0.1:4318
  sample_ratio: 0.25
  service_name: dns-edge
  headers:
    Authorization: Bearer s3cret
`))
	if err != nil {
		t.Fatal(err)
	}
	tr := c.Tracing
	if !tr.On() || tr.Endpoint != "http://127.0.0.1:4318" || tr.Ratio() != 0.25 || tr.Service() != "dns-edge" ||
		tr.Headers["Authorization"] != "Bearer s3cret" {
		t.Errorf("parsed %+v", tr)
	}
	zero := 0.0
	tr.SampleRatio = &zero
	if tr.Ratio() != 0 {
		t.Errorf("sample_ratio 0 reads as %v", tr.Ratio())
	}
}

func TestTracingErrors(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"ratio above 1", "sample_ratio: 1.5\n  endpoint: http://127.0.0.1:4318", "tracing.sample_ratio: 1.5 is outside 0..1"},
		{"ratio negative", "sample_ratio: -0.1", "tracing.sample_ratio"},
		{"not a URL", "endpoint: 127.0.0.1:4318", "tracing.endpoint: \"127.0.0.1:4318\" is not an http:// or https:// URL"},
		{"grpc scheme", "endpoint: grpc://127.0.0.1:4317", "tracing.endpoint"},
		{"no host", "endpoint: http://", "tracing.endpoint"},
		{"credentials in URL", "endpoint: http://u:pw@127.0.0.1:4318", "put credentials in tracing.headers"},
		{"headers without endpoint", "headers: {X-Key: v}", "tracing.endpoint: headers and TLS files are set but no endpoint"},
		{"TLS over http", "endpoint: http://127.0.0.1:4318\n  ca_file: " + ca, "need an https:// endpoint"},
		{"cert without key", "endpoint: https://127.0.0.1:4318\n  cert_file: " + ca, "tracing.cert_file, key_file: give both or neither"},
		{"missing CA file", "endpoint: https://127.0.0.1:4318\n  ca_file: " + filepath.Join(dir, "none.pem"), "tracing.ca_file:"},
		{"bad header name", "endpoint: http://127.0.0.1:4318\n  headers: {\"Bad Name\": v}", "tracing.headers: \"Bad Name\" is not a valid HTTP header name"},
		{"line break in value", "endpoint: http://127.0.0.1:4318\n  headers: {X-Key: \"a\\nb\"}", "tracing.headers.X-Key: the value holds a line break"},
		{"content type", "endpoint: http://127.0.0.1:4318\n  headers: {content-type: text/plain}", "the exporter sets Content-Type itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("tracing:\n  "+tc.yaml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestTracingErrorsHideSecrets(t *testing.T) {
	for _, y := range []string{
		"endpoint: http://user:topsecret@127.0.0.1:4318",
		"endpoint: http://topsecret@127.0.0.1:4318",
		"endpoint: http://127.0.0.1:4318/?key=topsecret",
		"endpoint: http://127.0.0.1:4318\n  headers: {X-Key: \"topsecret\\n\"}",
	} {
		_, err := Parse("t.yaml", []byte("tracing:\n  "+y+"\n"))
		if err == nil || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("%s: err %v; want an error without the secret", y, err)
		}
	}
}
