package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// perfStats is what one dnsperf run reports in its Statistics section.
type perfStats struct {
	Sent       int64            `json:"sent"`
	Completed  int64            `json:"completed"`
	Lost       int64            `json:"lost"`
	Rcodes     map[string]int64 `json:"rcodes"`
	ReqSize    float64          `json:"request_bytes"`
	RespSize   float64          `json:"response_bytes"`
	RunTime    float64          `json:"run_time_s"`
	QPS        float64          `json:"qps"`
	AvgLatency float64          `json:"avg_latency_s"` // 0 when dnsperf printed none (nothing completed)
}

var (
	reCount   = regexp.MustCompile(`^\s*Queries (sent|completed|lost):\s+(\d+)`)
	reRcodes  = regexp.MustCompile(`^\s*Response codes:\s+(.*)$`)
	reRcode   = regexp.MustCompile(`([A-Z0-9]+) (\d+) \(`)
	reSize    = regexp.MustCompile(`^\s*Average packet size:\s+request (\d+), response (\d+)`)
	reRunTime = regexp.MustCompile(`^\s*Run time \(s\):\s+([0-9.]+)`)
	reQPS     = regexp.MustCompile(`^\s*Queries per second:\s+([0-9.]+)`)
	reLatency = regexp.MustCompile(`^\s*Average Latency \(s\):\s+([0-9.]+)`)
)

// parseDnsperf reads dnsperf's output and returns its statistics. It
// fails unless the sent, completed, lost, run time and queries per second
// lines are all there.
func parseDnsperf(out string) (perfStats, error) {
	s := perfStats{Rcodes: map[string]int64{}}
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if m := reCount.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			switch m[1] {
			case "sent":
				s.Sent = n
			case "completed":
				s.Completed = n
			case "lost":
				s.Lost = n
			}
			seen[m[1]] = true
		} else if m := reRcodes.FindStringSubmatch(line); m != nil {
			for _, c := range reRcode.FindAllStringSubmatch(m[1], -1) {
				n, _ := strconv.ParseInt(c[2], 10, 64)
				s.Rcodes[c[1]] = n
			}
		} else if m := reSize.FindStringSubmatch(line); m != nil {
			s.ReqSize, _ = strconv.ParseFloat(m[1], 64)
			s.RespSize, _ = strconv.ParseFloat(m[2], 64)
		} else if m := reRunTime.FindStringSubmatch(line); m != nil {
			s.RunTime, _ = strconv.ParseFloat(m[1], 64)
			seen["runtime"] = true
		} else if m := reQPS.FindStringSubmatch(line); m != nil {
			s.QPS, _ = strconv.ParseFloat(m[1], 64)
			seen["qps"] = true
		} else if m := reLatency.FindStringSubmatch(line); m != nil {
			s.AvgLatency, _ = strconv.ParseFloat(m[1], 64)
		}
	}
	for _, k := range []string{"sent", "completed", "lost", "runtime", "qps"} {
		if !seen[k] {
			return s, fmt.Errorf("dnsperf output has no %q statistic", k)
		}
	}
	return s, nil
}

// parseLatencies reads the per-response lines of dnsperf -v
// ("> NOERROR h5.bench.test. A 0.000080") and returns the latencies in
// seconds, and how many responses had each rcode.
func parseLatencies(r io.Reader) ([]float64, map[string]int64, error) {
	var lat []float64
	rcodes := map[string]int64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "> ") {
			continue
		}
		f := strings.Fields(line[2:])
		if len(f) < 2 {
			return nil, nil, fmt.Errorf("dnsperf -v: short line %q", line)
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return nil, nil, fmt.Errorf("dnsperf -v: no latency in %q", line)
		}
		lat = append(lat, v)
		rcodes[f[0]]++
	}
	return lat, rcodes, sc.Err()
}
