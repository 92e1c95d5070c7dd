package e2e

// Helpers for the steering tests (steer_*_test.go): a server started with
// a steering config, HTTP and TCP endpoints on 127.0.0.x that the tests
// stop and restart, DNS queries (miekg/dns for volume, dig where the
// text output matters), polling with a deadline, and typed API reads.
// Every name here starts with "steer" so that it cannot collide with the
// helpers of the other e2e files.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// steerPoll is how often the tests poll.
const steerPoll = 20 * time.Millisecond

// steerStart starts stratus with cfg (YAML, may be empty) as its --config
// file, on dataDir (a fresh one when empty). Extra arguments follow.
func steerStart(t *testing.T, dataDir, cfg string, extra ...string) *server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stratus.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return startServer(t, dataDir, append([]string{"--config", path}, extra...)...)
}

// steerStop stops the server with SIGTERM and waits until it has exited.
func steerStop(t *testing.T, s *server) {
	t.Helper()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("stratus did not stop within 60s of SIGTERM")
	}
}

// steerZone creates a zone with the CLI.
func steerZone(t *testing.T, s *server, zone string) {
	t.Helper()
	steerMustCLI(t, s, "zone", "create", zone, "--ns", "ns1.example.net.")
}

// steerService creates a service from its JSON through the API.
func steerService(t *testing.T, s *server, js string) apiv1.Service {
	t.Helper()
	st, body := s.api("POST", "/v1/services", js)
	if st != http.StatusCreated {
		t.Fatalf("create service: %d %s\n%s", st, body, js)
	}
	var out apiv1.Service
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// steerEndpoint registers (or re-registers) an endpoint through the API.
func steerEndpoint(t *testing.T, s *server, svc, id, js string) apiv1.Endpoint {
	t.Helper()
	st, body := s.api("PUT", "/v1/services/"+svc+"/endpoints/"+id, js)
	if st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("register %s: %d %s", id, st, body)
	}
	var out apiv1.Endpoint
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// steerGetJSON GETs an API path, expects 200 and decodes the body.
func steerGetJSON(t *testing.T, s *server, path string, v any) {
	t.Helper()
	st, body := s.api("GET", path, "")
	if st != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, st, body)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body)
	}
}

// steerEndpoints lists a service's endpoints through the API.
func steerEndpoints(t *testing.T, s *server, svc string) map[string]apiv1.Endpoint {
	t.Helper()
	var l apiv1.EndpointList
	steerGetJSON(t, s, "/v1/services/"+svc+"/endpoints", &l)
	out := map[string]apiv1.Endpoint{}
	for _, e := range l.Endpoints {
		out[e.ID] = e
	}
	return out
}

// steerEvents returns a service's events through the API.
func steerEvents(t *testing.T, s *server, svc string) []apiv1.Event {
	t.Helper()
	var l apiv1.EventList
	steerGetJSON(t, s, "/v1/events?service="+svc, &l)
	return l.Events
}

// steerFindEvent returns the first event of endpoint (or "pool:NAME") for
// which match holds.
func steerFindEvent(evs []apiv1.Event, who string, match func(e apiv1.Event) bool) (apiv1.Event, bool) {
	for _, e := range evs {
		if pool, ok := strings.CutPrefix(who, "pool:"); ok {
			if e.Pool != pool {
				continue
			}
		} else if e.Endpoint != who {
			continue
		}
		if match(e) {
			return e, true
		}
	}
	return apiv1.Event{}, false
}

// steerWaitEvent polls the events until one matches.
func steerWaitEvent(t *testing.T, s *server, svc, who string, limit time.Duration, what string, match func(e apiv1.Event) bool) apiv1.Event {
	t.Helper()
	var ev apiv1.Event
	steerWait(t, limit, what, func() (bool, string) {
		evs := steerEvents(t, s, svc)
		var ok bool
		ev, ok = steerFindEvent(evs, who, match)
		return ok, fmt.Sprintf("events: %+v", evs)
	})
	return ev
}

