package publish

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// metrics are the publisher's: how long a commit takes to be served, the
// revision served, and the full loads of the store after the first.
type metrics struct {
	lag      prometheus.Histogram
	revision prometheus.Gauge
	reloads  prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: telemetry.Namespace,
			Subsystem: "publish",
			Name:      "lag_seconds",
			Help:      "Time from the commit of a revision to the moment the DNS server answers from it (from its arrival in the watch when this node did not commit it).",
			Buckets:   []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: telemetry.Namespace,
			Subsystem: "publish",
			Name:      "revision",
			Help:      "The store revision of the snapshot the DNS server answers from.",
		}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: telemetry.Namespace,
			Subsystem: "publish",
			Name:      "reloads_total",
			Help:      "Full loads of the store after the first: the publisher fell behind the store's history, its watch failed or was restarted.",
		}),
	}
}

// SetMetrics registers the publisher's metrics with reg (nil: they are
// kept but not exported). Call it before Run, once.
func (p *Publisher) SetMetrics(reg prometheus.Registerer) {
	if reg != nil {
		reg.MustRegister(p.met.lag, p.met.revision, p.met.reloads)
	}
}

// arrival is when a revision of the run being gathered came in the watch.
type arrival struct {
	rev store.Revision
	at  time.Time
}

// observeLag records, for each revision published at served, the time
// since its commit: when this process committed it (the store is
// store.Instrument's) the earlier of its commit and its arrival in the
// watch, else its arrival.
func (p *Publisher) observeLag(revs []arrival, served time.Time) {
	ct, _ := p.st.(store.CommitTimes)
	for _, a := range revs {
		from := a.at
		if ct != nil {
			if t, ok := ct.CommitTime(a.rev); ok && t.Before(from) {
				from = t
			}
		}
		p.met.lag.Observe(max(served.Sub(from), 0).Seconds())
	}
}
