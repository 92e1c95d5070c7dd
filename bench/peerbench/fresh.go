package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The fresh workload (-only fresh) measures latency at light load the way
// a newcomer would: for every run a fresh server, the static zone loaded
// (Stratus: imported through the API just before), a warm-up at the fixed
// rate, a run at full rate (the throughput runs' dnsperf flags), then one
// measured pass at that rate with every response's latency
// kept in order. The responses are cut into slices of consecutive queries
// and the slow ones (over -fresh-slow) counted per slice: slow queries
// spread evenly are the machine's noise, slow queries bunched in a slice
// are something the server did then. With -gctrace the Stratus rows run
// with GODEBUG=gctrace=1,scavtrace=1, and every garbage collection that
// fell inside the measured pass is reported with the slice it fell in.

// freshRun is one fresh start of one server.
type freshRun struct {
	Run       int     `json:"run"`
	Responses int     `json:"responses"`
	Lost      int64   `json:"lost"`
	P50       float64 `json:"p50_s"`
	P99       float64 `json:"p99_s"`
	P999      float64 `json:"p999_s"`
	Slow      int     `json:"slow"`          // responses slower than the threshold
	Slices    []int   `json:"slow_by_slice"` // slow responses in each slice of consecutive responses
	// From the process's start: when the load finished, and when the
	// measured pass started and ended.
	Loaded  float64  `json:"loaded_s"`
	Start   float64  `json:"measure_start_s"`
	End     float64  `json:"measure_end_s"`
	GCs     []string `json:"gcs,omitempty"` // gctrace lines inside the measured pass, with their slice
	GCCount int      `json:"gcs_in_pass"`
	// ServerCPU and OtherCPU are the server's use of a CPU during the pass
	// and the rest of the machine's (everything but the server and
	// dnsperf), in % of one CPU: the noise.
	ServerCPU float64 `json:"server_cpu_pct"`
	OtherCPU  float64 `json:"other_cpu_pct"`
}

// freshRow is one server's fresh runs.
type freshRow struct {
	Server  string     `json:"server"`
	Version string     `json:"version"`
	Runs    []freshRun `json:"runs"`
}

// freshTable is the fresh workload.
type freshTable struct {
	Rate      int         `json:"rate"`
	Warmup    int         `json:"warmup_s"`
	Full      int         `json:"full_rate_s"`
	Seconds   int         `json:"seconds"`
	Slice     int         `json:"slice"`
	Threshold float64     `json:"slow_s"`
	Rows      []*freshRow `json:"rows"`
}

// runFresh runs the fresh workload: run 1 of every server, then run 2,
// and so on, each on a server started for it and stopped after it.
func runFresh(ctx context.Context, env *environment, ps []*peer) (*freshTable, error) {
	o := env.opts
	zone, queries, err := writeStatic(env.work, "fresh", o.names)
	if err != nil {
		return nil, err
	}
	t := &freshTable{Rate: o.p99Rate, Warmup: int(o.freshWarmup / time.Second), Full: int(o.freshFull / time.Second), Seconds: int(o.freshLength / time.Second),
		Slice: o.freshSlice, Threshold: o.freshSlow.Seconds()}
	var use []*peer
	for _, p := range ps {
		if !p.onlySteer {
			use = append(use, p)
			t.Rows = append(t.Rows, &freshRow{Server: p.name, Version: p.version})
		}
	}
	for run := 1; run <= o.freshRuns; run++ {
		for k, p := range use {
			r, err := freshOnce(ctx, env, p, zone, queries, run)
			if err != nil {
				return nil, err
			}
			t.Rows[k].Runs = append(t.Rows[k].Runs, r)
			fmt.Printf("fresh run %d/%d %-13s p50 %4.0f µs p99 %5.0f µs p99.9 %6.0f µs; %d slow (>%s), most in one slice of %d: %d; GCs in the pass: %d %s; server CPU %.0f%%, the rest of the machine %.0f%%\n",
				run, o.freshRuns, p.name, r.P50*1e6, r.P99*1e6, r.P999*1e6, r.Slow, o.freshSlow, o.freshSlice,
				slices.Max(append([]int{0}, r.Slices...)), r.GCCount, strings.Join(r.GCs, "; "), r.ServerCPU, r.OtherCPU)
		}
	}
	return t, nil
}

