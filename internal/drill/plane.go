package drill

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// Plane is the control plane as a drill needs it: the services under
// test, faults set and cleared, and which endpoints steering leaves out of
// the answers. The CLI implements it with the API client, the server with
// its control plane.
type Plane interface {
	// Service returns a service under test with its pools and endpoints,
	// each with the override on it.
	Service(ctx context.Context, name model.Name) (*Service, error)
	// SetFault forces a pool or endpoint down, with reason, as actor,
	// for lease (after which the override ends by itself).
	SetFault(ctx context.Context, f Fault, reason, actor string, lease time.Duration) error
	// ClearFault removes the override on a pool or endpoint, as actor.
	ClearFault(ctx context.Context, f Fault, actor string) error
	// Unanswerable lists the endpoints of a service that steering leaves
	// out of the answers, each with why: "dub-1 (check: down)".
	Unanswerable(ctx context.Context, svc model.Name) ([]string, error)
}

// Service is a service under test as a drill sees it.
type Service struct {
	Name      model.Name
	Pools     []Pool
	Endpoints []Endpoint
}

// Pool is one of a service's pools: where it runs, and its override.
type Pool struct {
	Name         string
	Region       string
	Provider     string
	Jurisdiction string
	Override     Override
}

// Endpoint is one of a service's endpoints: its pool, what it is answered
// as (an address or a hostname), and its override.
type Endpoint struct {
	ID       string
	Pool     string
	Address  string
	Override Override
}

// Override is the override on a pool or endpoint: its state ("up",
// "down", "" when there is none or it was cleared) and who set it.
type Override struct {
	State string
	Actor string
}

// Pool returns the pool named name, or nil.
func (s *Service) Pool(name string) *Pool {
	for i := range s.Pools {
		if s.Pools[i].Name == name {
			return &s.Pools[i]
		}
	}
	return nil
}

// Fault is one override a drill sets: a pool of a service, or one
// endpoint when Endpoint is set.
type Fault struct {
	Service  model.Name
	Pool     string
	Endpoint string
}

func (f Fault) String() string {
	if f.Endpoint != "" {
		return fmt.Sprintf("endpoint %s of %s", f.Endpoint, f.Service)
	}
	return fmt.Sprintf("pool %s of %s", f.Pool, f.Service)
}

// Keeper keeps drill runs; the server implements it with its store.
type Keeper interface {
	// KeepRun keeps a run, as actor, and returns its id.
	KeepRun(ctx context.Context, run Record, actor string) (string, error)
}

// Record is a run as kept: its summary and the whole report (JSON).
type Record struct {
	Drill   string
	Started time.Time
	Ended   time.Time
	Passed  bool
	Aborted string
	Report  json.RawMessage
}

// Record returns the report as kept.
func (r *Report) Record() (Record, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Record{}, err
	}
	return Record{Drill: r.Scenario, Started: r.Started, Ended: r.Ended, Passed: r.Passed, Aborted: r.Aborted, Report: body}, nil
}