// steerExplain evaluates a service through the API.
func steerExplain(t *testing.T, s *server, svc, query string) apiv1.Explanation {
	t.Helper()
	var x apiv1.Explanation
	steerGetJSON(t, s, "/v1/services/"+svc+"/evaluate?"+query, &x)
	return x
}

// steerWait polls cond every steerPoll until it holds, failing the test
// after limit (at least waitFloor) with what and cond's last detail.
func steerWait(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	limit = max(limit, waitFloor)
	start := time.Now()
	deadline := start.Add(limit)
	var detail string
	for {
		var ok bool
		ok, detail = cond()
		if ok {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, limit, detail)
		}
		time.Sleep(steerPoll)
	}
}

// steerResult is one DNS response, reduced to what the tests compare.
type steerResult struct {
	Rcode  int
	Addrs  []string // A and AAAA data of the answer section, sorted
	CNAMEs []string // CNAME targets of the answer section, in order
	Answer []string // every answer record, as text
	NS     []string // authority section types ("SOA")
	TTL    uint32   // TTL of the first answer record
	Scope  int      // ECS scope prefix length; -1 without an ECS option
	AA     bool
}

func (r steerResult) addrs() string { return strings.Join(r.Addrs, ",") }

func (r steerResult) String() string {
	return fmt.Sprintf("%s %v (ttl %d, scope %d)", dns.RcodeToString[r.Rcode], r.Answer, r.TTL, r.Scope)
}

// steerQuery asks addr for (name, qtype) over UDP with miekg/dns, with an
// ECS option when subnet is not empty.
func steerQuery(t *testing.T, addr, name string, qtype uint16, subnet string) steerResult {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	if subnet != "" {
		ip, n, err := net.ParseCIDR(subnet)
		if err != nil {
			t.Fatal(err)
		}
		bits, _ := n.Mask.Size()
		e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(bits), Address: ip}
		e.Family = 1
		if ip.To4() == nil {
			e.Family = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, e)
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	var r *dns.Msg
	var err error
	for range 3 {
		if r, _, err = c.Exchange(m, addr); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("query %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	out := steerResult{Rcode: r.Rcode, Scope: -1, AA: r.Authoritative}
	for i, rr := range r.Answer {
		if i == 0 {
			out.TTL = rr.Header().Ttl
		}
		out.Answer = append(out.Answer, strings.Join(strings.Fields(rr.String()), " "))
		switch v := rr.(type) {
		case *dns.A:
			out.Addrs = append(out.Addrs, v.A.String())
		case *dns.AAAA:
			out.Addrs = append(out.Addrs, v.AAAA.String())
		case *dns.CNAME:
			out.CNAMEs = append(out.CNAMEs, v.Target)
		}
	}
	slices.Sort(out.Addrs)
	for _, rr := range r.Ns {
		out.NS = append(out.NS, dns.TypeToString[rr.Header().Rrtype])
	}
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				out.Scope = int(e.SourceScope)
			}
		}
	}
	return out
}

// steerA asks for the A records of name.
func steerA(t *testing.T, s *server, name string) steerResult {
	t.Helper()
	return steerQuery(t, s.dnsAddr, name, dns.TypeA, "")
}

// steerWaitA polls until the A answer of name is exactly want (addresses
// joined by commas, sorted; "" for none).
func steerWaitA(t *testing.T, s *server, name, want string, limit time.Duration) time.Duration {
	t.Helper()
	return steerWait(t, limit, fmt.Sprintf("A %s = %q", name, want), func() (bool, string) {
		r := steerA(t, s, name)
		return r.Rcode == dns.RcodeSuccess && r.addrs() == want, r.String()
	})
}

