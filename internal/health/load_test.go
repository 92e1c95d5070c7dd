package health

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/model"
)

// The load measurement checks N targets against loopback servers run by a
// helper process (this test binary again), so that the CPU time read from
// /proc/self/stat is the checker's alone.
const (
	loadEnv   = "STRATUS_HEALTH_LOAD"
	helperEnv = "STRATUS_HEALTH_LOAD_HELPER"

	loadTargets   = 5000
	loadInterval  = 5 * time.Second // 5000 targets / 5s = 1000 checks/s
	loadDuration  = 20 * time.Second
	loadListeners = 4
)

// TestLoad measures process CPU seconds per 1,000 checks for HTTP
// keep-alive and TCP checks. Run it with STRATUS_HEALTH_LOAD=1.
func TestLoad(t *testing.T) {
	if os.Getenv(loadEnv) != "1" {
		t.Skipf("skipping the load measurement: set %s=1 to run it (about a minute)", loadEnv)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the server helper: %v", err)
	}
	defer func() {
		stdin.Close() // the helper exits when its stdin closes
		cmd.Wait()
	}()
	addrs := map[string][]string{}
	sc := bufio.NewScanner(stdout)
	for len(addrs) < 2 && sc.Scan() {
		kind, list, _ := strings.Cut(sc.Text(), " ")
		addrs[kind] = strings.Split(list, ",")
	}
	if len(addrs["http"]) == 0 || len(addrs["tcp"]) == 0 {
		t.Fatalf("the server helper gave no addresses: %v", addrs)
	}
	t.Logf("servers (helper process %d): http %v, tcp %v", cmd.Process.Pid, addrs["http"], addrs["tcp"])

	for _, typ := range []string{model.CheckHTTP, model.CheckTCP} {
		c := New(Options{})
		ts := make([]Target, loadTargets)
		for i := range ts {
			list := addrs[typ]
			ts[i] = targetAt(t, fmt.Sprint(typ, i), list[i%len(list)], spec(typ, func(s *model.CheckSpec) {
				s.Interval = model.Duration(loadInterval)
				s.Timeout = model.Duration(2 * time.Second)
			}))
		}
		c.SetTargets(ts)
		time.Sleep(loadInterval + time.Second) // every target probed once: connections made
		cpu0, probes0, child0, start := cpuSeconds(t, "self"), c.probes.Load(), cpuSeconds(t, strconv.Itoa(cmd.Process.Pid)), time.Now()
		time.Sleep(loadDuration)
		cpu1, probes1, child1, elapsed := cpuSeconds(t, "self"), c.probes.Load(), cpuSeconds(t, strconv.Itoa(cmd.Process.Pid)), time.Since(start)
		up := 0
		for _, st := range c.Statuses() {
			if st.State == Up {
				up++
			}
		}
		c.Close()
		checks := float64(probes1 - probes0)
		t.Logf("%s: %d targets, interval %v: %.0f checks in %.1fs (%.0f/s); checker CPU %.2fs = %.3f CPU-s per 1,000 checks (%.1f%% of one core); server helper CPU %.2fs; %d/%d up",
			typ, loadTargets, loadInterval, checks, elapsed.Seconds(), checks/elapsed.Seconds(),
			cpu1-cpu0, (cpu1-cpu0)/checks*1000, (cpu1-cpu0)/elapsed.Seconds()*100, child1-child0, up, loadTargets)
		if up != loadTargets {
			t.Errorf("%s: %d of %d targets up", typ, up, loadTargets)
		}
	}
}

// cpuSeconds returns the user+system CPU time of a process ("self" or a
// pid) from /proc/<pid>/stat.
func cpuSeconds(t testing.TB, pid string) float64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		t.Fatalf("read process CPU time: %v", err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse /proc/%s/stat: %v %v", pid, err1, err2)
	}
	const ticks = 100 // USER_HZ on Linux
	return (utime + stime) / ticks
}

// runLoadHelper serves the load measurement: HTTP and TCP listeners on
// 127.0.0.1-127.0.0.4 (or several ports of 127.0.0.1), their addresses
// written to stdout, until stdin closes.
func runLoadHelper() int {
	var httpAddrs, tcpAddrs []string
	for i := range loadListeners {
		host := fmt.Sprintf("127.0.0.%d", i+1)
		hl, err := net.Listen("tcp", host+":0")
		if err != nil {
			host = "127.0.0.1"
			if hl, err = net.Listen("tcp", host+":0"); err != nil {
				fmt.Fprintln(os.Stderr, "load helper:", err)
				return 1
			}
		}
		tl, err := net.Listen("tcp", host+":0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "load helper:", err)
			return 1
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
		go srv.Serve(hl)
		go func() {
			for {
				c, err := tl.Accept()
				if err != nil {
					return
				}
				go func() {
					io.Copy(io.Discard, c)
					c.Close()
				}()
			}
		}()
		httpAddrs = append(httpAddrs, hl.Addr().String())
		tcpAddrs = append(tcpAddrs, tl.Addr().String())
	}
	fmt.Printf("http %s\ntcp %s\n", strings.Join(httpAddrs, ","), strings.Join(tcpAddrs, ","))
	io.Copy(io.Discard, os.Stdin)
	return 0
}
