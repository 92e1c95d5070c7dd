package querylog

import (
	"bufio"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stratusdns/stratus/internal/dnsserver"
)

var at = time.Date(2026, 12, 7, 23, 20, 42, 5000, time.UTC)

func wire(name string) []byte {
	b := make([]byte, 256)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		panic(err)
	}
	return b[:n]
}

func TestEntryLines(t *testing.T) {
	base := dnsserver.TapRecord{
		Received: at, Client: netip.MustParseAddrPort("192.0.2.77:40000"), Log: true,
		Qname: wire("www.Example.com."), Qtype: dns.TypeA, Qclass: dns.ClassINET, AA: true,
		Zone: "example.com.", Size: 61,
	}
	v6 := base
	v6.Client, v6.TCP, v6.Qtype, v6.Rcode, v6.AA, v6.TC = netip.MustParseAddrPort("[2001:db8:1:2:3::4]:53000"), true, dns.TypeAAAA, dns.RcodeNameError, false, true
	ecs := base
	ecs.ECS, ecs.ECSAddr, ecs.ECSSource, ecs.ECSScope = true, netip.MustParseAddr("198.51.100.128"), 25, 24
	odd := base
	odd.Qname, odd.Qtype, odd.Qclass, odd.Zone, odd.Rcode = []byte("\x04a.\"\x01\x00"), 65280, dns.ClassCHAOS, "", 99
	none := base
	none.Qname, none.Qtype, none.Qclass, none.Zone, none.Rcode = nil, 0, 0, "", dns.RcodeFormatError
	for _, tc := range []struct {
		name string
		r    dnsserver.TapRecord
		anon bool
		want string
	}{
		{"anonymised", base, true, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.0","transport":"udp","qname":"www.Example.com.","qtype":"A","class":"IN","rcode":"NOERROR","aa":true,"tc":false,"zone":"example.com.","size":61}`},
		{"plain", base, false, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.77","port":40000,"transport":"udp","qname":"www.Example.com.","qtype":"A","class":"IN","rcode":"NOERROR","aa":true,"tc":false,"zone":"example.com.","size":61}`},
		{"ipv6", v6, true, `{"time":"2026-12-07T23:20:42.000005000Z","client":"2001:db8:1::","transport":"tcp","qname":"www.Example.com.","qtype":"AAAA","class":"IN","rcode":"NXDOMAIN","aa":false,"tc":true,"zone":"example.com.","size":61}`},
		{"ecs anonymised", ecs, true, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.0","transport":"udp","qname":"www.Example.com.","qtype":"A","class":"IN","rcode":"NOERROR","aa":true,"tc":false,"zone":"example.com.","size":61,"ecs":"198.51.100.0/24","ecs_scope":24}`},
		{"ecs plain", ecs, false, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.77","port":40000,"transport":"udp","qname":"www.Example.com.","qtype":"A","class":"IN","rcode":"NOERROR","aa":true,"tc":false,"zone":"example.com.","size":61,"ecs":"198.51.100.128/25","ecs_scope":24}`},
		{"odd name", odd, true, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.0","transport":"udp","qname":"a\\.\\\"\\001.","qtype":"TYPE65280","class":"CH","rcode":"99","aa":true,"tc":false,"size":61}`},
		{"no question", none, true, `{"time":"2026-12-07T23:20:42.000005000Z","client":"192.0.2.0","transport":"udp","rcode":"FORMERR","aa":true,"tc":false,"size":61}`},
	} {
		l := &Log{opts: Options{Anonymize: tc.anon, IPv4Prefix: 24, IPv6Prefix: 48}}
		got := string(l.appendEntry(nil, &tc.r))
		if got != tc.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got), &v); err != nil {
			t.Errorf("%s: not JSON: %v", tc.name, err)
		}
	}
}

// readLines reads a log file as JSON objects.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, v)
	}
	return out
}

// TestLogThroughServer: a server with the log as its tap writes a line
// for each sampled query, over both transports, anonymised; with rate
// 0.5 and one reader, exactly half of the UDP queries.
func TestLogThroughServer(t *testing.T) {
	s, l, path, stop := logServer(t, Options{Anonymize: true, IPv4Prefix: 24, IPv6Prefix: 48}, 0.5)
	addr := s.Addrs()[0].String()
	const n = 101
	for i := range n {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		if i%2 == 1 {
			m.SetQuestion("nope.example.com.", dns.TypeAAAA)
		}
		if _, _, err := new(dns.Client).Exchange(m, addr); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := dns.Dial("tcp", addr) // one connection: one tap, sampling from 0
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		m := new(dns.Msg)
		m.SetQuestion("mx.example.com.", dns.TypeMX)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ReadMsg(); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close()
	stop()
	if ld, _ := s.TapDropped(); ld != 0 {
		t.Fatalf("%d queries dropped", ld)
	}
	lines := readLines(t, path)
	// The UDP reader takes floor(101*0.5) = 50 and the TCP connection's
	// tap floor(4*0.5) = 2.
	var udp, tcp int
	for _, v := range lines {
		if v["client"] != "127.0.0.0" || v["port"] != nil || v["class"] != "IN" || v["zone"] != "example.com." {
			t.Errorf("line %v", v)
		}
		if _, err := time.Parse(time.RFC3339Nano, v["time"].(string)); err != nil {
			t.Errorf("time: %v", err)
		}
		switch v["transport"] {
		case "udp":
			udp++
			want := map[string]string{"www.example.com.": "A", "nope.example.com.": "AAAA"}[v["qname"].(string)]
			if want == "" || v["qtype"] != want || (want == "A") != (v["rcode"] == "NOERROR") || v["aa"] != true {
				t.Errorf("udp line %v", v)
			}
		case "tcp":
			tcp++
			if v["qname"] != "mx.example.com." || v["qtype"] != "MX" {
				t.Errorf("tcp line %v", v)
			}
		}
	}
	if udp != n/2 {
		t.Errorf("%d udp lines of %d queries at rate 0.5, want %d", udp, n, n/2)
	}
	if tcp != 2 {
		t.Errorf("%d tcp lines of 4 queries at rate 0.5, want 2", tcp)
	}
	if got := l.Entries(); got != uint64(len(lines)) {
		t.Errorf("Entries() = %d, file has %d", got, len(lines))
	}
}

// TestRotation: the file is rotated before it passes its size, the
// backups beyond the count and those older than the age are removed,
// and no line is lost or cut in the files kept.
func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "q.log")
	now := at
	clock := func() time.Time { return now }
	l, err := Open(Options{Output: path, MaxSize: 2000, MaxBackups: 3, MaxAge: time.Hour, Anonymize: true, IPv4Prefix: 24, IPv6Prefix: 48, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	rec := dnsserver.TapRecord{Received: at, Client: netip.MustParseAddrPort("192.0.2.1:1"), Log: true, Qname: wire("a.example."), Qtype: 1, Qclass: 1, Size: 40}
	lineLen := len(l.appendEntry(nil, &rec))
	perFile := 2000 / lineLen
	batch := make([]dnsserver.TapRecord, 1)
	write := func(k int) {
		for range k {
			batch[0] = rec
			l.Tap(batch)
			now = now.Add(time.Second)
		}
	}
	write(perFile*5 + 1) // five rotations
	backups := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "q-*.log"))
		return m
	}
	if b := backups(); len(b) != 3 {
		t.Fatalf("backups %v, want 3", b)
	}
	for _, f := range append(backups(), path) {
		lines := readLines(t, f)
		if st, _ := os.Stat(f); st.Size() > 2000 || len(lines) != perFile && f != path {
			t.Errorf("%s: %d octets, %d lines (%d a file)", f, st.Size(), len(lines), perFile)
		}
	}
	if got := len(readLines(t, path)); got != 1 {
		t.Errorf("current file has %d lines, want 1", got)
	}
	// An hour later the next rotation removes every older backup.
	now = now.Add(2 * time.Hour)
	write(perFile)
	b := backups()
	if len(b) != 1 || !strings.Contains(b[0], "q-2026-12-08T01-") {
		t.Errorf("after an hour: backups %v", b)
	}
	if l.Entries() != uint64(perFile*6+1) || l.Failed() != 0 {
		t.Errorf("entries %d failed %d", l.Entries(), l.Failed())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFails(t *testing.T) {
	_, err := Open(Options{Output: filepath.Join(t.TempDir(), "no", "such", "dir", "q.log")})
	if err == nil || !strings.Contains(err.Error(), "query log:") {
		t.Errorf("err = %v", err)
	}
}
