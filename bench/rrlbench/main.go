// Command rrlbench measures response rate limiting against a reflection
// flood: one victim network (127.66.0.0/24, several addresses and ports)
// floods a server with small queries for a large TXT answer as fast as
// the machine allows, while another client (127.77.0.1) asks ordinary
// questions at an ordinary rate. It reports, for Stratus and Knot DNS with
// rate limiting on and off, the amplification toward the victim network
// (octets of DNS messages it received per octet it sent) and the share of
// the ordinary client's questions answered (over UDP, or over TCP after a
// truncated answer, as resolvers do). See bench/README.md.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
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
	"github.com/stratusdns/stratus/internal/testutil"
)

type options struct {
	stratus, knotd string
	duration       time.Duration
	victims        int
	senders        int
	normalRate     int
	rate           int
	slip           int
	readers        int
	servers        string
	floodRate      int
}

func main() {
	var o options
	flag.StringVar(&o.stratus, "stratus", "", "stratus binary (required)")
	flag.StringVar(&o.knotd, "knotd", "knotd", "knotd binary (empty: Knot is skipped)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each flood")
	flag.IntVar(&o.victims, "victims", 16, "flooding sockets, on 127.66.0.1.. (one victim network, /24)")
	flag.IntVar(&o.senders, "senders", 2, "goroutines sending the flood")
	flag.IntVar(&o.normalRate, "normal-rate", 200, "queries a second of the ordinary client (127.77.0.1), over 10 names")
	flag.IntVar(&o.rate, "rate", 100, "responses a second per bucket (Stratus dns.rrl.responses_per_second, Knot rate-limit)")
	flag.IntVar(&o.slip, "slip", 2, "slip (both servers)")
	flag.IntVar(&o.readers, "readers", 2, "UDP readers (Stratus dns.udp_readers, Knot udp-workers)")
	flag.StringVar(&o.servers, "servers", "stratus,knot", "servers to measure")
	flag.IntVar(&o.floodRate, "flood-rate", 0, "queries a second of the flood (0: as fast as the machine allows)")
	flag.Parse()
	if o.stratus == "" {
		fmt.Fprintln(os.Stderr, "rrlbench: -stratus is required")
		os.Exit(2)
	}
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "rrlbench:", err)
		os.Exit(1)
	}
}

const (
	zoneName  = "rrl.test."
	floodName = "bigtxt.rrl.test." // a 44-octet query with EDNS(0)
)

// zoneText has the large TXT answer (four strings of 250 octets) and ten
// ordinary names.
func zoneText() string {
	var b strings.Builder
	b.WriteString("$ORIGIN rrl.test.\n$TTL 3600\n@ SOA ns1.rrl.test. hostmaster.rrl.test. 1 7200 3600 1209600 300\n@ NS ns1.rrl.test.\nns1 A 127.0.0.1\n")
	s := strings.Repeat("x", 250)
	fmt.Fprintf(&b, "bigtxt TXT %q %q %q %q\n", s, s, s, s)
	for i := range 10 {
		fmt.Fprintf(&b, "n%d A 192.0.2.%d\n", i, i+1)
	}
	return b.String()
}

type result struct {
	server, rrl              string
	sent, sentBytes          int64
	full, slips, recvBytes   int64
	victimDrops, serverDrops int64
	normalSent, normalUDP    int64
	normalTCP, normalLost    int64
	normalRetried            int64
	logLines                 []string
	elapsed                  time.Duration
}

