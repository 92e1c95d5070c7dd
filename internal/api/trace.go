package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// traceContext reads the W3C traceparent and tracestate headers.
var traceContext = propagation.TraceContext{}

// The W3C trace context headers.
const (
	traceparentHeader = "Traceparent"
	tracestateHeader  = "Tracestate"
)

// noSpan is the span of a request while tracing is off: it records
// nothing.
var noSpan = trace.SpanFromContext(context.Background())

// Bounds on the trace context a request may bring. A traceparent of the
// current version is 55 characters; later versions may add fields, but
// not a kilobyte of them. A tracestate longer than the 512 characters the
// W3C recommendation asks vendors to carry is dropped (the traceparent
// still counts).
const (
	maxTraceparentLen = 256
	maxTracestateLen  = 512
)

// startSpan starts the server span of request r on route rt (named by
// the route's pattern, never the path: it would name every zone and
// record), timed from start, and returns r with the span in its context
// (and, when the span is sampled, its trace id among the attributes of
// the request's log lines). The write path below it (decoding, the store
// transaction, the wait for publication) adds its spans as children.
//
// The span is the child of the request's traceparent only when the
// request authenticated: a sampled parent is always followed, so a
// caller's traceparent decides what the node records and exports, and
// into which trace. A request without a valid token (refused, or over
// the limit on failed authentications) starts a root span instead, kept
// at tracing.sample_ratio like any trace the node starts itself; its
// traceparent is not read. With tracing off startSpan does nothing.
func startSpan(name string, rt route, w http.ResponseWriter, r *http.Request, start time.Time, authenticated bool) (*http.Request, trace.Span) {
	if !telemetry.Tracing() {
		return r, noSpan
	}
	ctx := r.Context()
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithTimestamp(start),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", rt.pattern),
			attribute.String("stratus.request_id", w.Header().Get(RequestIDHeader)),
		),
	}
	if authenticated {
		ctx = traceContext.Extract(ctx, incomingTraceContext(r.Header))
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	ctx, span := telemetry.Start(ctx, name, opts...)
	if sc := span.SpanContext(); sc.IsSampled() {
		// The request's log lines name its trace.
		ctx = withLogAttrs(ctx, slog.String("trace_id", sc.TraceID().String()))
	}
	return r.WithContext(ctx), span
}

// spanStatus records on span the status code the request was answered
// with.
func spanStatus(span trace.Span, status int) {
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= http.StatusInternalServerError {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
}

// incomingTraceContext is the trace context of h that the propagator may
// read: its traceparent when h has exactly one, of at most
// maxTraceparentLen characters (several traceparent headers make none,
// as the W3C recommendation asks), and its tracestate headers joined when
// they are at most maxTracestateLen characters together. The propagator
// ignores a traceparent it cannot parse; what it parses is only ever the
// parent of the request's span.
func incomingTraceContext(h http.Header) propagation.MapCarrier {
	parents := h.Values(traceparentHeader)
	if len(parents) != 1 || len(parents[0]) > maxTraceparentLen {
		return nil
	}
	c := propagation.MapCarrier{"traceparent": parents[0]}
	if states := h.Values(tracestateHeader); len(states) > 0 {
		if s := strings.Join(states, ","); len(s) <= maxTracestateLen {
			c["tracestate"] = s
		}
	}
	return c
}
