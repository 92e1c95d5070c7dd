package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// renderReport renders the report as markdown (also what the terminal
// shows).
func renderReport(r *report) string {
	var b strings.Builder
	m, s := r.Machine, r.Settings
	fmt.Fprintf(&b, "# Stratus and peer authoritative DNS servers, %s\n\n", r.Date)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), Linux %s, %s; %s; dnsperf %s; Stratus at %s.\n\n",
		m.NProc, m.CPU, m.Kernel, m.OS, m.Go, m.Dnsperf, m.StratusAt)
	fmt.Fprintf(&b, "Every server on 127.0.0.1, pinned to CPU %s with one worker; dnsperf pinned to CPU %s with `%s`. "+
		"%s of %d s per server, servers interleaved (run 1 of each, then run 2, ...); medians over the runs. "+
		"Ratios to Knot are medians of the per-run ratios to Knot's run of the same round. "+
		"p99: %s of %d s at %s queries/s (dnsperf -Q -v), median of the passes' 99th percentiles.\n\n",
		s.ServerCPU, s.ClientCPU, s.Dnsperf, plural(s.Runs, "run"), s.RunSeconds, plural(s.P99Passes, "pass"), s.P99Seconds, thousands(float64(s.P99Rate)))
	var names []string
	for n := range m.Versions {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("Versions:")
	for k, n := range names {
		sep := ","
		if k == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s %s", sep, n, m.Versions[n])
	}
	b.WriteString(".\n\n")
	for _, sk := range r.Skipped {
		fmt.Fprintf(&b, "- skipped: %s\n", sk)
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n")
	}
	if r.Static != nil {
		renderTable(&b, "Static", r.Static, s.P99Rate)
	}
	if r.Steered != nil {
		renderTable(&b, "Steered", r.Steered, s.P99Rate)
		for _, f := range r.Failover {
			fmt.Fprintf(&b, "- failover check, %s: the backup answered %.1f s after the primary's health endpoint went away, the primary %.1f s after it came back\n",
				f.Server, f.Down, f.Up)
		}
		if len(r.Failover) > 0 {
			b.WriteString("\n")
		}
	}
	if r.Memory != nil {
		renderMemory(&b, r.Memory)
	}
	if r.Fresh != nil {
		renderFresh(&b, r.Fresh)
	}
	return b.String()
}

// renderTable writes one workload's table and the notes under it.
func renderTable(b *strings.Builder, title string, t *table, rate int) {
	fmt.Fprintf(b, "## %s\n\n%s.\n\n", title, t.Queries)
	fmt.Fprintf(b, "| server | version | q/s | q per server CPU-s | avg latency | p99 @%s q/s | lost | server CPU | q/s vs Knot | q/CPU-s vs Knot |\n", thousands(float64(rate)))
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range t.Rows {
		s := r.Sum
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %.0f%% | %s | %s |\n",
			r.Server, r.Version, thousands(s.QPS), thousands(s.QPerCPU), micros(s.AvgLatency), micros(s.P99),
			thousands(s.Lost), s.CPUPct, ratio(s.VsKnotQPS), ratio(s.VsKnotCPU))
	}
	b.WriteString("\n")
	var spreads, sizes, client, other []string
	for _, r := range t.Rows {
		spreads = append(spreads, fmt.Sprintf("%s %.0f%%/%.0f%%", r.Server, 100*r.Sum.QPSSpread, 100*r.Sum.CPUSpread))
		client = append(client, fmt.Sprintf("%s %.0f%%", r.Server, r.Sum.ClientPct))
		sizes = append(sizes, fmt.Sprintf("%s %.0f", r.Server, r.Sum.RespBytes))
		other = append(other, fmt.Sprintf("%s %.0f%%", r.Server, r.Sum.OtherCPUPct))
	}
	fmt.Fprintf(b, "- spread over the runs, (max - min) / median, of q/s and of q per server CPU-s: %s\n", strings.Join(spreads, ", "))
	fmt.Fprintf(b, "- dnsperf's use of its CPU (median; near 100%%, dnsperf was the bottleneck, not the server): %s\n", strings.Join(client, ", "))
	fmt.Fprintf(b, "- CPU the rest of the machine used during the runs (other processes, interrupts; median, %% of one CPU; the noise): %s\n", strings.Join(other, ", "))
	fmt.Fprintf(b, "- average response size in bytes: %s\n", strings.Join(sizes, ", "))
	for _, r := range t.Rows {
		if r.Sum.P99 > 0 && r.Sum.P99Rate < 0.95*float64(rate) {
			fmt.Fprintf(b, "- %s could not keep up with %s q/s: its fixed-rate passes got %s responses a second\n",
				r.Server, thousands(float64(rate)), thousands(r.Sum.P99Rate))
		}
	}
	for _, r := range t.Rows {
		if r.Note != "" {
			fmt.Fprintf(b, "- %s: %s\n", r.Server, r.Note)
		}
	}
	for _, a := range t.Absent {
		fmt.Fprintf(b, "- not in this table: %s\n", a)
	}
	b.WriteString("\n")
}

// renderMemory writes the memory/load table.
func renderMemory(b *strings.Builder, t *memoryTable) {
	fmt.Fprintf(b, "## Memory and load time, %s names\n\n", thousands(float64(t.Names)))
	fmt.Fprintf(b, "Each server alone, %s; medians. RSS is summed over the server's process tree, 2 s after it answered; "+
		"PSS divides the pages its processes share among them. "+
		"Load time: from the process's start until it answers the zone's SOA.\n\n", plural(t.Starts, "start"))
	b.WriteString("| server | version | RSS | PSS | processes | load time | each start |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range t.Rows {
		fmt.Fprintf(b, "| %s | %s | %.0f MiB | %.0f MiB | %d | %.2f s | %s s |\n", r.Server, r.Version, mib(r.RSS), mib(r.PSS), r.Procs, r.Load, seconds(r.Loads))
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		if r.Import > 0 {
			fmt.Fprintf(b, "- %s: importing the zone through the API (`stratus zone import`) took %.1f s; %s.\n", r.Server, r.Import, r.Note)
		} else if r.Note != "" {
			fmt.Fprintf(b, "- %s: %s.\n", r.Server, r.Note)
		}
	}
	b.WriteString("\n")
}

// seconds formats durations in seconds: "0.12, 0.10, 0.11".
func seconds(xs []float64) string {
	out := make([]string, len(xs))
	for k, x := range xs {
		out[k] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(out, ", ")
}

// plural formats a count of things ("1 run", "3 passes").
func plural(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "s"):
		return fmt.Sprintf("%d %ses", n, thing)
	default:
		return fmt.Sprintf("%d %ss", n, thing)
	}
}

// thousands formats x rounded, with thousands separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	var out []byte
	for k := range len(s) {
		if k > 0 && (len(s)-k)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[k])
	}
	return string(out)
}

// micros formats seconds as microseconds; "-" when not measured.
func micros(sec float64) string {
	if sec == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f µs", sec*1e6)
}

// ratio formats a ratio; "-" without one.
func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}
