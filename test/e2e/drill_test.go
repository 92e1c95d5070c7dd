package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/drill"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestDrillCLI runs `stratus drill run` against Stratus, with real HTTP
// endpoints checked every second, and a notified BIND secondary: the EU
// primary pool fails and comes back; both nameservers follow within the
// expectations, the SLOs hold (exit 0), no override is left behind; a
// scenario whose SLO the interval cannot show exits 7.
func TestDrillCLI(t *testing.T) {
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "zones:\n  notify_delay: 20ms\n")
	steerZone(t, s, "fn.example.com")
	s.mustCLI("zone", "update", "fn.example.com", "--allow-transfer", "127.0.0.1")
	_, port := steerHTTPGroup(t, "127.0.0.2", "127.0.0.3")
	file := steerWrite(t, "svc.yaml", fmt.Sprintf("name: %s\nttl: 5\npolicy: failover\npools:\n"+
		"  - {name: dub, jurisdiction: eu, region: eu-west, priority: 1, check: {type: http, port: %d, interval: 1s}}\n"+
		"  - {name: fra, jurisdiction: eu, region: eu-central, priority: 2, check: {type: http, port: %d, interval: 1s}}\n", svc, port, port))
	steerMustCLI(t, s, "service", "create", "-f", file)
	steerMustCLI(t, s, "endpoint", "register", svc, "dub-1", "--pool", "dub", "--address", "127.0.0.2")
	steerMustCLI(t, s, "endpoint", "register", svc, "fra-1", "--pool", "fra", "--address", "127.0.0.3")
	steerWaitState(t, s, svc, "dub-1", "up", 5*time.Second)
	steerWaitState(t, s, svc, "fra-1", "up", 5*time.Second)
	steerWaitA(t, s, svc, "127.0.0.2", 5*time.Second)
	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{}, false, "fn.example.com")
	s.mustCLI("zone", "update", "fn.example.com", "--notify", sec.addr)
	sec.waitAnswer(svc+".", 1, 20*time.Second, hasA("127.0.0.2"))

	scenario := func(failover string) string {
		return steerWrite(t, "drill-"+failover+".yaml", fmt.Sprintf(`name: eu-primary
services: [%s]
nameservers:
  - {name: stratus, address: "%s"}
  - {name: bind, address: "%s"}
clients:
  - {name: frankfurt, subnet: 203.0.113.0/24}
interval: 50ms
steps:
  - fail: {service: %s, pool: dub}
    expect: {answered: [fra-1], not_answered: [dub-1], within: 5s}
  - wait: 300ms
  - restore: {service: %s, pool: dub}
    expect: {answered: [dub-1], within: 5s}
slo:
  failover: %s
  recovery: 5s
  no_servfail: true
  no_timeouts: true
  jurisdiction: eu
`, svc, s.dnsAddr, sec.addr, svc, svc, failover))
	}
	html := t.TempDir() + "/report.html"
	out, errOut, code := s.cli("drill", "run", scenario("5s"), "-o", "json", "--html", html)
	var rep drill.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || !rep.Passed {
		t.Fatalf("drill run: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	for _, st := range rep.Steps {
		for _, se := range st.Series {
			if st.Kind != "wait" {
				t.Logf("step %d %s on %s for %s: %v", st.Step+1, st.Kind, se.Nameserver, se.Client, se.Took)
			}
		}
	}
	if !strings.Contains(errOut, "step 1/3: fail pool dub of "+svc) {
		t.Errorf("no progress shown:\n%s", errOut)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "Drill eu-primary: <span class=\"passed\">PASSED</span>") {
		t.Errorf("HTML report: %v", err)
	}
	var got apiv1.Service
	if err := json.Unmarshal([]byte(s.mustCLI("service", "get", svc, "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Pools {
		if p.Override != nil && p.Override.State != "" {
			t.Errorf("pool %s left with %+v", p.Name, p.Override)
		}
	}
	// The events say who took the pool down: the token, for the drill.
	if ev := s.mustCLI("events", "--service", svc); !strings.Contains(ev, "(drill:eu-primary)") {
		t.Errorf("events do not name the drill:\n%s", ev)
	}

	// The run was kept: drill list and drill show find it.
	list := s.mustCLI("drill", "list", "--drill", "eu-primary")
	if !strings.Contains(list, "eu-primary/") || !strings.Contains(list, "passed") {
		t.Errorf("drill list:\n%s", list)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	page := filepath.Join(t.TempDir(), "kept.html")
	if show := s.mustCLI("drill", "show", id, "--html", page); !strings.Contains(show, "PASSED") || !strings.Contains(show, "failover within 5s") {
		t.Errorf("drill show %s:\n%s", id, show)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "bind · frankfurt") || !strings.Contains(string(b), "= dub-1 (pool dub)") || !strings.Contains(string(b), "fail pool dub of "+svc) {
		t.Errorf("drill show --html: the page does not name the endpoints and the fault (%v)", err)
	}

	// A dry run says what would happen and changes nothing.
	before := s.mustCLI("service", "get", svc, "-o", "json")
	beforeEvents := s.mustCLI("events", "--service", svc)
	out, errOut, code = s.cli("drill", "run", scenario("5s"), "--dry-run")
	if code != 0 || !strings.Contains(out, "127.0.0.3") || strings.Count(out, "would hold") != 2 {
		t.Errorf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if after := s.mustCLI("service", "get", svc, "-o", "json"); after != before {
		t.Errorf("a dry run changed the service:\n%s\n%s", before, after)
	}
	if afterEvents := s.mustCLI("events", "--service", svc); afterEvents != beforeEvents {
		t.Errorf("a dry run made events:\n%s", afterEvents)
	}

	// A degraded service: the drill does not start unless forced.
	steerMustCLI(t, s, "endpoint", "override", svc, "fra-1", "down")
	if _, errOut, code := s.cli("drill", "run", scenario("5s")); code != 1 || !strings.Contains(errOut, "already degraded") || !strings.Contains(errOut, "fra-1") {
		t.Errorf("a drill on a degraded service: exit %d %s", code, errOut)
	}
	steerMustCLI(t, s, "endpoint", "override", svc, "fra-1", "clear")
	steerWaitA(t, s, svc, "127.0.0.2", 5*time.Second)

	out, errOut, code = s.cli("drill", "run", scenario("1ms"))
	if code != 7 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "failover within 1ms") {
		t.Errorf("an SLO the interval cannot show: exit %d\n%s\n%s", code, out, errOut)
	}
	// The summary says what each step did and never calls nothing 0s.
	for _, want := range []string{"fail pool dub of " + svc, "answered fra-1; not answered dub-1 within 5s", "ANSWER CHANGES"} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "slowest 0s") || strings.Contains(out, "ANSWERS SEEN") {
		t.Errorf("the summary:\n%s", out)
	}
}

// TestDrillHooks makes a real fault with hook commands: the primary's
// health endpoint (a real HTTP server on 127.0.0.2) answers 503 while a
// flag file exists; the drill creates and removes the file, and Stratus's
// HTTP checks move the answers.
func TestDrillHooks(t *testing.T) {
	const svc = "api.fn.example.com"
	flag := filepath.Join(t.TempDir(), "down")
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(flag); err == nil {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go hs.Serve(l)
	defer hs.Close()
	port := l.Addr().(*net.TCPAddr).Port

	s := steerStart(t, "", "")
	steerZone(t, s, "fn.example.com")
	file := steerWrite(t, "svc.yaml", fmt.Sprintf("name: %s\nttl: 5\npolicy: failover\npools:\n"+
		"  - {name: dub, priority: 1, check: {type: http, port: %d, interval: 1s, fall: 1, rise: 1}}\n"+
		"  - {name: fra, priority: 2, check: {type: none}}\n", svc, port))
	steerMustCLI(t, s, "service", "create", "-f", file)
	steerMustCLI(t, s, "endpoint", "register", svc, "dub-1", "--pool", "dub", "--address", "127.0.0.2")
	steerMustCLI(t, s, "endpoint", "register", svc, "fra-1", "--pool", "fra", "--address", "192.0.2.2")
	steerWaitState(t, s, svc, "dub-1", "up", 5*time.Second)

	scenario := steerWrite(t, "hooks.yaml", fmt.Sprintf(`name: real-fault
services: [%s]
nameservers: [{name: stratus, address: "%s"}]
interval: 50ms
steps:
  - fail: {run: "touch %s"}
    expect: {answered: [fra-1], not_answered: [dub-1], within: 5s}
  - restore: {run: "rm %s"}
    expect: {answered: [dub-1], within: 5s}
slo: {failover: 5s, recovery: 5s, no_servfail: true, no_timeouts: true}
`, svc, s.dnsAddr, flag, flag))
	out, errOut, code := s.cli("drill", "run", scenario)
	if code != 0 || !strings.Contains(out, "PASSED") || !strings.Contains(errOut, "fail: run touch") {
		t.Fatalf("drill with hooks: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("\n%s", out)
}

// TestDrillOnServer runs a drill configured in the server's config file,
// started through the API: the server injects the fault, measures its own
// answers and keeps the run.
func TestDrillOnServer(t *testing.T) {
	const svc = "api.fn.example.com"
	extra := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	scenario := steerWrite(t, "server-drill.yaml", fmt.Sprintf(`name: on-server
services: [%s]
nameservers: [{name: stratus, address: "%s"}]
interval: 50ms
steps:
  - fail: {service: %s, pool: dub}
    expect: {answered: [fra-1], not_answered: [dub-1], within: 5s}
  - restore: {service: %s, pool: dub}
    expect: {answered: [dub-1], within: 5s}
slo: {failover: 5s, recovery: 5s, no_servfail: true, no_timeouts: true}
`, svc, extra, svc, svc))
	s := steerStart(t, "", "drills:\n  - scenario: "+scenario+"\n", "--dns-listen", extra)
	drillFailoverService(t, s, svc)

	if out := s.mustCLI("drill", "start", "on-server"); !strings.Contains(out, "started") {
		t.Errorf("drill start: %s", out)
	}
	if _, errOut, code := s.cli("drill", "start", "nope"); code != 3 {
		t.Errorf("starting an unknown drill: exit %d %s", code, errOut)
	}
	var list apiv1.DrillRunList
	steerWait(t, 2*waitFloor, "a run of on-server kept", func() (bool, string) { // the drill runs its steps first
		out := s.mustCLI("drill", "list", "--drill", "on-server", "-o", "json")
		list = apiv1.DrillRunList{}
		json.Unmarshal([]byte(out), &list)
		return len(list.Runs) > 0, out
	})
	if len(list.Runs) != 1 || !list.Runs[0].Passed || list.Runs[0].Actor != "admin" {
		t.Fatalf("runs kept: %+v", list.Runs)
	}
	show := s.mustCLI("drill", "show", list.Runs[0].ID)
	t.Logf("\n%s", show)
}

// TestDrillBadScenarioInConfig: serve refuses a config whose drill
// scenario does not read, naming it (exit 2).
func TestDrillBadScenarioInConfig(t *testing.T) {
	bad := steerWrite(t, "bad.yaml", "name: x\nservices: []\n")
	cfg := steerWrite(t, "stratus.yaml", "drills:\n  - scenario: "+bad+"\n")
	_, errOut, code := runCLI(t, []string{"serve", "--config", cfg, "--data-dir", t.TempDir(), "--dns-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t)), "--api-listen", fmt.Sprintf("127.0.0.1:%d", freePort(t))}, nil)
	if code != 2 || !strings.Contains(errOut, "drills[0].scenario") || !strings.Contains(errOut, "services: name at least one") {
		t.Errorf("serve with a bad drill scenario: exit %d %s", code, errOut)
	}
}

// TestDrillKilled: a drill killed midway (SIGKILL, no chance to clean up)
// leaves overrides that end by themselves within its lease.
func TestDrillKilled(t *testing.T) {
	const svc = "api.fn.example.com"
	s := steerStart(t, "", "")
	drillFailoverService(t, s, svc)
	scenario := steerWrite(t, "long.yaml", fmt.Sprintf(`name: killed
services: [%s]
nameservers: [{name: stratus, address: "%s"}]
steps:
  - fail: {service: %s, pool: dub}
  - wait: 1h
`, svc, s.dnsAddr, svc))
	cmd := exec.Command(binary, "--server", "http://"+s.apiAddr, "--data-dir", s.dataDir, "drill", "run", scenario, "--lease", "3s", "--no-save")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	steerWaitA(t, s, svc, "192.0.2.2", 30*time.Second) // the fault is in
	cmd.Process.Kill()
	cmd.Wait()
	killed := time.Now()
	// No renewal comes after the kill: the override the drill left ends
	// by itself within the lease (unless it has ended already).
	var got apiv1.Service
	steerGetJSON(t, s, "/v1/services/"+svc, &got)
	for _, p := range got.Pools {
		if o := p.Override; p.Name == "dub" && o != nil && (o.Expires == nil || o.Expires.After(killed.Add(3*time.Second))) {
			t.Errorf("the killed drill's override of pool dub: %+v, want one ending within the 3s lease", o)
		}
	}
	steerWaitA(t, s, svc, "192.0.2.1", 30*time.Second)
}

// drillFailoverService creates svc, failing over from pool dub (dub-1,
// 192.0.2.1) to pool fra (fra-1, 192.0.2.2), unchecked, and waits until
// dub-1 is answered.
func drillFailoverService(t *testing.T, s *server, svc string) {
	t.Helper()
	steerZone(t, s, "fn.example.com")
	file := steerWrite(t, "svc.yaml", "name: "+svc+"\nttl: 5\npolicy: failover\npools:\n"+
		"  - {name: dub, priority: 1, check: {type: none}}\n  - {name: fra, priority: 2, check: {type: none}}\n")
	steerMustCLI(t, s, "service", "create", "-f", file)
	steerMustCLI(t, s, "endpoint", "register", svc, "dub-1", "--pool", "dub", "--address", "192.0.2.1")
	steerMustCLI(t, s, "endpoint", "register", svc, "fra-1", "--pool", "fra", "--address", "192.0.2.2")
	steerWaitA(t, s, svc, "192.0.2.1", 5*time.Second)
}
