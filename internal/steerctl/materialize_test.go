package steerctl

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/control"
	"github.com/stratusdns/stratus/internal/model"
)

// steeredStore is a SteeredWriter that keeps the answers in memory.
type steeredStore struct {
	mu    sync.Mutex
	zones map[model.Name][]*model.RRset
	wrote chan model.Name
}

func (s *steeredStore) SetSteeredAnswers(_ context.Context, z model.Name, sets []*model.RRset, _ string) (control.ChangeResult, error) {
	s.mu.Lock()
	if len(sets) == 0 {
		delete(s.zones, z)
	} else {
		s.zones[z] = sets
	}
	s.mu.Unlock()
	select {
	case s.wrote <- z:
	default: // the test stopped reading
	}
	return control.ChangeResult{}, nil
}

func (s *steeredStore) SteeredZones(context.Context) ([]model.Name, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Name
	for z := range s.zones {
		out = append(out, z)
	}
	return out, nil
}

// TestMaterializeClearsZonesWithoutServices: answers stored for a zone
// whose last service went away while the server was down are removed at
// start; a zone with a service gets its answers.
func TestMaterializeClearsZonesWithoutServices(t *testing.T) {
	c, _ := newController(t)
	svc := service()
	svc.Zone = "example.com."
	c.ResetServices([]*model.Service{svc}, []*model.Endpoint{endpoint("a", "192.0.2.1", 0, time.Now())})
	stale := &model.RRset{Name: "gone.old.test.", Type: model.TypeA, TTL: 30, Rdata: [][]byte{{192, 0, 2, 9}}}
	st := &steeredStore{zones: map[model.Name][]*model.RRset{"old.test.": {stale}}, wrote: make(chan model.Name, 100)}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Materialize(ctx, st, time.Millisecond) }()
	defer func() { cancel(); <-done }()

	seen := map[model.Name]bool{}
	for len(seen) < 2 {
		select {
		case z := <-st.wrote:
			seen[z] = true
		case <-time.After(time.Minute):
			t.Fatalf("zones written: %v", seen)
		}
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.zones["old.test."]; ok {
		t.Error("the steered answers of a zone without services were kept")
	}
	if sets := st.zones["example.com."]; len(sets) != 1 || sets[0].Name != "api.example.com." {
		t.Errorf("example.com. answers: %v", sets)
	}
}
