package drill

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratusdns/stratus/internal/model"
)

// Evaluator says what a service would answer a client were some pools and
// endpoints down, changing nothing (the API's evaluate with down_pool and
// down_endpoint).
type Evaluator interface {
	AnswerIf(ctx context.Context, svc model.Name, subnet string, downPools, downEndpoints []string) ([]string, error)
}

// Prediction is what a step would lead to for one client and service.
type Prediction struct {
	Step    int      `json:"step"`
	Kind    string   `json:"kind"`
	Client  string   `json:"client"`
	Service string   `json:"service"`
	Answer  []string `json:"answer"`
	Met     bool     `json:"met"` // the step's expectation, were the answer this
}

// DryRun walks the steps without changing anything: for each fault and
// repair it asks what each service would answer each client with the
// faults so far in place, and whether the step's expectation would hold.
// Nameservers are not asked (they would show today's answers).
func DryRun(ctx context.Context, pl Plane, ev Evaluator, s *Scenario) ([]Prediction, error) {
	w, err := loadWorld(ctx, pl, s)
	if err != nil {
		return nil, err
	}
	eps := w.endpointInfo()
	down := map[Fault]bool{}
	clients := s.clients()
	stepFaults, err := w.stepFaults(s)
	if err != nil {
		return nil, err
	}
	var out []Prediction
	for i := range s.Steps {
		st := &s.Steps[i]
		if (st.Fail == nil && st.Restore == nil) || hook(st) != "" {
			continue // a wait changes nothing; a hook cannot be foreseen
		}
		for _, f := range stepFaults[i] {
			down[f] = st.Fail != nil
		}
		for n := range w.services {
			var pools, ids []string
			for f, isDown := range down {
				if isDown && f.Service == n {
					if f.Endpoint != "" {
						ids = append(ids, f.Endpoint)
					} else {
						pools = append(pools, f.Pool)
					}
				}
			}
			slices.Sort(pools)
			slices.Sort(ids)
			for _, c := range clients {
				answer, err := ev.AnswerIf(ctx, n, c.Subnet, pools, ids)
				if err != nil {
					return nil, fmt.Errorf("steps[%d]: %s: %w", i, n, err)
				}
				slices.Sort(answer)
				p := Prediction{Step: i, Kind: st.kind(), Client: c.Name, Service: string(n), Answer: answer, Met: true}
				if st.Expect != nil {
					p.Met = satisfies(Change{Answer: answer}, st.Expect, eps)
				}
				out = append(out, p)
			}
		}
	}
	return out, nil
}
