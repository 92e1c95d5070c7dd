package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM while an import is being uploaded:
// the server stops accepting, lets the import finish and succeed, then
// exits 0 with the import on disk.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, "", "--demo")
	pw, status := s.openUpload("late.test")
	pw.Write([]byte("$ORIGIN late.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n"))
	s.signal(syscall.SIGTERM)
	s.waitAPIClosed()
	pw.Write([]byte("@ 300 NS ns1\nns1 300 A 192.0.2.1\n"))
	pw.Close()
	if got := <-status; got != http.StatusCreated {
		t.Errorf("the import in flight at SIGTERM answered %d, want 201", got)
	}
	select {
	case <-s.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("no exit within 60s of SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if logs := s.logs.String(); !strings.Contains(logs, "shutting down") || !strings.Contains(logs, "stopped") {
		t.Errorf("log does not show a graceful stop:\n%s", logs)
	}
	// The data survives, the late import included.
	s2 := startServer(t, s.dataDir)
	if out := s2.mustCLI("zone", "list"); !strings.Contains(out, "demo.stratus.test.") || !strings.Contains(out, "late.test.") {
		t.Errorf("zones after restart: %s", out)
	}
}

// TestSecondSignalForces keeps an API request open (a zone file upload that
// never ends), so a graceful shutdown has to wait; a second SIGTERM must end
// the process at once.
func TestSecondSignalForces(t *testing.T) {
	s := startServer(t, "")
	pw, _ := s.openUpload("slow.test")
	defer pw.Close()
	pw.Write([]byte("$ORIGIN slow.test.\n"))

	s.signal(syscall.SIGTERM)
	s.waitAPIClosed() // the graceful shutdown is under way
	if !dnsAnswers(s.dnsAddr) {
		t.Error("DNS stopped while an API request was still open; the first signal must wait for it")
	}
	select {
	case <-s.exited:
		t.Fatal("exited while a request was still open; the first signal must wait")
	default:
	}
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after the second signal")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit code %d after a forced stop, want 1", code)
	}
}

func TestAdminTokenFile(t *testing.T) {
	s := startServer(t, "")
	info, err := osStat(s.dataDir + "/admin.token")
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("admin.token mode %v, want 0600", info.Mode().Perm())
	}
	tok := s.token()
	if strings.Contains(s.logs.String(), tok) {
		t.Error("the admin token appears in the log")
	}
	// A restart keeps the token.
	s.signal(syscall.SIGTERM)
	<-s.exited
	s2 := startServer(t, s.dataDir)
	if s2.token() != tok {
		t.Error("the admin token changed across a restart")
	}
	// Rotation issues a new one and the old one stops working.
	s2.signal(syscall.SIGTERM)
	<-s2.exited
	s3 := startServer(t, s.dataDir, "--rotate-admin-token")
	if s3.token() == tok {
		t.Fatal("--rotate-admin-token kept the old token")
	}
	_, errOut, code := runCLI(t, []string{"--server", "http://" + s3.apiAddr, "--token", tok, "zone", "list"}, nil)
	if code != 5 {
		t.Errorf("old token after rotation: exit %d (%s), want 5", code, errOut)
	}
	s3.mustCLI("zone", "list")
}

// openUpload starts a zone file upload (PUT /v1/zones/{zone}/zonefile)
// whose body the test writes through pw, and returns once the server's
// handler is reading it: the request asks for 100-continue, which the
// server sends when the handler first reads the body. status receives the
// answer's status code (0 when the request failed).
func (s *server) openUpload(zone string) (pw *io.PipeWriter, status <-chan int) {
	s.t.Helper()
	pr, pw := io.Pipe()
	reading := make(chan struct{})
	var once sync.Once
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		Got100Continue: func() { once.Do(func() { close(reading) }) },
	})
	req, err := http.NewRequestWithContext(ctx, "PUT", "http://"+s.apiAddr+"/v1/zones/"+zone+"/zonefile", pr)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token())
	req.Header.Set("Expect", "100-continue")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
	st := make(chan int, 1)
	go func() {
		res, err := client.Do(req)
		if err != nil {
			st <- 0
			return
		}
		res.Body.Close()
		st <- res.StatusCode
	}()
	select {
	case <-reading:
	case code := <-st:
		s.t.Fatalf("the upload of %s ended before its body was read: status %d", zone, code)
	case <-time.After(60 * time.Second):
		s.t.Fatalf("the server did not start reading the upload of %s within 60s", zone)
	}
	return pw, st
}

// waitAPIClosed waits until the API no longer accepts connections: its
// listener is closed, so a shutdown is under way.
func (s *server) waitAPIClosed() {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.apiAddr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			s.t.Fatal("the API still accepts connections 60s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
