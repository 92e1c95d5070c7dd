package steerctl

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// A health change reaches the answers in spans under the change's trace
// (health, healthview): "steerctl.recompile" for HealthChanged, with a
// "steer.compile" per service it recompiles and "steer.swap" for the new
// snapshot; then, notify_delay later on the leader, "steerctl.materialize"
// for the steered answers written for secondaries (control.edit,
// publish.wait and the NOTIFY follow under it).

// tracing is the trace a recompilation runs in, set while HealthChanged
// holds c.mu (nil otherwise: recompilations of the controller's own, by
// timers or a changed service, are not traced).
type tracing struct {
	ctx context.Context
	// swapped is the span context of the last traced swap the
	// materialiser has not yet taken.
	swapped trace.SpanContext
}

// traceRecompile starts the span of HealthChanged recompiling names for
// keys, when ctx is part of a trace.
func traceRecompile(ctx context.Context, keys []string, names []model.Name) (context.Context, trace.Span) {
	ctx, span := telemetry.StartChild(ctx, "steerctl.recompile")
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("stratus.keys", len(keys)), attribute.Int("stratus.services", len(names)))
		if len(names) == 1 {
			span.SetAttributes(attribute.String("stratus.service", string(names[0])))
		}
	}
	return ctx, span
}

// compile is steer.Compile in a "steer.compile" span of the trace under
// way. Call with c.mu held.
func (c *Controller) compile(spec *model.Service, eps []*model.Endpoint, in steer.Inputs) (*steer.CompiledService, error) {
	if c.trace.ctx == nil {
		return steer.Compile(spec, eps, in)
	}
	_, span := telemetry.Start(c.trace.ctx, "steer.compile", trace.WithAttributes(
		attribute.String("stratus.service", string(spec.Name)), attribute.Int("stratus.endpoints", len(eps))))
	defer span.End()
	s, err := steer.Compile(spec, eps, in)
	telemetry.Fail(span, err)
	return s, err
}

// traceSwap starts the "steer.swap" span of publishing a snapshot in the
// trace under way, and returns the function that ends it. Call with c.mu
// held.
func (c *Controller) traceSwap() func() {
	if c.trace.ctx == nil {
		return func() {}
	}
	_, span := telemetry.Start(c.trace.ctx, "steer.swap")
	c.trace.swapped = span.SpanContext()
	return func() { span.End() }
}

// traceMaterialize starts the span of one pass of the materialiser, the
// child of the last traced swap since the previous pass; without one it
// records nothing.
func (c *Controller) traceMaterialize(ctx context.Context) (context.Context, trace.Span) {
	c.mu.Lock()
	sc := c.trace.swapped
	c.trace.swapped = trace.SpanContext{}
	c.mu.Unlock()
	if !sc.IsValid() {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return telemetry.Start(trace.ContextWithSpanContext(ctx, sc), "steerctl.materialize")
}
