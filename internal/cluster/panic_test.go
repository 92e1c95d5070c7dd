package cluster

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestPanickingTaskStartsAgain: a session or leader task that panics is
// recovered, logged with its stack, counted, and started again after the
// backoff, while the node goes on.
func TestPanickingTaskStartsAgain(t *testing.T) {
	for _, kind := range []string{"session", "leader"} {
		t.Run(kind, func(t *testing.T) {
			f := newFakeShared()
			clk := clock.NewFake(t0)
			var logs testutil.LogBuffer
			n := New(Options{Name: "a", SessionTTL: 10 * time.Second, Open: f.open, Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			var calls, running atomic.Int32
			body := func(ctx context.Context) {
				if calls.Add(1) == 1 {
					panic("task broke")
				}
				running.Add(1)
				<-ctx.Done()
				running.Add(-1)
			}
			if kind == "session" {
				n.OnSession("boom", func(ctx context.Context, _ store.Session) error { body(ctx); return nil })
			} else {
				n.WhileLeading("boom", body)
			}
			before := telemetry.PanicCount("cluster_task")
			runNode(t, n)
			waitFor(t, "the backoff after the panic", func() bool { return calls.Load() == 1 && clk.Armed() == 1 })
			if got := telemetry.PanicCount("cluster_task") - before; got != 1 {
				t.Errorf("panics counted: %v, want 1", got)
			}
			clk.Step(DefaultMinBackoff)
			waitFor(t, "the task started again", func() bool { return running.Load() == 1 })
			if kind == "leader" && !n.Leading() {
				t.Error("the node stopped leading")
			}
			log := logs.String()
			for _, want := range []string{`level=ERROR msg="panic recovered"`, "task=boom", "component=cluster_task", `panic="task broke"`, "runtime/debug.Stack", "failed; starting it again"} {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
		})
	}
}
