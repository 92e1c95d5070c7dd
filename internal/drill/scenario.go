package drill

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/yamlfile"
)

// Scenario is one drill, as its YAML file says it.
type Scenario struct {
	Name string `yaml:"name"`
	// Services are the steered services under test.
	Services []string `yaml:"services"`
	// Nameservers are watched from outside: Stratus itself and the
	// secondaries at other providers.
	Nameservers []Nameserver `yaml:"nameservers"`
	// Clients are the locations emulated, by EDNS Client Subnet or by
	// source address; none means one client without either.
	Clients []Client `yaml:"clients"`
	// Interval is how often each nameserver is asked for each service and
	// client (default 100ms, 50ms to 1s).
	Interval time.Duration `yaml:"interval"`
	// Steps run in order.
	Steps []Step `yaml:"steps"`
	SLO   SLO    `yaml:"slo"`
}

// Nameserver is a server to watch, "ip:port".
type Nameserver struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
}

// Client is an emulated client location: an EDNS Client Subnet to send,
// or a loopback source address to send from.
type Client struct {
	Name   string `yaml:"name"`
	Subnet string `yaml:"subnet"`
	Source string `yaml:"source"`
}

// Step is one step: a fault, its repair, a wait, or a hook command, with
// what must follow.
type Step struct {
	Fail    *Target       `yaml:"fail"`
	Restore *Target       `yaml:"restore"`
	Wait    time.Duration `yaml:"wait"`
	// Run is a hook step: a command (sh -c where the drill runs) that
	// changes something for real, neither declared a fault nor a repair,
	// so it counts toward neither the failover nor the recovery SLO.
	// "fail: {run: ...}" and "restore: {run: ...}" say which it is.
	Run    string  `yaml:"run"`
	Expect *Expect `yaml:"expect"`
}

// Target is what a fault takes down: one endpoint or pool of a service,
// or every pool of the scenario's services in a region, at a provider or
// in a jurisdiction — or a hook: a command (run with sh -c where the drill
// runs) that makes a real fault or repairs it, such as stopping a function
// or blocking a port.
type Target struct {
	Service      string `yaml:"service"`
	Endpoint     string `yaml:"endpoint"`
	Pool         string `yaml:"pool"`
	Region       string `yaml:"region"`
	Provider     string `yaml:"provider"`
	Jurisdiction string `yaml:"jurisdiction"`
	Run          string `yaml:"run"`
}

// Expect is what every nameserver must answer, for every client, within
// a time of the step.
type Expect struct {
	Answered    []string      `yaml:"answered"`     // endpoint ids that must be in the answer
	NotAnswered []string      `yaml:"not_answered"` // endpoint ids that must not
	Within      time.Duration `yaml:"within"`
}

// SLO is what the whole drill must show.
type SLO struct {
	Failover     time.Duration `yaml:"failover"`     // from a fault to the answers without it
	Recovery     time.Duration `yaml:"recovery"`     // from a repair to the answers with it again
	NoServFail   bool          `yaml:"no_servfail"`  // no SERVFAIL from any nameserver
	NoTimeouts   bool          `yaml:"no_timeouts"`  // every query answered
	Jurisdiction string        `yaml:"jurisdiction"` // no answer outside this jurisdiction
}

// Interval bounds.
const (
	DefaultInterval = 100 * time.Millisecond
	MinInterval     = 50 * time.Millisecond
	MaxInterval     = time.Second
)