// freshOnce starts p, loads the zone, warms up and measures one pass.
func freshOnce(ctx context.Context, env *environment, p *peer, zone, queries string, run int) (freshRun, error) {
	o := env.opts
	i, err := newInstance(env, p, fmt.Sprintf("fresh%d", run), zone, o.names, nil)
	if err != nil {
		return freshRun{}, err
	}
	defer func() {
		i.stop()
		if !o.keep {
			os.RemoveAll(i.dir)
		}
	}()
	if err := i.start(env); err != nil {
		return freshRun{}, err
	}
	if _, err := i.ready(ctx, 2*time.Minute); err != nil {
		return freshRun{}, err
	}
	if err := checkStatic(i.addr()); err != nil {
		return freshRun{}, fmt.Errorf("%s answers wrongly: %v", p.name, err)
	}
	r := freshRun{Run: run, Loaded: time.Since(i.proc.started).Seconds()}
	if o.freshWarmup > 0 {
		if _, _, err := dnsperf(ctx, o, i, queries, o.freshWarmup, []string{"-Q", strconv.Itoa(o.p99Rate)}); err != nil {
			return r, err
		}
	}
	if o.freshFull > 0 {
		if _, _, err := dnsperf(ctx, o, i, queries, o.freshFull, strings.Fields(o.dnsperf)); err != nil {
			return r, err
		}
	}
	r.Start = time.Since(i.proc.started).Seconds()
	cpu0, busy0 := treeCPU(i.proc.pid()), machineBusy()
	out, clientCPU, err := dnsperf(ctx, o, i, queries, o.freshLength, []string{"-Q", strconv.Itoa(o.p99Rate), "-v"})
	cpu1, busy1 := treeCPU(i.proc.pid()), machineBusy()
	r.End = time.Since(i.proc.started).Seconds()
	if err != nil {
		return r, err
	}
	wall := r.End - r.Start
	r.ServerCPU = 100 * (cpu1 - cpu0) / wall
	r.OtherCPU = 100 * max(0, (busy1-busy0)-(cpu1-cpu0)-clientCPU) / wall
	ps, err := parseDnsperf(out)
	if err != nil {
		return r, fmt.Errorf("%s: %v", p.name, err)
	}
	lat, _, err := parseLatencies(strings.NewReader(out))
	if err != nil {
		return r, err
	}
	if len(lat) == 0 {
		return r, fmt.Errorf("%s: the fresh pass got no responses", p.name)
	}
	r.Responses, r.Lost = len(lat), ps.Lost
	r.P50, r.P99, r.P999 = percentile(lat, 50), percentile(lat, 99), percentile(lat, 99.9)
	r.Slices = slowBySlice(lat, o.freshSlice, o.freshSlow.Seconds())
	for _, n := range r.Slices {
		r.Slow += n
	}
	if i.proc.exited() {
		return r, i.proc.failure()
	}
	if o.gctrace && strings.HasPrefix(p.name, "stratus") {
		// The pass sends at a fixed rate: the query sent s seconds into
		// it is about number s*rate.
		perSlice := float64(o.freshSlice) / float64(o.p99Rate)
		r.GCs, r.GCCount = gcsIn(i.path("server.log"), r.Start, r.End, perSlice)
	}
	return r, nil
}

// slowBySlice counts the latencies over slow in each slice of n
// consecutive ones.
func slowBySlice(lat []float64, n int, slow float64) []int {
	var out []int
	for k := 0; k < len(lat); k += n {
		c := 0
		for _, l := range lat[k:min(k+n, len(lat))] {
			if l > slow {
				c++
			}
		}
		out = append(out, c)
	}
	return out
}

// reGC matches a gctrace line: "gc 9 @21.512s 0%: 0.02+1.2+0.01 ms clock, ...".
var reGC = regexp.MustCompile(`^gc (\d+) @([0-9.]+)s \d+%: ([0-9.+]+) ms clock.*?(\d+->\d+->\d+ MB).*?( \(forced\))?$`)

// gcsIn returns the collections of a Go server's log (GODEBUG=gctrace=1)
// that started between from and to seconds after the process, each with
// the slice of the pass it fell in, and how many there were.
func gcsIn(log string, from, to, perSlice float64) ([]string, int) {
	f, err := os.Open(log)
	if err != nil {
		return nil, 0
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := reGC.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[2], 64)
		if at < from || at > to {
			continue
		}
		out = append(out, fmt.Sprintf("gc %s at %.2f s (slice %d): %s ms, %s%s", m[1], at, int((at-from)/perSlice), m[3], m[4], m[5]))
	}
	return out, len(out)
}

// renderFresh writes the fresh workload's table: per server, every run.
func renderFresh(b *strings.Builder, t *freshTable) {
	fmt.Fprintf(b, "## Latency at light load, fresh servers\n\n")
	fmt.Fprintf(b, "Each run a fresh server with the zone loaded just before (Stratus: imported through the API), "+
		"%d s at %s q/s to warm up, %d s at full rate, then %d s at the fixed rate with every response's latency (dnsperf -Q -v); "+
		"slow: over %s; slices of %s consecutive responses.\n\n",
		t.Warmup, thousands(float64(t.Rate)), t.Full, t.Seconds, micros(t.Threshold), thousands(float64(t.Slice)))
	b.WriteString("| server | run | p50 | p99 | p99.9 | slow | most slow in a slice | GCs in the pass | server CPU | rest of the machine |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range t.Rows {
		for _, x := range r.Runs {
			fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %d | %d | %d | %.0f%% | %.0f%% |\n", r.Server, x.Run, micros(x.P50), micros(x.P99), micros(x.P999),
				x.Slow, slices.Max(append([]int{0}, x.Slices...)), x.GCCount, x.ServerCPU, x.OtherCPU)
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		var p50, p99 []float64
		for _, x := range r.Runs {
			p50 = append(p50, x.P50)
			p99 = append(p99, x.P99)
		}
		fmt.Fprintf(b, "- %s: median p50 %s, median p99 %s (p99 of the runs %s)\n", r.Server, micros(median(p50)), micros(median(p99)), microsList(p99))
	}
	b.WriteString("\n")
}

// microsList formats seconds as a list of microseconds.
func microsList(xs []float64) string {
	out := make([]string, len(xs))
	for k, x := range xs {
		out[k] = fmt.Sprintf("%.0f", x*1e6)
	}
	return strings.Join(out, ", ") + " µs"
}
