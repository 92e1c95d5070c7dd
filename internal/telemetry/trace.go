package telemetry

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// TracerName is the instrumentation scope of Stratus's spans.
const TracerName = "github.com/stratusdns/stratus"

// The tracer spans start on: nil while tracing is off. A process runs one
// node, so one tracer serves it; tests swap it (SetTracerProvider).
var tracer atomic.Pointer[tracerBox]

type tracerBox struct{ t trace.Tracer }

// noSpan is what Start returns with tracing off: a span that records
// nothing, shared, so that a span costs no allocation.
var noSpan = trace.SpanFromContext(context.Background())

// SetTracerProvider makes Start start spans on tp's tracer (nil: tracing
// off) and returns a function that puts back what was there before.
func SetTracerProvider(tp trace.TracerProvider) (restore func()) {
	var next *tracerBox
	if tp != nil {
		next = &tracerBox{tp.Tracer(TracerName)}
	}
	prev := tracer.Swap(next)
	return func() { tracer.CompareAndSwap(next, prev) }
}

// Tracing reports whether spans are recorded at all. Code that would
// build attributes for a span only does so when it is.
func Tracing() bool { return tracer.Load() != nil }

// Start starts a span named name as a child of ctx's span (a root when
// ctx has none). With tracing off it returns ctx itself and a span that
// does nothing: one atomic load, no allocation.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	b := tracer.Load()
	if b == nil {
		return ctx, noSpan
	}
	return b.t.Start(ctx, name, opts...)
}

// Fail marks span as failed with err, when err is not nil.
func Fail(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// StartChild is Start for work that is worth a span only inside a trace
// already under way (a wait a request makes, say, but not the same wait
// in a loop of the server's own): with no span in ctx, it records
// nothing.
func StartChild(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, noSpan
	}
	return Start(ctx, name, opts...)
}
