package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
)

var (
	reQPS  = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	reLost = regexp.MustCompile(`Queries lost:\s+(\d+)`)
	reCode = regexp.MustCompile(`Response codes:\s+(.*)`)
)

// dnsperfResult is what one dnsperf run reported.
type dnsperfResult struct {
	qps    float64
	lost   int64
	rcodes string
	cpu    float64 // dnsperf's own CPU seconds
}

// runDnsperf runs dnsperf on the client CPU against port.
func runDnsperf(ctx context.Context, cpu string, port int, queries string, length time.Duration, flags []string) (dnsperfResult, error) {
	args := []string{"dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(port), "-d", queries, "-l", strconv.Itoa(int(length / time.Second))}
	args = append(args, flags...)
	if cpu != "" {
		args = append([]string{"taskset", "-c", cpu}, args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return dnsperfResult{}, fmt.Errorf("dnsperf: %v\n%s", err, out.String())
	}
	s := out.String()
	m := reQPS.FindStringSubmatch(s)
	if m == nil {
		return dnsperfResult{}, fmt.Errorf("dnsperf printed no q/s:\n%s", s)
	}
	var r dnsperfResult
	r.qps, _ = strconv.ParseFloat(m[1], 64)
	if m := reLost.FindStringSubmatch(s); m != nil {
		r.lost, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reCode.FindStringSubmatch(s); m != nil {
		r.rcodes = strings.TrimSpace(m[1])
	}
	st := cmd.ProcessState
	r.cpu = (st.UserTime() + st.SystemTime()).Seconds()
	return r, nil
}

// benchQPS measures one node on a one-member etcd against one node on
// bbolt, serving the same zone, in interleaved dnsperf runs. Both nodes
// run as in bench/run.sh: GOMAXPROCS=1, one UDP reader, pinned to CPU 0;
// dnsperf on CPU 1; etcd unpinned (it is idle while queries run).
func benchQPS(ctx context.Context, o *options, dir string) error {
	const zone = "bench.test."
	no := nodeOpts{env: []string{"GOMAXPROCS=1"}, pin: "0", udpRead: 1}
	ec, err := startSetup(ctx, o, dir, "etcd1", no)
	if err != nil {
		return err
	}
	defer ec.stop()
	bc, err := startSetup(ctx, o, dir, "bolt", no)
	if err != nil {
		return err
	}
	defer bc.stop()
	nodes := map[string]*node{"etcd": ec.nodes[0], "bolt": bc.nodes[0]}
	for _, name := range []string{"etcd", "bolt"} {
		t0 := time.Now()
		if err := createZone(ctx, nodes[name], zone); err != nil {
			return err
		}
		if err := loadHosts(ctx, nodes[name], zone, o.names); err != nil {
			return err
		}
		fmt.Printf("%s: %d names loaded in %.1f s (changes of 50)\n", name, o.names, time.Since(t0).Seconds())
	}
	qf := filepath.Join(dir, "queries.txt")
	if err := queryFile(qf, zone, o.names, 100000); err != nil {
		return err
	}
	flags := strings.Fields(o.dnsperf)
	fmt.Printf("\ndnsperf %s -l %d, %d runs each, interleaved\n\n", o.dnsperf, int(o.length/time.Second), o.runs)
	fmt.Println("| run | node | q/s | server CPU | q per server CPU-s | lost | load avg |")
	fmt.Println("| ---: | --- | ---: | ---: | ---: | ---: | --- |")
	qps := map[string][]float64{}
	perCPU := map[string][]float64{}
	var pairs []float64
	for r := 1; r <= o.runs; r++ {
		for _, name := range []string{"etcd", "bolt"} {
			n := nodes[name]
			c0, t0 := n.cpu(), time.Now()
			res, err := runDnsperf(ctx, "1", n.dnsPort, qf, o.length, flags)
			if err != nil {
				return err
			}
			cpu, wall := n.cpu()-c0, time.Since(t0).Seconds()
			if !strings.HasPrefix(res.rcodes, "NOERROR") || strings.Contains(res.rcodes, ",") {
				return fmt.Errorf("%s run %d: response codes %s", name, r, res.rcodes)
			}
			qps[name] = append(qps[name], res.qps)
			q := res.qps * wall / cpu
			perCPU[name] = append(perCPU[name], q)
			fmt.Printf("| %d | %s | %.0f | %.0f%% | %.0f | %d | %s |\n", r, name, res.qps, 100*cpu/wall, q, res.lost, benchproc.LoadAvg())
		}
		pairs = append(pairs, qps["etcd"][r-1]/qps["bolt"][r-1])
	}
	me, mb := benchproc.Median(qps["etcd"]), benchproc.Median(qps["bolt"])
	ce, cb := benchproc.Median(perCPU["etcd"]), benchproc.Median(perCPU["bolt"])
	fmt.Printf("\n| | median q/s | median q/CPU-s |\n| --- | ---: | ---: |\n| etcd | %.0f | %.0f |\n| bolt | %.0f | %.0f |\n| etcd / bolt | %.3f | %.3f |\n",
		me, ce, mb, cb, me/mb, ce/cb)
	fmt.Printf("\nmedian of the per-round ratios (etcd run / the bolt run after it): %.3f (range %.3f-%.3f)\n", benchproc.Median(pairs), minF(pairs), maxF(pairs))
	return nil
}

func minF(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxF(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
