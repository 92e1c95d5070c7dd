package secondary

import (
	"context"
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

// TestRefreshLoopPanicRestarts: a zone's refresh loop that panics is
// recovered, logged with its stack and counted, and runs again a second
// later (on the manager's clock): the zone is transferred.
func TestRefreshLoopPanicRestarts(t *testing.T) {
	var armed atomic.Bool
	armed.Store(true)
	refreshHook = func(model.Name) {
		if armed.CompareAndSwap(true, false) {
			panic("refresh broke")
		}
	}
	t.Cleanup(func() { refreshHook = nil }) // after the manager has stopped
	p := startPrimary(t)
	svc := newService(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := svc.Secondaries.CreateSecondaryZone(ctx, model.ZoneSettings{Name: "sec.test.", Primaries: []model.NotifyTarget{{Address: p.addr}}}, "test"); err != nil {
		t.Fatal(err)
	}
	before := telemetry.PanicCount("secondary")
	fake := clock.NewFake(time.Now())
	var logs testutil.LogBuffer
	m := New(svc.Secondaries, svc.TSIGKeys, Options{Clock: fake}, slog.New(slog.NewTextHandler(&logs, nil)))
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	when := fake.Now().Add(telemetry.RestartPause)
	waitFor(t, "the pause after the panic", func() bool { return fake.ArmedAt(when) > 0 })
	if n := telemetry.PanicCount("secondary") - before; n != 1 {
		t.Errorf("panics counted: %v, want 1", n)
	}
	fake.Step(telemetry.RestartPause)
	waitZone(t, svc, "the transfer after the restart", func(z model.ZoneInfo) bool { return z.Serial == 1 })
	for _, want := range []string{`level=ERROR msg="panic recovered"`, "component=secondary", "zone=sec.test.", `panic="refresh broke"`, "runtime/debug.Stack"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}
