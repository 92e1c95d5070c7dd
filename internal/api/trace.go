package api

import (
	"log/slog"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// traceContext reads and writes the W3C traceparent and tracestate
// headers.
var traceContext = propagation.TraceContext{}

// traced gives each request of route rt a server span, named by the
// route's pattern (never the path: it would name every zone and record),
// the child of the request's traceparent when it has one. The write path
// below it (decoding, the store transaction, the wait for publication)
// adds its spans as children. With tracing off it only calls next.
func traced(rt route, next http.Handler) http.Handler {
	name := rt.method + " " + rt.pattern
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !telemetry.Tracing() {
			next.ServeHTTP(w, r)
			return
		}
		ctx := traceContext.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := telemetry.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", rt.pattern),
			attribute.String("stratus.request_id", w.Header().Get(RequestIDHeader)),
		))
		defer span.End()
		if sc := span.SpanContext(); sc.IsSampled() {
			// The request's log lines name its trace.
			ctx = withLogAttrs(ctx, slog.String("trace_id", sc.TraceID().String()))
		}
		tw := &traceWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(tw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", tw.status))
		if tw.status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, http.StatusText(tw.status))
		}
	})
}

// traceWriter notes the status code a handler answers with.
type traceWriter struct {
	http.ResponseWriter
	status int
}

func (w *traceWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush lets streamed responses (zone file export) reach the client.
func (w *traceWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (deadlines
// of long routes).
func (w *traceWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
