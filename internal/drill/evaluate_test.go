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
		if v.SLO == "recovery within 1s" && v.Detail != "slowest 1.5s of 2 measured" {
			t.Errorf("recovery detail %q", v.Detail)
		}
	}

	// An expectation met before the step began counts at once; one never
	// met is reported as never.
	early := EvaluateStep(series, 0, &Step{Fail: fail.Fail, Expect: &Expect{Answered: []string{"dub-1"}, Within: time.Second}}, at(500), eps)
	if !early.Met || early.Slowest != 0 || early.Measured != 0 || !early.Series[0].AtStart {
		t.Errorf("already met: %+v", early)
	}
	never := EvaluateStep(series, 0, &Step{Fail: fail.Fail, Expect: &Expect{Answered: []string{"iad-1"}, NotAnswered: []string{"dub-1"}, Within: time.Second}}, at(500), eps)
	if never.Met || never.Series[0].Took != -1 || never.Never != 2 || never.Series[0].Instead != "192.0.2.2" || never.Series[1].Instead != "192.0.2.2" {
		t.Errorf("never met: %+v", never)
	}
	if steps[0].What != "fail pool dub of api.example.com" || steps[0].Expect != "answered fra-1; not answered dub-1 within 1s" {
		t.Errorf("fail step says %q, expects %q", steps[0].What, steps[0].Expect)
	}
}

// TestEvaluateSLONothingMeasured: an SLO holds only on what was measured.
// A failover never observed is not held and says so (not "slowest 0s");
// an SLO no step measured — no step of its kind, or every answer already
// as expected when the step began — is "not measured", neither held nor
// failed.
func TestEvaluateSLONothingMeasured(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	eps := Endpoints{"a": {Answer: "192.0.2.1", Pool: "p1"}, "b": {Answer: "192.0.2.2", Pool: "p2"}}
	series := []Series{{Nameserver: "ns", Client: "c", Changes: []Change{{At: at(0), Answer: []string{"192.0.2.1"}}}}}
	target := &Target{Service: "api.example.com", Pool: "p1"}
	toB := &Step{Fail: target, Expect: &Expect{Answered: []string{"b"}, Within: time.Second}}
	onA := &Step{Restore: target, Expect: &Expect{Answered: []string{"a"}, Within: time.Second}}
	slo := SLO{Failover: time.Second, Recovery: time.Second}
	tests := []struct {
		name         string
		steps        []StepResult
		failover     string // result
		failoverSays string
		recovery     string
		recoverySays string
	}{
		{"nothing failed over, no restore step", []StepResult{EvaluateStep(series, 0, toB, at(1000), eps)},
			NotHeld, "never observed for 1 of 1 series", NotMeasured, "no restore step"},
		{"already as expected at both steps", []StepResult{EvaluateStep(series, 0, &Step{Fail: target, Expect: &Expect{NotAnswered: []string{"b"}, Within: time.Second}}, at(1000), eps), EvaluateStep(series, 1, onA, at(2000), eps)},
			NotMeasured, "already answered as expected", NotMeasured, "already answered as expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := EvaluateSLO(slo, tc.steps, series, eps)
			if len(vs) != 2 {
				t.Fatalf("verdicts %+v", vs)
			}
			for i, want := range []struct{ result, says string }{{tc.failover, tc.failoverSays}, {tc.recovery, tc.recoverySays}} {
				v := vs[i]
				if v.Result != want.result || v.Held != (want.result == Held) || !strings.Contains(v.Detail, want.says) || strings.Contains(v.Detail, "slowest 0s") {
					t.Errorf("%s: %s (held %v): %q, want %s saying %q", v.SLO, v.Result, v.Held, v.Detail, want.result, want.says)
				}
			}
		})
	}
}
