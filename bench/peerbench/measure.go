package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// sample is one measured dnsperf run against one server.
type sample struct {
	Run       int       `json:"run"`
	Perf      perfStats `json:"dnsperf"`
	Wall      float64   `json:"wall_s"`
	ServerCPU float64   `json:"server_cpu_s"` // user+system of the server's process tree during the run
	CPUPct    float64   `json:"server_cpu_pct"`
	QPerCPU   float64   `json:"queries_per_server_cpu_s"`
	ClientCPU float64   `json:"dnsperf_cpu_s"`
	// OtherCPU is the machine's busy time (all CPUs, /proc/stat) less the
	// server's and dnsperf's: other processes, and interrupt work while
	// neither ran. (The kernel counts time by ticks, so the processes'
	// own times include the interrupts that came while they ran.)
	OtherCPU float64 `json:"other_cpu_s"`
}

// latencyPass is one fixed-rate dnsperf -v pass against one server.
type latencyPass struct {
	Pass      int              `json:"pass"`
	Responses int              `json:"responses"`
	Rate      float64          `json:"rate"` // responses per second: below the target when the server could not keep up
	Lost      int64            `json:"lost"`
	P50       float64          `json:"p50_s"`
	P99       float64          `json:"p99_s"`
	Rcodes    map[string]int64 `json:"rcodes"`
}

// dnsperf runs dnsperf pinned to the client CPUs against addr and returns
// its output and its own CPU seconds.
func dnsperf(ctx context.Context, o *options, i *instance, queries string, length time.Duration, extra []string) (string, float64, error) {
	args := []string{"-c", o.clientCPU, "dnsperf", "-s", "127.0.0.1", "-p", strconv.Itoa(i.port),
		"-d", queries, "-l", strconv.Itoa(int(length / time.Second))}
	args = append(args, extra...)
	cmd := exec.CommandContext(ctx, "taskset", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", 0, ctx.Err()
	}
	if err != nil {
		return "", 0, fmt.Errorf("dnsperf against %s: %v\n%s%s", i.peer.name, err, errb.String(), out.String())
	}
	st := cmd.ProcessState
	return out.String(), (st.UserTime() + st.SystemTime()).Seconds(), nil
}

// measure runs one throughput run against i.
func measure(ctx context.Context, o *options, i *instance, queries string, run int, check func(perfStats) error) (sample, error) {
	if i.proc.exited() {
		return sample{}, i.proc.failure()
	}
	pid := i.proc.pid()
	cpu0, busy0, t0 := treeCPU(pid), machineBusy(), time.Now()
	out, clientCPU, err := dnsperf(ctx, o, i, queries, o.length, strings.Fields(o.dnsperf))
	cpu1, busy1, wall := treeCPU(pid), machineBusy(), time.Since(t0).Seconds()
	if err != nil {
		return sample{}, err
	}
	ps, err := parseDnsperf(out)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %v\n%s", i.peer.name, err, out)
	}
	if err := check(ps); err != nil {
		return sample{}, fmt.Errorf("%s run %d: %v", i.peer.name, run, err)
	}
	s := sample{Run: run, Perf: ps, Wall: wall, ServerCPU: cpu1 - cpu0, ClientCPU: clientCPU}
	// dnsperf waits for the queries still outstanding after its run time
	// (until they time out, when some were lost): the server's share of a
	// CPU is over the run time, when it was sent queries.
	busyFor := wall
	if ps.RunTime > 0 {
		busyFor = min(wall, ps.RunTime)
	}
	s.CPUPct = 100 * s.ServerCPU / busyFor
	if s.ServerCPU > 0 {
		s.QPerCPU = float64(ps.Completed) / s.ServerCPU
	}
	s.OtherCPU = max(0, (busy1-busy0)-s.ServerCPU-s.ClientCPU)
	return s, nil
}

// latency runs one fixed-rate pass against i and computes the p99 from
// the per-response lines.
func latency(ctx context.Context, o *options, i *instance, queries string, pass int) (latencyPass, error) {
	out, _, err := dnsperf(ctx, o, i, queries, o.p99Length, []string{"-Q", strconv.Itoa(o.p99Rate), "-v"})
	if err != nil {
		return latencyPass{}, err
	}
	ps, err := parseDnsperf(out)
	if err != nil {
		return latencyPass{}, fmt.Errorf("%s: %v", i.peer.name, err)
	}
	lat, rcodes, err := parseLatencies(strings.NewReader(out))
	if err != nil {
		return latencyPass{}, err
	}
	if len(lat) == 0 {
		return latencyPass{}, fmt.Errorf("%s: the fixed-rate pass got no responses", i.peer.name)
	}
	return latencyPass{Pass: pass, Responses: len(lat), Rate: float64(len(lat)) / ps.RunTime, Lost: ps.Lost,
		P50: percentile(lat, 50), P99: percentile(lat, 99), Rcodes: rcodes}, nil
}

// machineBusy returns the CPU seconds all CPUs have spent not idle, from
// /proc/stat.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for k, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// idle and iowait are not busy; guest time is already in user.
		if k == 3 || k == 4 || k >= 8 {
			continue
		}
		busy += n
	}
	return float64(busy) / clockTicks
}
