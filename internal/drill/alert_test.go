package drill

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/alert"
)

// alerts records the alerts emitted.
type alerts struct {
	mu  sync.Mutex
	got []alert.Event
}

func (a *alerts) Emit(ev alert.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, ev)
}

// A run that does not pass (here: stopped before its steps ran) emits
// one drill_failed alert naming the drill and the run.
func TestFailedRunAlerts(t *testing.T) {
	svc, _ := newWorld()
	addr := failoverNameserver(t, svc)
	sc := drillScenario(addr, SLO{})
	sc.Steps = []Step{{Fail: &Target{Service: "api.example.com", Pool: "dub"}}, {Wait: 1 << 40}}
	rec := &alerts{}
	s := NewScheduler(svc, &memKeeper{}, []Scheduled{{Scenario: sc}}, nil)
	s.SetAlerts(rec)
	if err := s.Start("eu", "api"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for svc.pool("dub").Override.State != "down" {
		if time.Now().After(deadline) {
			t.Fatal("the drill set no fault")
		}
		runtime.Gosched()
	}
	s.Close()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 1 {
		t.Fatalf("alerts %+v, want one", rec.got)
	}
	ev := rec.got[0]
	if ev.Kind != alert.DrillFailed || ev.Drill != "eu" || ev.Details["run"] != "r" || ev.Details["started_by"] != "api" || ev.Details["aborted"] == "" || ev.Summary == "" {
		t.Errorf("alert %+v", ev)
	}
}
