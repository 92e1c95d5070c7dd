package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/zone"
	"github.com/stratusdns/stratus/internal/zone/zonetest"
)

// echoExtended answers each handed-over request with count copies of the
// request turned into a response, and records what it was given.
type echoExtended struct {
	mu    sync.Mutex
	calls []extCall
	count atomic.Int32
}

type extCall struct {
	tcp       bool
	hasAnswer bool
}

func (e *echoExtended) Serve(_ context.Context, req, answer []byte, _ netip.Addr, tcp bool, write func([]byte) error) {
	e.mu.Lock()
	e.calls = append(e.calls, extCall{tcp, answer != nil})
	e.mu.Unlock()
	m := new(dns.Msg)
	m.Unpack(req)
	r := new(dns.Msg)
	r.SetReply(m)
	b, _ := r.Pack()
	for range e.count.Load() {
		if write(b) != nil {
			return
		}
	}
}

func TestHandOver(t *testing.T) {
	var src atomic.Pointer[zone.Snapshot]
	src.Store(zonetest.Build(t, map[string]string{"example.com.": zonetest.ExampleCom}))
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}}, &src, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ext := &echoExtended{}
	ext.count.Store(3)
	s.SetExtended(ext)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	addr := s.Addrs()[0].String()

	// A transfer over TCP: every message the handler writes arrives, and
	// the connection goes on serving.
	conn, err := dns.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeAXFR)
	conn.SetDeadline(time.Now().Add(time.Minute))
	if err := conn.WriteMsg(m); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if r, err := conn.ReadMsg(); err != nil || r.Id != m.Id {
			t.Fatalf("message %d: %v %v", i, r, err)
		}
	}
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	conn.WriteMsg(q)
	if r, err := conn.ReadMsg(); err != nil || len(r.Answer) != 2 {
		t.Fatalf("query after the transfer: %v %v", r, err)
	}

	// A signed query over UDP: handed over with the query path's answer.
	ext.count.Store(1)
	q = new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.SetTsig("k.", dns.HmacSHA256, 300, time.Now().Unix())
	pkt, _, err := dns.TsigGenerate(q, "c2VjcmV0c2VjcmV0c2VjcmV0", "", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(pkt)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 4096)
	if _, err := c.Read(buf); err != nil {
		t.Fatal(err)
	}
	ext.mu.Lock()
	defer ext.mu.Unlock()
	if len(ext.calls) != 2 || !ext.calls[0].tcp || ext.calls[0].hasAnswer || ext.calls[1].tcp || !ext.calls[1].hasAnswer {
		t.Errorf("calls %+v", ext.calls)
	}
}
