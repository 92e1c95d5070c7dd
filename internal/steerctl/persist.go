package steerctl

import (
	"context"
	"log/slog"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
)

// DefaultEventBatch is how long the controller gathers events before it
// writes them: the events of at most this long (and of the commit under
// way) before a crash are lost.
const DefaultEventBatch = 50 * time.Millisecond

// persistEvents writes the checker's events to the store's event log as
// they come, after those it holds already, until ctx is done; then it
// writes what is left. The checker's health path only signals: writes
// run here, at most one per batch interval (default DefaultEventBatch), so
// a burst of events is one transaction. A failed write is tried again a
// batch interval later. The controller runs it (Options.Events).
func persistEvents(ctx context.Context, clk clock.Clock, checker *health.Checker, evl *control.EventLog, batch time.Duration, log *slog.Logger) {
	if batch <= 0 {
		batch = DefaultEventBatch
	}
	after := evl.Last()
	write := func(ctx context.Context) bool {
		evs := checker.Events(after, 0)
		if len(evs) == 0 {
			return true
		}
		if err := evl.Append(ctx, StoredEvents(evs)); err != nil {
			log.Error("cannot keep health events in the store", "events", len(evs), "err", err)
			return false
		}
		after = evs[len(evs)-1].Seq
		return true
	}
	var last time.Time // of the latest write
	timer := clk.NewTimer(time.Hour)
	timer.Stop()
	pending := true // events may have come before this started
	for {
		if !pending {
			select {
			case <-ctx.Done():
				write(context.WithoutCancel(ctx))
				return
			case <-checker.EventsAdded():
			}
		}
		if wait := batch - clock.Since(clk, last); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				write(context.WithoutCancel(ctx))
				return
			case <-timer.C():
			}
		}
		select { // the events this write takes need no other
		case <-checker.EventsAdded():
		default:
		}
		last = clk.Now()
		pending = !write(ctx)
	}
}

// StoredEvents converts health events to their stored form.
func StoredEvents(evs []health.Event) []control.StoredEvent {
	out := make([]control.StoredEvent, len(evs))
	for i, ev := range evs {
		out[i] = control.StoredEvent{Seq: ev.Seq, Time: ev.Time, Key: ev.Key, Old: ev.Old.String(), New: ev.New.String(), Reason: ev.Reason, Actor: ev.Actor}
	}
	return out
}

// HealthEvents converts stored events back, for Checker.RestoreEvents.
func HealthEvents(evs []control.StoredEvent) []health.Event {
	out := make([]health.Event, len(evs))
	for i, ev := range evs {
		out[i] = health.Event{Seq: ev.Seq, Time: ev.Time, Key: ev.Key, Old: health.ParseState(ev.Old), New: health.ParseState(ev.New), Reason: ev.Reason, Actor: ev.Actor}
	}
	return out
}
