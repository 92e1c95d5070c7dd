package drill

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// sampleReport is a drill with a failover, an outage seen as SERVFAIL and
// a recovery on two nameservers.
func sampleReport() *Report {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	series := []Series{
		{Nameserver: "stratus", Client: "frankfurt", Service: "api.fn.example.com.", Queries: 80, Changes: []Change{
			{At: at(0), Answer: []string{"192.0.2.1"}}, {At: at(1050), Answer: []string{"192.0.2.2"}}, {At: at(3040), Answer: []string{"192.0.2.1"}}}},
		{Nameserver: "bind", Client: "frankfurt", Service: "api.fn.example.com.", Queries: 80, ServFails: 1, Changes: []Change{
			{At: at(0), Answer: []string{"192.0.2.1"}}, {At: at(1300), Rcode: dns.RcodeServerFailure}, {At: at(1350), Answer: []string{"192.0.2.2"}}, {At: at(3090), Answer: []string{"192.0.2.1"}}}},
	}
	return &Report{Scenario: "eu-primary", Started: t0, Ended: at(4000), Passed: false, Series: series,
		Steps: []StepResult{
			{Step: 0, Kind: "fail", Start: at(1000), Within: 5 * time.Second, Met: true, Slowest: 350 * time.Millisecond, Series: []SeriesResult{
				{Nameserver: "stratus", Client: "frankfurt", Service: "api.fn.example.com.", Met: true, Took: 50 * time.Millisecond},
				{Nameserver: "bind", Client: "frankfurt", Service: "api.fn.example.com.", Met: true, Took: 350 * time.Millisecond}}},
			{Step: 1, Kind: "wait", Start: at(2000), Met: true},
			{Step: 2, Kind: "restore", Start: at(3000), Within: 5 * time.Second, Met: true, Slowest: 90 * time.Millisecond, Series: []SeriesResult{
				{Nameserver: "stratus", Client: "frankfurt", Service: "api.fn.example.com.", Met: true, Took: 40 * time.Millisecond},
				{Nameserver: "bind", Client: "frankfurt", Service: "api.fn.example.com.", Met: true, Took: 90 * time.Millisecond}}},
		},
		Verdicts: []Verdict{{SLO: "failover within 5s", Held: true, Detail: "slowest 350ms"}, {SLO: "no SERVFAIL", Held: false, Detail: "1 of 160 queries"}},
	}
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/report.html"
	if *update {
		os.WriteFile(golden, b.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("the report differs from %s (go test -run TestWriteHTML -update rewrites it)", golden)
	}
	for _, s := range []string{"FAILED", "bind · frankfurt · api.fn.example.com", "SERVFAIL", "192.0.2.2", "1 fail", "3 restore", "350ms"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("the report does not show %q", s)
		}
	}
	for _, ref := range []string{"<script", "src=", "href=", "@import", "url("} {
		if strings.Contains(b.String(), ref) {
			t.Errorf("the report refers to something outside it (%q)", ref)
		}
	}
}
