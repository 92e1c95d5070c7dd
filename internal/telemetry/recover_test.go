package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/testutil"
)

func TestRecoverGuardCatch(t *testing.T) {
	var logs testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	before := PanicCount("test_recover")

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer Recover(log, "test_recover")
		panic("in a goroutine")
	}()
	<-done
	if Guard(log, "test_recover", func() {}) {
		t.Error("Guard reported a panic of a function that returned")
	}
	if !Guard(log, "test_recover", func() { panic("guarded") }) {
		t.Error("Guard did not report the panic")
	}
	want := errors.New("plain")
	if err := Catch(log, "test_recover", func() error { return want }); err != want {
		t.Errorf("Catch: %v, want the function's error", err)
	}
	if err := Catch(log, "test_recover", func() error { panic("caught") }); err == nil || !strings.Contains(err.Error(), "panic: caught") {
		t.Errorf("Catch of a panic: %v", err)
	}
	if n := PanicCount("test_recover") - before; n != 3 {
		t.Errorf("counted %v panics, want 3", n)
	}
	for _, w := range []string{`panic="in a goroutine"`, `panic=guarded`, `panic=caught`, "level=ERROR", "component=test_recover", "runtime/debug.Stack"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, logs.String())
		}
	}
}

// TestRestart: a loop that panics runs again after the pause, on the
// clock it is given; one that returns is not run again.
func TestRestart(t *testing.T) {
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	var runs atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		Restart(context.Background(), clk, nil, "test_restart", time.Second, func(context.Context) {
			if runs.Add(1) < 3 {
				panic("loop broke")
			}
		})
	}()
	for i := 1; i < 3; i++ {
		for clk.Armed() == 0 || runs.Load() != int32(i) {
			time.Sleep(time.Millisecond)
		}
		clk.Step(time.Second)
	}
	<-done
	if runs.Load() != 3 {
		t.Errorf("ran %d times, want 3", runs.Load())
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		Restart(ctx, clk, nil, "test_restart", time.Second, func(context.Context) { panic("again") })
	}()
	for clk.Armed() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel() // the pause ends with ctx
	<-stopped
}
