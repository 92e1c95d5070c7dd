package telemetry

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/stratusdns/stratus/internal/config"
)

// receiver is an OTLP/HTTP receiver on loopback that keeps what it is sent.
type receiver struct {
	mu       sync.Mutex
	requests []*coltrace.ExportTraceServiceRequest
	headers  []http.Header
	paths    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var m coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.requests = append(r.requests, &m)
	r.headers = append(r.headers, req.Header.Clone())
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.requests)
}

// TestStartTracingExportsOTLPHTTP runs the configuration end to end: a
// span started with Start reaches a loopback OTLP/HTTP receiver at
// /v1/traces, as protobuf, with the configured service name and headers.
func TestStartTracingExportsOTLPHTTP(t *testing.T) {
	rcv := &receiver{}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	cfg := config.Tracing{Endpoint: srv.URL, ServiceName: "stratus-test", Headers: map[string]string{"X-Api-Key": "k1"}}
	shutdown, err := StartTracing(cfg, "node-a", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !Tracing() {
		t.Fatal("tracing is off after StartTracing with an endpoint")
	}
	_, span := Start(context.Background(), "test.span")
	span.SetAttributes(attribute.String("zone", "example.com."))
	span.End()
	if err := shutdown(context.Background()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	if Tracing() {
		t.Error("tracing still on after shutdown")
	}
	if rcv.count() == 0 {
		t.Fatal("the receiver got no export")
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.paths[0] != "/v1/traces" {
		t.Errorf("exported to %s, want /v1/traces", rcv.paths[0])
	}
	if got := rcv.headers[0].Get("X-Api-Key"); got != "k1" {
		t.Errorf("X-Api-Key %q, want k1", got)
	}
	var names []string
	var service, instance string
	for _, rs := range rcv.requests[0].ResourceSpans {
		for _, a := range rs.Resource.Attributes {
			switch a.Key {
			case "service.name":
				service = a.Value.GetStringValue()
			case "service.instance.id":
				instance = a.Value.GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				names = append(names, s.Name)
			}
		}
	}
	if len(names) != 1 || names[0] != "test.span" || service != "stratus-test" || instance != "node-a" {
		t.Errorf("got spans %v of service %q instance %q; want [test.span] of stratus-test node-a", names, service, instance)
	}
}

// TestTracingOff: without an endpoint nothing is set up and Start
// records nothing.
func TestTracingOff(t *testing.T) {
	shutdown, err := StartTracing(config.Tracing{}, "n", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	if Tracing() {
		t.Fatal("tracing on without an endpoint")
	}
	ctx, span := Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() || ctx != context.Background() {
		t.Error("Start with tracing off returned a live span or a new context")
	}
	NoteSerial(ctx, "example.com.", 1)
	if _, ok := SerialSpan("example.com.", 1); ok {
		t.Error("a serial was noted with tracing off")
	}
	if n := testing.AllocsPerRun(100, func() {
		_, s := Start(context.Background(), "x")
		s.End()
	}); n != 0 {
		t.Errorf("Start with tracing off allocates %v times", n)
	}
}

// TestSampleRatioParentBased: with sample_ratio 0 a trace started here is
// dropped, but a span whose parent was sampled is kept.
func TestSampleRatioParentBased(t *testing.T) {
	zero := 0.0
	rec := tracetest.NewSpanRecorder()
	tp := NewTracerProvider(config.Tracing{Endpoint: "http://127.0.0.1:1", SampleRatio: &zero}, "", sdktrace.WithSpanProcessor(rec))
	defer SetTracerProvider(tp)()
	_, s := Start(context.Background(), "root")
	s.End()
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true})
	_, s = Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "child")
	s.End()
	ended := rec.Ended()
	if len(ended) != 1 || ended[0].Name() != "child" || ended[0].Parent().SpanID() != parent.SpanID() {
		t.Fatalf("recorded %d spans, want only the child of the sampled parent", len(ended))
	}
}

// TestNotedSerialsBounded: the table keeps the newest MaxNotedSerials.
func TestNotedSerialsBounded(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	defer SetTracerProvider(NewTracerProvider(config.Tracing{}, "", sdktrace.WithSpanProcessor(rec)))()
	ctx, s := Start(context.Background(), "write")
	defer s.End()
	for i := range MaxNotedSerials + 10 {
		NoteSerial(ctx, "example.com.", uint32(i+1))
	}
	if _, ok := SerialSpan("example.com.", 1); ok {
		t.Error("the oldest serial is still noted")
	}
	sc, ok := SerialSpan("example.com.", MaxNotedSerials+10)
	if !ok || sc.SpanID() != s.SpanContext().SpanID() {
		t.Error("the newest serial is not noted with its span")
	}
	serials.Lock()
	n := len(serials.m)
	serials.Unlock()
	if n != MaxNotedSerials {
		t.Errorf("%d serials noted, want %d", n, MaxNotedSerials)
	}
}

// BenchmarkStartOff is what a span costs with tracing off.
func BenchmarkStartOff(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, s := Start(ctx, "x")
		s.End()
	}
}

// BenchmarkStartOn is what a sampled span costs to make (no processor:
// the export is apart).
func BenchmarkStartOn(b *testing.B) {
	tp := NewTracerProvider(config.Tracing{}, "")
	defer SetTracerProvider(tp)()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, s := Start(ctx, "x")
		s.End()
	}
}
