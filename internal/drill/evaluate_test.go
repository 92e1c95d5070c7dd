package drill

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestEvaluate(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	eps := Endpoints{
		"dub-1": {Answer: "192.0.2.1", Jurisdiction: "eu"},
		"fra-1": {Answer: "192.0.2.2", Jurisdiction: "eu"},
		"iad-1": {Answer: "198.51.100.1", Jurisdiction: "us"},
	}
	ok := dns.RcodeSuccess
	series := []Series{
		{Nameserver: "stratus", Client: "fra", Queries: 100, Changes: []Change{
			{At: at(0), Rcode: ok, Answer: []string{"192.0.2.1"}},
			{At: at(1050), Rcode: ok, Answer: []string{"192.0.2.2"}}, // failover 50ms after the fault at 1000
			{At: at(3200), Rcode: ok, Answer: []string{"192.0.2.1"}}, // recovery 200ms after the repair at 3000
		}},
		{Nameserver: "bind", Client: "fra", Queries: 100, Timeouts: 1, Changes: []Change{
			{At: at(0), Rcode: ok, Answer: []string{"192.0.2.1"}},
			{At: at(1400), Rcode: dns.RcodeServerFailure},
			{At: at(1500), Rcode: ok, Answer: []string{"192.0.2.2"}},                 // failover 500ms
			{At: at(4500), Rcode: ok, Answer: []string{"192.0.2.1", "198.51.100.1"}}, // recovery 1.5s, and outside eu
		}},
	}
	series[1].ServFails = 1
	fail := &Step{Fail: &Target{Service: "api.example.com", Pool: "dub"}, Expect: &Expect{Answered: []string{"fra-1"}, NotAnswered: []string{"dub-1"}, Within: time.Second}}
	restore := &Step{Restore: &Target{Service: "api.example.com", Pool: "dub"}, Expect: &Expect{Answered: []string{"dub-1"}, Within: time.Second}}
	steps := []StepResult{EvaluateStep(series, 0, fail, at(1000), eps), EvaluateStep(series, 1, &Step{Wait: time.Second}, at(2000), eps), EvaluateStep(series, 2, restore, at(3000), eps)}

	if s := steps[0]; !s.Met || s.Slowest != 500*time.Millisecond || s.Series[0].Took != 50*time.Millisecond {
		t.Errorf("fail step %+v", s)
	}
	if s := steps[2]; s.Met || s.Series[0].Took != 200*time.Millisecond || !s.Series[0].Met || s.Series[1].Met || s.Series[1].Took != 1500*time.Millisecond {
		t.Errorf("restore step %+v", s)
	}
	if s := steps[1]; !s.Met || s.Kind != "wait" || len(s.Series) != 0 {
		t.Errorf("wait step %+v", s)
	}

	verdicts := EvaluateSLO(SLO{Failover: time.Second, Recovery: time.Second, NoServFail: true, NoTimeouts: true, Jurisdiction: "eu"}, steps, series, eps)
	want := map[string]bool{"failover within 1s": true, "recovery within 1s": false, "no SERVFAIL": false, "no timeouts": false, "never outside eu": false}
	if len(verdicts) != len(want) {
		t.Fatalf("verdicts %+v", verdicts)
	}
	for _, v := range verdicts {
		if held, ok := want[v.SLO]; !ok || held != v.Held {
			t.Errorf("%s: held %v (%s)", v.SLO, v.Held, v.Detail)
		}
		if v.SLO == "never outside eu" && !strings.Contains(v.Detail, "198.51.100.1") {
			t.Errorf("jurisdiction detail %q", v.Detail)
		}
		if v.SLO == "recovery within 1s" && v.Detail != "slowest 1.5s" {
			t.Errorf("recovery detail %q", v.Detail)
		}
	}

	// An expectation met before the step began counts at once; one never
	// met is reported as never.
	early := EvaluateStep(series, 0, &Step{Fail: fail.Fail, Expect: &Expect{Answered: []string{"dub-1"}, Within: time.Second}}, at(500), eps)
	if !early.Met || early.Slowest != 0 {
		t.Errorf("already met: %+v", early)
	}
	never := EvaluateStep(series, 0, &Step{Fail: fail.Fail, Expect: &Expect{Answered: []string{"iad-1"}, NotAnswered: []string{"dub-1"}, Within: time.Second}}, at(500), eps)
	if never.Met || never.Series[0].Took != -1 {
		t.Errorf("never met: %+v", never)
	}
}
