package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/stratusdns/stratus/internal/version"
)

// Namespace is the first part of every metric name Stratus exports.
const Namespace = "stratus"

// NewRegistry returns the registry of one node: the Go runtime's and the
// process's collectors and stratus_build_info, to which the node's
// packages add their own.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
	)
	return reg
}

// buildInfo is stratus_build_info: always 1, the build in its labels.
func buildInfo() prometheus.Collector {
	v := version.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "build_info",
		Help:      "The running build of Stratus: always 1, with its version, commit and Go version as labels.",
		ConstLabels: prometheus.Labels{
			"version":   v.Version,
			"commit":    v.Commit,
			"goversion": v.GoVersion,
		},
	})
	g.Set(1)
	return g
}
