package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// etcdProc is a one-member etcd the test can freeze, kill and start again
// on the same data directory and ports.
type etcdProc struct {
	t            *testing.T
	bin, dir     string
	client, peer string
	cmd          *exec.Cmd
	exited       chan struct{}
}

func newEtcdProc(t *testing.T) *etcdProc {
	e := &etcdProc{t: t, bin: testutil.Tool(t, "etcd"), dir: t.TempDir(),
		client: fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), peer: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	e.start()
	t.Cleanup(func() {
		if e.cmd != nil {
			e.cmd.Process.Signal(syscall.SIGCONT)
			e.cmd.Process.Kill()
			<-e.exited
		}
	})
	return e
}

func (e *etcdProc) start() {
	e.cmd = exec.Command(e.bin, "--name", "e2e", "--data-dir", filepath.Join(e.dir, "data"),
		"--listen-client-urls", e.client, "--advertise-client-urls", e.client,
		"--listen-peer-urls", e.peer, "--initial-advertise-peer-urls", e.peer,
		"--initial-cluster", "e2e="+e.peer, "--logger", "zap", "--log-outputs", filepath.Join(e.dir, "etcd.log"))
	if err := e.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.exited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(e.cmd, e.exited)
}

func (e *etcdProc) signal(sig syscall.Signal) {
	if err := e.cmd.Process.Signal(sig); err != nil {
		e.t.Fatal(err)
	}
}

func (e *etcdProc) kill() {
	e.signal(syscall.SIGKILL)
	<-e.exited
	e.cmd = nil
}

// staticConfig keeps the store in e with a request timeout of 2s.
func staticConfig(t *testing.T, e *etcdProc) string {
	path := filepath.Join(t.TempDir(), "stratus.yaml")
	cfg := fmt.Sprintf("store:\n  etcd:\n    endpoints: [%s]\n    prefix: stratus/static/\n    dial_timeout: 30s\n    request_timeout: 2s\n", e.client)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// putWWW sets www.demo.stratus.test A to addr through the API.
func putWWW(s *server, addr string) (int, string) {
	return s.api("PUT", "/v1/zones/demo.stratus.test/rrsets/www.demo.stratus.test./A", `{"ttl":60,"records":["`+addr+`"]}`)
}

// waitDegraded waits until GET /v1/status and stratus status say the
// node is degraded (want) or not, and GET /readyz?strict=1 that it is
// not ready for its store (saying since when, not the store's error),
// or ready; GET /readyz stays ready throughout, as DNS answers.
func waitDegraded(t *testing.T, s *server, want bool) {
	t.Helper()
	unreachable := regexp.MustCompile(`"detail": "the store is unreachable since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`)
	for deadline := time.Now().Add(waitFloor); ; time.Sleep(100 * time.Millisecond) {
		code, body := s.api("GET", "/v1/status", "")
		rcode, rbody := s.api("GET", "/readyz", "")
		scode, sbody := s.api("GET", "/readyz?strict=1", "")
		ready := rcode == 200 && strings.Contains(rbody, `"ready": true`) &&
			scode == 200 && strings.Contains(sbody, `"ready": true`)
		if want {
			ready = rcode == 200 && strings.Contains(rbody, `"ready": true`) && unreachable.MatchString(rbody) &&
				scode == 503 && unreachable.MatchString(sbody)
		}
		var st apiv1.Status
		if code == 200 && ready && json.Unmarshal([]byte(body), &st) == nil && st.Degraded == want && st.Store.Reachable == !want {
			out := s.mustCLI("status")
			if strings.Contains(out, "degraded") == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("status did not turn degraded=%v: %d %s; /readyz %d %s; /readyz?strict=1 %d %s", want, code, body, rcode, rbody, scode, sbody)
		}
	}
}

// TestEtcdUnreachableStaticStability: with etcd frozen, then killed and
// started again, DNS keeps answering from the last snapshot, API writes
// fail with 503 naming the unreachable store (within the request timeout),
// GET /v1/status and stratus status say the node is degraded, stratus
// events shows the outage and the return as events of the node, and once
// etcd is back writes work and are served without an operator.
func TestEtcdUnreachableStaticStability(t *testing.T) {
	e := newEtcdProc(t)
	s := startServer(t, t.TempDir(), "--config", staticConfig(t, e), "--demo")
	if got := digDemo(t, s); got != "192.0.2.10" {
		t.Fatalf("www.demo.stratus.test A = %q, want 192.0.2.10", got)
	}
	outage := func(name, addr string, down, up func()) {
		down()
		for range 5 {
			if got := digDemo(t, s); got != "192.0.2.10" && got != "192.0.2.11" {
				t.Fatalf("%s: www.demo.stratus.test A = %q while etcd is away", name, got)
			}
			time.Sleep(200 * time.Millisecond)
		}
		status, body := putWWW(s, addr)
		if status != 503 || !strings.Contains(body, "the store is unreachable") || !strings.Contains(body, "retry") {
			t.Fatalf("%s: write while etcd is away: %d %s, want 503 naming the unreachable store", name, status, body)
		}
		waitDegraded(t, s, true)
		if got := digDemo(t, s); got != "192.0.2.10" && got != "192.0.2.11" {
			t.Fatalf("%s: after the failed write, www.demo.stratus.test A = %q", name, got)
		}
		up()
		var got string
		for deadline := time.Now().Add(waitFloor); ; time.Sleep(100 * time.Millisecond) {
			status, body = putWWW(s, addr)
			if status == 200 {
				break
			}
			if status != 503 || time.Now().After(deadline) {
				t.Fatalf("%s: write after etcd came back: %d %s", name, status, body)
			}
		}
		if got = digDemo(t, s); got != addr {
			t.Fatalf("%s: after the write, www.demo.stratus.test A = %q, want %s", name, got, addr)
		}
		waitDegraded(t, s, false)
	}
	outage("frozen", "192.0.2.11", func() { e.signal(syscall.SIGSTOP) }, func() { e.signal(syscall.SIGCONT) })
	outage("killed", "192.0.2.12", e.kill, e.start)

	// Both outages are in the event history, as events about the node.
	var out string
	for deadline := time.Now().Add(waitFloor); ; time.Sleep(100 * time.Millisecond) {
		out = s.mustCLI("events")
		if strings.Count(out, "store unreachable (") == 2 && strings.Count(out, "store reachable again after ") == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stratus events does not show two outages and two returns of the store:\n%s", out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "store ") && (!strings.Contains(line, "node ") || !strings.Contains(line, " store ")) {
			t.Errorf("a store event not shown as the node's, by actor store: %q", line)
		}
	}
}
