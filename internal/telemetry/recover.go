package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stratusdns/stratus/internal/clock"
)

// Panics is stratus_panics_recovered_total{component}: the panics a
// long-lived goroutine recovered from. component is a fixed name of the
// goroutine's kind (dns_udp, api, publisher, cluster_task...), never free
// text. It counts for the whole process; each node registers it with its
// registry.
var Panics = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: Namespace,
	Name:      "panics_recovered_total",
	Help:      "Panics recovered from, by the component that panicked; the component went on (or started again) after each.",
}, []string{"component"})

// Panicked reports a panic recovered in component: it counts it in Panics
// and logs it at ERROR with the stack (log may be nil: the default
// logger). The query path, which may not import this package, reports
// through a callback that ends here. The line is written before the
// count moves, so whoever sees the count can find the line.
func Panicked(log *slog.Logger, component string, recovered any, stack []byte) {
	if log == nil {
		log = slog.Default()
	}
	log.Error("panic recovered", "component", component, "panic", fmt.Sprint(recovered), "stack", string(stack))
	CountPanic(component)
}

// CountPanic counts a panic that was logged already.
func CountPanic(component string) { Panics.WithLabelValues(component).Inc() }

// Recover, deferred, recovers a panic of the goroutine it is deferred in
// and reports it (Panicked): defer telemetry.Recover(log, "drill").
func Recover(log *slog.Logger, component string) {
	if r := recover(); r != nil {
		Panicked(log, component, r, debug.Stack())
	}
}

// Guard runs fn and reports whether it panicked; a panic is recovered and
// reported (Panicked). A loop that must survive runs its body in Guard.
func Guard(log *slog.Logger, component string, fn func()) (panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			Panicked(log, component, r, debug.Stack())
			panicked = true
		}
	}()
	fn()
	return false
}

// Catch runs fn and returns its error, or an error naming the panic when
// fn panicked (recovered and reported with Panicked): for a task whose
// runner starts it again after an error.
func Catch(log *slog.Logger, component string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			Panicked(log, component, r, debug.Stack())
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// PanicCount returns the panics of component counted so far.
func PanicCount(component string) float64 {
	var m dto.Metric
	if err := Panics.WithLabelValues(component).Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// Restart runs fn until it returns or ctx is done. A panic of fn is
// reported (Panicked) and fn runs again after pause on clk (nil: the
// system's clock), so a loop that panics at once every time does not
// spin.
func Restart(ctx context.Context, clk clock.Clock, log *slog.Logger, component string, pause time.Duration, fn func(context.Context)) {
	if clk == nil {
		clk = clock.Real()
	}
	for Guard(log, component, func() { fn(ctx) }) {
		t := clk.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// RestartPause is the pause Restart is given by the loops that use it.
const RestartPause = time.Second
