package steerctl

import (
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestTimerPanicRecovered: a timer whose callback panics is recovered,
// logged with its stack and counted; the controller goes on, and the next
// change compiles the answers the timer would have.
func TestTimerPanicRecovered(t *testing.T) {
	var armed atomic.Bool
	timerHook = func() {
		if armed.CompareAndSwap(true, false) {
			panic("timer broke")
		}
	}
	t.Cleanup(func() { timerHook = nil }) // after the controller's Close
	clk := clock.NewFake(epoch)
	var logs testutil.LogBuffer
	c, _ := newControllerWith(t, Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	start := clk.Now()
	eps := []*model.Endpoint{endpoint("short", "192.0.2.1", 300*time.Millisecond, start), endpoint("long", "192.0.2.2", time.Hour, start)}
	c.ResetServices([]*model.Service{service()}, eps)
	before := telemetry.PanicCount("steering")
	armed.Store(true)
	clk.Set(start.Add(301 * time.Millisecond))
	waitFor(t, "the panic to be counted", func() bool { return telemetry.PanicCount("steering") == before+1 })
	c.ResetServices([]*model.Service{service()}, eps)
	waitFor(t, "the lapsed endpoint to leave the answers", func() bool {
		got := answer(t, c)
		return len(got) == 1 && got[0] == "192.0.2.2"
	})
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=steering", `panic="timer broke"`, "runtime/debug.Stack"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
