package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/dnsserver"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// dnsCollector turns the DNS server's counts (dnsserver.Stats, summed
// over its readers when scraped) into the stratus_dns_* metrics. The
// query path itself knows nothing of Prometheus.
type dnsCollector struct {
	stats func() dnsserver.Stats

	queries, truncated, sizes, handedOver, rrl, tcpConns *prometheus.Desc
	buckets                                              []float64
}

func newDNSCollector(stats func() dnsserver.Stats) *dnsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "dns", name), help, labels, nil)
	}
	c := &dnsCollector{
		stats: stats,
		queries: d("queries_total", "DNS responses of the query path, by the zone that answered (\"\" when none did), query type, rcode and transport.",
			"zone", "qtype", "rcode", "transport"),
		truncated:  d("truncated_responses_total", "DNS responses sent with TC set (rate limiting's slips included), by transport.", "transport"),
		sizes:      d("response_size_bytes", "Sizes of the DNS responses sent, by transport.", "transport"),
		handedOver: d("handed_over_total", "DNS requests the query path handed over to be served elsewhere: zone transfers, NOTIFY, UPDATE and ordinary queries signed with TSIG, by kind.", "kind"),
		rrl:        d("rrl_responses_total", "UDP answers response rate limiting dropped, or sent truncated instead (slipped), by action.", "action"),
		tcpConns:   d("tcp_connections", "DNS TCP connections open."),
	}
	for _, b := range dnsserver.ResponseSizeBuckets {
		c.buckets = append(c.buckets, float64(b))
	}
	return c
}

func (c *dnsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queries, c.truncated, c.sizes, c.handedOver, c.rrl, c.tcpConns} {
		ch <- d
	}
}

func (c *dnsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	for _, q := range st.Queries {
		ch <- prometheus.MustNewConstMetric(c.queries, prometheus.CounterValue, float64(q.Count), q.Zone, q.Qtype, q.Rcode, q.Transport)
	}
	for i, name := range dnsserver.Transports {
		t := &st.Transports[i]
		ch <- prometheus.MustNewConstMetric(c.truncated, prometheus.CounterValue, float64(t.Truncated), name)
		buckets := make(map[float64]uint64, len(c.buckets))
		for j, b := range c.buckets {
			buckets[b] = t.SizeBuckets[j]
		}
		ch <- prometheus.MustNewConstHistogram(c.sizes, t.Count, float64(t.Sum), buckets, name)
	}
	for i, kind := range dnsserver.HandOverKinds {
		ch <- prometheus.MustNewConstMetric(c.handedOver, prometheus.CounterValue, float64(st.HandedOver[i]), kind)
	}
	ch <- prometheus.MustNewConstMetric(c.rrl, prometheus.CounterValue, float64(st.RRLDropped), "dropped")
	ch <- prometheus.MustNewConstMetric(c.rrl, prometheus.CounterValue, float64(st.RRLSlipped), "slipped")
	ch <- prometheus.MustNewConstMetric(c.tcpConns, prometheus.GaugeValue, float64(st.TCPConnections))
}
