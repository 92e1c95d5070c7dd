package main

// summarize computes every row's medians, and the ratios to Knot's run of
// the same round when Knot is in the table.
func summarize(t *table) {
	var knot *row
	for _, r := range t.Rows {
		if r.Server == "knot" {
			knot = r
		}
	}
	for _, r := range t.Rows {
		var qps, qcpu, lat, lost, cpu, client, other, resp, vsQPS, vsCPU []float64
		for k, s := range r.Samples {
			qps = append(qps, s.Perf.QPS)
			qcpu = append(qcpu, s.QPerCPU)
			lat = append(lat, s.Perf.AvgLatency)
			lost = append(lost, float64(s.Perf.Lost))
			cpu = append(cpu, s.CPUPct)
			client = append(client, 100*s.ClientCPU/s.Wall)
			other = append(other, 100*s.OtherCPU/s.Wall)
			resp = append(resp, s.Perf.RespSize)
			if knot != nil && k < len(knot.Samples) {
				ks := knot.Samples[k]
				if ks.Perf.QPS > 0 {
					vsQPS = append(vsQPS, s.Perf.QPS/ks.Perf.QPS)
				}
				if ks.QPerCPU > 0 {
					vsCPU = append(vsCPU, s.QPerCPU/ks.QPerCPU)
				}
			}
		}
		var p99, rate []float64
		for _, l := range r.Latency {
			p99 = append(p99, l.P99)
			rate = append(rate, l.Rate)
		}
		r.Sum = summary{
			QPS: median(qps), QPerCPU: median(qcpu), AvgLatency: median(lat), P99: median(p99), P99Rate: median(rate),
			Lost: median(lost), CPUPct: median(cpu), VsKnotQPS: median(vsQPS), VsKnotCPU: median(vsCPU),
			QPSSpread: spread(qps), CPUSpread: spread(qcpu), ClientPct: median(client), OtherCPUPct: median(other), RespBytes: median(resp),
		}
	}
}
