package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseDnsperf parses real dnsperf 2.10 outputs (the [Timeout] lines
// of the lossy ones trimmed) and compares the statistics with golden
// files.
func TestParseDnsperf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wantErr string
	}{
		{name: "dnsperf-mixed"},    // every rcode, nothing lost
		{name: "dnsperf-lost"},     // queries lost (socket buffers overflowed)
		{name: "dnsperf-noserver"}, // nothing answered: empty rcode list, zero q/s
		{name: "dnsperf-verbose"},  // -v: per-response lines before the statistics
		{name: "dnsperf-truncated", wantErr: "no \"sent\" statistic"}, // killed before the statistics
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.name+".txt"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseDnsperf(string(in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.MarshalIndent(got, "", "  ")
			golden(t, tc.name+".golden", string(js)+"\n")
		})
	}
}

// TestParseLatencies reads the per-response lines of dnsperf -v and the
// percentiles computed from them.
func TestParseLatencies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string // inline input; empty: testdata/<name>.txt
		wantErr string
	}{
		{name: "dnsperf-verbose"},
		{name: "no-lines", in: "Statistics:\n\n  Queries sent: 0\n"},
		{name: "bad-latency", in: "> NOERROR h5.bench.test A fast\n", wantErr: "no latency"},
		{name: "short-line", in: "> NOERROR\n", wantErr: "short line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in == "" {
				b, err := os.ReadFile(filepath.Join("testdata", tc.name+".txt"))
				if err != nil {
					t.Fatal(err)
				}
				in = string(b)
			}
			lat, rcodes, err := parseLatencies(strings.NewReader(in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			js, _ := json.Marshal(rcodes)
			got := fmt.Sprintf("responses %d\nrcodes %s\np50 %.6f\np99 %.6f\n", len(lat), js, percentile(lat, 50), percentile(lat, 99))
			golden(t, "latencies-"+tc.name+".golden", got)
		})
	}
}

// TestStats checks the median, the nearest-rank percentile and the spread.
func TestStats(t *testing.T) {
	for _, tc := range []struct {
		xs                  []float64
		median, p99, spread float64
	}{
		{nil, 0, 0, 0},
		{[]float64{3}, 3, 3, 0},
		{[]float64{4, 1, 3, 2}, 2.5, 4, 1.2},
		{[]float64{5, 1, 3}, 3, 5, 4.0 / 3},
		{func() []float64 { // 1..200: p99 is the 198th value
			var xs []float64
			for k := 200; k >= 1; k-- {
				xs = append(xs, float64(k))
			}
			return xs
		}(), 100.5, 198, 199 / 100.5},
	} {
		if m, p, s := median(tc.xs), percentile(tc.xs, 99), spread(tc.xs); m != tc.median || p != tc.p99 || s != tc.spread {
			t.Errorf("%v: median %v, p99 %v, spread %v; want %v, %v, %v", tc.xs, m, p, s, tc.median, tc.p99, tc.spread)
		}
	}
}
