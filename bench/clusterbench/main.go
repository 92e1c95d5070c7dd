// Command clusterbench measures Stratus on etcd against Stratus on bbolt:
// query throughput of one node (qps), write latency through the API
// (writes) and endpoint lease renewals with queries served meanwhile
// (renew). It starts etcd members and Stratus nodes on free loopback
// ports in a temporary directory, as test/e2e does, and stops them at the
// end. See bench/README.md, "Stratus on etcd". Run it with
// bench/cluster.sh, which builds the binary first.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
)

type options struct {
	bin     string
	modes   []string
	keep    bool
	runs    int
	length  time.Duration
	dnsperf string
	names   int

	setups  []string
	writes  int
	conc    []int
	pattern []string

	endpoints  int
	period     time.Duration
	renewFor   time.Duration
	workers    int
	regWorkers int
	reg        int
	perf       string
	adminRenew bool
	dnsRate    int
	rate       int
}

func main() {
	var o options
	var modes, setups, conc, pattern string
	fs := flag.NewFlagSet("clusterbench", flag.ExitOnError)
	fs.StringVar(&o.bin, "stratus", "bench/.cache/bin/stratus", "the stratus binary")
	fs.StringVar(&modes, "only", "qps,writes,renew", "what to measure: qps, writes, renew, register (comma-separated)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (logs, data)")
	fs.IntVar(&o.runs, "runs", 6, "qps: dnsperf runs per node, interleaved (etcd, bolt, etcd, ...)")
	fs.DurationVar(&o.length, "l", 10*time.Second, "qps: length of one dnsperf run")
	fs.StringVar(&o.dnsperf, "dnsperf", "-c 4 -q 100", "qps: dnsperf flags of a run")
	fs.IntVar(&o.names, "names", 10000, "qps: names in the zone")
	fs.StringVar(&setups, "setups", "bolt,etcd1,etcd3", "writes, renew, register: bolt (one node on bbolt), etcd1 (one node, one etcd member), etcd3 (three nodes, three members)")
	fs.IntVar(&o.reg, "registrations", 200, "register: new endpoints per setup and concurrency (over 8 services of one zone)")
	fs.IntVar(&o.writes, "writes", 400, "writes: writes per setup, pattern and concurrency")
	fs.StringVar(&conc, "c", "1,4,16", "writes, register: concurrency levels")
	fs.StringVar(&pattern, "pattern", "names,zones", "writes: names (distinct names of one zone), zones (distinct zones)")
	fs.IntVar(&o.endpoints, "endpoints", 10000, "renew: leased endpoints (in services of 1,000)")
	fs.DurationVar(&o.period, "period", 5*time.Second, "renew: each endpoint renews once per period")
	fs.IntVar(&o.rate, "rate", 0, "renew: renewals per second to offer (0: endpoints / period)")
	fs.DurationVar(&o.renewFor, "renew-l", 30*time.Second, "renew: how long renewals are offered")
	fs.IntVar(&o.workers, "workers", 256, "renew: renewals in flight at most (spread over the nodes)")
	fs.IntVar(&o.regWorkers, "register-workers", 4, "renew: registrations in flight at once (a new endpoint counts its service's endpoints: on etcd, concurrent registrations retry)")
	fs.StringVar(&o.perf, "perf", "", "renew: record the nodes and etcd members with perf into this directory during the renewals")
	fs.BoolVar(&o.adminRenew, "admin-renew", false, "renew: renew with the admin token (its answers carry the steering state) instead of an endpoints:write token")
	fs.IntVar(&o.dnsRate, "dns-rate", 10000, "renew: queries per second dnsperf offers node 1 meanwhile (0: as fast as it can)")
	fs.Parse(os.Args[1:])
	o.modes = strings.Split(modes, ",")
	o.setups = strings.Split(setups, ",")
	o.pattern = strings.Split(pattern, ",")
	for _, s := range strings.Split(conc, ",") {
		var c int
		if _, err := fmt.Sscan(s, &c); err != nil || c < 1 {
			fmt.Fprintf(os.Stderr, "-c: %q is not a positive number\n", s)
			os.Exit(2)
		}
		o.conc = append(o.conc, c)
	}
	for _, s := range o.setups {
		if s != "bolt" && s != "etcd1" && s != "etcd3" {
			fmt.Fprintf(os.Stderr, "-setups: %q is not bolt, etcd1 or etcd3\n", s)
			os.Exit(2)
		}
	}
	// Many requests in flight at once: keep their connections.
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 1024
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "clusterbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("temporary directory:", dir)
	}
	if err := runModes(ctx, &o, dir); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		if !o.keep {
			os.RemoveAll(dir)
		}
		os.Exit(1)
	}
}

func runModes(ctx context.Context, o *options, dir string) error {
	for _, m := range o.modes {
		fmt.Printf("## %s (load average %s, %s)\n\n", m, benchproc.LoadAvg(), time.Now().Format(time.RFC3339))
		var err error
		sub := filepath.Join(dir, m)
		switch m {
		case "qps":
			err = benchQPS(ctx, o, sub)
		case "writes":
			err = benchWrites(ctx, o, sub)
		case "renew":
			err = benchRenew(ctx, o, sub)
		case "register":
			err = benchRegister(ctx, o, sub)
		default:
			err = fmt.Errorf("-only: unknown %q (qps, writes, renew, register)", m)
		}
		if err != nil {
			return err
		}
		fmt.Printf("\n(load average at the end: %s)\n\n", benchproc.LoadAvg())
	}
	return nil
}