func run(o *options) error {
	dir, err := os.MkdirTemp("", "rrlbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	zf := filepath.Join(dir, "rrl.test.zone")
	if err := os.WriteFile(zf, []byte(zoneText()), 0o644); err != nil {
		return err
	}
	var results []result
	for _, srv := range strings.Split(o.servers, ",") {
		for _, on := range []bool{true, false} {
			var s *server
			switch srv {
			case "stratus":
				s, err = startStratus(o, dir, zf, on)
			case "knot":
				if o.knotd == "" {
					continue
				}
				s, err = startKnot(o, dir, zf, on)
			default:
				return fmt.Errorf("unknown server %q", srv)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", srv, err)
			}
			r, err := measure(o, s.addr)
			if srv == "stratus" && on && err == nil {
				time.Sleep(4 * time.Second) // for the log line saying the limit ended
			}
			s.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", srv, err)
			}
			r.server, r.rrl = srv, map[bool]string{true: "on", false: "off"}[on]
			r.logLines = s.logLines()
			results = append(results, r)
			fmt.Fprintf(os.Stderr, "%s rrl=%s: done\n", srv, r.rrl)
		}
	}
	report(o, results)
	return nil
}

func report(o *options, rs []result) {
	rate := "as fast as the machine allows"
	if o.floodRate > 0 {
		rate = fmt.Sprintf("at %d queries a second", o.floodRate)
	}
	fmt.Printf("Flood: %d sockets on 127.66.0.0/24, %d sending goroutines, %s, %v each; query %q TXT with EDNS(0), answer about 1,060 octets.\n",
		o.victims, o.senders, rate, o.duration, floodName)
	fmt.Printf("Ordinary client: 127.77.0.1, %d queries a second over 10 names, each from a port of its own, up to 3 tries 400 ms apart, TCP after a truncated answer.\n", o.normalRate)
	fmt.Printf("Rate limit: %d responses a second per bucket, slip %d; %d UDP readers/workers each.\n\n", o.rate, o.slip, o.readers)
	fmt.Println("| server | RRL | flood sent (q/s) | answers to the flood: full / truncated | dropped at the victim / server socket | amplification | ordinary client answered | first try / retried / over TCP / lost |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		amp := float64(r.recvBytes) / float64(max(r.sentBytes, 1))
		amp2 := ""
		if r.victimDrops > 0 { // dropped datagrams counted as full answers
			amp2 = fmt.Sprintf(" (at most %.2f)", (float64(r.recvBytes)+float64(r.victimDrops)*1100)/float64(max(r.sentBytes, 1)))
		}
		answered := r.normalUDP + r.normalRetried + r.normalTCP
		fmt.Printf("| %s | %s | %.0f | %d / %d | %d / %d | %.2fx%s | %.2f%% of %d | %d / %d / %d / %d |\n",
			r.server, r.rrl, float64(r.sent)/r.elapsed.Seconds(), r.full, r.slips, r.victimDrops, r.serverDrops, amp, amp2,
			100*float64(answered)/float64(max(r.normalSent, 1)), r.normalSent, r.normalUDP, r.normalRetried, r.normalTCP, r.normalLost)
	}
	for _, r := range rs {
		if r.server == "stratus" && r.rrl == "on" {
			fmt.Printf("\nStratus's log lines about rate limiting (the flood, then 4 s of quiet):\n\n")
			for _, l := range r.logLines {
				fmt.Printf("    %s\n", l)
			}
		}
	}
}

