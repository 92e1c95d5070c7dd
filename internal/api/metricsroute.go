package api

import (
	"net/http"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// DefaultMetricsPath is where the metrics are served unless
// Options.MetricsPath says otherwise.
const DefaultMetricsPath = "/metrics"

func (h *Handler) metricsPath() string {
	if h.opts.MetricsPath != "" {
		return h.opts.MetricsPath
	}
	return DefaultMetricsPath
}

// public reports whether rt asks for no token: the metrics, unless
// Options.MetricsRequireToken. Its handler then gets a nil principal.
func (h *Handler) public(rt route) bool {
	return rt.scope == auth.ScopeMetricsRead && !h.opts.MetricsRequireToken
}

// serveMetrics serves the node's Prometheus metrics in the text exposition
// format (or another the scraper asks for).
func (h *Handler) serveMetrics(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
	if h.opts.MetricsHandler == nil {
		return errorf(http.StatusNotFound, apiv1.CodeNotFound, "metrics are off on this node (metrics.enabled: false)")
	}
	h.opts.MetricsHandler.ServeHTTP(w, r)
	return nil
}
