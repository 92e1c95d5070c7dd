package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestPropagationToBIND measures how long an API write takes to be
// answered by a BIND secondary that learns of it only by NOTIFY and IXFR
// (no polling), over STRATUS_BENCH_RUNS writes (default 100), and how long
// a failed endpoint keeps being answered by that secondary. A benchmark:
// it runs only with STRATUS_BENCH=1.
func TestPropagationToBIND(t *testing.T) {
	runs := benchOnly(t, 100)
	cfg := filepath.Join(t.TempDir(), "stratus.yaml")
	os.WriteFile(cfg, []byte("zones:\n  notify_delay: 20ms\n"), 0o600)
	s := startServerWith(t, optimizedBinary(t), "", "--config", cfg)
	s.mustCLI("zone", "create", "prop.test", "--ns", "ns1.prop.test", "--allow-transfer", "127.0.0.1")
	s.mustCLI("record", "add", "prop.test", "www", "A", "10.0.0.0")
	sec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{}, false, "prop.test")
	sec.waitAnswer("www.prop.test.", dns.TypeA, 20*time.Second, hasA("10.0.0.0"))
	s.mustCLI("zone", "update", "prop.test", "--notify", sec.addr)

	var gap time.Duration // between writes (STRATUS_BENCH_GAP_MS)
	if ms := os.Getenv("STRATUS_BENCH_GAP_MS"); ms != "" {
		var n int
		fmt.Sscan(ms, &n)
		gap = time.Duration(n) * time.Millisecond
	}
	var took []time.Duration
	for i := 1; i <= runs; i++ {
		time.Sleep(gap)
		addr := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		start := time.Now()
		if st, body := s.api("PUT", "/v1/zones/prop.test/rrsets/www.prop.test./A", `{"ttl":60,"records":["`+addr+`"]}`); st != 200 {
			t.Fatalf("write: %d %s", st, body)
		}
		for !answers(sec.addr, "www.prop.test.", addr) {
			if time.Since(start) > 10*time.Second {
				t.Fatalf("write %d not on the secondary after 10s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	t.Logf("API write to BIND secondary answer (%d writes %v apart, NOTIFY delay 20ms, polled every 2ms): %s", runs, gap, percentiles(took))

	// A failover: the primary's endpoint dies; how long until the BIND
	// secondary answers the backup (HTTP checks every 1s, fall 1).
	s.mustCLI("zone", "create", "fn.example.com", "--ns", "ns1.example.net.", "--allow-transfer", "127.0.0.1")
	fsec := startNamedSecondary(t, s.dnsAddr, tsigKeyConf{}, false, "fn.example.com")
	waitSOA(t, fsec.addr, "fn.example.com.", 20*time.Second)
	s.mustCLI("zone", "update", "fn.example.com", "--notify", fsec.addr)
	backup := startHTTP(t, "127.0.0.3:0")
	defer backup.Close()
	_, port, _ := strings.Cut(backup.Addr, ":")
	svc := fmt.Sprintf(`{"name":"api.fn.example.com","ttl":5,"pools":[
		{"name":"primary","priority":1,"check":{"type":"http","port":%s,"interval":"1s","fall":1,"rise":1}},
		{"name":"backup","priority":2,"check":{"type":"http","port":%s,"interval":"1s","fall":1,"rise":1}}]}`, port, port)
	if st, body := s.api("POST", "/v1/services", svc); st != 201 {
		t.Fatalf("create service: %d %s", st, body)
	}
	s.api("PUT", "/v1/services/api.fn.example.com/endpoints/b1", `{"pool":"backup","address":"127.0.0.3"}`)
	var failover []time.Duration
	for run := range max(runs/10, 3) {
		primary := startHTTPOn(t, "127.0.0.2:"+port)
		s.api("PUT", "/v1/services/api.fn.example.com/endpoints/p1", `{"pool":"primary","address":"127.0.0.2"}`)
		waitChecked(t, s, "p1", 10*time.Second)
		pollAnswer(t, fsec.addr, "127.0.0.2", 5*time.Millisecond, 20*time.Second)
		time.Sleep(time.Duration(run%10) * 100 * time.Millisecond)
		start := time.Now()
		primary.Close()
		failover = append(failover, pollAnswer(t, fsec.addr, "127.0.0.3", 5*time.Millisecond, 20*time.Second).Sub(start))
		s.api("DELETE", "/v1/services/api.fn.example.com/endpoints/p1", "")
	}
	t.Logf("endpoint killed to BIND secondary answering the backup (%d runs, checks every 1s, fall 1, polled every 5ms): %s", len(failover), percentiles(failover))
	if os.Getenv("STRATUS_BENCH_LOGS") == "1" {
		t.Logf("stratus:\n%s\nnamed:\n%s", s.logs.String(), sec.logs.String())
	}
}

// answers reports whether the server at addr answers name A with want.
func answers(addr, name, want string) bool {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
	return err == nil && hasA(want)(r)
}

func percentiles(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("min %v p50 %v p90 %v p99 %v max %v", s[0].Round(100*time.Microsecond), at(0.5), at(0.9), at(0.99), s[len(s)-1].Round(100*time.Microsecond))
}

// TestAXFRMillion transfers a zone of 1,000,000 records to BIND, once from
// Stratus and once from Knot serving the same records, and reports BIND's
// own transfer time and each server's resident memory before and at its
// peak during the transfer. A benchmark: it runs only with STRATUS_BENCH=1
// (STRATUS_BENCH_RECORDS changes the size).
func TestAXFRMillion(t *testing.T) {
	benchOnly(t, 0)
	testutil.Tool(t, "knotd") // before measuring anything
	records := 1000000
	if n := os.Getenv("STRATUS_BENCH_RECORDS"); n != "" {
		fmt.Sscan(n, &records)
	}
	dir := t.TempDir()
	zoneFile := func(origin string) string {
		p := filepath.Join(dir, origin+"zone")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fmt.Fprintf(w, "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster 1 3600 600 1209600 60\n@ NS ns1\nns1 A 192.0.2.53\n", origin)
		for i := 0; i < records-3; i++ {
			fmt.Fprintf(w, "h%d A 10.%d.%d.%d\n", i, (i>>16)&255, (i>>8)&255, i&255)
		}
		w.Flush()
		f.Close()
		return p
	}

	// Stratus.
	s := startServerWith(t, optimizedBinary(t), "")
	if out, errOut, code := s.cli("zone", "import", "big-s.test", zoneFile("big-s.test.")); code != 0 {
		t.Fatalf("import: %s %s", out, errOut)
	}
	s.mustCLI("zone", "update", "big-s.test", "--allow-transfer", "127.0.0.1")
	stratusRes := measureAXFR(t, s.cmd.Process.Pid, s.dnsAddr, "big-s.test.")

	// Knot, one worker of each kind, on the same records.
	kaddr, kpid := startKnot(t, "big-k.test.", zoneFile("big-k.test."))
	knotRes := measureAXFR(t, kpid, kaddr, "big-k.test.")

	t.Logf("AXFR of %d records to BIND named: Stratus %s; Knot %s", records, stratusRes, knotRes)
}

func waitSOA(t *testing.T, addr, zone string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		m := new(dns.Msg)
		m.SetQuestion(zone, dns.TypeSOA)
		if r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr); err == nil && len(r.Answer) == 1 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not answer the SOA of %s", addr, zone)
}

var transferDone = regexp.MustCompile(`Transfer completed: (\d+) messages, (\d+) records, (\d+) bytes, ([0-9.]+) secs`)

// measureAXFR starts a BIND secondary of zone from addr and reports its
// transfer time and the server's (pid's) resident memory before and at
// its peak while the transfer runs.
func measureAXFR(t *testing.T, pid int, addr, zone string) string {
	t.Helper()
	before := rssMiB(pid)
	sec := startNamedSecondary(t, addr, tsigKeyConf{}, false, zone)
	peak := before
	start := time.Now()
	var m []string
	for m == nil {
		peak = max(peak, rssMiB(pid))
		m = transferDone.FindStringSubmatch(sec.logs.String())
		if time.Since(start) > 10*time.Minute {
			t.Fatalf("no transfer of %s within 10 minutes:\n%s", zone, sec.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	secs, _ := strconv.ParseFloat(m[4], 64)
	return fmt.Sprintf("%.2f s (%s messages, %s bytes), RSS %d MiB before, %d MiB at peak", secs, m[1], m[3], before, peak)
}

// rssMiB reads a process's resident memory.
func rssMiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb / 1024
		}
	}
	return 0
}
