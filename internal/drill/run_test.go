package drill

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
)

// failoverNameserver answers api.example.com. A from the control plane as
// a failover service would: the endpoints of the best pool not forced
// down. It stands in for the DNS server, which the end-to-end tests use.
func failoverNameserver(t *testing.T, svc planeControl) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		ctx := context.Background()
		spec, err1 := svc.GetService(ctx, "api.example.com.")
		eps, err2 := svc.Endpoints(ctx, "api.example.com.")
		if err1 != nil || err2 != nil {
			m.Rcode = dns.RcodeServerFailure
			w.WriteMsg(m)
			return
		}
		now := time.Now()
		best := -1
		for _, p := range spec.Pools {
			if p.Override.Forced(now) != "down" && (best < 0 || p.Priority < best) {
				best = p.Priority
			}
		}
		if r.Question[0].Qtype == dns.TypeA {
			for _, e := range eps {
				if p := spec.Pool(e.Pool); p != nil && p.Priority == best && e.Override.Forced(now) != "down" {
					m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(e.Address)})
				}
			}
		}
		w.WriteMsg(m)
	})}
	testutil.ServeDNS(t, srv)
	return pc.LocalAddr().String()
}

func drillScenario(addr string, slo SLO) *Scenario {
	return &Scenario{
		Name:        "eu",
		Services:    []string{"api.example.com"},
		Nameservers: []Nameserver{{Name: "ns", Address: addr}},
		Clients:     []Client{{Name: "fra", Subnet: "203.0.113.0/24"}},
		Interval:    50 * time.Millisecond,
		Steps: []Step{
			// Within a minute: a drill waits only until the expectation
			// is met, and a loaded machine must not fail it.
			{Fail: &Target{Service: "api.example.com", Pool: "dub"}, Expect: &Expect{Answered: []string{"fra-1"}, NotAnswered: []string{"dub-1"}, Within: time.Minute}},
			{Wait: 200 * time.Millisecond},
			{Restore: &Target{Service: "api.example.com", Pool: "dub"}, Expect: &Expect{Answered: []string{"dub-1"}, Within: time.Minute}},
		},
		SLO: slo,
	}
}

func noDrillOverrides(t *testing.T, svc planeControl) {
	t.Helper()
	spec, _ := svc.GetService(context.Background(), "api.example.com.")
	for _, p := range spec.Pools {
		if p.Override.Forced(time.Now()) != "" {
			t.Errorf("pool %s left with %+v", p.Name, p.Override)
		}
	}
}

func TestRun(t *testing.T) {
	svc, _ := newWorld(t)
	addr := failoverNameserver(t, svc)
	var steps []string
	s := drillScenario(addr, SLO{Failover: time.Minute, Recovery: time.Minute, NoServFail: true, NoTimeouts: true, Jurisdiction: "eu"})
	rep, err := Run(context.Background(), svc, s, RunOptions{Progress: func(m string) { steps = append(steps, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || len(rep.Steps) != 3 || len(rep.Verdicts) != 5 || len(steps) != 3 {
		t.Fatalf("report %+v, progress %v", rep, steps)
	}
	if s := rep.Steps[0]; !s.Met || s.Slowest <= 0 {
		t.Errorf("failover step %+v: measured from the fault to the new answer's arrival, never 0", s)
	}
	if steps[0] != "step 1/3: fail pool dub of api.example.com" {
		t.Errorf("progress %q", steps[0])
	}
	noDrillOverrides(t, svc)

	// An SLO no failover can meet (the answer changes after the step
	// starts, and a query takes longer than that): the drill fails with
	// that verdict.
	s = drillScenario(addr, SLO{Failover: time.Nanosecond})
	rep, err = Run(context.Background(), svc, s, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed || rep.Verdicts[0].Held || rep.Verdicts[0].SLO != "failover within 1ns" {
		t.Errorf("an impossible SLO passed: %+v", rep.Verdicts)
	}
	noDrillOverrides(t, svc)
}

// TestRunAborted: a drill stopped midway leaves no override behind.
func TestRunAborted(t *testing.T) {
	svc, _ := newWorld(t)
	addr := failoverNameserver(t, svc)
	s := drillScenario(addr, SLO{})
	s.Steps = []Step{{Fail: &Target{Jurisdiction: "eu"}}, {Wait: time.Hour}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopAtWait := func(m string) { // the override is in place: stop there
		if strings.HasPrefix(m, "step 2/2") {
			cancel()
		}
	}
	rep, err := Run(ctx, svc, s, RunOptions{Progress: stopAtWait})
	if err == nil || rep == nil || rep.Aborted != "aborted" || rep.Passed {
		t.Fatalf("aborted drill: %+v %v", rep, err)
	}
	noDrillOverrides(t, svc)

	// A target that matches nothing changes nothing.
	s.Steps = []Step{{Fail: &Target{Region: "mars"}}}
	if _, err := Run(context.Background(), svc, s, RunOptions{}); err == nil {
		t.Error("a drill with a target matching nothing ran")
	}
	spec, _ := svc.GetService(context.Background(), "api.example.com.")
	for _, p := range spec.Pools {
		if p.Name != "dub" && p.Name != "fra" && p.Override != nil {
			t.Errorf("pool %s touched: %+v", p.Name, p.Override)
		}
	}
}

// degraded is a control plane that reports an endpoint out of the answers.
type degraded struct{ planeControl }

func (degraded) Unanswerable(context.Context, model.Name) ([]string, error) {
	return []string{"dub-1 (check: down)"}, nil
}

func TestRunRefusesDegraded(t *testing.T) {
	svc, _ := newWorld(t)
	addr := failoverNameserver(t, svc)
	s := drillScenario(addr, SLO{})
	if _, err := Run(context.Background(), degraded{svc}, s, RunOptions{}); !errors.Is(err, ErrDegraded) || !strings.Contains(err.Error(), "dub-1") {
		t.Fatalf("a drill on a degraded service: %v", err)
	}
	noDrillOverrides(t, svc)
	if rep, err := Run(context.Background(), degraded{svc}, s, RunOptions{Force: true}); err != nil || len(rep.Steps) != 3 {
		t.Errorf("forced: %v %+v", err, rep)
	}
}

// TestRunHooks: hook steps run their commands in order; a failing hook
// stops the drill, which still clears its faults.
func TestRunHooks(t *testing.T) {
	svc, _ := newWorld(t)
	addr := failoverNameserver(t, svc)
	dir := t.TempDir()
	s := drillScenario(addr, SLO{})
	s.Steps = []Step{
		{Fail: &Target{Run: "echo down > " + dir + "/fault"}},
		{Run: "echo between >> " + dir + "/fault"},
		{Restore: &Target{Run: "echo up >> " + dir + "/fault"}},
	}
	rep, err := Run(context.Background(), svc, s, RunOptions{})
	if err != nil || !rep.Passed {
		t.Fatalf("hooks: %v %+v", err, rep)
	}
	if b, _ := os.ReadFile(dir + "/fault"); string(b) != "down\nbetween\nup\n" {
		t.Errorf("the hooks wrote %q", b)
	}
	if len(rep.Steps) != 3 || rep.Steps[1].Kind != "run" {
		t.Errorf("a step that is just a hook: %+v", rep.Steps)
	}
	s.Steps = []Step{
		{Fail: &Target{Jurisdiction: "eu"}},
		{Fail: &Target{Run: "echo broken >&2; exit 3"}},
	}
	if _, err := Run(context.Background(), svc, s, RunOptions{}); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("a failing hook: %v", err)
	}
	noDrillOverrides(t, svc)
}
