// Command notifyflood measures what a flood of unauthenticated NOTIFY and
// UPDATE messages over UDP costs a Stratus server: log bytes per second
// and CPU.
//
// For each binary (-stratus, and -base to compare with) it starts
// `stratus serve --demo` on free loopback ports with its log in a file,
// then sends -rate datagrams a second for -duration from -sources
// loopback addresses (127.0.2.1 on, standing in for spoofed sources),
// each a fresh message of the -kind asked for:
//
//   - notify-unknown: NOTIFY for a zone that does not exist here
//   - notify-primary: NOTIFY for the demo zone, a primary zone here
//   - update-unknown: UPDATE to a zone that does not exist here
//   - update-refused: UPDATE to the demo zone, whose ACL allows no one
//   - mix: the four in turn
//
// It prints the replies received, the log bytes written per second and
// the CPU the server used per second over the flood.
//
//	go build -o /tmp/stratus ./cmd/stratus
//	go run ./bench/notifyflood -stratus /tmp/stratus
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

func main() {
	bin := flag.String("stratus", "", "the stratus binary to measure (required)")
	base := flag.String("base", "", "another stratus binary to measure as stratus-base (e.g. built from main)")
	kind := flag.String("kind", "mix", "notify-unknown, notify-primary, update-unknown, update-refused or mix")
	rate := flag.Int("rate", 20000, "datagrams a second")
	duration := flag.Duration("duration", 10*time.Second, "how long the flood lasts")
	sources := flag.Int("sources", 16, "source addresses (127.0.2.1 on)")
	flag.Parse()
	if *bin == "" {
		log.Fatal("notifyflood: -stratus is required")
	}
	runs := [][2]string{{"stratus", *bin}}
	if *base != "" {
		runs = append(runs, [2]string{"stratus-base", *base})
	}
	for _, r := range runs {
		res, err := measure(r[0], r[1], *kind, *rate, *duration, *sources)
		if err != nil {
			log.Fatalf("notifyflood: %s: %v", r[0], err)
		}
		fmt.Println(res)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cpuTime returns the user and system CPU time of process pid.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (which may hold spaces).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

func measure(name, bin, kind string, rate int, duration time.Duration, sources int) (string, error) {
	dir, err := os.MkdirTemp("", "notifyflood-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	dnsPort, err := freePort()
	if err != nil {
		return "", err
	}
	apiPort, err := freePort()
	if err != nil {
		return "", err
	}
	conf := fmt.Sprintf("dns:\n  listen: [\"127.0.0.1:%d\"]\n  udp_readers: 1\napi:\n  listen: 127.0.0.1:%d\nlog:\n  level: info\n", dnsPort, apiPort)
	if err := os.WriteFile(filepath.Join(dir, "stratus.yaml"), []byte(conf), 0o644); err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, "stratus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve", "--demo", "--config", filepath.Join(dir, "stratus.yaml"), "--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return "", err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	server := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(dnsPort))
	if err := waitReady(server); err != nil {
		return "", err
	}

	conns := make([]*net.UDPConn, sources)
	for i := range conns {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 2, byte(1 + i)}), 0)
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(src), net.UDPAddrFromAddrPort(server))
		if err != nil {
			return "", err
		}
		defer c.Close()
		conns[i] = c
	}
	var replies atomic.Int64
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				replies.Add(1)
			}
		}()
	}

	log0, _ := os.Stat(logPath)
	cpu0, err := cpuTime(cmd.Process.Pid)
	if err != nil {
		return "", err
	}
	t0 := time.Now()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	for time.Since(t0) < duration {
		<-tick.C
		due := int(time.Since(t0).Seconds() * float64(rate))
		for ; sent < due; sent++ {
			conns[sent%len(conns)].Write(message(kind, sent))
		}
	}
	tick.Stop()
	elapsed := time.Since(t0)
	time.Sleep(500 * time.Millisecond) // the replies still on their way
	cpu1, _ := cpuTime(cmd.Process.Pid)
	log1, _ := os.Stat(logPath)
	for _, c := range conns {
		c.SetReadDeadline(time.Now())
	}
	wg.Wait()
	secs := elapsed.Seconds()
	return fmt.Sprintf("%-13s %-15s sent %7d (%5.0f/s)  replies %7d  log %9.0f B/s  cpu %5.1f%%",
		name, kind, sent, float64(sent)/secs, replies.Load(),
		float64(log1.Size()-log0.Size())/secs, 100*(cpu1-cpu0).Seconds()/secs), nil
}

// message returns the i-th message of the flood.
func message(kind string, i int) []byte {
	kinds := []string{"notify-unknown", "notify-primary", "update-unknown", "update-refused"}
	if kind == "mix" {
		kind = kinds[i%len(kinds)]
	}
	m := new(dns.Msg)
	switch kind {
	case "notify-unknown":
		m.SetNotify(fmt.Sprintf("z%d.flood.test.", i))
	case "notify-primary":
		m.SetNotify("demo.stratus.test.")
	case "update-unknown":
		m.SetUpdate(fmt.Sprintf("z%d.flood.test.", i))
	case "update-refused":
		m.SetUpdate("demo.stratus.test.")
		rr, _ := dns.NewRR("x.demo.stratus.test. 60 IN A 192.0.2.1")
		m.Insert([]dns.RR{rr})
	default:
		log.Fatalf("notifyflood: unknown -kind %q", kind)
	}
	m.Id = uint16(i)
	b, err := m.Pack()
	if err != nil {
		log.Fatal(err)
	}
	return b
}

// waitReady waits until the server answers a UDP query.
func waitReady(server netip.AddrPort) error {
	m := new(dns.Msg)
	m.SetQuestion("www.demo.stratus.test.", dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if r, _, err := c.Exchange(m, server.String()); err == nil && len(r.Answer) > 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s within 60s", server)
}
