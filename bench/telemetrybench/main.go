// Command telemetrybench measures what the observability outputs cost the
// query path: Stratus with metrics off, metrics on (the default), the
// query log at 1% and at 100% of the queries to a file, and dnstap to
// fstrm_capture, each a server of its own answering the demo zone to
// dnsperf, in interleaved runs so that the machine's drift hits every
// row. See bench/README.md ("What observability costs").
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/bench/benchproc"
)

type options struct {
	stratus string
	length  time.Duration
	runs    int
	dnsperf string
	keep    bool
	rows    string
}

func main() {
	var o options
	flag.StringVar(&o.stratus, "stratus", "", "stratus binary (required)")
	flag.DurationVar(&o.length, "l", 10*time.Second, "length of each dnsperf run (whole seconds)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each row, interleaved")
	flag.StringVar(&o.dnsperf, "dnsperf", "-c 4 -q 100", "dnsperf flags besides -s -p -d -l")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (configs, logs, query log, capture)")
	flag.StringVar(&o.rows, "rows", "off,metrics,log1,log100,dnstap", "rows to measure")
	flag.Parse()
	if o.stratus == "" {
		fmt.Fprintln(os.Stderr, "telemetrybench: -stratus is required")
		os.Exit(2)
	}
	if err := run(&o); err != nil {
		fmt.Fprintln(os.Stderr, "telemetrybench:", err)
		os.Exit(1)
	}
}

// row is one configuration measured.
type row struct {
	name, what string
	conf       string // YAML added to the server's config; {dir} is the row's directory
	collector  bool   // start fstrm_capture on {dir}/dnstap.sock
}

var allRows = []row{
	{"off", "metrics off", "metrics: {enabled: false}\n", false},
	{"metrics", "metrics on (default)", "", false},
	{"log1", "query log, 1% sampled, to a file", "query_log: {enabled: true, output: {dir}/queries.log, sample_rate: 0.01, max_backups: 1}\n", false},
	{"log100", "query log, every query, to a file", "query_log: {enabled: true, output: {dir}/queries.log, max_backups: 1}\n", false},
	{"dnstap", "dnstap to fstrm_capture", "dnstap: {socket: {dir}/dnstap.sock}\n", true},
}

// server is one running stratus and, for dnstap, its collector.
type server struct {
	row       row
	dir       string
	port      int
	cmd, capt *exec.Cmd
}

func run(o *options) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "telemetrybench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("working directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	queries := filepath.Join(dir, "queries.txt")
	if err := os.WriteFile(queries, []byte(queryText), 0o644); err != nil {
		return err
	}
	want := map[string]bool{}
	for _, r := range strings.Split(o.rows, ",") {
		want[strings.TrimSpace(r)] = true
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for _, r := range allRows {
		if !want[r.name] {
			continue
		}
		s, err := start(o, r, filepath.Join(dir, r.name))
		if err != nil {
			if r.name == "off" && strings.Contains(err.Error(), "unknown key") && strings.Contains(err.Error(), `enabled"`) {
				fmt.Printf("row off skipped: this build has no metrics.enabled\n")
				continue
			}
			return err
		}
		servers = append(servers, s)
	}
	flags := strings.Fields(o.dnsperf)
	fmt.Printf("\ndnsperf %s -l %d against the demo zone, %d runs each, interleaved; servers GOMAXPROCS=1, one UDP reader, on CPU 0; dnsperf (and fstrm_capture) on CPU 1\n\n",
		o.dnsperf, int(o.length/time.Second), o.runs)
	fmt.Println("| run | row | q/s | server CPU | q per server CPU-s | lost | load avg |")
	fmt.Println("| ---: | --- | ---: | ---: | ---: | ---: | --- |")
	qps := map[string][]float64{}
	perCPU := map[string][]float64{}
	completed := map[string]int64{}
	for r := 1; r <= o.runs; r++ {
		for _, s := range servers {
			c0, t0 := benchproc.CPU(s.cmd.Process.Pid), time.Now()
			q, lost, done, err := dnsperf(ctx, s.port, queries, o.length, flags)
			if err != nil {
				return fmt.Errorf("%s: %v", s.row.name, err)
			}
			cpu, wall := benchproc.CPU(s.cmd.Process.Pid)-c0, time.Since(t0).Seconds()
			qps[s.row.name] = append(qps[s.row.name], q)
			perCPU[s.row.name] = append(perCPU[s.row.name], float64(done)/cpu)
			completed[s.row.name] += done
			fmt.Printf("| %d | %s | %.0f | %.0f%% | %.0f | %d | %s |\n", r, s.row.name, q, 100*cpu/wall, float64(done)/cpu, lost, benchproc.LoadAvg())
		}
	}
	base := "off"
	if len(qps[base]) == 0 {
		base = "metrics"
	}
	// Stopped, the servers have written everything: how much of what
	// they answered reached the log and the collector.
	for _, s := range servers {
		s.stop()
	}
	fmt.Printf("\n| row | what | median q/s | ratio to %[1]s | median q per server CPU-s | ratio to %[1]s | kept |\n| --- | --- | ---: | ---: | ---: | ---: | --- |\n", base)
	for _, s := range servers {
		m, c := benchproc.Median(qps[s.row.name]), benchproc.Median(perCPU[s.row.name])
		fmt.Printf("| %s | %s | %.0f | %.3f | %.0f | %.3f | %s |\n", s.row.name, s.row.what, m, m/benchproc.Median(qps[base]), c, c/benchproc.Median(perCPU[base]), s.kept(completed[s.row.name]))
	}
	return nil
}