// steerDig runs dig against the server and returns its output.
func steerDig(t *testing.T, s *server, args ...string) string {
	t.Helper()
	dig := testutil.Tool(t, "dig")
	host, port, _ := net.SplitHostPort(s.dnsAddr)
	all := append([]string{"@" + host, "-p", port, "+norec", "+time=2", "+tries=2"}, args...)
	out, err := exec.Command(dig, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(all, " "), err, out)
	}
	return string(out)
}

var (
	steerDigStatus = regexp.MustCompile(`status: ([A-Z]+)`)
	steerDigECS    = regexp.MustCompile(`; CLIENT-SUBNET: (\S+)`)
)

// steerDigParse returns dig's status, the answer section's records
// (white space collapsed) and the CLIENT-SUBNET line's value ("" if none).
func steerDigParse(t *testing.T, out string) (status string, answer []string, ecs string) {
	t.Helper()
	m := steerDigStatus.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no status in dig output:\n%s", out)
	}
	status = m[1]
	if m := steerDigECS.FindStringSubmatch(out); m != nil {
		ecs = m[1]
	}
	in := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, ";; ANSWER SECTION:"):
			in = true
		case in && strings.TrimSpace(l) == "":
			in = false
		case in:
			answer = append(answer, strings.Join(strings.Fields(l), " "))
		}
	}
	return status, answer, ecs
}

// steerHTTP is an HTTP endpoint on a fixed ip:port that a test stops and
// restarts. It answers 200 "ok" (or what status says) after delay.
type steerHTTP struct {
	t      *testing.T
	Addr   string // ip:port
	IP     string
	Port   int
	status atomic.Int32
	// failNext makes the next so many requests fail with 503, whatever
	// status says.
	failNext atomic.Int32
	hits     atomic.Int64
	hosts    sync.Map // Host headers seen

	mu  sync.Mutex
	srv *http.Server
}

// steerListen listens on addr, retrying a little while the address is
// still held (a restart on the same port).
func steerListen(addr string) (net.Listener, error) {
	var l net.Listener
	var err error
	for range 100 {
		if l, err = net.Listen("tcp", addr); err == nil {
			return l, nil
		}
		time.Sleep(steerPoll)
	}
	return nil, err
}

// steerHTTPOn starts an HTTP endpoint on ip:port (port 0: any).
func steerHTTPOn(t *testing.T, ip string, port int) *steerHTTP {
	t.Helper()
	h := &steerHTTP{t: t, IP: ip}
	h.status.Store(200)
	if err := h.listen(net.JoinHostPort(ip, strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return h
}

func (h *steerHTTP) listen(addr string) error {
	l, err := steerListen(addr)
	if err != nil {
		return err
	}
	h.Addr = l.Addr().String()
	h.Port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		h.hosts.Store(r.Host, true)
		code := int(h.status.Load())
		for n := h.failNext.Load(); n > 0; n = h.failNext.Load() {
			if h.failNext.CompareAndSwap(n, n-1) {
				code = http.StatusServiceUnavailable
				break
			}
		}
		w.WriteHeader(code)
		w.Write([]byte("ok"))
	})}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go srv.Serve(l)
	return nil
}

// Stop closes the listener and every connection at once.
func (h *steerHTTP) Stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// Start listens again on the same address.
func (h *steerHTTP) Start() {
	h.t.Helper()
	if err := h.listen(h.Addr); err != nil {
		h.t.Fatalf("restart %s: %v", h.Addr, err)
	}
}

// steerHTTPGroup starts HTTP endpoints on the same port of several
// addresses (a pool's check has one port).
func steerHTTPGroup(t *testing.T, ips ...string) (map[string]*steerHTTP, int) {
	t.Helper()
	for range 20 {
		first := steerHTTPOn(t, ips[0], 0)
		out := map[string]*steerHTTP{ips[0]: first}
		ok := true
		for _, ip := range ips[1:] {
			// Bound here and kept: a port found free and bound later
			// could be taken in between.
			h := &steerHTTP{t: t, IP: ip}
			h.status.Store(200)
			if err := h.listen(net.JoinHostPort(ip, strconv.Itoa(first.Port))); err != nil {
				ok = false
				break
			}
			t.Cleanup(h.Stop)
			out[ip] = h
		}
		if ok {
			return out, first.Port
		}
		for _, h := range out {
			h.Stop()
		}
	}
	t.Fatal("no port free on every address")
	return nil, 0
}

