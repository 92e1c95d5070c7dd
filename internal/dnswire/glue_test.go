package dnswire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// referralZone delegates sub.big.test. to inDomain name servers below the
// cut and sibling name servers elsewhere in the zone, each with AAAA glue.
func referralZone(inDomain, sibling int) string {
	var b strings.Builder
	b.WriteString("@ SOA ns.big.test. h.big.test. 1 2 3 4 5\n@ NS ns.big.test.\nns A 192.0.2.1\n")
	for i := range inDomain {
		fmt.Fprintf(&b, "sub NS ns%d.sub.big.test.\nns%d.sub AAAA 2001:db8::%x\n", i, i, i+1)
	}
	for i := range sibling {
		fmt.Fprintf(&b, "sub NS ns%d.zz.big.test.\nns%d.zz AAAA 2001:db8:1::%x\n", i, i, i+1)
	}
	return b.String()
}

func TestReferralDropsSiblingGlueBeforeTruncating(t *testing.T) {
	tests := []struct {
		name              string
		inDomain, sibling int
		wantTC            bool
		wantGlue          int
	}{
		{"everything fits", 3, 3, false, 6},
		{"sibling glue left out", 5, 30, false, 5},
		{"in-domain glue does not fit", 40, 0, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := zonetest.Build(t, map[string]string{"big.test.": referralZone(tc.inDomain, tc.sibling)})
			query := new(dns.Msg)
			query.SetQuestion("www.sub.big.test.", dns.TypeA)
			query.SetEdns0(1232, false)
			b, _ := query.Pack()
			var q Query
			if err := ParseQuery(b, &q); err != nil {
				t.Fatal(err)
			}
			var a zone.Answer
			snap.Lookup(&a, q.Qname, q.Qtype)
			var w Writer
			out, truncated := w.Answer(&q, &a, w.UDPLimit(&q))
			m := new(dns.Msg)
			if err := m.Unpack(out); err != nil {
				t.Fatal(err)
			}
			glue := 0
			for _, rr := range m.Extra {
				if rr.Header().Rrtype == dns.TypeAAAA {
					glue++
					if !dns.IsSubDomain("sub.big.test.", rr.Header().Name) && tc.sibling > 3 {
						t.Errorf("sibling glue %s kept in a response that had to shrink", rr.Header().Name)
					}
				}
			}
			if truncated != tc.wantTC || m.Truncated != tc.wantTC || glue != tc.wantGlue || len(out) > 1232 {
				t.Errorf("TC=%v (%v) glue=%d size=%d; want TC=%v glue=%d", m.Truncated, truncated, glue, len(out), tc.wantTC, tc.wantGlue)
			}
			if !tc.wantTC && len(m.Ns) != tc.inDomain+tc.sibling {
				t.Errorf("%d NS records, want %d", len(m.Ns), tc.inDomain+tc.sibling)
			}
		})
	}
}
