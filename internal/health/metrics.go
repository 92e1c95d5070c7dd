package health

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// Results of a probe, as counted (stratus_health_probes_total).
const (
	resultSuccess = "success"
	resultFailure = "failure"
	resultTimeout = "timeout"
)

// probeBuckets are the probe durations told apart, in seconds: from a
// kept-alive connection on a local network to the longest timeout.
var probeBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// metrics are the checker's Prometheus metrics. They count whether or
// not they are registered (Options.Metrics nil: not exported).
type metrics struct {
	probes      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	transitions *prometheus.CounterVec
	confirming  prometheus.Counter
	holddowns   prometheus.Counter
}

func newMetrics(c *Checker, reg prometheus.Registerer) *metrics {
	const ns, sub = telemetry.Namespace, "health"
	m := &metrics{
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "probes_total",
			Help: "Health probes completed, by check type (http, https, tcp, dns) and result (success, failure, timeout)."}, []string{"check", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "probe_duration_seconds",
			Help: "How long health probes took, successful or not, by check type.", Buckets: probeBuckets}, []string{"check"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "transitions_total",
			Help: "Changes of a checked endpoint's state as this node's checks see it, by the state changed to (up, down)."}, []string{"to"}),
		confirming: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "confirming_probes_total",
			Help: "Probes run at once to confirm a hard failure (refused, reset, timed out) of an endpoint that is up."}),
		holddowns: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "damping_holddowns_total",
			Help: "Endpoints held down by damping for flapping (holds started)."}),
	}
	for _, typ := range []string{model.CheckHTTP, model.CheckHTTPS, model.CheckTCP, model.CheckDNS} {
		for _, r := range []string{resultSuccess, resultFailure, resultTimeout} {
			m.probes.WithLabelValues(typ, r)
		}
		m.duration.WithLabelValues(typ)
	}
	m.transitions.WithLabelValues("up")
	m.transitions.WithLabelValues("down")
	if r, ok := reg.(*prometheus.Registry); ok && r == nil {
		reg = nil
	}
	if reg != nil {
		damped := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "damped_endpoints",
			Help: "Endpoints held down by damping now."}, func() float64 { return float64(c.damped()) })
		reg.MustRegister(m.probes, m.duration, m.transitions, m.confirming, m.holddowns, damped)
	}
	return m
}

// probed counts a probe of check type typ that took d.
func (m *metrics) probed(typ string, r result, d time.Duration) {
	res := resultSuccess
	switch {
	case r.timeout:
		res = resultTimeout
	case !r.ok:
		res = resultFailure
	}
	m.probes.WithLabelValues(typ, res).Inc()
	m.duration.WithLabelValues(typ).Observe(d.Seconds())
}

// transition counts a change of the effective state to s.
func (m *metrics) transition(s State) {
	switch s {
	case Up:
		m.transitions.WithLabelValues("up").Inc()
	case Down:
		m.transitions.WithLabelValues("down").Inc()
	}
}

// damped returns how many targets damping holds down now.
func (c *Checker) damped() int {
	c.mu.Lock()
	ts := make([]*target, 0, len(c.targets))
	for _, t := range c.targets {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	n := 0
	for _, t := range ts {
		t.mu.Lock()
		if t.held() {
			n++
		}
		t.mu.Unlock()
	}
	return n
}
