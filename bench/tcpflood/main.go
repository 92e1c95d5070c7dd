// Command tcpflood measures how a DNS server's TCP listener serves its
// clients while one client holds as many connections as it can.
//
// For each server (Stratus from -stratus, optionally a second Stratus
// binary from -base, and Knot DNS when knotd is installed) it starts the
// server on a free loopback port with the demo zone, starts the attacker
// (-attack connections from -attack-addrs addresses from 127.0.0.2 on,
// idle, each reconnecting a second after the server closes it), waits
// for the attacker to settle, then runs -clients other clients, each from
// its own address (127.0.1.1 on), each asking one TCP query per
// connection in a loop for -duration. A query counts as answered when its
// answer arrives within -timeout of the dial. It prints one line per
// server; -json writes them too.
//
//	go build -o /tmp/stratus ./cmd/stratus
//	go run ./bench/tcpflood -stratus /tmp/stratus
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
)

type options struct {
	stratus, base string
	knot          bool
	attack        int
	attackAddrs   int
	clients       int
	duration      time.Duration
	settle        time.Duration
	timeout       time.Duration
	pause         time.Duration
	zoneFile      string
	jsonOut       string
}

// result is one server's row.
type result struct {
	Server       string  `json:"server"`
	Queries      int64   `json:"queries"`
	Answered     int64   `json:"answered"`
	AnsweredPct  float64 `json:"answered_pct"`
	P50ms        float64 `json:"p50_ms"`
	P99ms        float64 `json:"p99_ms"`
	AttackerHeld int64   `json:"attacker_held"` // attacker connections open at the end
	AttackerConn int64   `json:"attacker_connects"`
}

