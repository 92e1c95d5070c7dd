package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// startAll starts the instances and waits until each answers its zone,
// stopping those already started when one fails.
func startAll(ctx context.Context, env *environment, insts []*instance) error {
	for _, i := range insts {
		if err := i.start(env); err != nil {
			return err
		}
	}
	for _, i := range insts {
		if _, err := i.ready(ctx, 2*time.Minute); err != nil {
			return err
		}
	}
	return nil
}

func stopAllOf(insts []*instance) {
	var wg sync.WaitGroup
	for _, i := range insts {
		wg.Go(i.stop)
	}
	wg.Wait()
}

// runStatic measures every server answering the static zone.
func runStatic(ctx context.Context, env *environment, ps []*peer) (*table, error) {
	o := env.opts
	zone, queries, err := writeStatic(env.work, "static", o.names)
	if err != nil {
		return nil, err
	}
	t := &table{Workload: "static", Queries: fmt.Sprintf("%s-name zone; 80%% A at existing names, 10%% NXDOMAIN, 10%% other types (AAAA/TXT/MX, half of them NODATA)", thousands(float64(o.names)))}
	var insts []*instance
	for _, p := range ps {
		if p.onlySteer {
			t.Absent = append(t.Absent, p.name+" (a steering variant of another row)")
			continue
		}
		i, err := newInstance(env, p, "static", zone, o.names, nil)
		if err != nil {
			return nil, err
		}
		insts = append(insts, i)
	}
	defer stopAllOf(insts)
	if err := startAll(ctx, env, insts); err != nil {
		return nil, err
	}
	for _, i := range insts {
		if err := checkStatic(i.addr()); err != nil {
			return nil, fmt.Errorf("%s answers wrongly: %v", i.peer.name, err)
		}
	}
	fmt.Printf("static: %d servers answer correctly; measuring\n", len(insts))
	return t, measureTable(ctx, o, t, insts, queries, checkStaticRcodes)
}

// checkStaticRcodes fails a static run whose responses are not the mix's.
func checkStaticRcodes(ps perfStats) error {
	if ps.Completed == 0 {
		return fmt.Errorf("no query completed")
	}
	nx := float64(ps.Rcodes["NXDOMAIN"]) / float64(ps.Completed)
	if ps.Rcodes["NOERROR"]+ps.Rcodes["NXDOMAIN"] != ps.Completed || nx < 0.07 || nx > 0.13 {
		return fmt.Errorf("response codes %v of %d, want about 90%% NOERROR and 10%% NXDOMAIN", ps.Rcodes, ps.Completed)
	}
	return nil
}

// checkSteeredRcodes fails a steered run with any response but NOERROR.
func checkSteeredRcodes(ps perfStats) error {
	if ps.Completed == 0 || ps.Rcodes["NOERROR"] != ps.Completed {
		return fmt.Errorf("response codes %v of %d, want all NOERROR", ps.Rcodes, ps.Completed)
	}
	return nil
}

// runSteered measures the health-aware servers answering the steered
// names, with Knot answering them from static records as the reference.
func runSteered(ctx context.Context, env *environment, ps []*peer) (*table, []failover, error) {
	o := env.opts
	health, err := startHealth()
	if err != nil {
		return nil, nil, err
	}
	defer health.close()
	st := &steering{healthPort: health.port}
	zone := filepath.Join(env.work, "steered.zone") // for a server whose services come another way
	queries := filepath.Join(env.work, "steered.queries")
	if err := writeZone(zone, o.names, ""); err != nil {
		return nil, nil, err
	}
	if err := writeSteeredQueries(queries); err != nil {
		return nil, nil, err
	}
	t := &table{Workload: "steered", Queries: fmt.Sprintf("A queries for %s and %s, alternating; the %s-name zone besides", failoverName, weightedName, thousands(float64(o.names)))}
	var insts []*instance
	for _, p := range ps {
		if !p.steering && p.name != "knot" {
			t.Absent = append(t.Absent, p.name+" (no health steering)")
			continue
		}
		i, err := newInstance(env, p, "steered", zone, o.names, st)
		if err != nil {
			return nil, nil, err
		}
		if p.name == "knot" {
			insts = append([]*instance{i}, insts...)
		} else {
			insts = append(insts, i)
		}
	}
	defer stopAllOf(insts)
	if err := startAll(ctx, env, insts); err != nil {
		return nil, nil, err
	}
	// PowerDNS checks an address only once a query needs it, and answers
	// as if every address were down until its first check: ask every
	// server both names, then give the checks time to run.
	for _, i := range insts {
		query(i.addr(), failoverName, dns.TypeA)
		query(i.addr(), weightedName, dns.TypeA)
	}
	select {
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-time.After(3 * time.Second):
	}
	for _, i := range insts {
		want := []string{failoverEndpoints[0].addr}
		if _, err := waitAnswer(ctx, i.addr(), failoverName, want, 30*time.Second); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", i.peer.name, err)
		}
		err := checkStatic(i.addr())
		if err == nil && i.peer.name == "knot" {
			err = expect(i.addr(), weightedName, dns.TypeA, dns.RcodeSuccess, []string{weightedEndpoints[2].addr})
		} else if err == nil {
			err = checkSteered(i.addr())
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s answers wrongly: %v", i.peer.name, err)
		}
	}
	var fo []failover
	if !o.skipChecks {
		var steered []*instance
		for _, i := range insts {
			if i.peer.steering {
				steered = append(steered, i)
			}
		}
		if fo, err = failoverCheck(ctx, health, steered); err != nil {
			return nil, nil, err
		}
	}
	fmt.Printf("steered: %d servers answer correctly; measuring\n", len(insts))
	if err := measureTable(ctx, o, t, insts, queries, checkSteeredRcodes); err != nil {
		return nil, nil, err
	}
	for k, r := range t.Rows {
		r.Note = insts[k].peer.steerNote
		if r.Server == "knot" {
			r.Note = "reference: no health steering; the steered names as static A records"
		}
	}
	return t, fo, nil
}

