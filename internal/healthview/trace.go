package healthview

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// traceMerge starts the span "healthview.merge" of merging a change of
// keys into the cluster's view: the child of the checker's report of a
// state change (source "local"), or the root of a trace of its own when
// other nodes' votes changed the merged state (source "votes").
func traceMerge(ctx context.Context, source string, keys []string) (context.Context, trace.Span) {
	if !telemetry.Tracing() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	start := telemetry.StartChild
	if source != "local" {
		start = telemetry.Start
	}
	return start(ctx, "healthview.merge", trace.WithAttributes(
		attribute.String("stratus.source", source), attribute.Int("stratus.keys", len(keys))))
}

// mergeChanged records on span how many merged states changed.
func mergeChanged(span trace.Span, changed []string) {
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("stratus.changed", len(changed)))
		if len(changed) == 1 {
			span.SetAttributes(attribute.String("stratus.health_key", changed[0]))
		}
	}
}

// reportVotes reports merged changes the other nodes' votes (or their
// ageing out) made, each such change the start of a trace.
func (v *View) reportVotes(changed []string) {
	if len(changed) == 0 {
		return
	}
	ctx, span := traceMerge(context.Background(), "votes", changed)
	defer span.End()
	mergeChanged(span, changed)
	v.report(ctx, changed)
}
