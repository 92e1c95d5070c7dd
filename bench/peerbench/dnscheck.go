package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// query asks addr one question over UDP.
func query(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	c := &dns.Client{Net: "udp", Timeout: 250 * time.Millisecond}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// answerAddrs returns the A/AAAA addresses of r's answer, sorted.
func answerAddrs(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

// waitSOA polls addr for the zone's SOA until it is answered
// authoritatively, and returns the time from p's start to that answer.
func waitSOA(ctx context.Context, p *proc, addr string, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	var last string
	for {
		r, err := query(addr, zoneName, dns.TypeSOA)
		if err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) > 0 {
			if _, ok := r.Answer[0].(*dns.SOA); ok {
				return time.Since(p.started), nil
			}
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("rcode %s, %d answers", dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		if p.exited() {
			return 0, p.failure()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: no SOA for %s at %s within %v (last: %s); log %s:\n%s",
				p.name, zoneName, addr, limit, last, p.log, tail(p.log, 20))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// expect asks one question and compares the rcode and the answer's
// addresses (want nil: no answer at all; "*": any non-empty answer).
func expect(addr, name string, qtype uint16, rcode int, want []string) error {
	r, err := query(addr, name, qtype)
	if err != nil {
		return fmt.Errorf("%s %s: %v", name, dns.TypeToString[qtype], err)
	}
	q := fmt.Sprintf("%s %s", name, dns.TypeToString[qtype])
	if r.Rcode != rcode {
		return fmt.Errorf("%s: rcode %s, want %s", q, dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode])
	}
	if !r.Authoritative {
		return fmt.Errorf("%s: answer without the AA flag", q)
	}
	switch {
	case want == nil && len(r.Answer) != 0:
		return fmt.Errorf("%s: %d answer records, want none", q, len(r.Answer))
	case len(want) == 1 && want[0] == "*":
		if len(r.Answer) == 0 {
			return fmt.Errorf("%s: empty answer", q)
		}
	case want != nil:
		if got := answerAddrs(r); !slices.Equal(got, want) {
			return fmt.Errorf("%s: answer %v, want %v", q, got, want)
		}
	}
	return nil
}

// checkStatic checks the answers of the static zone.
func checkStatic(addr string) error {
	for _, c := range []struct {
		name  string
		qtype uint16
		rcode int
		want  []string
	}{
		{"h5." + zoneName, dns.TypeA, dns.RcodeSuccess, []string{hostAddr(5)}},
		{"h1234." + zoneName, dns.TypeA, dns.RcodeSuccess, []string{hostAddr(1234)}},
		{"nx1." + zoneName, dns.TypeA, dns.RcodeNameError, nil},
		{"h5." + zoneName, dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"h100." + zoneName, dns.TypeAAAA, dns.RcodeSuccess, []string{"2001:db8::64"}},
		{"h100." + zoneName, dns.TypeMX, dns.RcodeSuccess, []string{"*"}},
		{"h100." + zoneName, dns.TypeTXT, dns.RcodeSuccess, []string{"*"}},
	} {
		if err := expect(addr, c.name, c.qtype, c.rcode, c.want); err != nil {
			return err
		}
	}
	return nil
}

// checkSteered checks the steered names with every endpoint up: the
// failover name answers the primary only, and the weighted name one
// endpoint per answer, in shares near 1:2:3.
func checkSteered(addr string) error {
	if err := expect(addr, failoverName, dns.TypeA, dns.RcodeSuccess, []string{failoverEndpoints[0].addr}); err != nil {
		return err
	}
	const n = 600
	counts := map[string]int{}
	for range n {
		r, err := query(addr, weightedName, dns.TypeA)
		if err != nil {
			return fmt.Errorf("%s A: %v", weightedName, err)
		}
		got := answerAddrs(r)
		if r.Rcode != dns.RcodeSuccess || len(got) != 1 {
			return fmt.Errorf("%s A: rcode %s, answer %v; want one address", weightedName, dns.RcodeToString[r.Rcode], got)
		}
		counts[got[0]]++
	}
	var report []string
	for _, e := range weightedEndpoints {
		share := float64(counts[e.addr]) / n
		want := float64(e.weight) / 6
		report = append(report, fmt.Sprintf("%s %.2f (want %.2f)", e.addr, share, want))
		if share < want-0.08 || share > want+0.08 {
			return fmt.Errorf("%s A: shares over %d queries %s", weightedName, n, strings.Join(report, ", "))
		}
	}
	return nil
}

// waitAnswer polls name A until its answer is exactly want.
func waitAnswer(ctx context.Context, addr, name string, want []string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	var got []string
	for time.Since(start) < limit {
		if r, err := query(addr, name, dns.TypeA); err == nil {
			got = answerAddrs(r)
			if slices.Equal(got, want) {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("%s A: answer %v, want %v within %v", name, got, want, limit)
}