func main() {
	var o options
	flag.StringVar(&o.stratus, "stratus", "", "the stratus binary to measure (required)")
	flag.StringVar(&o.base, "base", "", "another stratus binary to measure as stratus-base (e.g. built from main)")
	flag.BoolVar(&o.knot, "knot", true, "measure Knot DNS too, when knotd is installed")
	flag.IntVar(&o.attack, "attack", 1000, "connections the attacker holds")
	flag.IntVar(&o.attackAddrs, "attack-addrs", 1, "addresses the attacker connects from (127.0.0.2 on)")
	flag.IntVar(&o.clients, "clients", 489, "other clients, one address each (127.0.1.1 on)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "how long the clients query")
	flag.DurationVar(&o.settle, "settle", 3*time.Second, "how long the attacker runs before the clients start")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "a client's query counts as answered within this of its dial")
	flag.DurationVar(&o.pause, "pause", 500*time.Millisecond, "a client's pause between queries")
	flag.StringVar(&o.zoneFile, "zone", "internal/server/demo.zone", "the demo zone file, for Knot")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results to this file")
	flag.Parse()
	if o.stratus == "" {
		log.Fatal("tcpflood: -stratus is required")
	}
	servers := []server{{"stratus", stratusStarter(o.stratus)}}
	if o.base != "" {
		servers = append(servers, server{"stratus-base", stratusStarter(o.base)})
	}
	if _, err := exec.LookPath("knotd"); err == nil && o.knot {
		servers = append(servers, server{"knot", knotStarter(o.zoneFile)})
	}
	var results []result
	for _, s := range servers {
		r, err := measure(o, s.name, s.start)
		if err != nil {
			log.Fatalf("tcpflood: %s: %v", s.name, err)
		}
		fmt.Printf("%-13s queries %6d  answered %6d (%6.2f%%)  p50 %6.1f ms  p99 %7.1f ms  attacker holds %4d (%d connects)\n",
			r.Server, r.Queries, r.Answered, r.AnsweredPct, r.P50ms, r.P99ms, r.AttackerHeld, r.AttackerConn)
		results = append(results, r)
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

const qname = "www.demo.stratus.test."

// starter writes a server's configuration into dir and returns the command
// that runs it on port.
type starter func(dir string, port int) (*exec.Cmd, error)

type server struct {
	name  string
	start starter
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func stratusStarter(bin string) starter {
	return func(dir string, port int) (*exec.Cmd, error) {
		api, err := freePort()
		if err != nil {
			return nil, err
		}
		conf := fmt.Sprintf("dns:\n  listen: [\"127.0.0.1:%d\"]\n  udp_readers: 1\napi:\n  listen: 127.0.0.1:%d\nlog:\n  level: info\n", port, api)
		if err := os.WriteFile(filepath.Join(dir, "stratus.yaml"), []byte(conf), 0o644); err != nil {
			return nil, err
		}
		return exec.Command(bin, "serve", "--demo", "--config", filepath.Join(dir, "stratus.yaml"), "--data-dir", filepath.Join(dir, "data")), nil
	}
}

func knotStarter(zoneFile string) starter {
	return func(dir string, port int) (*exec.Cmd, error) {
		zf, err := filepath.Abs(zoneFile)
		if err != nil {
			return nil, err
		}
		conf := testutil.KnotConfig{Port: port, Dir: dir, LogLevel: "warning", Domain: "demo.stratus.test.", ZoneFile: zf}.String()
		if err := os.WriteFile(filepath.Join(dir, "knot.conf"), []byte(conf), 0o644); err != nil {
			return nil, err
		}
		return exec.Command("knotd", "-c", filepath.Join(dir, "knot.conf")), nil
	}
}

func measure(o options, name string, start starter) (result, error) {
	r := result{Server: name}
	dir, err := os.MkdirTemp("", "tcpflood-"+name+"-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	port, err := freePort()
	if err != nil {
		return r, err
	}
	cmd, err := start(dir, port)
	if err != nil {
		return r, err
	}
	logf, err := os.Create(filepath.Join(os.TempDir(), "tcpflood-"+name+".log"))
	if err != nil {
		return r, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return r, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	if err := waitReady(addr); err != nil {
		return r, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	var held, connects atomic.Int64
	var wg sync.WaitGroup
	for i := range o.attack {
		src := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i%o.attackAddrs)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			attacker(ctx, src, addr, &held, &connects)
		}()
	}
	time.Sleep(o.settle)

	var mu sync.Mutex
	var lat []time.Duration
	var queries, answered atomic.Int64
	end := time.Now().Add(o.duration)
	var cw sync.WaitGroup
	for i := range o.clients {
		src := netip.AddrFrom4([4]byte{127, 0, byte(1 + i/250), byte(1 + i%250)})
		cw.Add(1)
		go func() {
			defer cw.Done()
			var mine []time.Duration
			for time.Now().Before(end) {
				queries.Add(1)
				if d, ok := client(src, addr, o.timeout); ok {
					answered.Add(1)
					mine = append(mine, d)
				}
				time.Sleep(o.pause)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	cw.Wait()
	r.AttackerHeld, r.AttackerConn = held.Load(), connects.Load()
	cancel()
	wg.Wait()
	r.Queries, r.Answered = queries.Load(), answered.Load()
	if r.Queries > 0 {
		r.AnsweredPct = 100 * float64(r.Answered) / float64(r.Queries)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		r.P50ms = float64(lat[n/2].Microseconds()) / 1000
		r.P99ms = float64(lat[n*99/100].Microseconds()) / 1000
	}
	return r, nil
}

// waitReady waits until the server answers a TCP query.
func waitReady(addr netip.AddrPort) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := client(netip.MustParseAddr("127.0.0.1"), addr, time.Second); ok {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s within 60s", addr)
}

// attacker holds one connection open, idle, and opens it again a second
// after the server closes it (or refuses it), until ctx is done.
func attacker(ctx context.Context, src netip.Addr, dst netip.AddrPort, held, connects *atomic.Int64) {
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", dst.String())
		if err == nil {
			connects.Add(1)
			held.Add(1)
			stop := context.AfterFunc(ctx, func() { c.Close() })
			var b [1]byte
			c.Read(b[:]) // until the server closes it
			stop()
			c.Close()
			held.Add(-1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// query is the request the clients send, with its length prefix.
var query = func() []byte {
	m := new(dns.Msg)
	m.SetQuestion(qname, dns.TypeA)
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
}()

// client asks one query on a new connection from src and reports how long
// the answer took, and whether it came within timeout of the dial.
func client(src netip.Addr, dst netip.AddrPort, timeout time.Duration) (time.Duration, bool) {
	t0 := time.Now()
	d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), Deadline: t0.Add(timeout)}
	c, err := d.Dial("tcp", dst.String())
	if err != nil {
		return 0, false
	}
	defer c.Close()
	c.SetDeadline(t0.Add(timeout))
	if _, err := c.Write(query); err != nil {
		return 0, false
	}
	var prefix [2]byte
	if _, err := io.ReadFull(c, prefix[:]); err != nil {
		return 0, false
	}
	resp := make([]byte, binary.BigEndian.Uint16(prefix[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return 0, false
	}
	m := new(dns.Msg)
	if m.Unpack(resp) != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) == 0 {
		return 0, false
	}
	return time.Since(t0), true
}
