package server

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/config"
)

// TestTapsWired: query_log and dnstap reach the DNS server: an answered
// query is a line in the log file, and the counts are exported (dnstap
// with no collector: its messages dropped at shutdown, and counted).
// The outputs stop with the node (TestMain checks no goroutine is left).
func TestTapsWired(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "queries.log")
	cfg, err := config.Parse("t.yaml", []byte(`
data_dir: `+dir+`
dns: {listen: ["127.0.0.1:0"]}
api: {listen: "127.0.0.1:0"}
query_log: {enabled: true, output: `+logPath+`}
dnstap: {socket: `+filepath.Join(dir, "none.sock")+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	n := New(cfg, Options{}, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	m := new(dns.Msg)
	m.SetQuestion("www.example.org.", dns.TypeA)
	if _, _, err := new(dns.Client).Exchange(m, n.DNSAddrs()[0].String()); err != nil {
		t.Fatal(err)
	}
	reg := n.metrics
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"qname":"www.example.org."`) {
		t.Errorf("log %q", b)
	}
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				got[mf.GetName()] = c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				got[mf.GetName()] = g.GetValue()
			}
		}
	}
	want := map[string]float64{"stratus_querylog_entries_total": 1, "stratus_querylog_dropped_total": 0,
		"stratus_dnstap_frames_total": 0, "stratus_dnstap_dropped_total": 2, "stratus_dnstap_connected": 0}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (exported %v), want %v", k, g, ok, v)
		}
	}
}

// TestNoTapsByDefault: with neither configured, the DNS server gets no
// tap.
func TestNoTapsByDefault(t *testing.T) {
	cfg := config.Default()
	_, tc, err := openTaps(&cfg, slog.New(slog.DiscardHandler))
	if err != nil || tc.Sink != nil || tc.Log || tc.Dnstap {
		t.Errorf("tap %+v, %v", tc, err)
	}
}
