package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratusdns/stratus/internal/config"
)

// metricsHandler serves the registry reg: every metric the node's parts
// registered. promhttp's own count of failed scrapes is registered there
// too. A metric that fails to collect is left out and logged; the others
// are served.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLog{log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      reg,
		Timeout:       10 * time.Second,
	})
}

// promLog is promhttp's error log.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("serving metrics", "err", fmt.Sprint(v...)) }

// Timeouts of the metrics listener: a scrape is small and quick.
const (
	metricsReadTimeout  = 10 * time.Second
	metricsWriteTimeout = 30 * time.Second
	metricsIdleTimeout  = 2 * time.Minute
)

// listenMetrics opens metrics.listen, a plain-HTTP listener of its own
// that serves h at metrics.path and nothing else, and serves it until
// Shutdown. It returns the server and a channel closed when Serve has
// returned.
func listenMetrics(m config.Metrics, h http.Handler, log *slog.Logger) (*http.Server, net.Addr, chan struct{}, error) {
	ln, err := net.Listen("tcp", m.Listen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("metrics: listen on %s: %w", m.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+m.PathOrDefault(), h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "404 not found: this listener serves the metrics at "+m.PathOrDefault()+" only", http.StatusNotFound)
	})
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: metricsReadTimeout,
		ReadTimeout:       metricsReadTimeout,
		WriteTimeout:      metricsWriteTimeout,
		IdleTimeout:       metricsIdleTimeout,
		MaxHeaderBytes:    16 << 10,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String(), "path", m.PathOrDefault())
	return srv, ln.Addr(), done, nil
}
