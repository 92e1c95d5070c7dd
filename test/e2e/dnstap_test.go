package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
)

// capture is fstrm_capture writing what a dnstap sender sends to its
// unix socket into files in dir, a new file each second that data
// arrives (-s 1), so that the files before the newest are complete.
type capture struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *syncBuffer
}

func startCapture(t *testing.T, sock, dir string) *capture {
	t.Helper()
	bin := testutil.Tool(t, "fstrm_capture")
	testutil.Tool(t, "dnstap-ldns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Remove(sock) // a collector that was killed leaves its socket
	c := &capture{t: t, dir: dir, exited: make(chan struct{}), out: &syncBuffer{}}
	c.cmd = exec.Command(bin, "-t", "protobuf:dnstap.Dnstap", "-u", sock,
		"-w", filepath.Join(dir, "cap-%Y%m%d%H%M%S.fstrm"), "--gmtime", "-s", "1")
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.stop(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("fstrm_capture:\n%s", c.out.String())
		}
	})
	// The socket exists once it listens.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return c
		}
		select {
		case <-c.exited:
			t.Fatalf("fstrm_capture exited:\n%s", c.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("fstrm_capture does not listen")
		}
	}
}

// stop ends fstrm_capture: SIGTERM lets it close its file, SIGKILL is a
// collector that dies.
func (c *capture) stop(sig syscall.Signal) {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(sig)
	<-c.exited
}

// read prints the capture files with dnstap-ldns (args: its format
// option, -q or -y); with complete, only the files fstrm_capture has
// closed.
func (c *capture) read(complete bool, args ...string) string {
	c.t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.dir, "cap-*.fstrm"))
	sort.Strings(files)
	if complete && len(files) > 0 {
		files = files[:len(files)-1]
	}
	var b strings.Builder
	for _, f := range files {
		out, err := exec.Command(testutil.Tool(c.t, "dnstap-ldns"), append(args, "-r", f)...).CombinedOutput()
		if err != nil {
			c.t.Fatalf("dnstap-ldns %s: %v\n%s", f, err, out)
		}
		b.Write(out)
	}
	return b.String()
}

// dig queries s for name and type (extra: options such as +tcp) and
// fails the test unless it is answered.
func dig(t *testing.T, s *server, name, qtype string, extra ...string) {
	t.Helper()
	d := digTool(t, s)
	d.query(t, append([]string{name, qtype}, extra...)...)
}

