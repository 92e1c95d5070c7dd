package health

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnsProber sends one query to the endpoint over UDP, and again over TCP
// when the UDP answer is truncated.
//
// The query name is the check's QName; without one, the endpoint's
// ServerName (its hostname, which an authoritative server for its own zone
// answers), and without that the root ".". The type is the check's QType
// (SOA by default). RD is set, as dig does, so that a recursive resolver
// is checked too; authoritative servers ignore it.
type dnsProber struct {
	env   *probeEnv
	qname string
	qtype uint16
}

func newDNSProber(e *probeEnv) (*dnsProber, error) {
	qname := e.spec.QName
	if qname == "" {
		qname = e.target.ServerName
	}
	if qname == "" {
		qname = "."
	}
	if _, ok := dns.IsDomainName(qname); !ok {
		return nil, fmt.Errorf("dns check of %s: %q is not a domain name", e.target.Host, qname)
	}
	qtype, ok := dns.StringToType[strings.ToUpper(e.spec.QType)]
	if !ok {
		return nil, fmt.Errorf("dns check of %s: unknown query type %q", e.target.Host, e.spec.QType)
	}
	return &dnsProber{env: e, qname: dns.Fqdn(qname), qtype: qtype}, nil
}

func (p *dnsProber) probe(ctx context.Context) result {
	spec := &p.env.spec
	ctx, cancel := context.WithTimeout(ctx, spec.Timeout.D())
	defer cancel()
	start := time.Now() // the RTT is network time: on the system clock, never Options.Clock
	addr, err := p.env.addr(ctx)
	if err != nil {
		return p.env.failure(err)
	}
	m := new(dns.Msg)
	m.SetQuestion(p.qname, p.qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)
	r, err := exchange(ctx, "udp", m, addr)
	if err == nil && r.Truncated {
		r, err = exchange(ctx, "tcp", m, addr)
	}
	if err != nil {
		return p.env.failure(err)
	}
	if r.Rcode != spec.Rcode() {
		return softFailure("rcode %s, want %s", dns.RcodeToString[r.Rcode], strings.ToUpper(spec.ExpectRcode))
	}
	if want := spec.ExpectAnswer; want != "" {
		found := false
		for _, rr := range r.Answer {
			if strings.Contains(rr.String(), want) {
				found = true
				break
			}
		}
		if !found {
			return softFailure("no answer record contains %q", shorten(want, 40))
		}
	}
	return result{ok: true, rtt: time.Since(start)}
}

// exchange sends m to addr over network and reads the answer, within the
// context's deadline; cancelling the context ends it at once.
func exchange(ctx context.Context, network string, m *dns.Msg, addr string) (*dns.Msg, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	client := dns.Client{Net: network}
	r, _, err := client.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: c})
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return r, err
}

func (p *dnsProber) close() {}
