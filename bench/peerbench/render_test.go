package main

import (
	"testing"
)

// fixtureRow builds a row from per-run (q/s, server CPU s) pairs of 10 s
// runs, and p99 passes as (p99 µs, responses a second).
func fixtureRow(server, version string, runs [][2]float64, p99 [][2]float64) *row {
	r := &row{Server: server, Version: version}
	for k, rc := range runs {
		qps, cpu := rc[0], rc[1]
		s := sample{Run: k + 1, Wall: 10, ServerCPU: cpu, CPUPct: 10 * cpu, QPerCPU: qps * 10 / cpu, OtherCPU: 0.5, ClientCPU: 9.5,
			Perf: perfStats{QPS: qps, Completed: int64(qps * 10), Sent: int64(qps * 10), RunTime: 10, AvgLatency: 100 / qps, RespSize: 56}}
		if k == 0 {
			s.Perf.Lost = 3
		}
		r.Samples = append(r.Samples, s)
	}
	for k, p := range p99 {
		r.Latency = append(r.Latency, latencyPass{Pass: k + 1, P99: p[0] / 1e6, Rate: p[1], Responses: int(p[1] * 5)})
	}
	return r
}

func fixtureReport() *report {
	static := &table{Workload: "static", Queries: "10,000-name zone; the static mix", Rows: []*row{
		fixtureRow("stratus", "git-abc1234", [][2]float64{{100000, 8}, {120000, 9}, {90000, 7}}, [][2]float64{{150, 10000}, {170, 10000}}),
		fixtureRow("knot", "3.2.6", [][2]float64{{150000, 8}, {160000, 8.5}, {100000, 6}}, [][2]float64{{120, 10000}, {110, 10000}}),
		fixtureRow("coredns", "1.14.0", [][2]float64{{40000, 9.5}, {41000, 9.6}, {39000, 9.4}}, [][2]float64{{900, 9990}, {1000, 9980}}),
	}, Absent: []string{"pdns-shared (a steering variant of another row)"}}
	steered := &table{Workload: "steered", Queries: "A queries for fo and wt", Rows: []*row{
		fixtureRow("knot", "3.2.6", [][2]float64{{150000, 8}, {140000, 8}}, nil),
		fixtureRow("pdns", "4.7.3", [][2]float64{{2100, 9.2}, {2200, 9.3}}, [][2]float64{{277000, 2000}}),
	}, Absent: []string{"nsd (no health steering)"}}
	steered.Rows[0].Note = "reference: no health steering; the steered names as static A records"
	summarize(static)
	summarize(steered)
	return &report{
		Date: "2026-11-26 04:00 UTC",
		Machine: machine{NProc: 2, CPU: "AMD EPYC", Kernel: "6.18.44", OS: "Debian GNU/Linux 12 (bookworm)", Go: "go1.26.8",
			Dnsperf: "2.10.0", StratusAt: "abc1234", Versions: map[string]string{"stratus": "git-abc1234", "knot": "3.2.6", "coredns": "1.14.0", "pdns": "4.7.3"}},
		Settings: settings{Runs: 3, RunSeconds: 10, Dnsperf: "-c 4 -q 100", P99Passes: 2, P99Seconds: 5, P99Rate: 10000,
			Names: 10000, MemoryNames: 1000000, ServerCPU: "0", ClientCPU: "1"},
		Skipped:  []string{"gdnsd: gdnsd is not installed (Debian package gdnsd)"},
		Static:   static,
		Steered:  steered,
		Failover: []failover{{Server: "pdns", Down: 0.52, Up: 0.1}},
		Memory: &memoryTable{Names: 1000000, Starts: 3, Rows: []*memRow{
			{Server: "stratus", Version: "git-abc1234", RSS: 550 << 20, PSS: 548 << 20, Procs: 1, Load: 2.8, Loads: []float64{2.9, 2.8, 2.7}, Import: 18.8,
				Note: "load time is a restart with the zone in its store"},
			{Server: "nsd", Version: "4.6.1", RSS: 1000 << 20, PSS: 700 << 20, Procs: 3, Load: 3.1, Loads: []float64{3.1, 3.0, 3.3}},
		}},
	}
}

// TestRenderReport renders a report built from fixed runs (which also
// exercises the medians and the per-round ratios to Knot) and compares it
// with the golden markdown.
func TestRenderReport(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(r *report)
	}{
		{"report-full", func(*report) {}},
		{"report-static-only", func(r *report) { r.Steered, r.Failover, r.Memory, r.Skipped = nil, nil, nil, nil }},
		{"report-memory-only", func(r *report) { r.Static, r.Steered, r.Failover = nil, nil, nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fixtureReport()
			tc.edit(r)
			golden(t, tc.name+".md", renderReport(r))
		})
	}
}

// TestSummaryRatios checks that the ratios are medians of per-round
// ratios, not ratios of medians.
func TestSummaryRatios(t *testing.T) {
	r := fixtureReport()
	s := r.Static.Rows[0].Sum
	// Rounds: 100/150, 120/160, 90/100 -> 0.667, 0.75, 0.9: median 0.75,
	// where the ratio of the medians would be 100/150 = 0.667.
	if s.VsKnotQPS != 0.75 || s.QPS != 100000 {
		t.Errorf("stratus: q/s %v, vs Knot %v; want 100000, 0.75", s.QPS, s.VsKnotQPS)
	}
	if k := r.Static.Rows[1].Sum; k.VsKnotQPS != 1 || k.VsKnotCPU != 1 {
		t.Errorf("knot against itself: %v, %v", k.VsKnotQPS, k.VsKnotCPU)
	}
}

// TestFormats checks the number formats of the tables.
func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{thousands(0), "0"},
		{thousands(999.4), "999"},
		{thousands(1000), "1,000"},
		{thousands(1234567.5), "1,234,568"},
		{micros(0), "-"},
		{micros(0.000168), "168 µs"},
		{ratio(0), "-"},
		{ratio(1.234), "1.23"},
		{plural(1, "run"), "1 run"},
		{plural(3, "run"), "3 runs"},
		{plural(2, "pass"), "2 passes"},
		{seconds([]float64{0.1, 2.345}), "0.10, 2.35"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
