package main

// report is everything one harness run found; it is written as JSON and
// rendered as markdown.
type report struct {
	Date     string       `json:"date"`
	Machine  machine      `json:"machine"`
	Settings settings     `json:"settings"`
	Skipped  []string     `json:"skipped,omitempty"`
	Static   *table       `json:"static,omitempty"`
	Steered  *table       `json:"steered,omitempty"`
	Failover []failover   `json:"failover_check,omitempty"`
	Memory   *memoryTable `json:"memory,omitempty"`
	Fresh    *freshTable  `json:"fresh,omitempty"`
}

// settings are the options that shape the figures.
type settings struct {
	Runs        int    `json:"runs"`
	RunSeconds  int    `json:"run_seconds"`
	Dnsperf     string `json:"dnsperf_flags"`
	P99Passes   int    `json:"p99_passes"`
	P99Seconds  int    `json:"p99_seconds"`
	P99Rate     int    `json:"p99_rate"`
	Names       int    `json:"names"`
	MemoryNames int    `json:"memory_names"`
	ServerCPU   string `json:"server_cpu"`
	ClientCPU   string `json:"client_cpu"`
}

// table is one workload's measurements: a row per server.
type table struct {
	Workload string   `json:"workload"`
	Queries  string   `json:"queries"`
	Rows     []*row   `json:"rows"`
	Absent   []string `json:"absent,omitempty"` // servers not in this table, and why
}

// row is one server in one workload: every run and its medians.
type row struct {
	Server  string        `json:"server"`
	Version string        `json:"version"`
	Note    string        `json:"note,omitempty"`
	Samples []sample      `json:"runs"`
	Latency []latencyPass `json:"p99_passes,omitempty"`
	Sum     summary       `json:"median"`
}

// summary holds a row's medians over its runs (0: not measured). The
// ratios are medians of the per-run ratios to Knot's run of the same
// round.
type summary struct {
	QPS         float64 `json:"qps"`
	QPerCPU     float64 `json:"queries_per_server_cpu_s"`
	AvgLatency  float64 `json:"avg_latency_s"`
	P99         float64 `json:"p99_s"`    // 0: not measured
	P99Rate     float64 `json:"p99_rate"` // responses per second the fixed-rate passes got
	Lost        float64 `json:"lost"`
	CPUPct      float64 `json:"server_cpu_pct"`
	VsKnotQPS   float64 `json:"qps_vs_knot"`
	VsKnotCPU   float64 `json:"queries_per_cpu_s_vs_knot"`
	QPSSpread   float64 `json:"qps_spread"` // (max-min)/median over the runs
	CPUSpread   float64 `json:"queries_per_cpu_s_spread"`
	ClientPct   float64 `json:"dnsperf_cpu_pct"` // of its one CPU: near 100, the client was the bottleneck
	OtherCPUPct float64 `json:"other_cpu_pct"`
	RespBytes   float64 `json:"response_bytes"`
}

// failover is how a steered server's failover name followed its primary
// endpoint's health check going down and up again before the measurement.
type failover struct {
	Server string  `json:"server"`
	Down   float64 `json:"to_backup_s"`
	Up     float64 `json:"back_to_primary_s"`
}

// memoryTable is the memory/load workload.
type memoryTable struct {
	Names  int       `json:"names"`
	Starts int       `json:"starts"`
	Rows   []*memRow `json:"rows"`
}

// memRow is one server with the large zone loaded.
type memRow struct {
	Server  string    `json:"server"`
	Version string    `json:"version"`
	RSS     int64     `json:"rss_bytes"` // summed over the process tree (median over the starts)
	PSS     int64     `json:"pss_bytes"` // the same, shared pages divided among the processes sharing them
	Procs   int       `json:"processes"`
	Load    float64   `json:"load_s"`             // median of Loads
	Loads   []float64 `json:"loads_s"`            // each start: process start to the zone's SOA answered
	Import  float64   `json:"import_s,omitempty"` // Stratus: zone import through the API
	Note    string    `json:"note,omitempty"`
}
