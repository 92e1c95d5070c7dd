package e2e

import (
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestGracefulShutdown sends SIGTERM while an import is being uploaded:
// the server stops accepting, lets the import finish and succeed, then
// exits 0 with the import on disk.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, "", "--demo")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", "http://"+s.apiAddr+"/v1/zones/late.test/zonefile", pr)
	req.Header.Set("Authorization", "Bearer "+s.token())
	status := make(chan int, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	pw.Write([]byte("$ORIGIN late.test.\n@ 300 SOA ns1 h 1 2 3 4 5\n"))
	time.Sleep(200 * time.Millisecond)
	s.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	pw.Write([]byte("@ 300 NS ns1\nns1 300 A 192.0.2.1\n"))
	pw.Close()
	if got := <-status; got != http.StatusCreated {
		t.Errorf("the import in flight at SIGTERM answered %d, want 201", got)
	}
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15s of SIGTERM")
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
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("PUT", "http://"+s.apiAddr+"/v1/zones/slow.test/zonefile", pr)
	req.Header.Set("Authorization", "Bearer "+s.token())
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
	}()
	pw.Write([]byte("$ORIGIN slow.test.\n"))
	time.Sleep(200 * time.Millisecond)

	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		t.Fatal("exited while a request was still open; the first signal must wait")
	case <-time.After(500 * time.Millisecond):
	}
	s.signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5s after the second signal")
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
