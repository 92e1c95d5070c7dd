package dnsserver

import (
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/clock"
	"github.com/stratusdns/stratus/internal/testutil"
)

// TestRRLDigRetriesOverTCP: a client over its rate gets truncated answers
// over UDP, and dig, asking again over TCP as it does by default, gets
// the full answer: TCP is never limited. The clock stands still, so the
// bucket stays in debt.
func TestRRLDigRetriesOverTCP(t *testing.T) {
	dig := testutil.Tool(t, "dig")
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, addr := startServer(t, Config{UDPReaders: 2, RRL: RRLConfig{ResponsesPerSecond: 2, Slip: 1, Clock: clk}})
	ap := netip.MustParseAddrPort(addr)

	// Spend the bucket from another port (another reader, maybe: the
	// table is shared).
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	for i := range 4 {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		r := exchangeOn(t, c, m)
		c.Close()
		if want := i >= 2; r.Truncated != want || (len(r.Answer) == 0) != want {
			t.Fatalf("query %d: truncated %v with %d answers, want truncated %v", i, r.Truncated, len(r.Answer), want)
		}
	}

	out, err := exec.Command(dig, "@"+ap.Addr().String(), "-p", strconv.Itoa(int(ap.Port())), "+tries=1", "+time=30",
		"www.example.com.", "A").CombinedOutput()
	if err != nil {
		t.Fatalf("dig: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"Truncated, retrying in TCP mode", "status: NOERROR", "ANSWER: 2", "192.0.2.1", "(TCP)"} {
		if !strings.Contains(text, want) {
			t.Fatalf("dig output lacks %q:\n%s", want, text)
		}
	}
	if st := s.RRLStats(); st.Slipped < 3 || st.Dropped != 0 || st.Limited != st.Slipped {
		t.Fatalf("stats %+v, want at least 3 slipped, none dropped", st)
	}
	// Another network (127.0.1.0/24) is not limited.
	c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.1.1:0")), net.UDPAddrFromAddrPort(ap))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if r := exchangeOn(t, c, m); r.Truncated || len(r.Answer) != 2 {
		t.Fatalf("another network: %v", r)
	}
}

func exchangeOn(t *testing.T, c net.Conn, m *dns.Msg) *dns.Msg {
	t.Helper()
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(time.Minute))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRRLCookieExempt: a client that sends back the server cookie it was
// given (so it receives what is sent to its address: not spoofed) is not
// rate limited, while queries from the same address without the cookie
// are, over real sockets with cookies on by default.
func TestRRLCookieExempt(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	_, addr := startServer(t, Config{UDPReaders: 2, RRL: RRLConfig{ResponsesPerSecond: 2, Slip: 1, Clock: clk}})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func(cookie string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		m.SetEdns0(1232, false)
		if cookie != "" {
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: cookie})
		}
		return exchangeOn(t, c, m)
	}
	const client = "0102030405060708"
	first := ask(client)
	var cookie string
	for _, o := range first.IsEdns0().Option {
		if co, ok := o.(*dns.EDNS0_COOKIE); ok {
			cookie = co.Cookie
		}
	}
	if len(cookie) != 48 || cookie[:16] != client {
		t.Fatalf("no server cookie in the first answer: %v", first)
	}
	for i := range 10 {
		if r := ask(cookie); r.Truncated || len(r.Answer) == 0 {
			t.Fatalf("query %d with a valid server cookie: truncated %v, %d answers", i, r.Truncated, len(r.Answer))
		}
	}
	// The same address without the server cookie is limited: the clock
	// stands still, so the third answer is over the rate of 2.
	var r *dns.Msg
	for range 2 {
		r = ask(client)
	}
	if !r.Truncated {
		t.Fatalf("without the server cookie: not limited: %v", r)
	}
}
