package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestAnomalyFloodEvents floods a zone of a running server with random
// names over UDP and watches stratus events: one event when the flood
// starts (zone example.com., actor anomaly), one when it has ended, and
// the table shows them.
func TestAnomalyFloodEvents(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stratus.yaml")
	if err := os.WriteFile(cfg, []byte("dns:\n  anomalies: {nxdomain_per_second: 100, quiet: 2s}\n  rrl: {exempt: [127.0.0.0/8]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "", "--config", cfg)
	s.mustCLI("zone", "create", "example.com", "--ns", "ns1.example.com.")

	anomalies := func() []apiv1.Event {
		var l apiv1.EventList
		if err := json.Unmarshal([]byte(s.mustCLI("events", "-o", "json")), &l); err != nil {
			t.Fatal(err)
		}
		var out []apiv1.Event
		for _, e := range l.Events {
			if e.Actor == "anomaly" {
				out = append(out, e)
			}
		}
		return out
	}
	co, err := dns.Dial("udp", s.dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	flood := func(n int) {
		m := new(dns.Msg)
		for range n {
			m.SetQuestion(fmt.Sprintf("%016x.example.com.", rand.Uint64()), dns.TypeA)
			co.SetDeadline(time.Now().Add(time.Minute))
			if err := co.WriteMsg(m); err != nil {
				t.Fatal(err)
			}
			r, err := co.ReadMsg()
			if err != nil {
				t.Fatal(err)
			}
			if r.Rcode != dns.RcodeNameError {
				t.Fatalf("%s: %s", m.Question[0].Name, dns.RcodeToString[r.Rcode])
			}
		}
	}

	deadline := time.Now().Add(60 * time.Second)
	for len(anomalies()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no anomaly event within 60s of flooding")
		}
		flood(300)
	}
	start := anomalies()
	if len(start) != 1 || start[0].Zone != "example.com." || !strings.Contains(start[0].Reason, "random-subdomain flood: ") {
		t.Fatalf("anomaly events during the flood: %+v", start)
	}
	for len(anomalies()) < 2 { // the flood has stopped
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("no end event within 60s of the flood's end: %+v", anomalies())
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := anomalies()
	if len(got) != 2 || got[1].Zone != "example.com." || !strings.Contains(got[1].Reason, "random-subdomain flood ended: under 100 NXDOMAIN answers a second for 2s") {
		t.Fatalf("anomaly events after the flood: %+v", got)
	}
	table := s.mustCLI("events")
	if n := strings.Count(table, "zone example.com."); n != 2 || !strings.Contains(table, "anomaly") {
		t.Errorf("events table shows %d anomaly rows:\n%s", n, table)
	}
}