// steerTCP is a TCP endpoint that accepts connections and holds them
// open (sending nothing) until stopped. As an HTTP endpoint it never
// answers: a probe against it gets no result before its timeout.
type steerTCP struct {
	t        *testing.T
	Addr     string
	Port     int
	accepted atomic.Int64

	mu    sync.Mutex
	l     net.Listener
	conns []net.Conn
}

// steerTCPOn starts a TCP endpoint on ip:port (port 0: any).
func steerTCPOn(t *testing.T, ip string, port int) *steerTCP {
	t.Helper()
	p := &steerTCP{t: t}
	if err := p.listen(net.JoinHostPort(ip, strconv.Itoa(port))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func (p *steerTCP) listen(addr string) error {
	l, err := steerListen(addr)
	if err != nil {
		return err
	}
	p.Addr = l.Addr().String()
	p.Port = l.Addr().(*net.TCPAddr).Port
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			p.mu.Lock()
			if p.l != l {
				p.mu.Unlock()
				c.Close()
				return
			}
			p.conns = append(p.conns, c)
			p.mu.Unlock()
		}
	}()
	return nil
}

// Stop closes the listener and every accepted connection.
func (p *steerTCP) Stop() {
	p.mu.Lock()
	l, conns := p.l, p.conns
	p.l, p.conns = nil, nil
	p.mu.Unlock()
	if l != nil {
		l.Close()
	}
	for _, c := range conns {
		c.Close()
	}
}

// Start listens again on the same address.
func (p *steerTCP) Start() {
	p.t.Helper()
	if err := p.listen(p.Addr); err != nil {
		p.t.Fatalf("restart %s: %v", p.Addr, err)
	}
}

// steerWrite writes a file into a fresh temporary directory.
func steerWrite(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// steerUnused returns a loopback port on ip that nothing listens on (at
// the moment of the call): connections to it are refused.
func steerUnused(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// steerCLIFail runs the CLI, expecting the exit code want, and returns
// stderr.
func steerCLIFail(t *testing.T, s *server, want int, args ...string) string {
	t.Helper()
	out, errOut, code := steerCLI(t, s, args...)
	if code != want {
		t.Fatalf("stratus %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	return errOut
}

// steerAPIError decodes an API error body.
func steerAPIError(t *testing.T, body string) apiv1.Error {
	t.Helper()
	var e apiv1.ErrorResponse
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not an API error: %v\n%s", err, body)
	}
	return e.Error
}

// steerWaitState polls until a check has found the endpoint in state
// ("up" or "down") and returns the endpoint.
func steerWaitState(t *testing.T, s *server, svc, id, state string, limit time.Duration) apiv1.Endpoint {
	t.Helper()
	var e apiv1.Endpoint
	steerWait(t, limit, fmt.Sprintf("endpoint %s checked %s", id, state), func() (bool, string) {
		e = steerEndpoints(t, s, svc)[id]
		if e.Health == nil {
			return false, "no health"
		}
		return e.Health.State == state && e.Health.LastCheck != nil, fmt.Sprintf("%+v", *e.Health)
	})
	return e
}

// steerCLI runs the client against s like server.cli, but without the
// race runtime's one-second sleep at exit (the test binary is built with
// -race), which would otherwise dominate these tests' run time.
func steerCLI(t *testing.T, s *server, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir}, args...)...)
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), "GORACE="+gorace)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// steerMustCLI runs the client and fails the test unless it exits 0.
func steerMustCLI(t *testing.T, s *server, args ...string) string {
	t.Helper()
	out, errOut, code := steerCLI(t, s, args...)
	if code != 0 {
		t.Fatalf("stratus %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}
