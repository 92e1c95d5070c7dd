package steerctl

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// metrics are the controller's Prometheus metrics. Counters and gauges
// count whether or not they are registered (Options.Metrics nil: not
// exported, and the query path counts no answers).
type metrics struct {
	started    *prometheus.CounterVec
	ended      *prometheus.CounterVec
	active     *prometheus.GaugeVec
	recompiles prometheus.Counter
	lapsed     prometheus.Counter
}

var (
	answersDesc = prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "steering", "answers_total"),
		"Answers to queries for steered names, by service, pool answered from (\"\" for a static answer, SERVFAIL or no records) and reason: healthy (the first tier), fallback (a lower tier), all_down (the when_all_down policy).",
		[]string{"service", "pool", "reason"}, nil)
	endpointsDesc = prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "steering", "endpoints"),
		"Endpoints of each service's pools, as steering answers from them now.", []string{"service", "pool"}, nil)
	healthyDesc = prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "steering", "healthy_endpoints"),
		"Endpoints of each service's pools that are up (checks, overrides, cold start), as steering answers from them now.", []string{"service", "pool"}, nil)
	leasesDesc = prometheus.NewDesc(prometheus.BuildFQName(telemetry.Namespace, "health", "leases_active"),
		"Endpoints registered with a lease that has not lapsed.", nil, nil)
)

func newMetrics() *metrics {
	const ns = telemetry.Namespace
	return &metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "steering", Name: "failovers_started_total",
			Help: "Failovers started: a service's answers left its first tier for a fallback tier or its when_all_down policy."}, []string{"service"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: "steering", Name: "failovers_ended_total",
			Help: "Failovers ended: a service's answers came back to its first tier."}, []string{"service"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: "steering", Name: "failover_active",
			Help: "1 while a failover of the service is running (started, not ended), else 0."}, []string{"service"}),
		recompiles: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "steering", Name: "recompiles_total",
			Help: "Services compiled into the steering state (at every change of a service, its endpoints or their health)."}),
		lapsed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: "health", Name: "leases_lapsed_total",
			Help: "Endpoint leases that lapsed without a renewal."}),
	}
}

// register registers the metrics and the collector of what is read at
// scrape time on reg, and makes the meter the query path counts answers
// into.
func (c *Controller) register(reg prometheus.Registerer) {
	if r, ok := reg.(*prometheus.Registry); ok && r == nil {
		reg = nil
	}
	if reg == nil {
		return
	}
	c.meter = steer.NewMeter()
	m := c.metrics
	reg.MustRegister(m.started, m.ended, m.active, m.recompiles, m.lapsed, collector{c})
}

// collector reads the steering snapshot, the answers counted and the
// leases at scrape time.
type collector struct{ c *Controller }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- answersDesc
	ch <- endpointsDesc
	ch <- healthyDesc
	ch <- leasesDesc
}

func (col collector) Collect(ch chan<- prometheus.Metric) {
	c := col.c
	for _, a := range c.meter.Answers() {
		ch <- prometheus.MustNewConstMetric(answersDesc, prometheus.CounterValue, float64(a.N), a.Service, a.Pool, a.Reason)
	}
	for _, s := range c.cur.Load().Services() {
		svc := s.Spec.Name.String()
		for i := range s.Pools {
			p := &s.Pools[i]
			ch <- prometheus.MustNewConstMetric(endpointsDesc, prometheus.GaugeValue, float64(p.Total), svc, p.Spec.Name)
			ch <- prometheus.MustNewConstMetric(healthyDesc, prometheus.GaugeValue, float64(p.Healthy), svc, p.Spec.Name)
		}
	}
	ch <- prometheus.MustNewConstMetric(leasesDesc, prometheus.GaugeValue, float64(c.activeLeases()))
}

// activeLeases counts the endpoints with a lease that has not lapsed.
func (c *Controller) activeLeases() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	now, n := c.clk.Now(), 0
	for _, eps := range c.endpoints {
		for _, e := range eps {
			if e.Leased() && !e.Lapsed(now) {
				n++
			}
		}
	}
	return n
}

// forgetService drops the per-service series of a deleted service that
// say how it is now (the counters stay).
func (m *metrics) forgetService(name model.Name) {
	m.active.DeleteLabelValues(name.String())
}
