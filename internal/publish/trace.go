package publish

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// traceWait starts the span "publish.wait" of a wait for revision rev,
// when the waiter is part of a trace (a write waiting for its change to
// be served); the server's own loops that wait get none.
func (p *Publisher) traceWait(ctx context.Context, rev store.Revision) trace.Span {
	_, span := telemetry.StartChild(ctx, "publish.wait")
	if span.IsRecording() {
		span.SetAttributes(attribute.Int64("stratus.revision", int64(rev)),
			attribute.Int64("stratus.served_revision", int64(p.Revision())))
	}
	return span
}