// ParseScenario reads a scenario (named name in errors) strictly: unknown
// keys, wrong types and inconsistent steps are errors naming the key.
func ParseScenario(name string, data []byte) (*Scenario, error) {
	var s Scenario
	if err := yamlfile.Decode(data, &s, sections); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

func (s *Scenario) validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return model.Errorf("name", "the scenario needs a name")
	}
	if len(s.Services) == 0 {
		return model.Errorf("services", "name at least one service under test")
	}
	for i, svc := range s.Services {
		if _, err := model.ParseName(svc); err != nil {
			return model.Errorf(fmt.Sprintf("services[%d]", i), "%v", err)
		}
	}
	if len(s.Nameservers) == 0 {
		return model.Errorf("nameservers", "name at least one nameserver to watch")
	}
	names := map[string]bool{}
	for i, ns := range s.Nameservers {
		field := fmt.Sprintf("nameservers[%d]", i)
		if err := uniqueName(field, "nameserver", ns.Name, names); err != nil {
			return err
		}
		if _, err := netip.ParseAddrPort(ns.Address); err != nil {
			return model.Errorf(field+".address", "%q is not ip:port", ns.Address)
		}
	}
	clients := map[string]bool{}
	for i, c := range s.Clients {
		field := fmt.Sprintf("clients[%d]", i)
		if err := uniqueName(field, "client", c.Name, clients); err != nil {
			return err
		}
		switch {
		case (c.Subnet == "") == (c.Source == ""):
			return model.Errorf(field, "give exactly one of subnet (sent as EDNS Client Subnet) and source (an address to send from)")
		case c.Subnet != "":
			if p, err := netip.ParsePrefix(c.Subnet); err != nil || p.Masked() != p {
				return model.Errorf(field+".subnet", "%q is not a network such as 198.51.100.0/24", c.Subnet)
			}
		default:
			a, err := netip.ParseAddr(c.Source)
			if err != nil || !a.IsLoopback() {
				return model.Errorf(field+".source", "%q is not a loopback address to send from", c.Source)
			}
		}
	}
	if s.Interval == 0 {
		s.Interval = DefaultInterval
	}
	if s.Interval < MinInterval || s.Interval > MaxInterval {
		return model.Errorf("interval", "%v is outside %v..%v", s.Interval, MinInterval, MaxInterval)
	}
	if len(s.Steps) == 0 {
		return model.Errorf("steps", "a drill needs at least one step")
	}
	for i := range s.Steps {
		if err := s.Steps[i].validate(s); err != nil {
			return model.WithField(fmt.Sprintf("steps[%d]", i), err)
		}
	}
	if s.SLO.Failover < 0 || s.SLO.Recovery < 0 {
		return model.Errorf("slo", "times must not be negative")
	}
	return nil
}

// uniqueName checks that an entry of a list (a kind) has a name not used
// before in it, and records it in seen.
func uniqueName(field, kind, name string, seen map[string]bool) error {
	if name == "" {
		return model.Errorf(field+".name", "every %s needs a name", kind)
	}
	if seen[name] {
		return model.Errorf(field+".name", "%q is used twice", name)
	}
	seen[name] = true
	return nil
}

func (st *Step) validate(s *Scenario) error {
	kinds := 0
	for _, set := range []bool{st.Fail != nil, st.Restore != nil, st.Wait != 0, st.Run != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return model.Errorf("", "give exactly one of fail, restore, wait and run (a hook that is a fault or a repair goes in fail: {run: ...} or restore: {run: ...})")
	}
	if st.Run != "" && strings.TrimSpace(st.Run) == "" {
		return model.Errorf("run", "the command is empty")
	}
	if st.Wait < 0 {
		return model.Errorf("wait", "%v is negative", st.Wait)
	}
	for field, t := range map[string]*Target{"fail": st.Fail, "restore": st.Restore} {
		if t != nil {
			if err := t.validate(s); err != nil {
				return model.WithField(field, err)
			}
		}
	}
	if e := st.Expect; e != nil {
		if len(e.Answered) == 0 && len(e.NotAnswered) == 0 {
			return model.Errorf("expect", "say which endpoints must be answered or not answered")
		}
		if e.Within <= 0 {
			return model.Errorf("expect.within", "say within how long (such as 5s)")
		}
		for _, a := range e.Answered {
			for _, n := range e.NotAnswered {
				if a == n {
					return model.Errorf("expect", "endpoint %q is both answered and not answered", a)
				}
			}
		}
	}
	return nil
}

func (t *Target) validate(s *Scenario) error {
	n := 0
	for _, v := range []string{t.Endpoint, t.Pool, t.Region, t.Provider, t.Jurisdiction, strings.TrimSpace(t.Run)} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return model.Errorf("", "give exactly one of endpoint, pool, region, provider, jurisdiction and run")
	}
	if t.Endpoint != "" || t.Pool != "" {
		if t.Service == "" {
			return model.Errorf("service", "an endpoint or pool belongs to a service: name it")
		}
	}
	if t.Service != "" {
		svc, err := model.ParseName(t.Service)
		if err != nil {
			return model.Errorf("service", "%v", err)
		}
		found := false
		for _, name := range s.Services {
			if n, _ := model.ParseName(name); n == svc {
				found = true
			}
		}
		if !found {
			return model.Errorf("service", "%s is not among the scenario's services", svc)
		}
	}
	return nil
}

// sections maps the struct types to their keys in the file.
var sections = map[string]string{
	"Scenario": "", "Nameserver": "nameservers[].", "Client": "clients[].", "Step": "steps[].",
	"Target": "steps[].fail/restore.", "Expect": "steps[].expect.", "SLO": "slo.",
}