var reFrames = regexp.MustCompile(`wrote (\d+) frames`)

// kept says how much of what the server answered (n queries, dnsperf's
// and the start's few) the outputs kept: lines in the query log (the
// files rotation kept), messages in the capture (two a query).
func (s *server) kept(n int64) string {
	switch {
	case strings.HasPrefix(s.row.name, "log"):
		files, _ := filepath.Glob(filepath.Join(s.dir, "queries*.log"))
		var lines int64
		for _, f := range files {
			b, _ := os.ReadFile(f)
			lines += int64(bytes.Count(b, []byte("\n")))
		}
		return fmt.Sprintf("%d lines for %d queries (%.4f; rotated files beyond one removed)", lines, n, float64(lines)/float64(n))
	case s.row.collector:
		b, _ := os.ReadFile(filepath.Join(s.dir, "fstrm_capture.log"))
		var frames int64
		for _, m := range reFrames.FindAllSubmatch(b, -1) {
			f, _ := strconv.ParseInt(string(m[1]), 10, 64)
			frames += f
		}
		return fmt.Sprintf("%d frames (with 2 control frames) for %d queries (%.4f of 2 a query)", frames, n, float64(frames)/float64(2*n))
	}
	return ""
}

// queryText is what dnsperf asks, in a loop: the demo zone's names, a
// wildcard, a CNAME, NXDOMAIN and NODATA.
const queryText = `www.demo.stratus.test A
www.demo.stratus.test AAAA
mail.demo.stratus.test A
api.demo.stratus.test A
x.apps.demo.stratus.test A
demo.stratus.test MX
demo.stratus.test SOA
nope.demo.stratus.test A
www.demo.stratus.test TXT
demo.stratus.test NS
`

func start(o *options, r row, dir string) (*server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &server{row: r, dir: dir, port: freePort()}
	if r.collector {
		bin, err := exec.LookPath("fstrm_capture")
		if err != nil {
			return nil, fmt.Errorf("dnstap row: fstrm_capture not found (Debian fstrm-bin)")
		}
		sock := filepath.Join(dir, "dnstap.sock")
		s.capt = exec.Command("taskset", "-c", "1", bin, "-t", "protobuf:dnstap.Dnstap", "-u", sock, "-w", filepath.Join(dir, "capture.fstrm"))
		logf, err := os.Create(filepath.Join(dir, "fstrm_capture.log"))
		if err != nil {
			return nil, err
		}
		s.capt.Stdout, s.capt.Stderr = logf, logf
		if err := s.capt.Start(); err != nil {
			return nil, err
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(sock); err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("fstrm_capture does not listen on %s", sock)
			}
		}
	}
	// The load comes from loopback far faster than any client asks:
	// exempt from rate limiting, as in the other query-rate benchmarks.
	conf := fmt.Sprintf("dns:\n  listen: [\"127.0.0.1:%d\"]\n  udp_readers: 1\n  rrl:\n    exempt: [127.0.0.0/8]\napi:\n  listen: 127.0.0.1:%d\nlog:\n  level: warn\n", s.port, freePort())
	conf += strings.ReplaceAll(r.conf, "{dir}", dir)
	cf := filepath.Join(dir, "stratus.yaml")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	s.cmd = exec.Command("taskset", "-c", "0", o.stratus, "serve", "--demo", "--config", cf, "--data-dir", filepath.Join(dir, "data"))
	s.cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	logf, err := os.Create(filepath.Join(dir, "stratus.log"))
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "stratus.log"))
			s.cmd = nil
			s.stop()
			return nil, fmt.Errorf("%s: stratus exited: %s", r.name, b)
		default:
		}
		if answers(s.port) {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%s: no answer within 60s", r.name)
		}
	}
}

func answers(port int) bool {
	m := new(dns.Msg)
	m.SetQuestion("www.demo.stratus.test.", dns.TypeA)
	r, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, fmt.Sprintf("127.0.0.1:%d", port))
	return err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0
}

// stop stops the server, then its collector (which then closes its
// file); a second call does nothing.
func (s *server) stop() {
	for _, c := range []*exec.Cmd{s.cmd, s.capt} {
		if c != nil && c.Process != nil && c.ProcessState == nil {
			c.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				c.Process.Kill()
				<-done
			}
		}
	}
}

var (
	reQPS  = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reLost = regexp.MustCompile(`Queries lost:\s+(\d+)`)
	reDone = regexp.MustCompile(`Queries completed:\s+(\d+)`)
)

// dnsperf runs dnsperf on CPU 1 against port.
func dnsperf(ctx context.Context, port int, queries string, length time.Duration, flags []string) (qps float64, lost, done int64, err error) {
	args := append([]string{"-c", "1", "dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(port), "-d", queries, "-l", strconv.Itoa(int(length / time.Second))}, flags...)
	cmd := exec.CommandContext(ctx, "taskset", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("dnsperf: %v\n%s", err, out.String())
	}
	m := reQPS.FindStringSubmatch(out.String())
	if m == nil {
		return 0, 0, 0, fmt.Errorf("dnsperf printed no q/s:\n%s", out.String())
	}
	qps, _ = strconv.ParseFloat(m[1], 64)
	if m := reLost.FindStringSubmatch(out.String()); m != nil {
		lost, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reDone.FindStringSubmatch(out.String()); m != nil {
		done, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return qps, lost, done, nil
}

// freePort returns a loopback port free for TCP and UDP at the moment.
func freePort() int {
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
}
