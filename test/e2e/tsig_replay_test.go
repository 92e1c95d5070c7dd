package e2e

import (
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// udpRelay passes UDP datagrams between clients and a DNS server and
// keeps a copy of every request, as someone on the path would.
type udpRelay struct {
	addr string
	mu   sync.Mutex
	seen [][]byte
}

func startUDPRelay(t *testing.T, server string) *udpRelay {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{addr: pc.LocalAddr().String()}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			r.mu.Lock()
			r.seen = append(r.seen, req)
			r.mu.Unlock()
			if resp, err := exchangeUDP(server, req); err == nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return r
}

// exchangeUDP sends msg as it is to server over UDP and returns the reply.
func exchangeUDP(server string, msg []byte) ([]byte, error) {
	c, err := net.Dial("udp", server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	return buf[:n], err
}

// TestSignedUpdateReplay: an UPDATE sent by nsupdate is captured on its
// way and sent again, byte for byte, over UDP after the record it added
// was deleted: the copy gets NOTAUTH with BADTIME and the record stays
// deleted. Requests built with miekg/dns for the other attacks: a Fudge
// of an hour is BADTIME, a TSIG record not at the end of the message is
// FORMERR, and neither changes the zone.
func TestSignedUpdateReplay(t *testing.T) {
	nsupdate := testutil.Tool(t, "nsupdate")
	s := startServer(t, "")
	var key apiv1.CreatedTSIGKey
	if err := json.Unmarshal([]byte(s.mustCLI("tsig", "create", "replay.test", "--algorithm", "hmac-sha256", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	s.mustCLI("zone", "create", "replay.test", "--ns", "ns1.replay.test", "--allow-update", "key=replay.test")
	s.mustCLI("record", "add", "replay.test", "ns1", "A", "192.0.2.53")
	relay := startUDPRelay(t, s.dnsAddr)
	host, port, _ := strings.Cut(relay.addr, ":")

	cmd := exec.Command(nsupdate, "-y", "hmac-sha256:replay.test:"+key.Secret)
	cmd.Stdin = strings.NewReader("server " + host + " " + port + "\nzone replay.test\nupdate add r.replay.test 60 A 192.0.2.77\nsend\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nsupdate: %v\n%s", err, out)
	}
	query := func(name string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, err := dns.Exchange(m, s.dnsAddr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := query("r.replay.test."); len(r.Answer) != 1 {
		t.Fatalf("after nsupdate: %v", r)
	}
	relay.mu.Lock()
	var captured []byte
	for _, req := range relay.seen {
		m := new(dns.Msg)
		if m.Unpack(req) == nil && m.Opcode == dns.OpcodeUpdate {
			captured = req
		}
	}
	relay.mu.Unlock()
	if captured == nil {
		t.Fatal("no UPDATE went through the relay")
	}
	s.mustCLI("record", "delete", "replay.test", "r", "A")
	if r := query("r.replay.test."); r.Rcode != dns.RcodeNameError {
		t.Fatalf("after the delete: %v", r)
	}

	answer := func(what string, req []byte) *dns.Msg {
		t.Helper()
		b, err := exchangeUDP(s.dnsAddr, req)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return r
	}
	if r := answer("replay", captured); r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadTime {
		t.Fatalf("replayed UPDATE: %v; want NOTAUTH with BADTIME", r)
	}
	if r := query("r.replay.test."); r.Rcode != dns.RcodeNameError {
		t.Fatalf("the replayed UPDATE changed the zone: %v", r)
	}

	signed := func(name string, fudge uint16) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetUpdate("replay.test.")
		rr, _ := dns.NewRR(name + " 60 IN A 192.0.2.78")
		m.Insert([]dns.RR{rr})
		m.SetTsig("replay.test.", dns.HmacSHA256, fudge, time.Now().Unix())
		b, _, err := dns.TsigGenerate(m, key.Secret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		out := new(dns.Msg)
		if err := out.Unpack(b); err != nil {
			t.Fatal(err)
		}
		return out
	}
	pack := func(m *dns.Msg) []byte {
		t.Helper()
		m.Compress = false
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if r := answer("fudge 3600", pack(signed("f.replay.test.", 3600))); r.Rcode != dns.RcodeNotAuth || r.IsTsig() == nil || r.IsTsig().Error != dns.RcodeBadTime {
		t.Errorf("fudge 3600: %v; want NOTAUTH with BADTIME", r)
	}
	m := signed("g.replay.test.", 300)
	m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: "g.replay.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 79)})
	if r := answer("TSIG not last", pack(m)); r.Rcode != dns.RcodeFormatError {
		t.Errorf("TSIG not last: %v; want FORMERR", r)
	}
	for _, name := range []string{"f.replay.test.", "g.replay.test."} {
		if r := query(name); r.Rcode != dns.RcodeNameError {
			t.Errorf("%s: %v; the refused UPDATE changed the zone", name, r)
		}
	}
}
