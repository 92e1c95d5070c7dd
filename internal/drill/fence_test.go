package drill

import (
	"context"
	"errors"
	"github.com/stratusdns/stratus/internal/model"
	"strings"
	"sync"
	"testing"
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
	mu   sync.Mutex
	errs []error
}

func (p *recordingPlane) Service(ctx context.Context, _ model.Name) (*Service, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, ctx.Err())
	return nil, errors.New("no service")
}

// TestSchedulerStartAfterRun: after Run returns (the node's term ended),
// a drill started through the API runs with a live context, not the
// ended term's.
func TestSchedulerStartAfterRun(t *testing.T) {
	pl := &recordingPlane{fakePlane: newFakePlane()}
	s := NewScheduler(pl, nil, []Scheduled{{Scenario: &Scenario{Name: "eu", Services: []string{"api.example.com"}}}}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	cancel()
	<-done
	if err := s.Start("eu", "api"); err != nil {
		t.Fatal(err)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	s.Run(stopped) // waits for the run started
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if len(pl.errs) != 1 || pl.errs[0] != nil {
		t.Fatalf("the drill's context when it read the service: %v, want one call, not done", pl.errs)
	}
}
