package deploy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/internal/server"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
)

// quiet are the metrics of the dashboard and the rules whose series
// appear only after an event this test cannot cause from the outside of
// a node on its own: each is a labelled family with no series until its
// first count.
var quiet = map[string]string{
	"stratus_webhook_deliveries_total": "counted by webhook at a delivery; the node has no webhook",
}

// TestDashboardMetricsExported: every metric the dashboard and the
// alerting rules read is one a running node exports. A node is started
// in-process and made to do what the panels show: DNS over UDP and TCP
// (a truncated answer, rate-limited answers), a zone transfer and an
// update (both refused), a steered service with two pools of HTTP
// endpoints whose primary is stopped (probes, a failover, answers from
// the fallback pool), API requests and commits. Then /metrics is scraped
// without a token, and each expression's metric names must be among its
// series (a histogram's _bucket, _sum and _count), apart from the few in
// quiet.
func TestDashboardMetricsExported(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and waits for a failover")
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.DNS.Listen = []string{"127.0.0.1:0"}
	cfg.API.Listen = "127.0.0.1:0"
	cfg.DNS.RRL.ResponsesPerSecond = 1
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n := server.New(cfg, server.Options{}, slog.New(slog.DiscardHandler))
	ctx := t.Context()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(context.Background()) })
	tok, err := os.ReadFile(filepath.Join(cfg.DataDir, server.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	api := "http://" + n.APIAddr().String()
	dnsAddr := n.DNSAddrs()[0].String()
	c := client.New(api, strings.TrimSpace(string(tok)))

	// A zone with a record too large for 512 octets, and a steered
	// service with a primary and a backup pool of HTTP endpoints.
	if _, err := c.CreateZone(ctx, apiv1.CreateZoneRequest{Name: "fn.example.com", Nameservers: []string{"ns1.example.net."}}); err != nil {
		t.Fatal(err)
	}
	var txt []string
	for i := range 8 {
		txt = append(txt, fmt.Sprintf(`"%d %s"`, i, strings.Repeat("x", 120)))
	}
	if _, err := c.SetRRset(ctx, "fn.example.com", "big.fn.example.com.", "TXT", nil, txt, nil); err != nil {
		t.Fatal(err)
	}
	primary, port := endpointPair(t)
	check := &apiv1.Check{Type: "http", Path: "/healthz", Port: uint16(port), Interval: "1s", Fall: 1, Rise: 1}
	const svc = "api.fn.example.com."
	if _, err := c.CreateService(ctx, apiv1.Service{Name: svc, Policy: "failover", Pools: []apiv1.Pool{
		{Name: "primary", Priority: 1, Check: check},
		{Name: "backup", Priority: 2, Check: check},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []apiv1.Endpoint{{ID: "p1", Pool: "primary", Address: "127.0.0.2"}, {ID: "b1", Pool: "backup", Address: "127.0.0.3"}} {
		if _, err := c.RegisterEndpoint(ctx, svc, e); err != nil {
			t.Fatal(err)
		}
	}

	// Answered from the primary, then, once it stops, from the backup.
	answer := func() string {
		r, err := exchange("tcp", dnsAddr, svc, dns.TypeA)
		if err != nil || len(r.Answer) != 1 {
			return fmt.Sprint(r, err)
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	waitFor(t, "the primary answered", func() (bool, string) { a := answer(); return a == "127.0.0.2", a })
	primary.Close()
	waitFor(t, "the backup answered", func() (bool, string) { a := answer(); return a == "127.0.0.3", a })

	// DNS over UDP: answers, a truncated one, rate limiting at one
	// answer a second.
	r, err := exchange("udp", dnsAddr, "big.fn.example.com.", dns.TypeTXT)
	if err != nil || !r.Truncated {
		t.Fatalf("TXT over UDP without EDNS: %v %v, want it truncated", r, err)
	}
	waitFor(t, "answers rate-limited", func() (bool, string) {
		_, err := exchange("udp", dnsAddr, "fn.example.com.", dns.TypeSOA)
		return err != nil, fmt.Sprint(err)
	})
	// A transfer and an update, refused.
	m := new(dns.Msg)
	m.SetAxfr("fn.example.com.")
	if r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(m, dnsAddr); err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR: %v %v, want REFUSED", r, err)
	}
	m = new(dns.Msg)
	m.SetUpdate("fn.example.com.")
	m.Insert([]dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.fn.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}})
	if r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(m, dnsAddr); err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("UPDATE: %v %v, want REFUSED", r, err)
	}

	// The scrape, without a token.
	var page string
	waitFor(t, "/metrics shows the failover", func() (bool, string) {
		res, err := http.Get(api + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page = string(b)
		if res.StatusCode != http.StatusOK {
			return false, fmt.Sprintf("%s: %.200s", res.Status, page)
		}
		for _, l := range strings.Split(page, "\n") {
			if strings.HasPrefix(l, "stratus_steering_failover_active{") && strings.Contains(l, `service="api.fn.example.com`) && strings.HasSuffix(l, " 1") {
				return true, ""
			}
		}
		return false, "no stratus_steering_failover_active 1 for the service"
	})
	exprs, err := Exprs()
	if err != nil {
		t.Fatal(err)
	}
	exposed := ExposedNames(page)
	unknown, err := Unknown(exprs, exposed)
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]bool{}
	for _, e := range exprs {
		names, _ := MetricNames(e.Expr)
		for _, n := range names {
			if !exposed[n] && !Scraped[n] {
				missing[n] = true
			}
		}
	}
	var bad []string
	for n := range missing {
		if why, ok := quiet[n]; ok {
			t.Logf("%s not exported yet: %s", n, why)
			continue
		}
		bad = append(bad, n)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		var lines []string
		for _, u := range unknown {
			for _, b := range bad {
				if strings.Contains(u, b) {
					lines = append(lines, u)
					break
				}
			}
		}
		t.Errorf("%d metrics the dashboard or the rules read are not exported: %s\nwhere:\n%s", len(bad), strings.Join(bad, " "), strings.Join(lines, "\n"))
	}
	// A metric named in quiet that the node now exports belongs out of it.
	for n := range quiet {
		if exposed[n] || exposed[n+"_bucket"] {
			t.Errorf("%s is exported: take it out of quiet", n)
		}
	}
}

// endpointPair starts two HTTP endpoints answering /healthz with 200 on
// 127.0.0.2 and 127.0.0.3, on one port, and returns the first and the
// port.
func endpointPair(t *testing.T) (*http.Server, int) {
	t.Helper()
	for range 50 {
		a, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", fmt.Sprintf("127.0.0.3:%d", port))
		if err != nil {
			a.Close()
			continue
		}
		ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		sa, sb := &http.Server{Handler: ok}, &http.Server{Handler: ok}
		go sa.Serve(a)
		go sb.Serve(b)
		t.Cleanup(func() { sa.Close(); sb.Close() })
		return sa, port
	}
	t.Fatal("no port free on both 127.0.0.2 and 127.0.0.3")
	return nil, 0
}

// exchange sends one query without EDNS over network (udp or tcp).
func exchange(network, addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := (&dns.Client{Net: network, Timeout: 2 * time.Second}).Exchange(m, addr)
	return r, err
}

// waitFor polls cond until it holds, for at most 60 s (the machine may
// be loaded); the string cond returns says what it saw last.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s; last saw %s", what, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
