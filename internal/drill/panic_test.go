package drill

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/telemetry"
)

// panickyPlane panics in Service once armed.
type panickyPlane struct {
	*fakePlane
	armed atomic.Bool
	calls atomic.Int32
}

func (p *panickyPlane) Service(ctx context.Context, name model.Name) (*Service, error) {
	p.calls.Add(1)
	if p.armed.CompareAndSwap(true, false) {
		panic("drill broke")
	}
	return p.fakePlane.Service(ctx, name)
}

// TestDrillPanicRecovered: a drill run that panics ends alone, counted
// as drill; the drill is no longer running and starts again.
func TestDrillPanicRecovered(t *testing.T) {
	pl := &panickyPlane{fakePlane: newFakePlane()}
	pl.armed.Store(true)
	s := NewScheduler(pl, nil, []Scheduled{{Scenario: &Scenario{Name: "eu", Services: []string{"api.example.com"}}}}, nil)
	defer s.Close()
	before := telemetry.PanicCount("drill")
	if err := s.Start("eu", "api"); err != nil {
		t.Fatal(err)
	}
	if err := waitStart(s, "eu", "api"); err != nil {
		t.Fatalf("starting the drill again after its panic: %v", err)
	}
	if n := telemetry.PanicCount("drill") - before; n != 1 {
		t.Errorf("panics counted: %v, want 1", n)
	}
	s.Close()
	if pl.calls.Load() != 2 {
		t.Errorf("the plane was asked %d times, want 2 (one run each)", pl.calls.Load())
	}
}