// measure runs the flood and the ordinary client against addr for the
// duration.
func measure(o *options, addr netip.AddrPort) (result, error) {
	var r result
	q := new(dns.Msg)
	q.SetQuestion(floodName, dns.TypeTXT)
	q.SetEdns0(1232, false)
	pkt, err := q.Pack()
	if err != nil {
		return r, err
	}
	conns := make([]*net.UDPConn, o.victims)
	for i := range conns {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 66, 0, byte(1 + i%250)}), 0)
		c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(src), net.UDPAddrFromAddrPort(addr))
		if err != nil {
			return r, err
		}
		c.SetReadBuffer(4 << 20)
		defer c.Close()
		conns[i] = c
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var sent, full, slips, recvBytes atomic.Int64
	var wg, rwg sync.WaitGroup
	for _, c := range conns {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			buf := make([]byte, 65535)
			for {
				n, err := c.Read(buf)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				recvBytes.Add(int64(n))
				if n >= 4 && buf[2]&0x02 != 0 {
					slips.Add(1)
				} else {
					full.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	for s := range o.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := append([]byte(nil), pkt...)
			n := int64(0)
			per := float64(o.floodRate) / float64(o.senders) // per sender and second
			for i := s; ctx.Err() == nil; i += o.senders {
				if per > 0 && n%64 == 0 { // keep to the rate, 64 at a time
					if due := start.Add(time.Duration(float64(n) / per * float64(time.Second))); time.Until(due) > 0 {
						time.Sleep(time.Until(due))
					}
				}
				binary.BigEndian.PutUint16(p, uint16(i))
				if _, err := conns[i%len(conns)].Write(p); err == nil {
					n++
				}
			}
			sent.Add(n)
		}()
	}
	var nr result
	wg.Add(1)
	go func() {
		defer wg.Done()
		nr = ordinary(ctx, o, addr)
	}()
	wg.Wait()
	r.elapsed = time.Since(start)
	time.Sleep(500 * time.Millisecond) // answers still on their way
	r.victimDrops = socketDrops(conns)
	r.serverDrops = serverDrops(addr)
	for _, c := range conns {
		c.Close()
	}
	rwg.Wait()
	r.sent, r.sentBytes = sent.Load(), sent.Load()*int64(len(pkt))
	r.full, r.slips, r.recvBytes = full.Load(), slips.Load(), recvBytes.Load()
	r.normalSent, r.normalUDP, r.normalRetried, r.normalTCP, r.normalLost = nr.normalSent, nr.normalUDP, nr.normalRetried, nr.normalTCP, nr.normalLost
	return r, nil
}

// ordinary asks for n0..n9 in turn at the ordinary rate, as a resolver
// does: each question from a port of its own, asked up to three times
// 400 ms apart over UDP, and over TCP when the answer is truncated.
func ordinary(ctx context.Context, o *options, addr netip.AddrPort) result {
	var r result
	var udp, retried, tcp, lost atomic.Int64
	src := netip.MustParseAddr("127.77.0.1")
	tc := &dns.Client{Net: "tcp", Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}}}
	tick := time.NewTicker(time.Second / time.Duration(o.normalRate))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			wg.Wait()
			r.normalUDP, r.normalRetried, r.normalTCP, r.normalLost = udp.Load(), retried.Load(), tcp.Load(), lost.Load()
			return r
		case <-tick.C:
		}
		r.normalSent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := new(dns.Msg)
			m.SetQuestion(fmt.Sprintf("n%d.%s", i%10, zoneName), dns.TypeA)
			m.SetEdns0(1232, false)
			switch a := askUDP(src, addr, m); {
			case a == nil:
				lost.Add(1)
			case a.Truncated:
				if t, _, err := tc.Exchange(m, addr.String()); err == nil && len(t.Answer) == 1 {
					tcp.Add(1)
				} else {
					lost.Add(1)
				}
			case len(a.Answer) != 1:
				lost.Add(1)
			case a.Id == 0:
				retried.Add(1)
			default:
				udp.Add(1)
			}
		}()
	}
}

// askUDP asks m from a fresh port of src up to three times, 400 ms apart;
// the answer has ID 0 when it took more than one try, nil when none came.
func askUDP(src netip.Addr, addr netip.AddrPort, m *dns.Msg) *dns.Msg {
	c, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return nil
	}
	defer c.Close()
	p, _ := m.Pack()
	buf := make([]byte, 65535)
	for try := range 3 {
		c.Write(p)
		c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			a := new(dns.Msg)
			if a.Unpack(buf[:n]) != nil || a.Id != m.Id {
				continue
			}
			if try > 0 {
				a.Id = 0
			}
			return a
		}
	}
	return nil
}

// socketDrops sums the kernel's drop counters of the victims' sockets
// (/proc/net/udp): answers that arrived faster than they were read.
func socketDrops(conns []*net.UDPConn) int64 {
	want := map[string]bool{}
	for _, c := range conns {
		want[procAddr(c.LocalAddr().(*net.UDPAddr).AddrPort())] = true
	}
	return procDrops(func(local string) bool { return want[local] })
}

