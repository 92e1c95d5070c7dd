package dnstap

import (
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dt "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/stratusdns/stratus/internal/dnsserver"
)

// collector is a Frame Streams receiver on a unix socket.
type collector struct {
	ln     net.Listener
	frames chan []byte
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func listen(t *testing.T, path string) *collector {
	return listenOn(t, "unix", path)
}

func listenOn(t *testing.T, network, addr string) *collector {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{ln: ln, frames: make(chan []byte, 1024)}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				in, err := dt.NewFrameStreamInput(conn, true)
				if err != nil {
					return
				}
				in.ReadInto(c.frames)
			}()
		}
	}()
	return c
}

// kill closes the socket and every connection, as a collector that
// dies does.
func (c *collector) kill() {
	c.ln.Close()
	c.mu.Lock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *collector) next(t *testing.T) *dt.Dnstap {
	t.Helper()
	select {
	case f := <-c.frames:
		var m dt.Dnstap
		if err := proto.Unmarshal(f, &m); err != nil {
			t.Fatal(err)
		}
		return &m
	case <-time.After(time.Minute):
		t.Fatal("no frame")
		return nil
	}
}

func record(t *testing.T, name string, tcp bool) dnsserver.TapRecord {
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeAAAA)
	qb, _ := q.Pack()
	r := new(dns.Msg)
	r.SetRcode(q, dns.RcodeNameError)
	rb, _ := r.Pack()
	at := time.Date(2026, 12, 7, 23, 0, 0, 1234, time.UTC)
	return dnsserver.TapRecord{Received: at, Answered: at.Add(time.Millisecond), Client: netip.MustParseAddrPort("[2001:db8::5]:4242"),
		TCP: tcp, Dnstap: true, Query: qb, Response: rb}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestMessages: each record becomes an AUTH_QUERY and an AUTH_RESPONSE
// with the client, transport, times and messages.
func TestMessages(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) { testMessages(t, network) })
	}
}

func testMessages(t *testing.T, network string) {
	addr := filepath.Join(t.TempDir(), "tap.sock")
	if network == "tcp" {
		addr = "127.0.0.1:0"
	}
	c := listenOn(t, network, addr)
	defer c.kill()
	o := New(Options{Network: network, Addr: c.ln.Addr().String(), Identity: "ns1", Version: "v9", Queries: true, Responses: true})
	waitFor(t, "connection", o.Connected)
	rec := record(t, "a.example.", true)
	o.Tap([]dnsserver.TapRecord{rec, {Log: true}}) // the second is not for dnstap
	q, r := c.next(t), c.next(t)
	for _, m := range []*dt.Dnstap{q, r} {
		msg := m.Message
		if string(m.Identity) != "ns1" || string(m.Version) != "v9" || m.GetType() != dt.Dnstap_MESSAGE ||
			msg.GetSocketFamily() != dt.SocketFamily_INET6 || msg.GetSocketProtocol() != dt.SocketProtocol_TCP ||
			netip.AddrFrom16([16]byte(msg.QueryAddress)) != rec.Client.Addr() || msg.GetQueryPort() != 4242 ||
			msg.GetQueryTimeSec() != uint64(rec.Received.Unix()) || msg.GetQueryTimeNsec() != 1234 {
			t.Errorf("message %v", m)
		}
	}
	if q.Message.GetType() != dt.Message_AUTH_QUERY || string(q.Message.QueryMessage) != string(rec.Query) || q.Message.ResponseMessage != nil {
		t.Errorf("query %v", q)
	}
	if r.Message.GetType() != dt.Message_AUTH_RESPONSE || string(r.Message.ResponseMessage) != string(rec.Response) ||
		r.Message.GetResponseTimeNsec() != 1001234 {
		t.Errorf("response %v", r)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if o.Frames() != 2 || o.Dropped() != 0 {
		t.Errorf("frames %d dropped %d", o.Frames(), o.Dropped())
	}
}

// TestCollectorComesAndGoes: with no collector the messages wait in the
// queue and, beyond it, are dropped and counted, never waited for; a
// collector that starts later gets what is queued; one that dies is
// reconnected to when it comes back.
func TestCollectorComesAndGoes(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "tap.sock")
	o := New(Options{Network: "unix", Addr: sock, QueueSize: 8, Responses: true, RetryInterval: 20 * time.Millisecond, MaxRetry: 20 * time.Millisecond})
	defer o.Close()
	rec := record(t, "b.example.", false)
	for range 20 { // never blocks, whatever the collector does
		o.Tap([]dnsserver.TapRecord{rec})
	}
	if o.Connected() || o.Frames() != 0 || o.Dropped() != 12 {
		t.Fatalf("no collector: connected %v frames %d dropped %d", o.Connected(), o.Frames(), o.Dropped())
	}
	c := listen(t, sock)
	waitFor(t, "the queued frames", func() bool { return o.Frames() == 8 })
	for range 8 {
		c.next(t)
	}
	c.kill()
	waitFor(t, "the connection to be seen gone", func() bool {
		o.Tap([]dnsserver.TapRecord{rec}) // a write finds the connection gone
		return !o.Connected()
	})
	dropped := o.Dropped()
	for range 20 {
		o.Tap([]dnsserver.TapRecord{rec})
	}
	if o.Dropped() <= dropped {
		t.Errorf("no drops counted with the collector gone: %d", o.Dropped())
	}
	c2 := listen(t, sock)
	defer c2.kill()
	waitFor(t, "reconnection", o.Connected)
	before := o.Frames()
	o.Tap([]dnsserver.TapRecord{record(t, "after.example.", false)})
	waitFor(t, "a frame after reconnecting", func() bool { return o.Frames() > before })
	for {
		m := c2.next(t)
		var resp dns.Msg
		if err := resp.Unpack(m.Message.ResponseMessage); err != nil {
			t.Fatal(err)
		}
		if resp.Question[0].Name == "after.example." {
			break
		}
	}
}
