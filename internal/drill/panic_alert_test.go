package drill

import (
	"testing"
)

// A drill run that panics did not pass: it emits drill_failed, as a run
// that is aborted does, so that a scheduled drill that breaks is not
// silent.
func TestDrillPanicAlerts(t *testing.T) {
	pl := &panickyPlane{fakePlane: newFakePlane()}
	pl.armed.Store(true)
	rec := &alerts{}
	s := NewScheduler(pl, nil, []Scheduled{{Scenario: &Scenario{Name: "eu", Services: []string{"api.example.com"}}}}, nil)
	s.SetAlerts(rec)
	defer s.Close()
	if err := s.Start("eu", "api"); err != nil {
		t.Fatal(err)
	}
	if err := waitStart(s, "eu", "api"); err != nil { // the first run has ended
		t.Fatal(err)
	}
	s.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) == 0 {
		t.Fatal("a drill run that panicked emitted no drill_failed alert")
	}
}