// serverDrops sums the drop counters of the server's UDP sockets:
// queries it had no time to read.
func serverDrops(addr netip.AddrPort) int64 {
	a := procAddr(addr)
	return procDrops(func(local string) bool { return local == a })
}

func procAddr(ap netip.AddrPort) string {
	b := ap.Addr().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], ap.Port())
}

func procDrops(match func(local string) bool) int64 {
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		return -1
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 13 || !match(fs[1]) {
			continue
		}
		n, _ := strconv.ParseInt(fs[len(fs)-1], 10, 64)
		total += n
	}
	return total
}

// server is a running name server.
type server struct {
	addr netip.AddrPort
	cmd  *exec.Cmd
	log  string
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// logLines returns the rate limiting lines of the server's log.
func (s *server) logLines() []string {
	b, _ := os.ReadFile(s.log)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "rrl: ") {
			out = append(out, l)
		}
	}
	return out
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(name string, args []string, logPath string) (*exec.Cmd, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

func startStratus(o *options, dir, zf string, on bool) (*server, error) {
	d := filepath.Join(dir, fmt.Sprintf("stratus-%v", on))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, err
	}
	port, api := freePort(), freePort()
	conf := fmt.Sprintf(`dns:
  listen: ["127.0.0.1:%d"]
  udp_readers: %d
  rrl:
    enabled: %v
    responses_per_second: %d
    slip: %d
api:
  listen: 127.0.0.1:%d
log:
  level: info
`, port, o.readers, on, o.rate, o.slip, api)
	cf := filepath.Join(d, "stratus.yaml")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	log := filepath.Join(d, "log")
	cmd, err := start(o.stratus, []string{"serve", "--config", cf, "--data-dir", filepath.Join(d, "data")}, log)
	if err != nil {
		return nil, err
	}
	s := &server{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), cmd: cmd, log: log}
	url := fmt.Sprintf("http://127.0.0.1:%d", api)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if r, err := http.Get(url + "/v1/zones"); err == nil {
			r.Body.Close()
			if _, err := os.Stat(filepath.Join(d, "data", "admin.token")); err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("API not up within 60s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := exec.Command(o.stratus, "--data-dir", filepath.Join(d, "data"), "--server", url, "zone", "import", strings.TrimSuffix(zoneName, "."), zf).CombinedOutput()
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("zone import: %v: %s", err, out)
	}
	return s, waitDNS(s)
}

func startKnot(o *options, dir, zf string, on bool) (*server, error) {
	d := filepath.Join(dir, fmt.Sprintf("knot-%v", on))
	if err := os.MkdirAll(filepath.Join(d, "db"), 0o700); err != nil {
		return nil, err
	}
	port := freePort()
	kc := testutil.KnotConfig{Port: port, Dir: d, UDPWorkers: o.readers, Domain: zoneName, ZoneFile: zf}
	if on {
		kc.Sections = fmt.Sprintf("mod-rrl:\n  - id: default\n    rate-limit: %d\n    slip: %d\n", o.rate, o.slip)
		kc.Template = []string{"global-module: mod-rrl/default"}
	}
	conf := kc.String()
	cf := filepath.Join(d, "knot.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	log := filepath.Join(d, "log")
	cmd, err := start(o.knotd, []string{"-c", cf}, log)
	if err != nil {
		return nil, err
	}
	s := &server{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)), cmd: cmd, log: log}
	return s, waitDNS(s)
}

// waitDNS waits until the server answers the large TXT record over TCP
// (UDP asks would spend the rate limit before the measurement).
func waitDNS(s *server) error {
	m := new(dns.Msg)
	m.SetQuestion(floodName, dns.TypeTXT)
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, _, err := c.Exchange(m, s.addr.String())
		if err == nil && len(r.Answer) == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			s.stop()
			return fmt.Errorf("no answer within 60s (%v); log:\n%s", err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
