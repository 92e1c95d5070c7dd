package steer

import (
	"slices"
	"strings"
	"testing"

	"github.com/stratusdns/stratus/internal/model"
)

// TestAnsweredNow: whether answers include each endpoint follows the
// evaluation that answers queries — a down endpoint that failing open
// answers is answered, a healthy one outside the jurisdictions or behind a
// better tier is not — and, for a chain without chance, the endpoints it
// calls answered are exactly the query's answer.
func TestAnsweredNow(t *testing.T) {
	two := pools(model.Pool{Name: "primary", Priority: 1}, model.Pool{Name: "backup", Priority: 2})
	tests := []struct {
		name   string
		svc    model.Service
		eps    []string
		want   map[string]string // id -> state
		why    map[string]string // id -> substring of why
		answer string            // the A answer, when the chain has no chance
	}{
		{"the first tier", model.Service{Pools: two}, []string{"a primary 192.0.2.1", "b backup 192.0.2.2"},
			map[string]string{"a": "yes", "b": "no"}, map[string]string{"b": "behind the available tier"}, "A 192.0.2.1"},
		{"failover to the backup", model.Service{Pools: two}, []string{"a primary 192.0.2.1 down", "b backup 192.0.2.2"},
			map[string]string{"a": "no", "b": "yes"}, map[string]string{"a": "check: down"}, "A 192.0.2.2"},
		{"every endpoint down fails open", model.Service{Pools: two}, []string{"a primary 192.0.2.1 down", "b primary 192.0.2.3 down", "c backup 192.0.2.2 down"},
			map[string]string{"a": "yes", "b": "yes", "c": "no"}, map[string]string{"a": "failing open"}, "A 192.0.2.1, 192.0.2.3"},
		{"a drained endpoint stays out of failing open", model.Service{Pools: two}, []string{"a primary 192.0.2.1 down", "b primary 192.0.2.3 drained"},
			map[string]string{"a": "yes", "b": "no"}, nil, "A 192.0.2.1"},
		{"outside the jurisdictions never", model.Service{Jurisdictions: []string{"eu"}, Pools: pools(
			model.Pool{Name: "us", Priority: 0, Jurisdiction: "us"}, model.Pool{Name: "eu", Priority: 1, Jurisdiction: "eu"})},
			[]string{"u us 198.51.100.1", "e eu 192.0.2.1 down"},
			map[string]string{"u": "no", "e": "yes"}, map[string]string{"u": `jurisdiction "us"`, "e": "failing open"}, "A 192.0.2.1"},
		{"the fallback pool", model.Service{WhenAllDown: model.AllDown{Mode: model.AllDownFallback, Pool: "backup"}, Pools: two},
			[]string{"a primary 192.0.2.1 down", "b backup 192.0.2.2 down"},
			map[string]string{"a": "no", "b": "yes"}, map[string]string{"b": "fallback pool"}, "A 192.0.2.2"},
		{"the static answer", model.Service{WhenAllDown: model.AllDown{Mode: model.AllDownStatic, Static: []string{"203.0.113.1"}}, Pools: two},
			[]string{"a primary 192.0.2.1 down"},
			map[string]string{"a": "no"}, map[string]string{"a": "static fallback"}, "A 203.0.113.1"},
		{"servfail", model.Service{WhenAllDown: model.AllDown{Mode: model.AllDownServFail}, Pools: two},
			[]string{"a primary 192.0.2.1 down"},
			map[string]string{"a": "no"}, map[string]string{"a": "SERVFAIL"}, "SERVFAIL"},
		{"one CNAME", model.Service{Pools: two}, []string{"a primary fn-a.example.net", "b primary fn-b.example.net"},
			map[string]string{"a": "yes", "b": "no"}, map[string]string{"b": "only the first hostname"}, "CNAME fn-a.example.net."},
		{"weighted", model.Service{Policy: model.PolicyWeighted, Pools: two}, []string{"a primary 192.0.2.1", "b primary 192.0.2.3", "c backup 192.0.2.2"},
			map[string]string{"a": "some", "b": "some", "c": "no"}, map[string]string{"a": "chosen by weight"}, ""},
		{"weighted, one candidate", model.Service{Policy: model.PolicyWeighted, Pools: two}, []string{"a primary 192.0.2.1", "c backup 192.0.2.2"},
			map[string]string{"a": "yes", "c": "no"}, nil, ""},
		{"multivalue within max_answers", model.Service{Policy: model.PolicyMultivalue, MaxAnswers: 4, Pools: two},
			[]string{"a primary 192.0.2.1", "b primary 192.0.2.3", "c backup 192.0.2.2"},
			map[string]string{"a": "yes", "b": "yes", "c": "no"}, nil, ""},
		{"multivalue beyond max_answers", model.Service{Policy: model.PolicyMultivalue, MaxAnswers: 1, Pools: two},
			[]string{"a primary 192.0.2.1", "b primary 192.0.2.3"},
			map[string]string{"a": "some", "b": "some"}, map[string]string{"a": "1 per answer"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.svc, tc.eps...)
			snap := f.snapshot(t, nil, nil)
			svc := snap.Service(string(model.MustName("api.example.com.").Wire()))
			got := svc.AnsweredNow()
			verdicts := svc.Verdicts()
			for id := range tc.want {
				v, a, ok := svc.EndpointState(id)
				if !ok || v != verdicts[id] || a != got[id] {
					t.Errorf("EndpointState(%s) = %+v, %+v, %v; want %+v, %+v", id, v, a, ok, verdicts[id], got[id])
				}
			}
			if _, _, ok := svc.EndpointState("nope"); ok {
				t.Error("EndpointState of an endpoint the service does not have says it has it")
			}
			// Once worked out, an endpoint's state is looked up.
			if n := testing.AllocsPerRun(10, func() { svc.EndpointState(tc.eps[0][:1]) }); n != 0 {
				t.Errorf("EndpointState allocates %v times a call after the first", n)
			}
			for id, want := range tc.want {
				if got[id].State != want {
					t.Errorf("%s: %q (%s), want %q", id, got[id].State, got[id].Why, want)
				}
				if sub := tc.why[id]; sub != "" && !strings.Contains(got[id].Why, sub) {
					t.Errorf("%s: why %q, want it to say %q", id, got[id].Why, sub)
				}
			}
			if tc.answer == "" {
				return
			}
			if a := ask(t, snap, 1, client("192.0.2.200")); a != tc.answer {
				t.Fatalf("the query answers %q, want %q", a, tc.answer)
			}
			// The endpoints called answered are the answer's.
			var yes []string
			for _, e := range f.eps {
				if got[e.ID].State == AnsweredYes {
					yes = append(yes, e.Address)
				}
			}
			slices.Sort(yes)
			for _, addr := range yes {
				if !strings.Contains(tc.answer, strings.TrimSuffix(addr, ".")) {
					t.Errorf("%s is called answered, but the answer is %q", addr, tc.answer)
				}
			}
		})
	}
}
