package config

import (
	"strings"
	"testing"
	"time"
)

// TestAnomalies reads dns.anomalies and refuses bad values, naming the key.
func TestAnomalies(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`
dns:
  anomalies:
    nxdomain_per_second: 5000
    spike_min_per_second: 2000
    spike_factor: 20.5
    window: 10m
    quiet: 1m
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Anomalies{NXDomainPerSecond: 5000, SpikeMinPerSecond: 2000, SpikeFactor: 20.5, Window: 10 * time.Minute, Quiet: time.Minute}
	if c.DNS.Anomalies != want {
		t.Errorf("parsed %+v, want %+v", c.DNS.Anomalies, want)
	}
	if c, err := Parse("t.yaml", []byte("dns:\n  anomalies: {disabled: true}\n")); err != nil || !c.DNS.Anomalies.Disabled {
		t.Errorf("disabled: %+v, %v", c.DNS.Anomalies, err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"nxdomain_per_second: -1", "dns.anomalies.nxdomain_per_second: -1 is negative"},
		{"spike_min_per_second: -5", "dns.anomalies.spike_min_per_second: -5 is negative"},
		{"spike_factor: 0.5", "dns.anomalies.spike_factor: 0.5 is below 1"},
		{"window: 100ms", "dns.anomalies.window: 100ms is shorter than 1s"},
		{"quiet: -1s", "dns.anomalies.quiet: -1s is shorter than 1s"},
		{"treshold: 5", `line 3: unknown key "treshold"`},
	} {
		_, err := Parse("t.yaml", []byte("dns:\n  anomalies:\n    "+tc.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", tc.yaml, err, tc.want)
		}
	}
}
