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

// sampleReport is a drill with a failover, an outage seen as SERVFAIL, a
// recovery one nameserver never made (it kept answering the standby), and
// lane labels longer than the default label column.
func sampleReport() *Report {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	const svc = "checkout-api.functions.eu.example.com."
	series := []Series{
		{Nameserver: "stratus-primary", Client: "frankfurt-resolver", Service: svc, Queries: 80, Changes: []Change{
			{At: at(0), Answer: []string{"192.0.2.1"}}, {At: at(1050), Answer: []string{"192.0.2.2"}}, {At: at(3040), Answer: []string{"192.0.2.1"}}}},
		{Nameserver: "bind-secondary", Client: "frankfurt-resolver", Service: svc, Queries: 80, ServFails: 1, Changes: []Change{
			{At: at(0), Answer: []string{"192.0.2.1"}}, {At: at(1300), Rcode: dns.RcodeServerFailure}, {At: at(1350), Answer: []string{"192.0.2.2"}}}},
	}
	return &Report{Scenario: "eu-primary", Started: t0, Ended: at(12370), Passed: false, Series: series,
		Endpoints: Endpoints{
			"fra-1": {Answer: "192.0.2.1", Service: svc, Pool: "eu-central", Jurisdiction: "eu"},
			"dub-1": {Answer: "192.0.2.2", Service: svc, Pool: "eu-west", Jurisdiction: "eu"},
		},
		Steps: []StepResult{
			{Step: 0, Kind: "fail", What: "fail pool eu-central of checkout-api.functions.eu.example.com", Expect: "answered dub-1; not answered fra-1 within 5s",
				Start: at(1000), Within: 5 * time.Second, Met: true, Slowest: 350 * time.Millisecond, Measured: 2, Series: []SeriesResult{
					{Nameserver: "stratus-primary", Client: "frankfurt-resolver", Service: svc, Met: true, Took: 50 * time.Millisecond},
					{Nameserver: "bind-secondary", Client: "frankfurt-resolver", Service: svc, Met: true, Took: 350 * time.Millisecond}}},
			{Step: 1, Kind: "wait", What: "wait 1s", Start: at(2000), Met: true},
			{Step: 2, Kind: "restore", What: "restore pool eu-central of checkout-api.functions.eu.example.com", Expect: "answered fra-1 within 5s",
				Start: at(3000), Within: 5 * time.Second, Met: false, Slowest: 40 * time.Millisecond, Measured: 1, Never: 1, Series: []SeriesResult{
					{Nameserver: "stratus-primary", Client: "frankfurt-resolver", Service: svc, Met: true, Took: 40 * time.Millisecond},
					{Nameserver: "bind-secondary", Client: "frankfurt-resolver", Service: svc, Met: false, Took: -1, Instead: "192.0.2.2"}}},
		},
		Verdicts: []Verdict{
			{SLO: "failover within 5s", Held: true, Result: Held, Detail: "slowest 350ms of 2 measured"},
			{SLO: "recovery within 5s", Held: false, Result: NotHeld, Detail: "slowest 40ms of 1 measured; never observed for 1 of 2 series"},
			{SLO: "no SERVFAIL", Held: false, Result: NotHeld, Detail: "1 of 160 queries"},
			{SLO: "never outside eu", Result: NotMeasured, Detail: "no step measured it"},
		},
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
	for _, s := range []string{"FAILED", "bind-secondary · frankfurt-resolver · checkout-api.functions.eu.example.com", "SERVFAIL", "1 fail", "3 restore", "350ms",
		// endpoints named with their pools, the fault described, what was
		// answered instead of the expectation, an SLO not measured
		"192.0.2.2 = dub-1 (pool eu-west)", "192.0.2.1 = fra-1 (pool eu-central)", "fail pool eu-central of checkout-api.functions.eu.example.com",
		"answered dub-1; not answered fra-1 within 5s", "<td>192.0.2.2 = dub-1 (pool eu-west)</td>", ">not measured<", ">never<"} {
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
