package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/control/controltest"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
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

// sampleZero makes the node keep none of the traces it starts itself
// (sample_ratio 0) for the rest of the test.
func sampleZero(t *testing.T) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	zero := 0.0
	tp := telemetry.NewTracerProvider(config.Tracing{SampleRatio: &zero}, "n1", sdktrace.WithSyncer(exp))
	restore := telemetry.SetTracerProvider(tp)
	t.Cleanup(func() {
		restore()
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

// TestTraceparentOfAuthenticatedRequest: a request with a valid token
// may name its parent, and a sampled parent is followed under
// sample_ratio 0; so may one that authenticated but lacks the scope (it
// is refused after authentication).
func TestTraceparentOfAuthenticatedRequest(t *testing.T) {
	exp := sampleZero(t)
	e := newAPI(t)
	reader := e.createToken(t, e.admin, "reader", "zones:read").Secret
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, c := range []struct {
		token, method, path, body string
		status                    int
		span                      string
	}{
		{e.admin, "GET", "/v1/zones", "", 200, "GET /v1/zones"},
		{reader, "POST", "/v1/zones", createExample, 403, "POST /v1/zones"},
	} {
		exp.Reset()
		if r := e.do(t, c.method, c.path, c.token, c.body, "traceparent", parent); r.status != c.status {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
		s := waitSpan(t, exp, c.span)
		if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || s.Parent.SpanID().String() != "00f067aa0ba902b7" {
			t.Errorf("%s: span in trace %s under %s, want the traceparent's", c.span, got, s.Parent.SpanID())
		}
		if v, _ := attr(s, "http.response.status_code"); v.AsInt64() != int64(c.status) {
			t.Errorf("%s: status code attribute %v, want %d", c.span, v.String(), c.status)
		}
	}
}

// TestUnauthenticatedRequestStartsRoot: a request without a valid token
// (none, or a wrong one) that sends a traceparent gets a span of a trace
// of the node's own, not the caller's, kept at sample_ratio (here 1);
// its log line names that trace.
func TestUnauthenticatedRequestStartsRoot(t *testing.T) {
	exp := recordSpans(t)
	var logs testutil.LogBuffer
	plane, _ := controltest.New(t, control.Options{})
	srv := httptest.NewServer(New(PlaneControl(plane), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	t.Cleanup(srv.Close)
	e := &apiEnv{srv: srv, svc: plane}
	const caller = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, token := range []string{"", "stratus_000000000000_nope"} {
		exp.Reset()
		if r := e.do(t, "GET", "/v1/zones", token, "", "traceparent", "00-"+caller+"-00f067aa0ba902b7-01"); r.status != 401 {
			t.Fatalf("token %q: %d", token, r.status)
		}
		s := waitSpan(t, exp, "GET /v1/zones")
		if s.Parent.IsValid() || s.SpanContext.TraceID().String() == caller {
			t.Errorf("token %q: span in trace %s under %s, want a root of a trace of its own", token, s.SpanContext.TraceID(), s.Parent.SpanID())
		}
		if v, _ := attr(s, "http.response.status_code"); v.AsInt64() != 401 {
			t.Errorf("token %q: status code attribute %v, want 401", token, v.String())
		}
		if want := "trace_id=" + s.SpanContext.TraceID().String(); !strings.Contains(logs.String(), want) {
			t.Errorf("token %q: the request's log line does not name its trace (%s): %s", token, want, logs.String())
		}
	}
	if strings.Contains(logs.String(), caller) {
		t.Errorf("the log names the caller's trace: %s", logs.String())
	}
}

// TestHostileTraceparent: whatever trace context headers a request
// brings (garbage, overlong, repeated), it is answered as usual, and
// what cannot be parsed, or is beyond the bounds, is ignored: the span
// is then a root. Each case is sent with a valid token and without.
func TestHostileTraceparent(t *testing.T) {
	exp := recordSpans(t)
	e := newAPI(t)
	const (
		tid   = "4bf92f3577b34da6a3ce929d0e0e4736"
		sid   = "00f067aa0ba902b7"
		valid = "00-" + tid + "-" + sid + "-01"
	)
	// Two tracestate headers of maxTracestateLen characters joined.
	stateA := "a=" + strings.Repeat("x", 253)
	stateB := "b=" + strings.Repeat("y", maxTracestateLen-len(stateA)-len(",b="))
	many := func(n int, v string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	for _, c := range []struct {
		name   string
		parent []string // traceparent headers
		state  []string // tracestate headers
		honour bool     // the span is the traceparent's child
		ts     string   // the span's tracestate, when honoured
	}{
		{name: "valid", parent: []string{valid}, honour: true},
		{name: "future version with a field", parent: []string{"01-" + tid + "-" + sid + "-01-more"}, honour: true},
		{name: "empty", parent: []string{""}},
		{name: "garbage", parent: []string{"hello, world"}},
		{name: "not ASCII", parent: []string{"00-" + strings.Repeat("é", 16) + "-" + sid + "-01"}},
		{name: "upper case", parent: []string{strings.ToUpper(valid)}},
		{name: "version ff", parent: []string{"ff-" + tid + "-" + sid + "-01"}},
		{name: "zero trace id", parent: []string{"00-" + strings.Repeat("0", 32) + "-" + sid + "-01"}},
		{name: "zero span id", parent: []string{"00-" + tid + "-" + strings.Repeat("0", 16) + "-01"}},
		{name: "short trace id", parent: []string{"00-" + tid[2:] + "-" + sid + "-01"}},
		{name: "version 00 with a field", parent: []string{valid + "-more"}},
		{name: "overlong version 00", parent: []string{valid + strings.Repeat("0", 64<<10)}},
		{name: "overlong future version", parent: []string{"01-" + tid + "-" + sid + "-01-" + strings.Repeat("a", 64<<10)}},
		{name: "just over the bound", parent: []string{"01-" + tid + "-" + sid + "-01-" + strings.Repeat("a", maxTraceparentLen-55)}},
		{name: "two", parent: []string{valid, valid}},
		{name: "two different", parent: []string{valid, "00-" + strings.Repeat("1", 32) + "-" + sid + "-01"}},
		{name: "many", parent: many(200, valid)},
		{name: "tracestate", parent: []string{valid}, state: []string{"a=1", "b=2"}, honour: true, ts: "a=1,b=2"},
		{name: "garbage tracestate", parent: []string{valid}, state: []string{"=,=;@ key"}, honour: true},
		{name: "tracestate at the bound", parent: []string{valid}, state: []string{stateA, stateB}, honour: true, ts: stateA + "," + stateB},
		{name: "tracestate over the bound", parent: []string{valid}, state: []string{stateA, stateB + "y"}, honour: true},
		{name: "overlong tracestate", parent: []string{valid}, state: many(100, "a=1"), honour: true},
		{name: "huge tracestate", parent: []string{valid}, state: []string{"a=" + strings.Repeat("b", 64<<10)}, honour: true},
		{name: "tracestate alone", state: []string{"a=1"}},
	} {
		for _, token := range []string{e.admin, ""} {
			exp.Reset()
			req, err := http.NewRequest("GET", e.srv.URL+"/v1/zones", nil)
			if err != nil {
				t.Fatal(err)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			req.Header["Traceparent"] = c.parent
			req.Header["Tracestate"] = c.state
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if want := map[bool]int{true: 200, false: 401}[token != ""]; res.StatusCode != want {
				t.Errorf("%s (token %t): status %d, want %d", c.name, token != "", res.StatusCode, want)
				continue
			}
			s := waitSpan(t, exp, "GET /v1/zones")
			honoured := s.Parent.IsValid()
			if honoured != (c.honour && token != "") {
				t.Errorf("%s (token %t): span under %q in trace %s", c.name, token != "", s.Parent.SpanID(), s.SpanContext.TraceID())
				continue
			}
			if honoured && (s.SpanContext.TraceID().String() != tid || s.Parent.SpanID().String() != sid) {
				t.Errorf("%s: span in trace %s under %s, want %s under %s", c.name, s.SpanContext.TraceID(), s.Parent.SpanID(), tid, sid)
			}
			if !honoured && s.SpanContext.TraceID().String() == tid {
				t.Errorf("%s (token %t): a root span in the caller's trace", c.name, token != "")
			}
			if got := s.SpanContext.TraceState().String(); honoured && got != c.ts {
				t.Errorf("%s: tracestate %q, want %q", c.name, got, c.ts)
			}
		}
	}
}

// TestOpenAPIDocumentsTraceparent: the API's document describes the
// optional traceparent header, and that only a request with a valid
// token may name its parent.
func TestOpenAPIDocumentsTraceparent(t *testing.T) {
	var doc struct {
		Info       struct{ Description string }
		Components struct {
			Parameters map[string]struct {
				Name, In, Description string
				Required              bool
				Schema                struct{ MaxLength int }
			}
		}
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	p, ok := doc.Components.Parameters["traceparent"]
	if !ok {
		t.Fatal("openapi.json: no components.parameters.traceparent")
	}
	if p.Name != "traceparent" || p.In != "header" || p.Required || p.Schema.MaxLength != maxTraceparentLen {
		t.Errorf("traceparent parameter %+v, want an optional header of at most %d characters", p, maxTraceparentLen)
	}
	if !strings.Contains(p.Description, "valid token") || !strings.Contains(doc.Info.Description, "`traceparent`") {
		t.Errorf("the document does not say when a traceparent is honoured: %q", p.Description)
	}
}

// FuzzTraceContext: whatever trace context headers a request brings,
// reading them never fails, and a parent is taken only from a single
// traceparent within its bound, and always in its trace.
func FuzzTraceContext(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "a=1", false)
	f.Add("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", "", "", false)
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", true)
	f.Add("hello", "", "=,=", false)
	f.Fuzz(func(t *testing.T, parent, second, state string, twice bool) {
		h := http.Header{}
		h.Add(traceparentHeader, parent)
		if twice {
			h.Add(traceparentHeader, second)
		}
		h.Add(tracestateHeader, state)
		sc := trace.SpanContextFromContext(traceContext.Extract(context.Background(), incomingTraceContext(h)))
		if !sc.IsValid() {
			return
		}
		if twice || len(parent) > maxTraceparentLen {
			t.Fatalf("parent %v taken from %q (twice %t)", sc, parent, twice)
		}
		if !strings.Contains(parent, sc.TraceID().String()) || len(sc.TraceState().String()) > maxTracestateLen {
			t.Fatalf("parent %v (tracestate %q) from %q", sc, sc.TraceState().String(), parent)
		}
	})
}
