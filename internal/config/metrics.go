package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Metrics configures the Prometheus metrics (metrics:): whether the node
// counts at all, and where the counts are served. A zero value means the
// default.
type Metrics struct {
	// Enabled turns metrics on or off (default on). Off, nothing is
	// served and the query path counts nothing.
	Enabled *bool `yaml:"enabled"`
	// Path is where the API listener serves the metrics, outside /v1
	// (default /metrics).
	Path string `yaml:"path"`
	// Listen is an ip:port of a plain-HTTP listener of its own that serves
	// the metrics at Path and nothing else, never asking for a token
	// (empty: none).
	Listen string `yaml:"listen"`
	// RequireToken makes the API listener ask for a token with the scope
	// metrics:read (default false).
	RequireToken bool `yaml:"require_token"`
}

// DefaultMetricsPath is where the metrics are served by default.
const DefaultMetricsPath = "/metrics"

// On reports whether metrics are on.
func (m *Metrics) On() bool { return m.Enabled == nil || *m.Enabled }

// PathOrDefault returns path, or the default.
func (m *Metrics) PathOrDefault() string {
	if m.Path == "" {
		return DefaultMetricsPath
	}
	return m.Path
}

// check validates the metrics section; api is the API's listen address,
// which metrics.listen must not take.
func (m *Metrics) check(api string) error {
	if p := m.Path; p != "" {
		switch {
		case !strings.HasPrefix(p, "/"):
			return fmt.Errorf("metrics.path: %q must start with /", p)
		case p == "/":
			return fmt.Errorf("metrics.path: %q would take every path of the API listener; give one such as /metrics", p)
		case p == "/v1" || strings.HasPrefix(p, "/v1/"):
			return fmt.Errorf("metrics.path: %q is inside the API's /v1 paths; give one outside them, such as /metrics", p)
		case strings.ContainsAny(p, " \t\r\n?#{}%"):
			return fmt.Errorf("metrics.path: %q must be a plain path (no spaces, ?, #, %%, { or })", p)
		case strings.HasSuffix(p, "/"), strings.Contains(p, "//"), strings.Contains(p, "/./"), strings.Contains(p, "/../"):
			return fmt.Errorf("metrics.path: %q is not a clean path (no trailing /, // or dot segments)", p)
		}
	}
	if m.Listen != "" {
		ap, err := netip.ParseAddrPort(m.Listen)
		if err != nil {
			return fmt.Errorf("metrics.listen: %q is not ip:port (%v)", m.Listen, err)
		}
		if a, err := netip.ParseAddrPort(api); err == nil && ap.Port() != 0 && a == ap {
			return fmt.Errorf("metrics.listen: %s is api.listen; give another port, or leave metrics.listen empty to serve the metrics on the API listener", m.Listen)
		}
	}
	return nil
}
