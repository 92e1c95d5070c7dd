package server

import (
	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/health"
)

func anomalyConfig(c config.Anomalies) dnsserver.AnomalyConfig {
	return dnsserver.AnomalyConfig{
		Disabled: c.Disabled, NXDomainPerSecond: c.NXDomainPerSecond, SpikeMinPerSecond: c.SpikeMinPerSecond,
		SpikeFactor: c.SpikeFactor, Window: c.Window, Quiet: c.Quiet,
	}
}

// anomalyEvents returns the DNS server's anomaly log: each start and end
// of a flood or a spike is an event (key "zone:<zone>" or "name:<name>",
// actor "anomaly"), shown by `stratus events` beside what the endpoints
// did meanwhile, and kept with them.
func anomalyEvents(rec interface{ Record(health.Event) }) func(dnsserver.Anomaly) {
	return func(a dnsserver.Anomaly) {
		rec.Record(health.Event{Time: a.Time, Key: a.Key, Actor: dnsserver.ActorAnomaly, Reason: a.Reason})
	}
}