// waitCaptured sends a query for a fresh name under zone every so often
// until fstrm_capture has written one of them to a complete file: the
// sender is connected, and its frames reach the collector.
func waitCaptured(t *testing.T, s *server, c *capture, tag string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		dig(t, s, fmt.Sprintf("%s-%d.example.com.", tag, i), "A")
		if strings.Contains(c.read(true, "-q"), `"`+tag+"-") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s query captured within 60s:\n%s", tag, c.read(false, "-q"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestDnstapCapture: the queries dig sends, over UDP and TCP, reach
// fstrm_capture as AUTH_QUERY and AUTH_RESPONSE messages that dnstap-ldns
// reads with their names, types, transports and messages; the query log
// has a line for each.
func TestDnstapCapture(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "dnstap.sock")
	c := startCapture(t, sock, filepath.Join(dir, "capture"))
	logPath := filepath.Join(dir, "queries.log")
	cfg := filepath.Join(dir, "stratus.yaml")
	conf := fmt.Sprintf("dnstap: {socket: %s, identity: e2e-ns, version: e2e-1}\nquery_log: {enabled: true, output: %s}\ndns:\n  rrl: {exempt: [127.0.0.0/8]}\n", sock, logPath)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	dig(t, s, "www.example.com.", "A")
	dig(t, s, "mail.example.com.", "AAAA", "+tcp")
	dig(t, s, "example.com.", "SOA")
	s.signal(syscall.SIGTERM) // the session ends: everything sent is flushed
	<-s.exited
	c.stop(syscall.SIGTERM)

	quiet := c.read(false, "-q")
	for _, want := range []string{
		`AQ 127.0.0.1 UDP \d+b "www.example.com." IN A$`,
		`AR 127.0.0.1 UDP \d+b "www.example.com." IN A$`,
		`AQ 127.0.0.1 TCP \d+b "mail.example.com." IN AAAA$`,
		`AR 127.0.0.1 TCP \d+b "mail.example.com." IN AAAA$`,
		`AQ 127.0.0.1 UDP \d+b "example.com." IN SOA$`,
		`AR 127.0.0.1 UDP \d+b "example.com." IN SOA$`,
	} {
		if !matchLine(quiet, want) {
			t.Errorf("no line matching %s in:\n%s", want, quiet)
		}
	}
	yaml := c.read(false, "-y")
	for _, want := range []string{
		`identity: "e2e-ns"`, `version: "e2e-1"`, "type: AUTH_QUERY", "type: AUTH_RESPONSE",
		"socket_family: INET", "socket_protocol: TCP", `query_address: "127.0.0.1"`, "response_time: ",
		";; ->>HEADER<<- opcode: QUERY, rcode: NOERROR", ";mail.example.com.\tIN\tAAAA",
		"example.com.\t3600\tIN\tSOA\tns1.example.com.",
	} {
		if !strings.Contains(yaml, want) {
			t.Errorf("no %q in the YAML:\n%s", want, yaml)
		}
	}

	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Client, Transport, Qname, Qtype, Rcode, Zone string
			AA                                           bool
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("query log line %q: %v", sc.Text(), err)
		}
		if e.Client != "127.0.0.0" {
			t.Errorf("client %q not anonymised: %s", e.Client, sc.Text())
		}
		if e.Zone == "example.com." && e.AA {
			seen[e.Transport+" "+e.Qname+" "+e.Qtype] = true
		}
	}
	for _, k := range []string{"udp www.example.com. A", "tcp mail.example.com. AAAA", "udp example.com. SOA"} {
		if !seen[k] {
			t.Errorf("query log has no %s", k)
		}
	}
}

// matchLine reports whether a line of out matches the regular expression.
func matchLine(out, re string) bool {
	return regexp.MustCompile("(?m)" + re).MatchString(out)
}

// TestDnstapCollectorComesLate: with no collector at start, Stratus
// answers; once fstrm_capture starts it connects and frames arrive.
func TestDnstapCollectorComesLate(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "dnstap.sock")
	cfg := filepath.Join(dir, "stratus.yaml")
	if err := os.WriteFile(cfg, []byte("dnstap: {socket: "+sock+"}\ndns:\n  rrl: {exempt: [127.0.0.0/8]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	dig(t, s, "before.example.com.", "A") // answered with no collector
	c := startCapture(t, sock, filepath.Join(dir, "capture"))
	waitCaptured(t, s, c, "late")
}

// TestDnstapCollectorKilled: a collector killed mid-run does not stop
// the answers; when one starts again, Stratus reconnects and frames
// arrive.
func TestDnstapCollectorKilled(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "dnstap.sock")
	c := startCapture(t, sock, filepath.Join(dir, "capture1"))
	cfg := filepath.Join(dir, "stratus.yaml")
	if err := os.WriteFile(cfg, []byte("dnstap: {socket: "+sock+", queue_size: 16}\ndns:\n  rrl: {exempt: [127.0.0.0/8]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")
	waitCaptured(t, s, c, "first")
	c.stop(syscall.SIGKILL)
	for i := range 50 { // each is answered (dig fails the test otherwise)
		dig(t, s, fmt.Sprintf("dead-%d.example.com.", i), "A")
	}
	c2 := startCapture(t, sock, filepath.Join(dir, "capture2"))
	waitCaptured(t, s, c2, "again")
}
