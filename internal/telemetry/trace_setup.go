package telemetry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/version"
)

// TracesPath is where an OTLP/HTTP receiver takes spans when
// tracing.endpoint names none.
const TracesPath = "/v1/traces"

// StartTracing sets up the export of spans that cfg asks for (validated),
// as service cfg.Service() and instance node, and makes Start record
// them. With tracing off it does nothing: no provider, no connection.
// The function it returns flushes what is pending (within ctx) and puts
// tracing back off.
func StartTracing(cfg config.Tracing, node string, log *slog.Logger) (shutdown func(context.Context) error, err error) {
	if !cfg.On() {
		return func(context.Context) error { return nil }, nil
	}
	exp, err := NewTraceExporter(cfg)
	if err != nil {
		return nil, err
	}
	tp := NewTracerProvider(cfg, node, sdktrace.WithBatcher(exp))
	logExportErrors(log)
	restore := SetTracerProvider(tp)
	log.Info("tracing on", "endpoint", cfg.Endpoint, "sample_ratio", cfg.Ratio(), "service", cfg.Service())
	return func(ctx context.Context) error {
		restore()
		return tp.Shutdown(ctx)
	}, nil
}

// NewTracerProvider returns a tracer provider for cfg's service and
// sampling, exporting through opts (a batcher or, in tests, a syncer).
// Sampling is parent-based: a trace started here is kept at
// cfg.Ratio(); a span whose parent came with a request follows the
// parent's decision (the API takes a parent only from a request that
// authenticated).
func NewTracerProvider(cfg config.Tracing, node string, opts ...sdktrace.TracerProviderOption) *sdktrace.TracerProvider {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", cfg.Service()),
		attribute.String("service.version", version.Get().Version),
	}
	if node != "" {
		attrs = append(attrs, attribute.String("service.instance.id", node))
	}
	opts = append([]sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.Ratio()))),
	}, opts...)
	return sdktrace.NewTracerProvider(opts...)
}

// NewTraceExporter returns the OTLP/HTTP (protobuf) exporter cfg
// describes. It connects to nothing until it exports.
func NewTraceExporter(cfg config.Tracing) (*otlptrace.Exporter, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("tracing.endpoint: %v", err)
	}
	path := u.Path
	if path == "" || path == "/" {
		path = TracesPath
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithEndpoint(u.Host),
		otlptracehttp.WithURLPath(path),
		otlptracehttp.WithTimeout(10 * time.Second),
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	} else {
		tc, err := traceTLS(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithTLSClientConfig(tc))
	}
	// New starts no connection: the first export does.
	return otlptracehttp.New(context.Background(), opts...)
}

// traceTLS is the TLS configuration of an https endpoint.
func traceTLS(cfg config.Tracing) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tracing.ca_file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tracing.ca_file: %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tracing.cert_file, key_file: %v", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// exportErrorEvery bounds the log lines of failed exports: a receiver
// that is down fails every batch.
const exportErrorEvery = time.Minute

var lastExportError atomic.Int64

// logExportErrors sends OpenTelemetry's errors (failed exports, mostly)
// to log, at most one line a minute. The errors name the endpoint, never
// the headers.
func logExportErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		now := time.Now().UnixNano()
		last := lastExportError.Load()
		if now-last < int64(exportErrorEvery) || !lastExportError.CompareAndSwap(last, now) {
			return
		}
		log.Warn("cannot export traces (logged at most once a minute)", "err", err)
	}))
}
