package drill

import (
	"context"
	"errors"
	"github.com/stratusdns/stratus/internal/model"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

type termKey struct{}

// ctxPlane records the contexts the drill hands the plane.
type ctxPlane struct {
	*fakePlane
	mu     sync.Mutex
	clears []clearCall
}

func (p *ctxPlane) ClearFault(ctx context.Context, f Fault, actor string) error {
	p.mu.Lock()
	p.clears = append(p.clears, clearCall{ctx.Value(termKey{}), ctx.Err()})
	p.mu.Unlock()
	return p.fakePlane.ClearFault(ctx, f, actor)
}

type clearCall struct {
	value any
	err   error
}

// TestRunClearsFaultsWithItsContextsValues: a drill stopped midway clears
// its faults with a context that is not cancelled but carries the values
// of the one it ran with (the leader's fence: a deposed leader's clearing
// is refused by the store, and the faults end with their leases).
func TestRunClearsFaultsWithItsContextsValues(t *testing.T) {
	svc, _ := newWorld()
	addr := failoverNameserver(t, svc)
	s := drillScenario(addr, SLO{})
	s.Steps = []Step{{Fail: &Target{Jurisdiction: "eu"}}, {Wait: 1 << 40}}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), termKey{}, "term 1"))
	defer cancel()
	stopAtWait := func(m string) {
		if strings.HasPrefix(m, "step 2/2") {
			cancel()
		}
	}
	pl := &ctxPlane{fakePlane: svc}
	if _, err := Run(ctx, pl, s, RunOptions{Progress: stopAtWait}); err == nil {
		t.Fatal("the stopped drill reported no error")
	}
	if len(pl.clears) == 0 {
		t.Fatal("no fault cleared")
	}
	for i, c := range pl.clears {
		if c.value != "term 1" || c.err != nil {
			t.Errorf("clear %d: context value %v, err %v; want the run's values, not cancelled", i, c.value, c.err)
		}
	}
}

// recordingPlane fails Service, recording whether its context was done.
type recordingPlane struct {
	*fakePlane
	mu     sync.Mutex
	errs   []error
	values []any
}

func (p *recordingPlane) Service(ctx context.Context, _ model.Name) (*Service, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, ctx.Err())
	p.values = append(p.values, ctx.Value(termKey{}))
	return nil, errors.New("no service")
}

// TestSchedulerStartOutlivesTerm: a drill started through Start runs for
// the node's lifetime, not the leader's term: one started with Run
// running (the node leads) does not run with the term's context, and Run
// does not wait for it; one started after Run returned (the node
// follows) runs with a live context too. Close stops both.
func TestSchedulerStartOutlivesTerm(t *testing.T) {
	pl := &recordingPlane{fakePlane: newFakePlane()}
	s := NewScheduler(pl, nil, []Scheduled{{Scenario: &Scenario{Name: "eu", Services: []string{"api.example.com"}}}}, nil)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), termKey{}, "term 1"))
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	if err := s.Start("eu", "api"); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if err := waitStart(s, "eu", "api"); err != nil {
		t.Fatal(err)
	}
	for pl.calls() < 2 {
		runtime.Gosched()
	}
	s.Close()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if len(pl.errs) != 2 || pl.errs[0] != nil || pl.errs[1] != nil {
		t.Fatalf("the drill's context when it read the service: %v, want two calls, not done", pl.errs)
	}
	for i, v := range pl.values {
		if v != nil {
			t.Errorf("run %d ran with the term's context (value %v)", i, v)
		}
	}
}

func (p *recordingPlane) calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.errs)
}

// waitStart starts a drill, again while the run before is finishing.
func waitStart(s *Scheduler, name, actor string) error {
	for {
		err := s.Start(name, actor)
		if !errors.Is(err, ErrDrillRunning) {
			return err
		}
		runtime.Gosched()
	}
}

// memKeeper keeps the runs in memory.
type memKeeper struct {
	mu   sync.Mutex
	runs []Record
}

func (k *memKeeper) KeepRun(_ context.Context, run Record, actor string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.runs = append(k.runs, run)
	return "r", nil
}

// TestSchedulerCloseStopsStartedDrills: a drill started through Start on a
// node that does not lead (Run is not running) is stopped by Close, which
// returns once it has cleared its fault and kept its report; no goroutine
// is left (TestMain), and Start refuses afterwards.
func TestSchedulerCloseStopsStartedDrills(t *testing.T) {
	svc, _ := newWorld()
	addr := failoverNameserver(t, svc)
	sc := drillScenario(addr, SLO{})
	sc.Steps = []Step{{Fail: &Target{Service: "api.example.com", Pool: "dub"}}, {Wait: 1 << 40}}
	keep := &memKeeper{}
	s := NewScheduler(svc, keep, []Scheduled{{Scenario: sc}}, nil)
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
	if o := svc.pool("dub").Override; o.State != "" {
		t.Errorf("after Close the pool's override is %+v, want cleared", o)
	}
	keep.mu.Lock()
	if len(keep.runs) != 1 || keep.runs[0].Aborted == "" {
		t.Errorf("kept %+v, want the stopped run", keep.runs)
	}
	keep.mu.Unlock()
	if err := s.Start("eu", "api"); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v, want %v", err, ErrClosed)
	}
}
