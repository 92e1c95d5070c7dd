package config

import (
	"fmt"
	"time"
)

// Anomalies says when the DNS listeners report a random-subdomain flood
// against a zone or a sudden spike of queries for one name, as events
// (key "zone:<zone>" or "name:<name>", actor "anomaly") and log lines,
// one when it starts and one when it ends. On by default, with levels
// far above a zone's or a name's ordinary traffic on one node; zero
// means the default.
type Anomalies struct {
	// Disabled turns detection off.
	Disabled bool `yaml:"disabled"`
	// NXDomainPerSecond: a zone answering this many NXDOMAIN a second is
	// flooded (default 1000).
	NXDomainPerSecond int `yaml:"nxdomain_per_second"`
	// SpikeMinPerSecond and SpikeFactor: a name asked this many times a
	// second and SpikeFactor times its usual rate is in a spike (defaults
	// 500 and 10).
	SpikeMinPerSecond int     `yaml:"spike_min_per_second"`
	SpikeFactor       float64 `yaml:"spike_factor"`
	// Window is what a name's usual rate is averaged over; spikes are
	// not reported during the first Window after start (default 5m).
	Window time.Duration `yaml:"window"`
	// Quiet ends an anomaly once it has stayed below its level this long
	// (default 30s).
	Quiet time.Duration `yaml:"quiet"`
}

func (a *Anomalies) check() error {
	switch {
	case a.NXDomainPerSecond < 0:
		return fmt.Errorf("dns.anomalies.nxdomain_per_second: %d is negative", a.NXDomainPerSecond)
	case a.SpikeMinPerSecond < 0:
		return fmt.Errorf("dns.anomalies.spike_min_per_second: %d is negative", a.SpikeMinPerSecond)
	case a.SpikeFactor != 0 && a.SpikeFactor < 1:
		return fmt.Errorf("dns.anomalies.spike_factor: %v is below 1", a.SpikeFactor)
	case a.Window < 0 || (a.Window != 0 && a.Window < time.Second):
		return fmt.Errorf("dns.anomalies.window: %v is shorter than 1s", a.Window)
	case a.Quiet < 0 || (a.Quiet != 0 && a.Quiet < time.Second):
		return fmt.Errorf("dns.anomalies.quiet: %v is shorter than 1s", a.Quiet)
	}
	return nil
}
