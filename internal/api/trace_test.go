package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/auth"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/internal/xfr"
)

// recordSpans makes the write path record its spans into an in-memory
// exporter for the rest of the test.
func recordSpans(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	restore := telemetry.SetTracerProvider(tp)
	t.Cleanup(func() {
		restore()
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

// ackingSecondary acknowledges every NOTIFY and counts them.
func ackingSecondary(t *testing.T) (addr string, count func() int) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode != dns.OpcodeNotify {
			return
		}
		mu.Lock()
		n++
		mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		_ = w.WriteMsg(m)
	})}
	testutil.ServeDNS(t, srv)
	return pc.LocalAddr().String(), func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// waitSpan waits until a span named name has ended and returns it.
func waitSpan(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range exp.GetSpans() {
			if s.Name == name {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q ended; have %v", name, spanNames(exp.GetSpans()))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

func attr(s tracetest.SpanStub, key string) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// TestWriteTrace: a change through the API's handler and the control
// plane makes one trace, the child of the request's traceparent: the
// request's server span, named by its route; under it the decoding, the
// store transaction (zone and serial) and the wait for publication; and,
// under the transaction, the NOTIFY the notifier sends the zone's
// secondary for the new serial, notify_delay later on a goroutine of its
// own.
func TestWriteTrace(t *testing.T) {
	exp := recordSpans(t)
	plane, pub := controltest.New(t, control.Options{})
	admin, _, err := plane.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(plane), Options{}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: plane, admin: admin}
	secAddr, notifies := ackingSecondary(t)
	if r := e.do(t, "POST", "/v1/zones", admin, `{"name":"example.com","nameservers":["ns1.example.net."],"notify":[{"address":"`+secAddr+`"}]}`); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		xfr.NewNotifier(pub, plane.Zones, plane.TSIGKeys, xfr.NotifierOptions{Delay: time.Millisecond, Clock: clock.Real()}, slog.New(slog.DiscardHandler)).Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	// The zone's first serial is notified at start, in a trace of its own.
	waitSpan(t, exp, "xfr.notify.send")
	for notifies() == 0 {
		time.Sleep(time.Millisecond)
	}
	exp.Reset()

	parent := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled, Remote: true})
	r := e.do(t, "PATCH", "/v1/zones/example.com./rrsets", admin,
		`{"changes":[{"op":"set","name":"www","type":"A","ttl":60,"records":["192.0.2.1"]}]}`,
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if r.status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	send := waitSpan(t, exp, "xfr.notify.send")
	byName := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		if s.SpanContext.TraceID() != parent.TraceID() {
			t.Errorf("span %s in trace %s, want the request's %s", s.Name, s.SpanContext.TraceID(), parent.TraceID())
		}
		byName[s.Name] = s
	}
	req, ok := byName["PATCH /v1/zones/{zone}/rrsets"]
	if !ok {
		t.Fatalf("no server span named by the route; spans %v", spanNames(exp.GetSpans()))
	}
	if req.Parent.SpanID() != parent.SpanID() || req.SpanKind != trace.SpanKindServer {
		t.Errorf("server span's parent %s kind %v, want the traceparent's %s, server", req.Parent.SpanID(), req.SpanKind, parent.SpanID())
	}
	if v, _ := attr(req, "http.response.status_code"); v.AsInt64() != 200 {
		t.Errorf("status code attribute %v, want 200", v.String())
	}
	for _, child := range []string{"api.decode", "control.edit", "publish.wait"} {
		s, ok := byName[child]
		if !ok {
			t.Errorf("no span %s", child)
			continue
		}
		if s.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("%s's parent is %s, want the request's span", child, s.Parent.SpanID())
		}
	}
	edit := byName["control.edit"]
	if z, _ := attr(edit, "stratus.zone"); z.AsString() != "example.com." {
		t.Errorf("control.edit zone %q", z.String())
	}
	if s, _ := attr(edit, "stratus.serial"); s.AsInt64() != 2 {
		t.Errorf("control.edit serial %v, want 2", s.String())
	}
	if !byName["publish.wait"].StartTime.After(edit.StartTime) {
		t.Error("the wait for publication started before the transaction")
	}
	round, ok := byName["xfr.notify"]
	if !ok || round.Parent.SpanID() != edit.SpanContext.SpanID() {
		t.Errorf("the NOTIFY round is not a child of the transaction that made its serial (parent %s)", round.Parent.SpanID())
	}
	if s, _ := attr(round, "stratus.serial"); s.AsInt64() != 2 {
		t.Errorf("NOTIFY round for serial %v, want 2", s.String())
	}
	if send.Parent.SpanID() != round.SpanContext.SpanID() {
		t.Error("the NOTIFY sent is not a child of its round")
	}
	if v, _ := attr(send, "server.address"); v.AsString() != secAddr {
		t.Errorf("NOTIFY sent to %q, want %s", v.String(), secAddr)
	}
}

