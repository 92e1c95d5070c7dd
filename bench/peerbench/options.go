package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// options are the command-line settings of one harness run.
type options struct {
	runs       int           // measured dnsperf runs per server and workload
	length     time.Duration // length of one measured run (dnsperf -l)
	dnsperf    string        // extra dnsperf flags for the throughput runs
	p99Runs    int           // fixed-rate passes per server and workload
	p99Length  time.Duration // length of one fixed-rate pass
	p99Rate    int           // queries per second of the fixed-rate pass (dnsperf -Q)
	names      int           // names in the zone of the static and steered workloads
	memNames   int           // names in the zone of the memory/load workload
	memStarts  int           // starts per server in the memory/load workload
	phases     map[string]bool
	servers    map[string]bool // nil: all
	serverCPU  string          // taskset -c for the servers
	clientCPU  string          // taskset -c for dnsperf
	coredns    string          // path of a coredns binary
	cacheDir   string          // where built tools are kept (bench/.cache)
	outDir     string          // where the report is written (bench/results)
	keep       bool            // keep the work directory
	quick      bool
	skipChecks bool // skip the failover check of the steered servers (it takes a few seconds each)

	// The fresh workload (-only fresh).
	freshRuns   int           // fresh starts per server
	freshWarmup time.Duration // at the fixed rate, before the measured pass
	freshFull   time.Duration // then at full rate (the -dnsperf flags)
	freshLength time.Duration // the measured pass
	freshSlice  int           // responses per slice
	freshSlow   time.Duration // a response slower than this is slow
	gctrace     bool          // Stratus with GODEBUG=gctrace=1,scavtrace=1
	stratusBase string        // another stratus binary, the row stratus-base
}

var allPhases = []string{"static", "steered", "memory", "fresh"}

// defaultPhases run unless -only names others.
var defaultPhases = []string{"static", "steered", "memory"}

// parseOptions parses args (without the program name).
func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("peerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench/run.sh [flags]\n\nCompares Stratus with peer authoritative DNS servers using dnsperf; see bench/README.md.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.runs, "runs", 10, "measured dnsperf runs per server and workload (servers interleaved)")
	lsec := fs.Int("l", 15, "seconds per measured run (dnsperf -l)")
	fs.StringVar(&o.dnsperf, "dnsperf", "-c 4 -q 100", "dnsperf flags of the throughput runs (besides -s -p -d -l)")
	fs.IntVar(&o.p99Runs, "p99-runs", 3, "fixed-rate passes per server and workload for the p99 latency")
	p99sec := fs.Int("p99-l", 5, "seconds per fixed-rate pass")
	fs.IntVar(&o.p99Rate, "p99-rate", 10000, "queries per second of the fixed-rate pass (dnsperf -Q)")
	fs.IntVar(&o.names, "names", 10000, "names in the zone of the static and steered workloads")
	fs.IntVar(&o.memNames, "mem-names", 1000000, "names in the zone of the memory/load workload")
	fs.IntVar(&o.memStarts, "mem-starts", 3, "starts per server in the memory/load workload (load time and memory are medians)")
	only := fs.String("only", strings.Join(defaultPhases, ","), "workloads to run: static, steered, memory, fresh (comma-separated)")
	servers := fs.String("servers", "", "servers to run, comma-separated (default all): "+strings.Join(peerNames(), ", "))
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list the servers are pinned to (taskset -c)")
	fs.StringVar(&o.clientCPU, "client-cpu", "1", "CPU list dnsperf is pinned to (taskset -c)")
	fs.StringVar(&o.coredns, "coredns", "", "coredns binary (default: <cache>/bin/coredns, which bench/run.sh builds when missing)")
	fs.StringVar(&o.cacheDir, "cache", "bench/.cache", "directory for built tools")
	fs.StringVar(&o.outDir, "out", "bench/results", "directory for the report")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, zones, server logs)")
	fs.BoolVar(&o.quick, "quick", false, "a quick look: 3 runs of 5 s, one 3 s fixed-rate pass, a 100,000-name memory zone (explicit flags win)")
	fs.BoolVar(&o.skipChecks, "skip-failover-check", false, "do not take the primary endpoint down and up again before measuring the steered servers")
	fs.IntVar(&o.freshRuns, "fresh-runs", 5, "fresh workload: fresh starts per server (servers interleaved)")
	fwarm := fs.Int("fresh-warmup", 3, "fresh workload: seconds at the fixed rate before the measured pass")
	ffull := fs.Int("fresh-full", 15, "fresh workload: seconds at full rate (the -dnsperf flags) after the warm-up, before the measured pass (0: none)")
	flen := fs.Int("fresh-l", 15, "fresh workload: seconds of the measured pass at the fixed rate (-p99-rate)")
	fs.IntVar(&o.freshSlice, "fresh-slice", 2500, "fresh workload: consecutive responses per slice")
	fs.DurationVar(&o.freshSlow, "fresh-slow", 500*time.Microsecond, "fresh workload: a response slower than this is slow")
	fs.BoolVar(&o.gctrace, "gctrace", false, "run Stratus with GODEBUG=gctrace=1,scavtrace=1 (its log; the fresh workload reports the collections inside its passes)")
	fs.StringVar(&o.stratusBase, "stratus-base", "", "another stratus binary, measured as the row stratus-base beside the one built from the working tree")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.length = time.Duration(*lsec) * time.Second
	o.p99Length = time.Duration(*p99sec) * time.Second
	o.freshWarmup = time.Duration(*fwarm) * time.Second
	o.freshLength = time.Duration(*flen) * time.Second
	o.freshFull = time.Duration(*ffull) * time.Second
	if o.freshRuns < 1 || *fwarm < 0 || *ffull < 0 || o.freshLength < time.Second || o.freshSlice < 1 || o.freshSlow <= 0 {
		return nil, fmt.Errorf("-fresh-runs, -fresh-slice and -fresh-slow must be positive, -fresh-l at least 1, -fresh-warmup and -fresh-full not negative")
	}
	if o.quick {
		if !set["runs"] {
			o.runs = 3
		}
		if !set["l"] {
			o.length = 5 * time.Second
		}
		if !set["p99-runs"] {
			o.p99Runs = 1
		}
		if !set["p99-l"] {
			o.p99Length = 3 * time.Second
		}
		if !set["mem-names"] {
			o.memNames = 100000
		}
	}
	if o.runs < 1 || o.length < time.Second || o.p99Runs < 0 || o.p99Length < time.Second || o.p99Rate < 1 {
		return nil, fmt.Errorf("-runs and -p99-rate must be positive, -l and -p99-l at least 1, -p99-runs not negative")
	}
	if o.names < 2000 || o.memNames < 2000 || o.memStarts < 1 {
		return nil, fmt.Errorf("-names and -mem-names must be at least 2000 (the checks ask for h1234), -mem-starts at least 1")
	}
	o.phases = map[string]bool{}
	for _, p := range splitList(*only) {
		if !slices.Contains(allPhases, p) {
			return nil, fmt.Errorf("-only: unknown workload %q (want static, steered, memory or fresh)", p)
		}
		o.phases[p] = true
	}
	if *servers != "" {
		o.servers = map[string]bool{}
		for _, s := range splitList(*servers) {
			if s == "stratus-base" && o.stratusBase == "" {
				return nil, fmt.Errorf("-servers: stratus-base needs -stratus-base PATH")
			}
			if !slices.Contains(peerNames(), s) {
				return nil, fmt.Errorf("-servers: unknown server %q (want %s)", s, strings.Join(peerNames(), ", "))
			}
			o.servers[s] = true
		}
	}
	return o, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
