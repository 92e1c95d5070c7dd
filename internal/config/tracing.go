package config

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// Tracing configures OpenTelemetry traces: off by default. With an
// endpoint, the node sends its spans (API requests, the write path,
// health changes, NOTIFY) to an OTLP/HTTP receiver: an OpenTelemetry
// Collector, Jaeger or Tempo. DNS queries are never traced.
type Tracing struct {
	// Endpoint is the OTLP/HTTP receiver's base URL, such as
	// http://127.0.0.1:4318 (spans go to <endpoint>/v1/traces; a URL
	// with a path other than / is used as it is). Empty: tracing off.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of traces started here that are kept,
	// 0..1 (default 1). An API request that authenticated and carries a
	// traceparent follows its sampled flag instead.
	SampleRatio *float64 `yaml:"sample_ratio"`
	// ServiceName is the service.name of the spans (default "stratus").
	ServiceName string `yaml:"service_name"`
	// Headers are sent with every export, e.g. an authorization header a
	// hosted receiver wants. Their values are secrets: never logged.
	Headers map[string]string `yaml:"headers"`
	// CAFile verifies an https endpoint against this CA bundle instead of
	// the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile authenticate this node to the receiver (mutual
	// TLS); both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// DefaultTraceServiceName is tracing.service_name's default.
const DefaultTraceServiceName = "stratus"

// On reports whether traces are exported.
func (t *Tracing) On() bool { return t.Endpoint != "" }

// Ratio returns sample_ratio, or its default 1.
func (t *Tracing) Ratio() float64 {
	if t.SampleRatio == nil {
		return 1
	}
	return *t.SampleRatio
}

// Service returns service_name, or its default.
func (t *Tracing) Service() string {
	if t.ServiceName == "" {
		return DefaultTraceServiceName
	}
	return t.ServiceName
}

// check validates tracing (called from Validate).
func (t *Tracing) check() error {
	if t.SampleRatio != nil && (*t.SampleRatio < 0 || *t.SampleRatio > 1) {
		return fmt.Errorf("tracing.sample_ratio: %v is outside 0..1", *t.SampleRatio)
	}
	if t.Endpoint == "" {
		if len(t.Headers) > 0 || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" {
			return fmt.Errorf("tracing.endpoint: headers and TLS files are set but no endpoint; give the OTLP/HTTP URL (e.g. http://127.0.0.1:4318) or remove them")
		}
		return nil
	}
	u, err := url.Parse(t.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("tracing.endpoint: %q is not an http:// or https:// URL such as http://127.0.0.1:4318", t.Endpoint)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// Not the URL itself: what it carries may be a secret.
		return fmt.Errorf("tracing.endpoint: the URL must not carry credentials, a query or a fragment (put credentials in tracing.headers)")
	}
	if u.Scheme == "http" && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "") {
		return fmt.Errorf("tracing.ca_file, cert_file, key_file: TLS files need an https:// endpoint, not %q", t.Endpoint)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("tracing.cert_file, key_file: give both or neither")
	}
	for _, f := range []struct{ key, path string }{{"tracing.ca_file", t.CAFile}, {"tracing.cert_file", t.CertFile}, {"tracing.key_file", t.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %v", f.key, err)
		}
	}
	for k, v := range t.Headers {
		if !validHeaderName(k) {
			return fmt.Errorf("tracing.headers: %q is not a valid HTTP header name", k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			// The value is a secret: name the header, not what it holds.
			return fmt.Errorf("tracing.headers.%s: the value holds a line break or NUL", k)
		}
		if http.CanonicalHeaderKey(k) == "Content-Type" {
			return fmt.Errorf("tracing.headers.%s: the exporter sets Content-Type itself", k)
		}
	}
	return nil
}

// validHeaderName reports whether s is an HTTP field name (RFC 9110
// section 5.1: a token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}