// failoverCheck takes the failover name's primary endpoint down and up
// again, and waits until every server has followed both ways.
func failoverCheck(ctx context.Context, h *healthServers, insts []*instance) ([]failover, error) {
	primary, backup := failoverEndpoints[0].addr, failoverEndpoints[1].addr
	out := make([]failover, len(insts))
	errs := make([]error, len(insts))
	follow := func(want string, limit time.Duration, set func(k int, d time.Duration)) error {
		var wg sync.WaitGroup
		for k, i := range insts {
			wg.Go(func() {
				d, err := waitAnswer(ctx, i.addr(), failoverName, []string{want}, limit)
				if err != nil {
					errs[k] = fmt.Errorf("%s did not fail over: %v", i.peer.name, err)
				}
				set(k, d)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	h.stop(primary)
	err := follow(backup, 20*time.Second, func(k int, d time.Duration) { out[k].Down = d.Seconds() })
	if err2 := h.start(primary); err == nil {
		err = err2
	}
	if err != nil {
		return nil, err
	}
	if err := follow(primary, 30*time.Second, func(k int, d time.Duration) { out[k].Up = d.Seconds() }); err != nil {
		return nil, err
	}
	for k, i := range insts {
		out[k].Server = i.peer.name
		fmt.Printf("failover check: %s answered the backup %.1f s after the primary's /healthz went away, the primary again %.1f s after it came back\n",
			i.peer.name, out[k].Down, out[k].Up)
	}
	return out, nil
}

// measureTable runs the interleaved throughput runs (run 1 of every
// server, then run 2, ...) and then the fixed-rate passes, and fills t.
func measureTable(ctx context.Context, o *options, t *table, insts []*instance, queries string, check func(perfStats) error) error {
	for _, i := range insts {
		t.Rows = append(t.Rows, &row{Server: i.peer.name, Version: i.peer.version})
	}
	for run := 1; run <= o.runs; run++ {
		for k, i := range insts {
			s, err := measure(ctx, o, i, queries, run, check)
			if err != nil {
				return err
			}
			t.Rows[k].Samples = append(t.Rows[k].Samples, s)
			fmt.Printf("%s run %d/%d %-12s %9.0f q/s %7.0f µs avg %6.1f%% server CPU %9.0f q/CPU-s lost %d other CPU %.1f%%\n",
				t.Workload, run, o.runs, i.peer.name, s.Perf.QPS, s.Perf.AvgLatency*1e6, s.CPUPct, s.QPerCPU, s.Perf.Lost, 100*s.OtherCPU/s.Wall)
		}
	}
	for pass := 1; pass <= o.p99Runs; pass++ {
		for k, i := range insts {
			lp, err := latency(ctx, o, i, queries, pass)
			if err != nil {
				return err
			}
			t.Rows[k].Latency = append(t.Rows[k].Latency, lp)
			fmt.Printf("%s p99 pass %d/%d %-12s %d responses at %d q/s: p50 %.0f µs, p99 %.0f µs, lost %d\n",
				t.Workload, pass, o.p99Runs, i.peer.name, lp.Responses, o.p99Rate, lp.P50*1e6, lp.P99*1e6, lp.Lost)
		}
	}
	summarize(t)
	return nil
}
