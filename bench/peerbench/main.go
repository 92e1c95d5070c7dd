// Command peerbench compares Stratus with peer authoritative DNS servers
// (Knot DNS, NSD, BIND, CoreDNS, gdnsd and the PowerDNS Authoritative
// Server) using dnsperf: throughput, CPU per query and latency on a static
// zone and on health-steered names, and memory and load time with a large
// zone. Every server runs on 127.0.0.1 pinned to one CPU with one worker;
// dnsperf runs pinned to another. bench/run.sh runs it; bench/README.md
// explains the method and the options.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() { os.Exit(peerbench()) }

func peerbench() int {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	env, err := setup(ctx, o)
	if env != nil {
		defer env.cleanup()
	}
	defer stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		return 1
	}
	rep, err := measureAll(ctx, env)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "peerbench: interrupted; stopping the servers")
		return 130
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		return 1
	}
	md := renderReport(rep)
	fmt.Print("\n", md)
	if err := writeReport(o.outDir, rep, md); err != nil {
		fmt.Fprintln(os.Stderr, "peerbench:", err)
		return 1
	}
	return 0
}

// measureAll resolves the servers and runs the chosen workloads.
func measureAll(ctx context.Context, env *environment) (*report, error) {
	o := env.opts
	rep := &report{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Settings: settings{
		Runs: o.runs, RunSeconds: int(o.length / time.Second), Dnsperf: o.dnsperf,
		P99Passes: o.p99Runs, P99Seconds: int(o.p99Length / time.Second), P99Rate: o.p99Rate,
		Names: o.names, MemoryNames: o.memNames, ServerCPU: o.serverCPU, ClientCPU: o.clientCPU,
	}}
	var ps []*peer
	for _, p := range peers(env) {
		if o.servers != nil && !o.servers[p.name] {
			continue
		}
		if p.binary == "" {
			rep.Skipped = append(rep.Skipped, p.name+": not installed (bench/run.sh builds CoreDNS into bench/.cache/bin; or pass -coredns PATH)")
		} else if err := p.resolve(); err != nil {
			rep.Skipped = append(rep.Skipped, p.name+": "+err.Error())
		} else {
			ps = append(ps, p)
			continue
		}
		fmt.Println("skipping", rep.Skipped[len(rep.Skipped)-1])
	}
	if len(ps) == 0 {
		return nil, errors.New("no server to measure")
	}
	rep.Machine = describeMachine(env, ps)
	var err error
	if o.phases["static"] {
		if rep.Static, err = runStatic(ctx, env, ps); err != nil {
			return nil, fmt.Errorf("static workload: %w", err)
		}
	}
	if o.phases["steered"] {
		if rep.Steered, rep.Failover, err = runSteered(ctx, env, ps); err != nil {
			return nil, fmt.Errorf("steered workload: %w", err)
		}
	}
	if o.phases["memory"] {
		if rep.Memory, err = runMemory(ctx, env, ps); err != nil {
			return nil, fmt.Errorf("memory workload: %w", err)
		}
	}
	if o.phases["fresh"] {
		if rep.Fresh, err = runFresh(ctx, env, ps); err != nil {
			return nil, fmt.Errorf("fresh workload: %w", err)
		}
	}
	return rep, nil
}

// writeReport writes peers-<date>.md and peers-<date>.json into dir.
func writeReport(dir string, rep *report, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(dir, "peers-"+time.Now().UTC().Format("2006-01-02-150405"))
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s.md and %s.json\n", base, base)
	return nil
}
