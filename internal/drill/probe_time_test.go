package drill

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestProberStampsAnswersWhenReceived: an answer is dated when it arrives,
// not when its query left. A nameserver that takes its time answers with
// what holds after a fault made meanwhile; dated at the query, that answer
// would seem to precede the fault and a failover would measure as instant.
func TestProberStampsAnswersWhenReceived(t *testing.T) {
	asked := make(chan struct{}, 1)
	release := make(chan string)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	first := true
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		answer := "192.0.2.1"
		if first {
			first = false
			asked <- struct{}{}
			answer = <-release // the fault happens while this query waits
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(answer)}}
		w.WriteMsg(m)
	})}
	testutil.ServeDNS(t, srv)

	s := &Scenario{
		Services:    []string{"api.example.com"},
		Nameservers: []Nameserver{{Name: "ns", Address: pc.LocalAddr().String()}},
		Interval:    time.Hour, // one query: the one held
	}
	p := NewProber(s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx, s)

	<-asked
	fault := time.Now()
	release <- "192.0.2.2"
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ch := p.Series()[0].Changes; len(ch) > 0 {
			if ch[0].At.Before(fault) {
				t.Fatalf("an answer given after the fault is dated %v, before it (%v)", ch[0].At, fault)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no answer recorded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
