package config

import (
	"strings"
	"testing"
)

func TestMetricsParse(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
metrics:
  enabled: true
  path: /internal/metrics
  listen: 127.0.0.1:9153
  require_token: true
`))
	if err != nil {
		t.Fatal(err)
	}
	m := c.Metrics
	if !m.On() || m.PathOrDefault() != "/internal/metrics" || m.Listen != "127.0.0.1:9153" || !m.RequireToken {
		t.Errorf("parsed %+v", m)
	}

	d, err := Parse("empty.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Metrics; !m.On() || m.PathOrDefault() != "/metrics" || m.Listen != "" || m.RequireToken {
		t.Errorf("default metrics %+v: want on, /metrics, no listener, no token", m)
	}
	off, err := Parse("off.yaml", []byte("metrics:\n  enabled: false\n"))
	if err != nil || off.Metrics.On() {
		t.Errorf("enabled: false: %v %+v", err, off.Metrics)
	}
}

func TestMetricsParseErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"path: metrics", `metrics.path: "metrics" must start with /`},
		{"path: /", `metrics.path: "/" would take every path`},
		{"path: /v1/metrics", `metrics.path: "/v1/metrics" is inside the API's /v1 paths`},
		{"path: /v1", `metrics.path: "/v1" is inside`},
		{"path: /metrics/", `metrics.path: "/metrics/" is not a clean path`},
		{"path: /a//b", `metrics.path: "/a//b" is not a clean path`},
		{"path: /m?x=1", `metrics.path: "/m?x=1" must be a plain path`},
		{"path: '/m{x}'", `metrics.path: "/m{x}" must be a plain path`},
		{"listen: localhost:9153", `metrics.listen: "localhost:9153" is not ip:port`},
		{"listen: 127.0.0.1", `metrics.listen: "127.0.0.1" is not ip:port`},
		{"listen: 127.0.0.1:8080", `metrics.listen: 127.0.0.1:8080 is api.listen`},
		{"enabled: maybe", `line 4: "maybe" is not true or false`},
		{"require_token: sometimes", `line 4: "sometimes" is not true or false`},
		{"address: 127.0.0.1:1", `line 4: unknown key "address"`},
	} {
		_, err := Parse("t.yaml", []byte("api:\n  listen: 127.0.0.1:8080\nmetrics:\n  "+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
