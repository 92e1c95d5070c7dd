package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// unmatchedRoute is the route label of requests for a path no route has.
const unmatchedRoute = "unmatched"

// metrics count the API's requests by route (the route's pattern, never
// the path asked for), method and status code.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	routes   map[string]bool // the patterns of routes
}

// newMetrics returns the metrics of the routes rts, registered with reg
// (nil: counted, not exported).
func newMetrics(reg prometheus.Registerer, rts []route) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "api", Name: "requests_total",
			Help: "API requests by route (its pattern, or \"unmatched\"), method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: telemetry.Namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help:    "Time the API took to answer a request, by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		routes: map[string]bool{},
	}
	for _, rt := range rts {
		m.routes[rt.pattern] = true
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration)
	}
	return m
}

// serve runs next, the API's mux, for r and counts the request under the
// route the mux chose for it.
func (m *metrics) serve(w *answerWriter, r *http.Request, next func(*answerWriter, *http.Request)) {
	start := time.Now()
	next(w, r)
	// The mux sets r.Pattern: "GET /v1/zones/{zone}" for a route, the
	// path's pattern alone when only the method is wrong.
	_, pattern, ok := strings.Cut(r.Pattern, " ")
	if !ok {
		pattern = r.Pattern
	}
	if !m.routes[pattern] {
		pattern = unmatchedRoute
	}
	method := r.Method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // the label set stays bounded
	}
	m.requests.WithLabelValues(pattern, method, strconv.Itoa(w.code)).Inc()
	m.duration.WithLabelValues(pattern, method).Observe(time.Since(start).Seconds())
}
