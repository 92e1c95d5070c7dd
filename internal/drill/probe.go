package drill

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/telemetry"
)

// Rcode values an observation may carry besides the DNS rcodes.
const (
	RcodeTimeout = -1 // no answer within the query timeout
	RcodeError   = -2 // the query could not be sent
)

// Change is an answer as it began to be seen: the rcode and the sorted
// records (addresses, or a CNAME target) of the A and AAAA answers.
type Change struct {
	At     time.Time `json:"at"`
	Rcode  int       `json:"rcode"`
	Answer []string  `json:"answer"`
}

// Series is what one nameserver answered one client for one service over
// the drill: every change, and how many queries went unanswered.
type Series struct {
	Nameserver string   `json:"nameserver"`
	Client     string   `json:"client"`
	Service    string   `json:"service"`
	Changes    []Change `json:"changes"`
	Queries    int      `json:"queries"`
	Timeouts   int      `json:"timeouts"`
	ServFails  int      `json:"servfails"`
}

// Prober asks every nameserver, for every client and service, every
// interval, and keeps each series of answers. A truncated answer is asked
// again over TCP.
type Prober struct {
	interval time.Duration
	timeout  time.Duration

	mu     sync.Mutex
	series []*Series
}

// clients returns the scenario's clients, or for a scenario without any
// the one client "direct", that sends no subnet from the default address.
func (s *Scenario) clients() []Client {
	if len(s.Clients) == 0 {
		return []Client{{Name: "direct"}}
	}
	return s.Clients
}

// NewProber returns a prober for the scenario. A scenario without clients
// gets one, "direct", that sends no subnet from the default address.
func NewProber(s *Scenario) *Prober {
	p := &Prober{interval: s.Interval, timeout: max(s.Interval, 500*time.Millisecond)}
	for _, ns := range s.Nameservers {
		for _, c := range s.clients() {
			for _, svc := range s.Services {
				p.series = append(p.series, &Series{Nameserver: ns.Name, Client: c.Name, Service: dns.Fqdn(strings.ToLower(svc))})
			}
		}
	}
	return p
}

// Run probes until ctx is done. Each series has its own goroutine, so one
// slow nameserver does not hold up the others.
func (p *Prober) Run(ctx context.Context, s *Scenario) {
	addrs := map[string]string{}
	for _, ns := range s.Nameservers {
		addrs[ns.Name] = ns.Address
	}
	clients := map[string]Client{}
	for _, c := range s.clients() {
		clients[c.Name] = c
	}
	var wg sync.WaitGroup
	for _, se := range p.series {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer telemetry.Recover(nil, "drill") // the series ends; the run goes on
			p.probe(ctx, se, addrs[se.Nameserver], clients[se.Client])
		}()
	}
	wg.Wait()
}

func (p *Prober) probe(ctx context.Context, se *Series, addr string, c Client) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		rcode, answer := p.ask(ctx, addr, se.Service, c)
		if ctx.Err() != nil {
			return // the query was cut short by the end, not unanswered
		}
		// Dated on arrival: the answer may reflect a change made while
		// the query was on its way, never one made after it arrived.
		p.record(se, time.Now(), rcode, answer)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// record adds an observation to a series, as a change when it differs
// from the last one.
func (p *Prober) record(se *Series, at time.Time, rcode int, answer []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	se.Queries++
	switch rcode {
	case RcodeTimeout, RcodeError:
		se.Timeouts++
	case dns.RcodeServerFailure:
		se.ServFails++
	}
	if n := len(se.Changes); n > 0 && se.Changes[n-1].Rcode == rcode && slices.Equal(se.Changes[n-1].Answer, answer) {
		return
	}
	se.Changes = append(se.Changes, Change{At: at, Rcode: rcode, Answer: answer})
}

// ask sends one A query (and, when it has no addresses, AAAA), as the
// client would.
func (p *Prober) ask(ctx context.Context, addr, name string, c Client) (int, []string) {
	rcode, answer := p.query(ctx, addr, name, dns.TypeA, c)
	if rcode == dns.RcodeSuccess && len(answer) == 0 {
		rcode, answer = p.query(ctx, addr, name, dns.TypeAAAA, c)
	}
	return rcode, answer
}

func (p *Prober) query(ctx context.Context, addr, name string, qtype uint16, c Client) (int, []string) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	if c.Subnet != "" {
		pfx := netip.MustParsePrefix(c.Subnet)
		e := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, SourceNetmask: uint8(pfx.Bits()), Address: pfx.Addr().AsSlice()}
		e.Family = 1
		if pfx.Addr().Is6() {
			e.Family = 2
		}
		m.IsEdns0().Option = append(m.IsEdns0().Option, e)
	}
	for _, netw := range []string{"udp", "tcp"} {
		cl := &dns.Client{Net: netw, Timeout: p.timeout}
		if c.Source != "" {
			src := net.ParseIP(c.Source)
			if netw == "udp" {
				cl.Dialer = &net.Dialer{Timeout: p.timeout, LocalAddr: &net.UDPAddr{IP: src}}
			} else {
				cl.Dialer = &net.Dialer{Timeout: p.timeout, LocalAddr: &net.TCPAddr{IP: src}}
			}
		}
		r, _, err := cl.ExchangeContext(ctx, m, addr)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return RcodeTimeout, nil
			}
			return RcodeError, nil
		}
		if r.Truncated && netw == "udp" {
			continue
		}
		var answer []string
		for _, rr := range r.Answer {
			switch v := rr.(type) {
			case *dns.A:
				answer = append(answer, v.A.String())
			case *dns.AAAA:
				answer = append(answer, v.AAAA.String())
			case *dns.CNAME:
				if strings.EqualFold(v.Hdr.Name, name) {
					answer = append(answer, strings.ToLower(v.Target))
				}
			}
		}
		slices.Sort(answer)
		return r.Rcode, answer
	}
	return RcodeError, nil
}

// Series returns a copy of every series so far.
func (p *Prober) Series() []Series {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Series, len(p.series))
	for i, se := range p.series {
		out[i] = *se
		out[i].Changes = slices.Clone(se.Changes)
	}
	return out
}