// TestWriteTraceStartsRoot: without a traceparent the request's span is
// the root of a new trace, and a request that fails validation records
// the status code and the decoding error.
func TestWriteTraceStartsRoot(t *testing.T) {
	exp := recordSpans(t)
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	req := waitSpan(t, exp, "POST /v1/zones")
	if req.Parent.IsValid() {
		t.Errorf("a request without traceparent has parent %s", req.Parent.SpanID())
	}
	exp.Reset()
	if r := e.do(t, "PATCH", "/v1/zones/example.com./rrsets", e.admin, `{"changes":[{"op":"replace","nme":"www"}]}`); r.status != 400 {
		t.Fatalf("bad patch: %d", r.status)
	}
	req = waitSpan(t, exp, "PATCH /v1/zones/{zone}/rrsets")
	if v, _ := attr(req, "http.response.status_code"); v.AsInt64() != 400 {
		t.Errorf("status code attribute %v, want 400", v.String())
	}
	dec := waitSpan(t, exp, "api.decode")
	if dec.Status.Code.String() != "Error" || dec.Parent.SpanID() != req.SpanContext.SpanID() {
		t.Errorf("decode span status %v parent %s", dec.Status, dec.Parent.SpanID())
	}
	for _, s := range exp.GetSpans() {
		if s.Name == "control.edit" {
			t.Error("a request refused at decoding reached the store")
		}
	}
}

// TestNoSpansWhenTracingOff: with no tracer provider set, a traced write
// records nothing, a traceparent changes nothing, and nothing is noted
// for NOTIFY.
func TestNoSpansWhenTracingOff(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)) // made, never set
	defer tp.Shutdown(context.Background())
	e := newAPI(t)
	if r := e.do(t, "POST", "/v1/zones", e.admin, createExample); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	r := e.do(t, "PATCH", "/v1/zones/example.com./rrsets", e.admin,
		`{"changes":[{"op":"set","name":"www","type":"A","records":["192.0.2.1"]}]}`,
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if telemetry.Tracing() || len(exp.GetSpans()) != 0 {
		t.Errorf("tracing off recorded %v", spanNames(exp.GetSpans()))
	}
	if _, ok := telemetry.SerialSpan("example.com.", 2); ok {
		t.Error("a serial's span was noted with tracing off")
	}
}

// TestImportTrace: a zone file upload's trace has the parsing and the
// import's transaction under the request's span.
func TestImportTrace(t *testing.T) {
	exp := recordSpans(t)
	e := newAPI(t)
	zone := "$ORIGIN imported.test.\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n"
	if r := e.do(t, "PUT", "/v1/zones/imported.test./zonefile", e.admin, zone, "Content-Type", "text/dns"); r.status/100 != 2 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	req := waitSpan(t, exp, "PUT /v1/zones/{zone}/zonefile")
	for _, name := range []string{"api.decode", "control.edit", "publish.wait"} {
		s := waitSpan(t, exp, name)
		if s.Parent.SpanID() != req.SpanContext.SpanID() {
			t.Errorf("%s is not a child of the request's span", name)
		}
	}
	if z, _ := attr(waitSpan(t, exp, "control.edit"), "stratus.zone"); z.AsString() != "imported.test." {
		t.Errorf("control.edit zone %q", z.String())
	}
}

// TestRequestLogNamesTrace: with tracing on, a request's log line names
// its trace id.
func TestRequestLogNamesTrace(t *testing.T) {
	recordSpans(t)
	var logs testutil.LogBuffer
	plane, _ := controltest.New(t, control.Options{})
	admin, _, err := plane.Tokens.CreateToken(context.Background(), "admin", []string{"*"}, auth.Local("test"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(PlaneControl(plane), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: plane, admin: admin}
	if r := e.do(t, "POST", "/v1/zones", admin, createExample, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); r.status != 201 {
		t.Fatalf("create zone: %d %s", r.status, r.body)
	}
	if !strings.Contains(logs.String(), "trace_id=4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Errorf("the request's log line names no trace: %s", logs.String())
	}
}
