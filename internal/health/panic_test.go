package health

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
	"github.com/stratusdns/stratus/internal/testutil"
)

// panickyProber panics on its first probe, then succeeds.
type panickyProber struct{ calls atomic.Int32 }

func (p *panickyProber) probe(context.Context) result {
	if p.calls.Add(1) == 1 {
		panic("probe broke")
	}
	return okResult
}

func (p *panickyProber) close() {}

// TestPanickingProbeFails: a probe that panics counts as a failed probe;
// the panic is logged with its stack and counted, the probe slot is given
// back, and the target goes on probing at its interval. A panic of the
// OnChange receiver costs its batch, not the notifier.
func TestPanickingProbeFails(t *testing.T) {
	const interval = 300 * time.Millisecond
	var logs testutil.LogBuffer
	var changes, failChanges atomic.Int32
	failChanges.Store(1)
	c, clock := newSteppedChecker(t, Options{MaxInFlight: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnChange: func(context.Context, []string) {
			changes.Add(1)
			if failChanges.Add(-1) == 0 {
				panic("receiver broke")
			}
		}})
	start := clock.Now()
	p := &panickyProber{}
	c.proberFor = func(e *probeEnv) (prober, error) { return p, nil }
	probes := telemetry.PanicCount("health")
	c.SetTargets([]Target{{Key: "k", Host: "127.0.0.1", Port: 1, Check: spec(model.CheckHTTP, func(s *model.CheckSpec) {
		s.Interval = model.Duration(interval)
		s.Rise = 1
	})}})
	clock.waitArmed(t, start.Add(interval))
	if st, _ := c.Status("k"); st.State != Down || !strings.Contains(st.LastError, "panic: probe broke") {
		t.Errorf("after a probe that panicked: %+v", st)
	}
	waitFor(t, "OnChange told of the first state", func() bool { return changes.Load() == 1 })
	clock.Step(interval)
	waitState(t, c, "k", Up)
	waitFor(t, "OnChange told of Up after its panic", func() bool { return changes.Load() == 2 })
	if n := telemetry.PanicCount("health") - probes; n != 2 {
		t.Errorf("panics counted: %v, want 2 (the probe and OnChange)", n)
	}
	log := logs.String()
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=health", `panic="probe broke"`, "key=k", `panic="receiver broke"`, "runtime/debug.Stack"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
