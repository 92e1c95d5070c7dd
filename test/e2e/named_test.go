package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	stop func() // stops it before the test ends
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
	n := &namedSecondary{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port)}
	n.logs, n.stop = startDaemon(t, "named", n.addr, named, "-g", "-n", "1", "-c", confPath)
	return n
}

// waitAnswer polls the secondary until name's type t answer satisfies ok.
func (n *namedSecondary) waitAnswer(name string, qtype uint16, within time.Duration, ok func(*dns.Msg) bool) *dns.Msg {
	n.t.Helper()
	within = max(within, waitFloor)
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

// namedPrimary is a BIND named, started by the test on a loopback port,
// that is the primary of one zone, open to TSIG-signed updates.
type namedPrimary struct {
	*namedSecondary
}

// startNamedPrimary runs named as the primary of zone with the given zone
// file body (after $ORIGIN), allowing transfers and updates with key, and
// notifying notify (ip:port) of changes when set.
func startNamedPrimary(t *testing.T, zone, body string, key tsigKeyConf, notify string) *namedPrimary {
	t.Helper()
	named := testutil.Tool(t, "named")
	dir := t.TempDir()
	port := freePort(t)
	if err := os.WriteFile(filepath.Join(dir, zone+"zone"), []byte("$ORIGIN "+zone+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	also := ""
	if notify != "" {
		h, p, _ := strings.Cut(notify, ":")
		also = fmt.Sprintf("notify explicit; notify-delay 0; also-notify { %s port %s key %q; };", h, p, key.name)
	} else {
		also = "notify no;"
	}
	conf := fmt.Sprintf(`options {
	directory %q;
	pid-file none;
	listen-on port %d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify-source 127.0.0.1;
};
controls { };
key %q { algorithm %s; secret %q; };
zone %q {
	type primary;
	file %q;
	allow-transfer { key %q; };
	allow-update { key %q; };
	max-ixfr-ratio unlimited;
	%s
};
`, dir, port, key.name, key.algorithm, key.secret, zone, zone+"zone", key.name, key.name, also)
	confPath := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n := &namedPrimary{namedSecondary: &namedSecondary{t: t, addr: fmt.Sprintf("127.0.0.1:%d", port)}}
	n.logs, n.stop = startDaemon(t, "named (primary)", n.addr, named, "-g", "-n", "1", "-c", confPath)
	return n
}

// startDaemon runs a DNS server the test needs (named, nsd, knotd) in
// the foreground, waits until it answers DNS at addr over UDP and TCP,
// and stops it when the test ends, showing its log if the test failed.
// stop stops it earlier.
func startDaemon(t *testing.T, what, addr, bin string, args ...string) (logs *syncBuffer, stop func()) {
	t.Helper()
	logs, stop, _ = startDaemonPid(t, what, addr, bin, args...)
	return logs, stop
}

// startDaemonPid is startDaemon, also giving the daemon's process id.
func startDaemonPid(t *testing.T, what, addr, bin string, args ...string) (logs *syncBuffer, stop func(), pid int) {
	t.Helper()
	logs = &syncBuffer{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", what, logs.String())
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for !dnsAnswers(addr) {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", what, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer at %s within 60s:\n%s", what, addr, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return logs, stop, cmd.Process.Pid
}
