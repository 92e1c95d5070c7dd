package steerctl

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/health"
	"github.com/stratusdns/stratus/internal/store"
	"github.com/stratusdns/stratus/internal/store/bolt"
)

// persisting is a checker whose events a controller keeps in a bolt
// store, as the server runs them, on a fake clock.
type persisting struct {
	st      store.Store
	evl     *control.EventLog
	checker *health.Checker
	ctrl    *Controller
	clk     *clock.Fake
}

// eventBatch is the tests' batch interval.
const eventBatch = 10 * time.Millisecond

func startPersisting(t *testing.T, path string) *persisting {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	evl, kept, err := control.OpenEventLog(context.Background(), st, control.EventLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(epoch)
	p := &persisting{st: st, evl: evl, checker: health.New(health.Options{Clock: clk}), clk: clk}
	if !p.checker.RestoreEvents(HealthEvents(kept)) {
		t.Fatal("a new checker refused the kept events")
	}
	p.ctrl = New(p.checker, Options{Clock: clk, Events: evl, EventBatch: eventBatch})
	return p
}

// stop closes the controller (which writes what is left), the checker
// and the store.
func (p *persisting) stop() {
	p.ctrl.Close()
	p.checker.Close()
	p.st.Close()
}

func (p *persisting) record(n int, what string) {
	for i := range n {
		p.checker.Record(health.Event{Key: "api.example.com.|a", Old: health.Up, New: health.Down, Actor: "check", Reason: fmt.Sprint(what, " ", i)})
	}
}

// waitStored steps the clock a batch interval at a time until the events
// up to seq are stored.
func waitStored(t *testing.T, p *persisting, seq uint64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("events up to %d to be stored", seq), func() bool {
		if p.evl.Last() >= seq {
			return true
		}
		p.clk.Step(eventBatch)
		return false
	})
}

// TestEventsSurviveRestart: events logged are in the store within a batch
// interval, a checker started on the store again shows them, and its
// events are numbered after them.
func TestEventsSurviveRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	p := startPersisting(t, path)
	p.record(3, "before")
	waitStored(t, p, 3)
	p.record(2, "later")
	waitStored(t, p, 5)
	before := p.checker.Events(0, 0)
	p.st.Close() // as a crash would: nothing more is written
	p.ctrl.Close()
	p.checker.Close()

	p = startPersisting(t, path)
	defer p.stop()
	after := p.checker.Events(0, 0)
	if len(after) != 5 {
		t.Fatalf("%d events after the restart, want 5", len(after))
	}
	for i := range after {
		if b, a := before[i], after[i]; a.Seq != b.Seq || !a.Time.Equal(b.Time) || a.Key != b.Key || a.Old != b.Old || a.New != b.New || a.Reason != b.Reason || a.Actor != b.Actor {
			t.Errorf("event %d after the restart: %+v, want %+v", i, a, b)
		}
	}
	p.record(1, "after the restart")
	if evs := p.checker.Events(5, 0); len(evs) != 1 || evs[0].Seq != 6 {
		t.Fatalf("the first event after the restart: %+v, want seq 6", evs)
	}
	waitStored(t, p, 6)
}

// TestEventsWrittenInBatches: a burst of events costs a few store
// revisions, not one per event, and stopping writes what is left.
func TestEventsWrittenInBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stratus.db")
	p := startPersisting(t, path)
	rev0, _ := p.st.Revision(context.Background())
	p.record(200, "burst")
	waitStored(t, p, 200)
	rev1, _ := p.st.Revision(context.Background())
	if n := rev1 - rev0; n > 20 {
		t.Errorf("200 events took %d store revisions", n)
	}
	p.record(1, "at the stop")
	p.stop()

	p = startPersisting(t, path)
	defer p.stop()
	if last := p.evl.Last(); last != 201 {
		t.Errorf("last stored event %d after a stop, want 201", last)
	}
}
