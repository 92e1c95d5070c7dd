package health

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/stratusdns/stratus/internal/model"
	"github.com/stratusdns/stratus/internal/testutil"
)

// startDNS serves h on 127.0.0.1 over UDP and TCP (same port) until the
// test ends, and returns the address.
func startDNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	var (
		pc  net.PacketConn
		l   net.Listener
		err error
	)
	for range 20 {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("no port free for both UDP and TCP: %v", err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		testutil.ServeDNS(t, srv)
	}
	return pc.LocalAddr().String()
}

// testZone answers ok.test (A 192.0.2.1), big.test (40 TXT records:
// truncated over UDP), and NXDOMAIN for anything else. It records the
// names asked.
type testZone struct {
	mu    sync.Mutex
	asked []string
}

func (z *testZone) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	name := q.Question[0].Name
	z.mu.Lock()
	z.asked = append(z.asked, name)
	z.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	switch name {
	case "ok.test.", ".":
		rr, _ := dns.NewRR(name + " 60 IN A 192.0.2.1")
		m.Answer = append(m.Answer, rr)
	case "big.test.":
		for i := range 40 {
			rr, _ := dns.NewRR(name + ` 60 IN TXT "record number ` + strings.Repeat("x", 20) + string(rune('a'+i%26)) + `"`)
			m.Answer = append(m.Answer, rr)
		}
		rr, _ := dns.NewRR(name + ` 60 IN TXT "the last one"`)
		m.Answer = append(m.Answer, rr)
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncate(512)
		}
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

func (z *testZone) last() string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if len(z.asked) == 0 {
		return ""
	}
	return z.asked[len(z.asked)-1]
}

func TestDNSProbe(t *testing.T) {
	zone := &testZone{}
	addr := startDNS(t, zone)
	tests := []struct {
		name       string
		serverName string
		mod        func(*model.CheckSpec)
		ok         bool
		wantErr    string
		wantAsked  string
	}{
		{"noerror", "", func(s *model.CheckSpec) { s.QName = "ok.test"; s.QType = "A" }, true, "", "ok.test."},
		{"expected answer", "", func(s *model.CheckSpec) { s.QName = "ok.test."; s.QType = "A"; s.ExpectAnswer = "192.0.2.1" }, true, "", "ok.test."},
		{"missing answer", "", func(s *model.CheckSpec) { s.QName = "ok.test."; s.QType = "A"; s.ExpectAnswer = "192.0.2.9" }, false, `no answer record contains "192.0.2.9"`, "ok.test."},
		{"nxdomain unexpected", "", func(s *model.CheckSpec) { s.QName = "nx.test." }, false, "rcode NXDOMAIN, want NOERROR", "nx.test."},
		{"nxdomain expected", "", func(s *model.CheckSpec) { s.QName = "nx.test."; s.ExpectRcode = "nxdomain" }, true, "", "nx.test."},
		{"truncated: retried over tcp", "", func(s *model.CheckSpec) { s.QName = "big.test."; s.QType = "TXT"; s.ExpectAnswer = "the last one" }, true, "", "big.test."},
		{"default name: the server name", "ok.test.", nil, true, "", "ok.test."},
		{"default name without a server name: the root", "", func(s *model.CheckSpec) { s.ExpectAnswer = "192.0.2.1" }, true, "", "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := targetAt(t, "k", addr, spec(model.CheckDNS, tt.mod))
			tg.ServerName = tt.serverName
			r := probeOnce(t, envFor(tg))
			if r.ok != tt.ok || r.err != tt.wantErr {
				t.Fatalf("result %+v, want ok=%v err=%q", r, tt.ok, tt.wantErr)
			}
			if r.hard {
				t.Errorf("a wrong answer is a soft failure")
			}
			if got := zone.last(); got != tt.wantAsked {
				t.Errorf("server was asked %q, want %q", got, tt.wantAsked)
			}
		})
	}
}

func TestDNSProbeTransportErrors(t *testing.T) {
	// A UDP socket that reads queries and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.LocalAddr().String()
	closed.Close()

	tests := []struct {
		name, addr string
		timeout    time.Duration
		wantErr    string
	}{
		{"no answer", silent.LocalAddr().String(), 200 * time.Millisecond, "timeout after 200ms"},
		{"port closed", closedAddr, probeTimeout, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(model.CheckDNS, func(s *model.CheckSpec) { s.Timeout = model.Duration(tt.timeout) })
			r := probeOnce(t, envFor(targetAt(t, "k", tt.addr, s)))
			if r.ok || !r.hard || r.err != tt.wantErr {
				t.Fatalf("result %+v, want a hard failure %q", r, tt.wantErr)
			}
		})
	}
}

func TestDNSProbeBadSpec(t *testing.T) {
	tg := targetAt(t, "k", "127.0.0.1:53", spec(model.CheckDNS, func(s *model.CheckSpec) { s.QType = "NOPE" }))
	if _, err := newProber(envFor(tg)); err == nil || !strings.Contains(err.Error(), `unknown query type "NOPE"`) {
		t.Fatalf("err = %v, want one naming the query type", err)
	}
}
