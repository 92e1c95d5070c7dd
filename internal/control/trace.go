package control

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// editSpan traces one zone edit's store transaction, retries on conflict
// included: the span "control.edit", a child of the caller's (an API
// request, a dynamic update, the materialiser), with the zone, the
// serials, the revision and how many times the transaction ran.
type editSpan struct {
	span     trace.Span
	attempts int
}

// startEdit starts the span of an edit of zone z by actor. Its context
// is for the transaction only: the wait for publication that follows is
// the caller's, a sibling.
func startEdit(ctx context.Context, z model.Name, actor string) (context.Context, *editSpan) {
	ctx, span := telemetry.Start(ctx, "control.edit", trace.WithAttributes(
		attribute.String("stratus.zone", string(z)), attribute.String("stratus.actor", actor)))
	return ctx, &editSpan{span: span}
}

// attempt counts one run of the transaction's function.
func (e *editSpan) attempt() { e.attempts++ }

// end ends the span with what the edit did, and notes the span as the
// maker of the new serial, so that the NOTIFY for it joins the trace.
func (e *editSpan) end(ctx context.Context, res ChangeResult, rev store.Revision, err error) {
	if e.span.IsRecording() {
		e.span.SetAttributes(
			attribute.Int("stratus.attempts", e.attempts),
			attribute.Bool("stratus.changed", res.Changed),
			attribute.Int64("stratus.serial", int64(res.Serial)),
			attribute.Int64("stratus.old_serial", int64(res.OldSerial)),
			attribute.Int64("stratus.revision", int64(rev)))
		if err != nil && !errors.Is(err, errNoChange) {
			telemetry.Fail(e.span, err)
		}
		if err == nil && res.Changed {
			telemetry.NoteSerial(ctx, string(res.Zone), res.Serial)
		}
	}
	e.span.End()
}
