package health

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// A change of an endpoint's state starts a trace: "health.probe" (the
// probe whose result changed it, with its own start and end),
// "health.state_change" under it (old and new state, reason), and, once
// the checker's notifier takes the change, "health.notify" under that,
// in whose context OnChange runs: the merge of the cluster's view and the
// recompilation of the steering add their spans below it. Probes that
// change nothing make no span: the probe's span is made only once its
// result turned out to change the state.

// maxLinkedChanges bounds the state changes one OnChange call's span
// links to.
const maxLinkedChanges = 64

// probeTimes are when a probe started and ended (wall clock, for its
// span).
type probeTimes struct{ start, end time.Time }

// traceChange makes the spans of a transition (events in ch) and returns
// the span context of the state change, or an invalid one with tracing
// off or no event.
func (t *target) traceChange(ch *changes) trace.SpanContext {
	if !telemetry.Tracing() || len(ch.events) == 0 {
		return trace.SpanContext{}
	}
	ctx := context.Background()
	key := attribute.String("stratus.health_key", t.key)
	if p := ch.probe; p != nil && !p.start.IsZero() {
		var span trace.Span
		ctx, span = telemetry.Start(ctx, "health.probe", trace.WithTimestamp(p.start),
			trace.WithAttributes(key, attribute.String("stratus.check", string(t.spec.Type)),
				attribute.Bool("stratus.probe_ok", ch.probeOK), attribute.String("stratus.probe_error", ch.probeErr)))
		span.End(trace.WithTimestamp(p.end))
	}
	ev := ch.events[0]
	_, span := telemetry.Start(ctx, "health.state_change", trace.WithAttributes(key,
		attribute.String("stratus.old_state", ev.Old.String()), attribute.String("stratus.new_state", ch.events[len(ch.events)-1].New.String()),
		attribute.String("stratus.reason", ev.Reason), attribute.String("stratus.actor", ev.Actor)))
	span.End()
	return span.SpanContext()
}

// traceNotify starts the span "health.notify" for an OnChange call that
// reports the changes whose state-change spans are scs: the child of the
// first, linked to the others (several endpoints' changes reported in one
// call; each has a trace of its own). Without any, it records nothing.
func traceNotify(scs []trace.SpanContext, keys int) (context.Context, trace.Span) {
	ctx := context.Background()
	if len(scs) == 0 {
		return ctx, trace.SpanFromContext(ctx)
	}
	var links []trace.Link
	for _, sc := range scs[1:] {
		links = append(links, trace.Link{SpanContext: sc})
	}
	return telemetry.Start(trace.ContextWithSpanContext(ctx, scs[0]), "health.notify",
		trace.WithLinks(links...), trace.WithAttributes(attribute.Int("stratus.keys", keys)))
}
