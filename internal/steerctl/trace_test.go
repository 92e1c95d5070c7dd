package steerctl

import (
	"context"
	"net"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/healthview"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/steer"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// TestFailoverTrace: a probe whose result takes an endpoint down starts
// one trace, wired as the server wires it (checker, cluster view,
// steering): the probe, the state change under it, the checker's report,
// the merge into the view, and the recompilation with the service's
// compilation and the snapshot swap, each the child of the one before.
// Probes that change nothing make no span.
func TestFailoverTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	defer telemetry.SetTracerProvider(tp)()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	clk := clock.NewFake(epoch)
	var view *healthview.View
	var c *Controller
	checker := health.New(health.Options{Clock: clk, OnChange: func(ctx context.Context, keys []string) { view.LocalChanged(ctx, keys) }})
	view = healthview.New(checker, healthview.Options{Node: "a", Clock: clk,
		OnChange: func(ctx context.Context, keys []string) { c.HealthChanged(ctx, keys) }})
	c = New(checker, Options{Clock: clk, Health: view})
	t.Cleanup(func() {
		c.Close()
		checker.Close()
	})

	svc := &model.Service{Name: "api.example.com.", Pools: []model.Pool{{Name: "p", Check: model.CheckSpec{
		Type: model.CheckTCP, Port: uint16(port), Interval: model.Duration(time.Second), Timeout: model.Duration(time.Second), Rise: 1, Fall: 1}}}}
	svc.Normalize()
	ep := endpoint("e1", "127.0.0.1", 0, clk.Now())
	c.ResetServices([]*model.Service{svc}, []*model.Endpoint{ep})
	key := steer.Key(svc.Name, "e1")
	// probe steps the clock to the target's next probe and waits for its
	// result.
	probe := func() {
		t.Helper()
		before, _ := checker.Status(key)
		waitFor(t, "the next probe", func() bool {
			if st, _ := checker.Status(key); st.LastCheck.After(before.LastCheck) {
				return true
			}
			if next, ok := clk.Next(); ok && !next.After(clk.Now().Add(time.Second)) {
				clk.Set(next)
			}
			return false
		})
	}
	probe()
	waitFor(t, "the endpoint up", func() bool {
		st, ok := view.Status(key)
		return ok && st.State == health.Up
	})
	waitFor(t, "the first change's recompilation", func() bool { return len(spansNamed(exp, "steerctl.recompile")) == 1 })
	probe() // changes nothing: makes no span
	if n := len(spansNamed(exp, "health.probe")); n != 1 {
		t.Fatalf("%d probe spans after a probe that changed nothing, want the first one only", n)
	}
	exp.Reset()

	ln.Close() // the endpoint goes down: connections are refused
	probe()
	waitFor(t, "the endpoint down", func() bool {
		st, _ := view.Status(key)
		return st.State == health.Down
	})
	waitFor(t, "the recompilation's span", func() bool { return len(spansNamed(exp, "steerctl.recompile")) == 1 })

	chain := []string{"health.probe", "health.state_change", "health.notify", "healthview.merge", "steerctl.recompile"}
	var prev tracetest.SpanStub
	for i, name := range chain {
		got := spansNamed(exp, name)
		if len(got) != 1 {
			t.Fatalf("%d spans %s, want 1; have %v", len(got), name, names(exp))
		}
		s := got[0]
		if i == 0 {
			if s.Parent.IsValid() {
				t.Errorf("the probe's span has a parent %s", s.Parent.SpanID())
			}
		} else if s.SpanContext.TraceID() != prev.SpanContext.TraceID() || s.Parent.SpanID() != prev.SpanContext.SpanID() {
			t.Errorf("%s is not a child of %s", name, chain[i-1])
		}
		prev = s
	}
	for _, name := range []string{"steer.compile", "steer.swap"} {
		got := spansNamed(exp, name)
		if len(got) != 1 || got[0].Parent.SpanID() != prev.SpanContext.SpanID() {
			t.Errorf("%s: %d spans, want 1 under the recompilation", name, len(got))
		}
	}
	// The materialiser's next write follows the swap, in the same trace.
	w := &spanWriter{got: make(chan trace.SpanContext, 1)}
	mctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Materialize(mctx, w, time.Millisecond) }()
	sc := <-w.got
	cancel()
	<-done
	swap := spansNamed(exp, "steer.swap")[0]
	mat := spansNamed(exp, "steerctl.materialize")
	if len(mat) != 1 || mat[0].Parent.SpanID() != swap.SpanContext.SpanID() || sc.SpanID() != mat[0].SpanContext.SpanID() {
		t.Errorf("the steered answers were not written in a steerctl.materialize span under the swap (%d spans)", len(mat))
	}
	change := spansNamed(exp, "health.state_change")[0]
	for _, kv := range change.Attributes {
		if kv.Key == "stratus.new_state" && kv.Value.AsString() != "down" {
			t.Errorf("state change to %s, want down", kv.Value.AsString())
		}
	}
}

func spansNamed(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func names(exp *tracetest.InMemoryExporter) []string {
	var out []string
	for _, s := range exp.GetSpans() {
		out = append(out, s.Name)
	}
	return out
}

// spanWriter is a SteeredWriter that hands over the span context of its
// first write.
type spanWriter struct{ got chan trace.SpanContext }

func (w *spanWriter) SetSteeredAnswers(ctx context.Context, z model.Name, _ []*model.RRset, _ string) (control.ChangeResult, error) {
	select {
	case w.got <- trace.SpanContextFromContext(ctx):
	default:
	}
	return control.ChangeResult{Zone: z}, nil
}

func (w *spanWriter) SteeredZones(context.Context) ([]model.Name, error) { return nil, nil }
