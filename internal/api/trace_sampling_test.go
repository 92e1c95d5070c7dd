package api

import (
	"context"
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// TestTraceparentCannotForceSampling: with sample_ratio 0, a client
// (here one with no token at all) that sends a traceparent with the
// sampled flag set must not make the node record and export a span per
// request: the node's sampling ratio bounds what its exporter carries,
// whatever the callers ask for.
func TestTraceparentCannotForceSampling(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	zero := 0.0
	tp := telemetry.NewTracerProvider(config.Tracing{SampleRatio: &zero}, "n1", sdktrace.WithSyncer(exp))
	restore := telemetry.SetTracerProvider(tp)
	t.Cleanup(func() {
		restore()
		_ = tp.Shutdown(context.Background())
	})
	e := newAPI(t)
	const n = 20
	for i := range n {
		tp := fmt.Sprintf("00-%032x-00f067aa0ba902b7-01", i+1)
		if r := e.do(t, "GET", "/v1/zones", "", "", "traceparent", tp); r.status != 401 {
			t.Fatalf("unauthenticated request: %d", r.status)
		}
	}
	if got := len(exp.GetSpans()); got != 0 {
		t.Errorf("sample_ratio 0: %d unauthenticated requests with a sampled traceparent exported %d spans", n, got)
	}
}
