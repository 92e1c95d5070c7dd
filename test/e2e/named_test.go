package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
)

// namedSecondary is a BIND named, started by the test on a loopback port,
// that is a secondary of Stratus for some zones.
type namedSecondary struct {
	t    *testing.T
	addr string
	logs *syncBuffer
}

// tsigKeyConf is a TSIG key as named.conf declares it.
type tsigKeyConf struct{ name, algorithm, secret string }

// startNamedSecondary runs named as a secondary of primary (ip:port) for
// zones, transferring with key (when its name is set). With poll it
// refreshes every second; without, it refreshes only when notified (its
// SOA refresh is hours).
func startNamedSecondary(t *testing.T, primary string, key tsigKeyConf, poll bool, zones ...string) *namedSecondary {
	t.Helper()
	named := testutil.Tool(t, "named")
	dir := t.TempDir()
	port := freePort(t)
	host, pport, _ := strings.Cut(primary, ":")
	var conf strings.Builder
	fmt.Fprintf(&conf, `options {
	directory %q;
	pid-file none;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
`, dir, port)
	primaryRef := fmt.Sprintf("%s port %s", host, pport)
	if key.name != "" {
		fmt.Fprintf(&conf, "key %q { algorithm %s; secret %q; };\n", key.name, key.algorithm, key.secret)
		primaryRef += fmt.Sprintf(" key %q", key.name)
	}
	refresh := ""
	if poll {
		refresh = "min-refresh-time 1; max-refresh-time 1; min-retry-time 1; max-retry-time 1;"
	}
	for _, z := range zones {
		fmt.Fprintf(&conf, `zone %q {
	type secondary;
	primaries { %s; };
	file %q;
	%s
};
`, z, primaryRef, z+"db", refresh)
	}
	confPath := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &namedSecondary{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port), logs: &syncBuffer{}}
	cmd := exec.Command(named, "-g", "-n", "1", "-c", confPath)
	cmd.Stdout, cmd.Stderr = n.logs, n.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("named log:\n%s", n.logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(n.logs.String(), "running") {
		select {
		case <-exited:
			t.Fatalf("named exited:\n%s", n.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("named did not start:\n%s", n.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return n
}

// waitAnswer polls the secondary until name's type t answer satisfies ok.
func (n *namedSecondary) waitAnswer(name string, qtype uint16, within time.Duration, ok func(*dns.Msg) bool) *dns.Msg {
	n.t.Helper()
	deadline := time.Now().Add(within)
	var last *dns.Msg
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, n.addr)
		if err == nil {
			last = r
			if ok(r) {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("named at %s: %s %s not as expected within %v; last answer:\n%v", n.addr, name, dns.TypeToString[qtype], within, last)
	return nil
}
