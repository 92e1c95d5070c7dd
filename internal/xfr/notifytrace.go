package xfr

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// traceRound starts the span "xfr.notify" of a NOTIFY round for serial of
// zone z. The round runs apart from the write that made the serial (on
// the leader, notify_delay after the serial is served), so its parent is
// the write's span as the write noted it (telemetry.NoteSerial): the
// NOTIFY is part of the change's trace. Rounds that gather several
// serials follow the newest one's write. A serial made elsewhere (another
// node's write, a start) is not noted: its round is a trace of its own.
func traceRound(ctx context.Context, z model.Name, serial uint32, targets int) (context.Context, trace.Span) {
	if !telemetry.Tracing() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(
		attribute.String("stratus.zone", string(z)),
		attribute.Int64("stratus.serial", int64(serial)),
		attribute.Int("stratus.notify_targets", targets))}
	if sc, ok := telemetry.SerialSpan(string(z), serial); ok {
		ctx = trace.ContextWithSpanContext(ctx, sc)
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	return telemetry.Start(ctx, "xfr.notify", opts...)
}

// traceSend starts the span "xfr.notify.send" of the NOTIFYs to one
// secondary, until it acknowledges (or the round is replaced).
func traceSend(ctx context.Context, t model.NotifyTarget) (context.Context, trace.Span) {
	return telemetry.StartChild(ctx, "xfr.notify.send", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("server.address", t.Address.String())))
}

// notifyAttempt records one NOTIFY attempt on span: an event per failed
// attempt, the count of attempts once acknowledged.
func notifyAttempt(span trace.Span, attempt int, err error) {
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.AddEvent("not acknowledged", trace.WithAttributes(attribute.Int("stratus.attempt", attempt), attribute.String("error", err.Error())))
		return
	}
	span.SetAttributes(attribute.Int("stratus.attempts", attempt))
}
