package drill

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseScenario(t *testing.T) {
	b, err := os.ReadFile("testdata/eu-failover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScenario("eu-failover.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "eu-failover" || len(s.Nameservers) != 2 || len(s.Clients) != 2 || s.Interval != 50*time.Millisecond || len(s.Steps) != 4 {
		t.Fatalf("scenario %+v", s)
	}
	if st := s.Steps[0]; st.Fail == nil || st.Fail.Pool != "eu-west" || st.Expect == nil || st.Expect.Within != 5*time.Second || st.Expect.NotAnswered[0] != "dub-1" {
		t.Errorf("step 0 %+v", st)
	}
	if s.Steps[1].Wait != 10*time.Second || s.Steps[3].Fail.Jurisdiction != "eu" {
		t.Errorf("steps %+v", s.Steps)
	}
	if s.SLO.Failover != 2*time.Second || !s.SLO.NoServFail || !s.SLO.NoTimeouts || s.SLO.Jurisdiction != "eu" {
		t.Errorf("slo %+v", s.SLO)
	}
	// A step may be just a hook command, with expectations like any other.
	s, err = ParseScenario("x", []byte(strings.Replace(minimal, "steps: [{wait: 1s}]", `steps:
  - run: "systemctl stop fn-eu-west"
    expect: {not_answered: [dub-1], within: 5s}
  - fail: {run: "iptables -A OUTPUT -p tcp --dport 443 -j DROP"}
  - restore: {run: "iptables -D OUTPUT -p tcp --dport 443 -j DROP"}`, 1)))
	if err != nil || len(s.Steps) != 3 || s.Steps[0].Run != "systemctl stop fn-eu-west" || s.Steps[0].Expect == nil || s.Steps[0].kind() != "run" ||
		s.Steps[1].Fail == nil || s.Steps[1].Fail.Run == "" || s.Steps[2].Restore == nil {
		t.Errorf("hook steps: %+v %v", s, err)
	}
	// The interval defaults to 100ms.
	s, err = ParseScenario("x", []byte(minimal))
	if err != nil || s.Interval != DefaultInterval {
		t.Errorf("default interval: %v %v", s, err)
	}
}

const minimal = `name: x
services: [a.example.com]
nameservers: [{name: s, address: "127.0.0.1:53"}]
steps: [{wait: 1s}]
`

func TestParseScenarioErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"empty", "", "x: the file is empty"},
		{"unknown key", minimal + "retries: 3\n", `unknown key "retries"`},
		{"unknown nested key", strings.Replace(minimal, "{wait: 1s}", "{wait: 1s, sleep: 2s}", 1), `unknown key "steps[].sleep"`},
		{"unknown target key", strings.Replace(minimal, "{wait: 1s}", "{fail: {zone: x}}", 1), `unknown key "steps[].fail/restore.zone"`},
		{"bad duration", strings.Replace(minimal, "1s", "soon", 1), `"soon" is not a duration such as 10s`},
		{"two documents", minimal + "---\nname: y\n", "only one YAML document"},
		{"no name", strings.Replace(minimal, "name: x\n", "", 1), "name: the scenario needs a name"},
		{"no services", strings.Replace(minimal, "services: [a.example.com]\n", "", 1), "services: name at least one"},
		{"bad service", strings.Replace(minimal, "a.example.com", "a..b", 1), "services[0]: "},
		{"no nameservers", strings.Replace(minimal, `nameservers: [{name: s, address: "127.0.0.1:53"}]`+"\n", "", 1), "nameservers: name at least one"},
		{"bad address", strings.Replace(minimal, "127.0.0.1:53", "ns1.example.com", 1), `nameservers[0].address: "ns1.example.com" is not ip:port`},
		{"duplicate nameserver", strings.Replace(minimal, `[{name: s, address: "127.0.0.1:53"}]`, `[{name: s, address: "127.0.0.1:53"}, {name: s, address: "127.0.0.1:54"}]`, 1), `nameservers[1].name: "s" is used twice`},
		{"client with both", minimal + "clients: [{name: c, subnet: 10.0.0.0/8, source: 127.0.0.2}]\n", "clients[0]: give exactly one of subnet"},
		{"client subnet host bits", minimal + "clients: [{name: c, subnet: 10.0.0.1/8}]\n", `clients[0].subnet: "10.0.0.1/8" is not a network`},
		{"client source not loopback", minimal + "clients: [{name: c, source: 192.0.2.1}]\n", `clients[0].source: "192.0.2.1" is not a loopback address`},
		{"interval too short", minimal + "interval: 10ms\n", "interval: 10ms is outside 50ms..1s"},
		{"no steps", strings.Replace(minimal, "steps: [{wait: 1s}]\n", "", 1), "steps: a drill needs at least one step"},
		{"step with two kinds", strings.Replace(minimal, "{wait: 1s}", "{wait: 1s, fail: {region: eu-west}}", 1), "steps[0]: give exactly one of fail, restore, wait and run"},
		{"run and wait", strings.Replace(minimal, "{wait: 1s}", `{run: "true", wait: 1s}`, 1), "steps[0]: give exactly one of fail, restore, wait and run (a hook that is a fault or a repair goes in fail: {run: ...} or restore: {run: ...})"},
		{"run beside fail", strings.Replace(minimal, "{wait: 1s}", `{run: "true", fail: {region: r}}`, 1), "steps[0]: give exactly one of fail, restore, wait and run"},
		{"empty run", strings.Replace(minimal, "{wait: 1s}", `{run: "  "}`, 1), "steps[0].run: the command is empty"},
		{"run that is not a string", strings.Replace(minimal, "{wait: 1s}", `{run: [a, b]}`, 1), "x: line 4: "},
		{"run with a bad expectation", strings.Replace(minimal, "{wait: 1s}", `{run: "true", expect: {answered: [a]}}`, 1), "steps[0].expect.within: say within how long"},
		{"target with two", strings.Replace(minimal, "{wait: 1s}", "{fail: {region: eu-west, provider: aws}}", 1), "steps[0].fail: give exactly one of endpoint, pool, region, provider, jurisdiction and run"},
		{"pool without service", strings.Replace(minimal, "{wait: 1s}", "{fail: {pool: p}}", 1), "steps[0].fail.service: an endpoint or pool belongs to a service"},
		{"foreign service", strings.Replace(minimal, "{wait: 1s}", "{restore: {service: b.example.com, pool: p}}", 1), "steps[0].restore.service: b.example.com. is not among the scenario's services"},
		{"expect without endpoints", strings.Replace(minimal, "{wait: 1s}", "{fail: {region: r}, expect: {within: 1s}}", 1), "steps[0].expect: say which endpoints"},
		{"expect without within", strings.Replace(minimal, "{wait: 1s}", "{fail: {region: r}, expect: {answered: [a]}}", 1), "steps[0].expect.within: say within how long"},
		{"expect contradiction", strings.Replace(minimal, "{wait: 1s}", "{fail: {region: r}, expect: {answered: [a], not_answered: [a], within: 1s}}", 1), `steps[0].expect: endpoint "a" is both`},
	} {
		_, err := ParseScenario("x", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseScenario: no input makes the parser panic, and what it accepts
// is valid: a name, services, nameservers, steps, an interval in bounds.
func FuzzParseScenario(f *testing.F) {
	b, _ := os.ReadFile("testdata/eu-failover.yaml")
	f.Add(b)
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScenario("fuzz", b)
		if err != nil {
			return
		}
		if s.Name == "" || len(s.Services) == 0 || len(s.Nameservers) == 0 || len(s.Steps) == 0 || s.Interval < MinInterval || s.Interval > MaxInterval {
			t.Fatalf("accepted %+v", s)
		}
	})
}
