// Package e2e tests the real stratus binary from the outside: it builds the
// binary once, starts it on free loopback ports with a fresh data
// directory, and drives it with the CLI, the HTTP API and real DNS clients
// (dig, kdig).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// binary is the stratus binary built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stratus-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "stratus")
	if b := os.Getenv(binaryEnv); b != "" { // a copy of the tests run by another (netns_test.go)
		binary = b
	} else {
		build := exec.Command("go", "build", "-race", "-o", binary, "github.com/stratusdns/stratus/cmd/stratus")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building stratus:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running stratus process.
type server struct {
	t       *testing.T
	dataDir string
	dnsAddr string // 127.0.0.1:port, UDP and TCP
	apiAddr string
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{}
}

// freePort returns a loopback port that is free for both TCP and UDP at
// the moment of the call. It is drawn at random from below the kernel's
// ephemeral range (32768 and up on Linux), so an outgoing connection of
// this or any other process cannot take it between this call and the
// moment a child process binds it, and never twice in one test binary.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		if portsGiven[port] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			portsGiven[port] = true
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// startServer starts stratus serve on a fresh data directory (or dataDir
// when given) and waits until it answers DNS and API requests.
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	return startServerWith(t, binary, dataDir, extra...)
}

// startServerWith is startServer running the binary at bin. A start that
// fails only because another process took one of the chosen ports in the
// meantime is tried again on fresh ports.
func startServerWith(t *testing.T, bin, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	for attempt := 1; ; attempt++ {
		s := launch(t, bin, dataDir, extra...)
		err := s.waitReady()
		if err == nil {
			return s
		}
		if attempt < 3 && strings.Contains(s.logs.String(), "address already in use") {
			t.Logf("start attempt %d: a port was taken, trying fresh ports", attempt)
			continue
		}
		t.Fatal(err)
	}
}

// launch starts one stratus serve process on fresh ports and arranges for
// it to be stopped when the test ends.
func launch(t *testing.T, bin, dataDir string, extra ...string) *server {
	t.Helper()
	return launchVia(t, nil, "127.0.0.1", bin, dataDir, extra...)
}

// launchVia starts bin serve through the command prefix via (none: bin
// itself; e.g. ip netns exec NS, which execs bin, so the process is
// stratus's), listening on fresh ports of host, and arranges for it to be
// stopped when the test ends.
func launchVia(t *testing.T, via []string, host, bin, dataDir string, extra ...string) *server {
	t.Helper()
	s := &server{
		t:       t,
		dataDir: dataDir,
		dnsAddr: fmt.Sprintf("%s:%d", host, freePort(t)),
		apiAddr: fmt.Sprintf("%s:%d", host, freePort(t)),
		logs:    &syncBuffer{},
		exited:  make(chan struct{}),
	}
	args := append(append(append([]string{}, via...), bin, "serve", "--data-dir", dataDir, "--dns-listen", s.dnsAddr, "--api-listen", s.apiAddr), extra...)
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Env = raceEnv()
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() {
		s.signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("server log (%v):\n%s", append(via, bin), s.logs.String())
		}
	})
	return s
}

// waitReady waits until the server answers: the API with its admin token
// (the API listens last, after the DNS listeners) and DNS over UDP and
// TCP. It says why not when the process exits first or takes longer than
// 60 s.
func (s *server) waitReady() error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("stratus exited during start:\n%s", s.logs.String())
		default:
		}
		if s.apiAnswers() && dnsAnswers(s.dnsAddr) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stratus did not become ready within 60s:\n%s", s.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// apiAnswers reports whether the API answers an authenticated request
// with 200, which only this server does: the token is its own.
func (s *server) apiAnswers() bool {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "admin.token"))
	if err != nil {
		return false
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+s.apiAddr+"/v1/zones", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(b)))
	res, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// dnsAnswers reports whether a DNS server at addr answers a query over
// UDP and over TCP, whatever the answer.
func dnsAnswers(addr string) bool {
	for _, netw := range []string{"udp", "tcp"} {
		m := new(dns.Msg)
		m.SetQuestion(".", dns.TypeSOA)
		if _, _, err := (&dns.Client{Net: netw, Timeout: time.Second}).Exchange(m, addr); err != nil {
			return false
		}
	}
	return true
}

func (s *server) signal(sig os.Signal) {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(sig)
	}
}

// token returns the admin token the server wrote.
func (s *server) token() string {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "admin.token"))
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// cli runs the stratus client against this server and returns its output
// and exit code.
func (s *server) cli(args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	return runCLI(s.t, append([]string{"--server", "http://" + s.apiAddr, "--data-dir", s.dataDir}, args...), nil)
}

// mustCLI runs the client and fails the test unless it exits 0.
func (s *server) mustCLI(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.cli(args...)
	if code != 0 {
		s.t.Fatalf("stratus %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func runCLI(t *testing.T, args []string, stdin io.Reader) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = raceEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, stdin
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// api sends an authenticated API request.
func (s *server) api(method, path, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, "http://"+s.apiAddr+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// syncBuffer is a bytes.Buffer safe for the process's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// lines splits command output into non-empty lines.
func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// raceEnv is the environment for the binary under test: the race-enabled
// build otherwise sleeps a second before every exit.
func raceEnv() []string {
	return append(os.Environ(), "GORACE=atexit_sleep_ms=0")
}
