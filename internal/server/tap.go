package server

import (
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/dnstap"
	"github.com/stratusdns/stratus/internal/querylog"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/version"
)

// taps are the outputs of the DNS server's tap: the query log and
// dnstap, each nil when off.
type taps struct {
	log    *querylog.Log
	dnstap *dnstap.Output
}

// openTaps opens the outputs query_log and dnstap configure and returns
// the DNS server's tap settings (no sink when both are off).
func openTaps(cfg *config.Config, log *slog.Logger) (*taps, dnsserver.TapConfig, error) {
	t := &taps{}
	var tc dnsserver.TapConfig
	if q := &cfg.QueryLog; q.Enabled {
		v4, v6 := q.Prefixes()
		l, err := querylog.Open(querylog.Options{
			Output: q.Path(), MaxSize: int64(q.SizeMB()) << 20, MaxBackups: q.MaxBackups, MaxAge: q.MaxAge,
			Anonymize: q.Anonymized(), IPv4Prefix: v4, IPv6Prefix: v6,
		})
		if err != nil {
			return nil, tc, err
		}
		t.log = l
		tc.Log, tc.SampleRate = true, q.Rate()
	}
	if d := &cfg.Dnstap; d.On() {
		network, addr := "unix", d.Socket
		if d.TCP != "" {
			network, addr = "tcp", d.TCP
		}
		identity, ver := d.Identity, d.Version
		if identity == "" {
			identity, _ = os.Hostname()
		}
		if ver == "" {
			ver = "stratus " + version.Get().Version
		}
		queries, responses := d.Sends()
		t.dnstap = dnstap.New(dnstap.Options{Network: network, Addr: addr, Identity: identity, Version: ver,
			QueueSize: d.Queue(), Queries: queries, Responses: responses, Log: log.With("component", "dnstap")})
		tc.Dnstap = true
	}
	if tc.Log || tc.Dnstap {
		tc.Sink = t
	}
	return t, tc, nil
}

// Tap hands a batch to each output on.
func (t *taps) Tap(batch []dnsserver.TapRecord) {
	if t.log != nil {
		t.log.Tap(batch)
	}
	if t.dnstap != nil {
		t.dnstap.Tap(batch)
	}
}

// close flushes and closes the outputs, once the DNS server has stopped.
func (t *taps) close(log *slog.Logger) {
	if t == nil {
		return
	}
	if t.log != nil {
		if err := t.log.Close(); err != nil {
			log.Warn("query log: close", "err", err)
		}
	}
	if t.dnstap != nil {
		if err := t.dnstap.Close(); err != nil {
			log.Warn("dnstap: close", "err", err)
		}
	}
}

// tapCollector exports the counts of the tap and its outputs.
type tapCollector struct {
	dns  *dnsserver.Server
	taps *taps
}

func tapDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "", name), help, nil, nil)
}

var (
	descLogEntries    = tapDesc("querylog_entries_total", "Lines written to the query log.")
	descLogDropped    = tapDesc("querylog_dropped_total", "Queries sampled for the query log but not written: its buffers were full, or the write failed.")
	descDnstapFrames  = tapDesc("dnstap_frames_total", "dnstap messages written to the collector.")
	descDnstapDropped = tapDesc("dnstap_dropped_total", "dnstap messages (or, when the tap's buffers were full, queries) dropped: no collector, a slow one, or one that went away.")
	descDnstapUp      = tapDesc("dnstap_connected", "1 while a dnstap collector is connected.")
)

func (c *tapCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLogEntries, descLogDropped, descDnstapFrames, descDnstapDropped, descDnstapUp} {
		ch <- d
	}
}

func (c *tapCollector) Collect(ch chan<- prometheus.Metric) {
	logDropped, dtDropped := c.dns.TapDropped()
	var entries, frames, up float64
	if l := c.taps.log; l != nil {
		entries = float64(l.Entries())
		logDropped += l.Failed()
	}
	if d := c.taps.dnstap; d != nil {
		frames = float64(d.Frames())
		dtDropped += d.Dropped()
		if d.Connected() {
			up = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(descLogEntries, prometheus.CounterValue, entries)
	ch <- prometheus.MustNewConstMetric(descLogDropped, prometheus.CounterValue, float64(logDropped))
	ch <- prometheus.MustNewConstMetric(descDnstapFrames, prometheus.CounterValue, frames)
	ch <- prometheus.MustNewConstMetric(descDnstapDropped, prometheus.CounterValue, float64(dtDropped))
	ch <- prometheus.MustNewConstMetric(descDnstapUp, prometheus.GaugeValue, up)
}
